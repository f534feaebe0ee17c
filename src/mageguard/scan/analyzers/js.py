"""Frontend JavaScript that calls AI services straight from the visitor's browser.

A browser call to an AI API carries the visitor's data and, worse, a key every visitor
can read. Hosts are resolved within the file: string constants, object properties
(`config.endpoint`, `this.options.endpoint`), concatenation and template strings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import tree_sitter
import tree_sitter_javascript

from mageguard.catalog.loader import host_of
from mageguard.scan.facts import Fact
from mageguard.scan.php.knowledge import knowledge

Node = tree_sitter.Node
Shape = tuple[str | None, ...]

# callee -> index of the URL argument ("obj" = the `url` property of an options object)
_URL_CALLS: dict[str, int | str] = {
    "fetch": 0,
    "$.ajax": "obj",
    "jQuery.ajax": "obj",
    "$.post": 0,
    "$.get": 0,
    "$.getJSON": 0,
    "jQuery.post": 0,
    "jQuery.get": 0,
    "axios": "obj",
    "axios.post": 0,
    "axios.get": 0,
    "axios.put": 0,
    "axios.request": "obj",
    "navigator.sendBeacon": 0,
    "open": 1,
    "storage.post": 0,
}
_NEW_CALLS: dict[str, int | str] = {"WebSocket": 0, "EventSource": 0}
_SCRIPT = re.compile(rb"<script\b(?![^>]*x-magento-init)[^>]*>(.*?)</script>", re.S | re.I)


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


class _Bindings:
    """name -> value nodes, and object property paths -> value nodes, file-wide."""

    def __init__(self, root: Node) -> None:
        self.names: dict[str, list[Node]] = {}
        self.props: dict[str, list[Node]] = {}
        self._walk(root)

    def _walk(self, node: Node) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "variable_declarator":
                name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
                if name is not None and value is not None:
                    self.names.setdefault(_text(name), []).append(value)
            elif n.type == "assignment_expression":
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                if left is not None and right is not None:
                    self.names.setdefault(_text(left), []).append(right)
                    if left.type == "member_expression":
                        prop = left.child_by_field_name("property")
                        self.props.setdefault(_text(prop), []).append(right)
            elif n.type == "pair":
                key, value = n.child_by_field_name("key"), n.child_by_field_name("value")
                if key is not None and value is not None:
                    self.props.setdefault(_text(key).strip("'\""), []).append(value)
            stack.extend(n.named_children)


def _shapes(node: Node | None, b: _Bindings, depth: int = 0) -> set[Shape]:
    if node is None or depth > 8:
        return {(None,)}
    t = node.type
    if t == "string":
        return {("".join(_text(c) for c in node.named_children),)}
    if t == "template_string":
        parts: set[Shape] = {()}
        for c in node.named_children:
            sub = (
                {(_text(c),)}
                if c.type == "string_fragment"
                else _shapes(c.named_children[0] if c.named_children else None, b, depth + 1)
            )
            parts = {(*p, *s) for p in parts for s in sub}
        return set(list(parts)[:16])
    if t == "binary_expression" and _text(node.child_by_field_name("operator")) == "+":
        left = _shapes(node.child_by_field_name("left"), b, depth + 1)
        right = _shapes(node.child_by_field_name("right"), b, depth + 1)
        return set(list({(*lt, *r) for lt in left for r in right})[:16])
    if t == "identifier":
        values = b.names.get(_text(node), [])
        out: set[Shape] = set()
        for v in values[:4]:
            if v != node:
                out |= _shapes(v, b, depth + 1)
        return out or {(None,)}
    if t == "member_expression":
        prop = _text(node.child_by_field_name("property"))
        out = set()
        for v in b.props.get(prop, [])[:4]:
            out |= _shapes(v, b, depth + 1)
        return out or {(None,)}
    if t in ("parenthesized_expression",):
        return _shapes(node.named_children[0] if node.named_children else None, b, depth + 1)
    if t == "ternary_expression":
        kids = node.named_children
        return (
            _shapes(kids[1], b, depth + 1) | _shapes(kids[2], b, depth + 1)
            if len(kids) == 3
            else {(None,)}
        )
    return {(None,)}


def _callee(node: Node) -> str:
    fn = node.child_by_field_name("function") or node.child_by_field_name("constructor")
    if fn is None:
        return ""
    if fn.type == "member_expression":
        obj = fn.child_by_field_name("object")
        prop = _text(fn.child_by_field_name("property"))
        obj_text = _text(obj)
        if prop == "open" and obj_text not in ("window", "document"):
            return "open"
        return f"{obj_text}.{prop}"
    return _text(fn)


def _url_arg(node: Node, where: int | str) -> Node | None:
    args = node.child_by_field_name("arguments")
    if args is None:
        return None
    kids = args.named_children
    if where == "obj":
        for arg in kids:
            if arg.type == "object":
                for pair in arg.named_children:
                    key = pair.child_by_field_name("key")
                    if pair.type == "pair" and _text(key).strip("'\"") == "url":
                        return pair.child_by_field_name("value")
            elif arg.type in (
                "string",
                "template_string",
                "identifier",
                "member_expression",
                "binary_expression",
            ):
                return arg
        return None
    if isinstance(where, int) and where < len(kids):
        return kids[where]
    return None


def _calls(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type in ("call_expression", "new_expression"):
            yield n
        stack.extend(n.named_children)


def js_facts(
    source: bytes, rel: str, unit: str, ai_unit: bool, language: str = "js", line_offset: int = 0
) -> list[Fact]:
    k = knowledge()
    tree = _parser().parse(source)
    bindings = _Bindings(tree.root_node)
    facts = []
    for call in _calls(tree.root_node):
        callee = _callee(call)
        table = _NEW_CALLS if call.type == "new_expression" else _URL_CALLS
        where = table.get(callee)
        sdk = (
            next((s for s in k.catalog.sdks if s.language == "js" and callee in s.classes), None)
            if call.type == "new_expression"
            else None
        )
        if where is None and sdk is None:
            continue
        provider = host = None
        if sdk is not None:
            # A browser SDK client: its requests go to the provider's default host.
            provider = k.catalog.provider_by_id[sdk.provider]
            host = sdk.default_host
        elif where is not None:
            for shape in sorted(_shapes(_url_arg(call, where), bindings), key=str):
                if not shape or shape[0] is None:
                    continue
                h = host_of(shape[0])
                p = k.catalog.hosts.match(h) if h else None
                if p is not None:
                    provider, host = p, h
                    break
        if provider is None:
            continue
        line = call.start_point[0] + 1 + line_offset
        col = call.start_point[1] + 1
        facts.append(
            Fact(
                kind="outbound_call",
                via="browser",
                destination=provider.kind,
                provider=provider.id,
                host=host,
                client=callee,
                path=rel,
                line=line,
                column=col,
                matched=_text(call)[:400],
                language=language,
                unit=unit,
                conditions=frozenset({"in_ai_unit"} if ai_unit else ()),
                categories=frozenset({"customer_behaviour"}),
                surface=None,
                detail=(("url", host or ""),),
            )
        )
    return facts


def inline_script_facts(source: bytes, rel: str, unit: str, ai_unit: bool) -> list[Fact]:
    """<script> blocks of a phtml template (not x-magento-init JSON)."""
    facts: list[Fact] = []
    for m in _SCRIPT.finditer(source):
        offset = source.count(b"\n", 0, m.start(1))
        facts += js_facts(m.group(1), rel, unit, ai_unit, language="phtml", line_offset=offset)
    return facts
