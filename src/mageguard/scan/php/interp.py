"""An abstract interpreter for the PHP of Magento modules.

It walks method bodies statement by statement, keeps an abstract Value per variable and
property, follows calls into the module's own classes (context-sensitive, depth-bounded),
and records Events at sinks: outbound requests, AI SDK calls, logger calls, file and
object-storage writes, template echoes. It is deliberately small: no heap model beyond
properties, no precise control flow (branches join), loops run twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mageguard.catalog import Sdk
from mageguard.scan.config_sources import ConfigValues
from mageguard.scan.php.classindex import ClassIndex
from mageguard.scan.php.events import Event, RequestState
from mageguard.scan.php.knowledge import HttpSpec, Knowledge
from mageguard.scan.php.parser import Node, line_col, string_literal, text
from mageguard.scan.php.parser import field as fld
from mageguard.scan.php.symbols import ClassInfo, FileContext, MethodInfo
from mageguard.scan.php.values import EMPTY, UNKNOWN_STR, Value, concat
from mageguard.scan.wiring import Wiring

MAX_DEPTH = 6
MAX_CONTEXTS = 6
# Expressions evaluated per unit before the analysis gives up (with a notice): a bound on
# pathological code, far above what real AI modules need (the sample store: ~40k).
STEP_BUDGET = 3_000_000


class BudgetExceededError(Exception):
    """The unit's analysis ran past its step budget; its findings may be incomplete."""


SECRET_NAME = re.compile(
    r"(api[_-]?key|apikey|secret|token|access[_-]?key|private[_-]?key"
    r"|password|bearer|credential)",
    re.I,
)
_MAGIC_GETTER = re.compile(r"^get([A-Z][A-Za-z0-9]*)$")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
# Functions whose result is their first argument's string, reshaped: URLs survive them.
_STRING_PASSTHROUGH = {
    "trim",
    "rtrim",
    "ltrim",
    "strtolower",
    "strtoupper",
    "urldecode",
    "html_entity_decode",
    "stripslashes",
    "strval",
    "escapeurl",
}
# Functions that return nothing worth following (booleans, counts, hashes of data).
_OPAQUE = {
    "count",
    "strlen",
    "mb_strlen",
    "is_array",
    "is_string",
    "isset",
    "empty",
    "in_array",
    "array_key_exists",
    "md5",
    "sha1",
    "crc32",
    "hash",
    "time",
    "date",
    "microtime",
    "uniqid",
    "random_bytes",
    "bin2hex",
    "is_numeric",
    "preg_match",
    "curl_error",
    "curl_errno",
    "curl_close",
    "curl_getinfo",
    "fclose",
    "is_null",
    "method_exists",
    "class_exists",
    "function_exists",
    "defined",
    "intdiv",
    "round",
    "floor",
    "ceil",
    "abs",
    "max",
    "min",
    "sleep",
    "usleep",
    "array_key_first",
    "array_key_last",
    "spl_object_hash",
    "gettype",
    "get_class",
}
_ELEMENTWISE = {"array_map", "array_filter", "array_walk", "usort", "uasort", "array_reduce"}


def _snake(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


@dataclass
class Frame:
    cls: ClassInfo | None
    path: str
    ctx: FileContext
    env: dict[str, Value]
    stack: tuple[str, ...]
    depth: int
    ret: Value = EMPTY
    closures: dict[str, Node] = field(default_factory=dict)


class Interpreter:
    def __init__(
        self,
        index: ClassIndex,
        knowledge: Knowledge,
        wiring: Wiring,
        config: ConfigValues,
        is_ai_url: Callable[[Value], bool],
        budget: int = STEP_BUDGET,
    ) -> None:
        self.budget = budget
        self.index = index
        self.k = knowledge
        self.wiring = wiring
        self.config = config
        self.is_ai_url = is_ai_url
        self.events: dict[tuple[str, int, str], Event] = {}
        self.states: dict[str, RequestState] = {}
        self.props: dict[tuple[str, str], Value] = {}
        self.prompt_labels: set[str] = set()
        # What this unit writes to local files. Reading a local file back returns it: the
        # export-then-upload pattern (fputcsv to var/export, then a multipart upload).
        self.file_data: Value = EMPTY
        self.ai_handles: set[str] = set()  # clients that have sent to an AI service
        self._memo: dict[tuple[object, ...], Value] = {}
        self._active: set[tuple[str, str]] = set()
        self._contexts: dict[tuple[str, str], int] = {}
        self._widened: dict[tuple[str, str], list[Value]] = {}
        self._steps = 0

    # ------------------------------------------------------------------ entry points

    def analyze_class(self, cls: ClassInfo) -> None:
        """Run every method as an entry point with parameters known only by their types."""
        for method in cls.methods.values():
            args = [
                self._param_value(t, f"{cls.path}:{method.node.start_byte}:{n}")
                for n, t in method.params
            ]
            self.call_method(cls, method, args, (cls.fqcn,), 0)

    def analyze_template(
        self, rel: str, root: Node, ctx: FileContext, block_class: str | None
    ) -> None:
        """phtml: top-level code with `$block` (and `$this`) bound to the layout's block."""
        block = (
            self._object_value(block_class)
            if block_class
            else UNKNOWN_STR.with_(types=["magento\\framework\\view\\element\\template"])
        )
        env = {"block": block, "this": block}
        frame = Frame(cls=None, path=rel, ctx=ctx, env=env, stack=(block_class or rel,), depth=0)
        self._block(root, frame)

    def reset_memo(self) -> None:
        self._memo.clear()
        self._contexts.clear()
        self._widened.clear()

    # ------------------------------------------------------------------ calls

    def call_method(
        self,
        cls: ClassInfo,
        method: MethodInfo,
        args: list[Value],
        stack: tuple[str, ...],
        depth: int,
    ) -> Value:
        key = (cls.key, method.name.lower())
        memo_key: tuple[object, ...] = (cls.key, method.name.lower(), tuple(args))
        if memo_key in self._memo:
            return self._memo[memo_key]
        if key in self._active or depth > MAX_DEPTH:
            return UNKNOWN_STR
        seen = self._contexts.setdefault(key, 0)
        if seen >= MAX_CONTEXTS:
            # k-limiting: past a few calling contexts, one widened context (the join of
            # all arguments seen) stands for every further call, so a helper called from
            # hundreds of places is analysed a bounded number of times.
            widened = self._widened.get(key)
            joined = args if widened is None else _join_args(widened, args)
            memo_key = (cls.key, method.name.lower(), ("*",), tuple(joined))
            if memo_key in self._memo:
                return self._memo[memo_key]
            self._widened[key] = joined
            args = joined
        self._contexts[key] = seen + 1
        body = fld(method.node, "body")
        if body is None:
            return UNKNOWN_STR
        env: dict[str, Value] = {"this": self._object_value(cls.fqcn)}
        for i, (name, ptype) in enumerate(method.params):
            if i < len(args):
                env[name] = args[i]
            else:
                env[name] = self._param_value(ptype, f"{cls.path}:{method.node.start_byte}:{name}")
        frame = Frame(
            cls=cls,
            path=cls.path,
            ctx=cls.ctx,
            env=env,
            stack=stack if stack and stack[-1] == cls.fqcn else (*stack, cls.fqcn),
            depth=depth,
        )
        self._active.add(key)
        try:
            self._block(body, frame)
        finally:
            self._active.discard(key)
        result = frame.ret if not frame.ret.is_empty else EMPTY
        self._memo[memo_key] = result
        return result

    def _param_value(self, ptype: str | None, label: str) -> Value:
        if ptype is None:
            return UNKNOWN_STR
        return self._object_value(ptype)

    def _object_value(self, type_name: str | None, handle: str | None = None) -> Value:
        if not type_name:
            return UNKNOWN_STR
        resolved = self.wiring.resolve_type(type_name)
        types = {type_name.lstrip("\\"), resolved}
        return Value(
            strs=frozenset({(None,)}),
            types=frozenset(types),
            handles=frozenset({handle}) if handle else frozenset(),
        )

    # ------------------------------------------------------------------ statements

    def _block(self, node: Node, frame: Frame) -> None:
        prev: Node | None = None
        for child in node.named_children:
            if child.type == "expression_statement" and _after_short_echo(prev):
                for c in child.named_children:  # `<?= expr ?>` in a template
                    self._echo(child, self.eval(c, frame), frame)
            else:
                self._stmt(child, frame)
            prev = child

    def _stmt(self, node: Node, frame: Frame) -> None:
        t = node.type
        if t in (
            "expression_statement",
            "echo_statement",
            "return_statement",
            "unset_statement",
            "print_intrinsic",
        ):
            for c in node.named_children:
                v = self.eval(c, frame)
                if t == "return_statement":
                    frame.ret = frame.ret.join(v)
                elif t == "echo_statement":
                    self._echo(node, v, frame)
        elif t in (
            "compound_statement",
            "program",
            "text_interpolation",
            "colon_block",
            "declare_statement",
            "namespace_definition",
        ):
            self._block(node, frame)
        elif t == "if_statement":
            self.eval(fld(node, "condition"), frame)
            branches = [
                c for c in node.named_children if c.type not in ("parenthesized_expression",)
            ]
            self._branches(branches, frame)
        elif t in ("else_if_clause", "else_clause"):
            self._block(node, frame)
        elif t in ("switch_statement",):
            self.eval(fld(node, "condition"), frame)
            body = fld(node, "body")
            if body is not None:
                self._branches(body.named_children, frame)
        elif t in ("case_statement", "default_statement"):
            for c in node.named_children:
                self._stmt(c, frame) if c.type.endswith("statement") else self.eval(c, frame)
        elif t == "foreach_statement":
            self._foreach(node, frame)
        elif t in ("for_statement", "while_statement", "do_statement"):
            for _ in range(2):
                for c in node.named_children:
                    if c.type.endswith("statement"):
                        self._stmt(c, frame)
                    else:
                        self.eval(c, frame)
        elif t == "try_statement":
            for c in node.named_children:
                if c.type == "compound_statement":
                    self._block(c, frame)
                elif c.type == "catch_clause":
                    name = fld(c, "name")
                    if name is not None:
                        frame.env[text(name).lstrip("$")] = UNKNOWN_STR
                    body = fld(c, "body")
                    if body is not None:
                        self._block(body, frame)
                elif c.type == "finally_clause":
                    body = fld(c, "body")
                    if body is not None:
                        self._block(body, frame)
        elif t.endswith("_statement") or t in ("ERROR",):
            for c in node.named_children:
                if c.type.endswith("statement") or c.type == "compound_statement":
                    self._stmt(c, frame)
                elif c.type.endswith("expression"):
                    self.eval(c, frame)

    def _branches(self, branches: Iterable[Node], frame: Frame) -> None:
        """Run each branch from the same state and join what they leave behind."""
        base = dict(frame.env)
        results: list[dict[str, Value]] = []
        for b in branches:
            frame.env = dict(base)
            self._stmt(b, frame) if not b.type.endswith("expression") else self.eval(b, frame)
            results.append(frame.env)
        merged = dict(base)
        for env in results:
            for k, v in env.items():
                merged[k] = merged[k].join(v) if k in merged else v
        frame.env = merged

    def _foreach(self, node: Node, frame: Frame) -> None:
        kids = node.named_children
        if not kids:
            return
        iterable = self.eval(kids[0], frame)
        element = self.element_of(iterable)
        target = kids[1] if len(kids) > 2 else None
        body = fld(node, "body") or (kids[-1] if kids else None)
        for _ in range(2):
            if target is not None:
                if target.type == "pair":
                    k, v = target.named_children[0], target.named_children[-1]
                    self._assign(k, UNKNOWN_STR, frame)
                    self._assign(v, element, frame)
                else:
                    self._assign(target, element, frame)
            if body is not None:
                self._stmt(body, frame)

    def element_of(self, v: Value) -> Value:
        """An element of an array/collection value: its entries, or its item type; the
        collection's data categories and flags (bulk) carry over to each element."""
        elem = v.all_entries() if v.entries else EMPTY
        base = Value(
            strs=frozenset({(None,)}),
            cats=v.cats,
            flags=v.flags,
            labels=v.labels,
            origins=v.origins,
        )
        types: set[str] = set(v.item_types)
        flags: set[str] = set()
        for t in v.types:
            spec = self._source_spec(t)
            if spec is not None:
                flags |= spec.flags & {"bulk", "user_input"}
                if spec.item:
                    types.add(spec.item)
        cats: set[str] = set()
        for t in v.types:
            spec = self._source_spec(t)
            if spec is not None and (spec.item or "bulk" in spec.flags):
                cats |= spec.categories
        if types or flags or cats:
            base = base.with_(types=types, flags=flags, cats=cats)
        return base.join(elem)

    # ------------------------------------------------------------------ expressions

    def eval(self, node: Node | None, frame: Frame) -> Value:
        if node is None:
            return EMPTY
        self._steps += 1
        if self._steps > self.budget:
            raise BudgetExceededError(self.budget)
        t = node.type
        if t == "variable_name":
            name = text(node).lstrip("$")
            return frame.env.get(name, UNKNOWN_STR)
        if t in ("string", "encapsed_string", "heredoc", "nowdoc"):
            return self._string(node, frame)
        if t in ("integer", "float"):
            return Value.literal(text(node))
        if t in ("boolean", "null"):
            return EMPTY
        if t == "binary_expression":
            op = fld(node, "operator")
            lv, rv = self.eval(fld(node, "left"), frame), self.eval(fld(node, "right"), frame)
            optext = text(op) if op is not None else ""
            if optext == ".":
                return concat(lv, rv)
            if optext in ("??", "?:"):
                return lv.join(rv)
            if optext in ("+", "-", "*", "/", "%", "**"):
                return lv.join(rv).data_only()
            return EMPTY
        if t == "conditional_expression":
            kids = node.named_children
            self.eval(kids[0] if kids else None, frame)
            return EMPTY.join(*(self.eval(k, frame) for k in kids[1:])) if len(kids) > 1 else EMPTY
        if t in ("assignment_expression", "reference_assignment_expression"):
            value = self.eval(fld(node, "right"), frame)
            left = fld(node, "left")
            if left is not None:
                value = self._label(value, frame, node)
                self._assign(left, value, frame)
            return value
        if t == "augmented_assignment_expression":
            left = fld(node, "left")
            right = self.eval(fld(node, "right"), frame)
            operator = text(fld(node, "operator"))
            current = self.eval(left, frame)
            value = concat(current, right) if operator == ".=" else current.join(right)
            if left is not None:
                self._assign(left, self._label(value, frame, node), frame, strong=True)
            return value
        if t == "array_creation_expression":
            return self._array(node, frame)
        if t == "subscript_expression":
            kids = node.named_children
            base = self.eval(kids[0], frame) if kids else EMPTY
            if len(kids) > 1:
                key = self._key(kids[1], frame)
                if key is not None:
                    found = base.entry(key)
                    if found is not None:
                        return found
                if base.entries:
                    return self.element_of(base)
            return base
        if t in ("member_access_expression", "nullsafe_member_access_expression"):
            return self._property(node, frame)
        if t in ("member_call_expression", "nullsafe_member_call_expression"):
            return self._member_call(node, frame)
        if t == "scoped_call_expression":
            return self._static_call(node, frame)
        if t == "function_call_expression":
            return self._function_call(node, frame)
        if t == "object_creation_expression":
            return self._new(node, frame)
        if t == "class_constant_access_expression":
            return self._class_const(node, frame)
        if t in (
            "parenthesized_expression",
            "cast_expression",
            "unary_op_expression",
            "error_suppression_expression",
            "clone_expression",
            "reference_modifier",
            "by_ref",
            "variadic_unpacking",
            "spread_element",
            "argument",
        ):
            kids = [k for k in node.named_children if k.type != "cast_type"]
            v = self.eval(kids[-1], frame) if kids else EMPTY
            if t == "cast_expression" and any(
                k.type == "cast_type" and text(k) in ("int", "float", "bool", "boolean", "integer")
                for k in node.named_children
            ):
                return v.data_only()
            return v
        if t in ("arrow_function", "anonymous_function"):
            key = f"closure:{frame.path}:{node.start_byte}"
            frame.closures[key] = node
            return Value(strs=frozenset({(None,)}), types=frozenset({key}))
        if t == "match_expression":
            out = EMPTY
            body = fld(node, "body")
            for arm in body.named_children if body is not None else ():
                ret = fld(arm, "return_expression")
                out = out.join(self.eval(ret, frame))
            return out
        if t in ("name", "qualified_name"):
            return UNKNOWN_STR  # a global constant
        if t in ("list_literal",):
            return EMPTY
        if t == "print_intrinsic":
            return EMPTY
        if t == "include_expression" or t == "require_expression":
            return UNKNOWN_STR
        # Anything else: evaluate children for their side effects (calls inside).
        out = EMPTY
        for c in node.named_children:
            out = out.join(self.eval(c, frame))
        return out if not out.is_empty else EMPTY

    def _label(self, value: Value, frame: Frame, node: Node) -> Value:
        """Give data-bearing values an identity, so a later sink can tell whether a logged
        value is the same one that was sent to a model."""
        if value.cats or "user_input" in value.flags or "ai_response" in value.flags:
            return value.with_(labels=[f"{frame.path}:{node.start_byte}"])
        return value

    def _assign(self, left: Node, value: Value, frame: Frame, strong: bool = True) -> None:
        t = left.type
        if t == "variable_name":
            frame.env[text(left).lstrip("$")] = value
        elif t == "subscript_expression":
            kids = left.named_children
            if not kids:
                return
            base = self.eval(kids[0], frame)
            key = self._key(kids[1], frame) if len(kids) > 1 else None
            updated = base.join(Value(entries=((key, value),)))
            updated = updated.with_(cats=value.cats, flags=value.flags, labels=value.labels)
            self._assign(kids[0], updated, frame)
        elif t in ("member_access_expression", "nullsafe_member_access_expression"):
            obj = fld(left, "object")
            if obj is not None and text(obj) == "$this" and frame.cls is not None:
                pkey = (frame.cls.key, text(fld(left, "name")))
                self.props[pkey] = self.props.get(pkey, EMPTY).join(value)
        elif t in ("list_literal", "array_creation_expression"):
            for c in left.named_children:
                target = (
                    c.named_children[-1]
                    if c.type == "array_element_initializer" and c.named_children
                    else c
                )
                self._assign(target, self.element_of(value), frame)

    def _key(self, node: Node, frame: Frame) -> str | None:
        lit = string_literal(node)
        if lit is not None:
            return lit
        if node.type in ("integer",):
            return text(node)
        if node.type in ("name", "qualified_name"):
            return text(node)  # CURLOPT_URL => ...
        if node.type == "class_constant_access_expression":
            v = self._class_const(node, frame)
            for s in v.strs:
                if len(s) == 1 and s[0] is not None:
                    return s[0]
        return None

    def _string(self, node: Node, frame: Frame) -> Value:
        lit = string_literal(node)
        if lit is not None:
            return Value.literal(lit)
        parts: list[Value] = []
        body = node
        if node.type == "heredoc":
            body = next((c for c in node.named_children if c.type == "heredoc_body"), node)
        for c in body.named_children:
            if c.type == "string_content" or c.type == "string_value":
                parts.append(Value.literal(text(c)))
            elif c.type == "escape_sequence":
                parts.append(Value.literal(string_literal(node) or ""))
            elif c.type in ("heredoc_start", "heredoc_end"):
                continue
            else:
                parts.append(self.eval(c, frame))
        return concat(*parts) if parts else Value.literal("")

    def _array(self, node: Node, frame: Frame) -> Value:
        entries: list[tuple[str | None, Value]] = []
        out = EMPTY
        for el in node.named_children:
            if el.type != "array_element_initializer":
                continue
            kids = el.named_children
            if len(kids) >= 2:
                key = self._key(kids[0], frame)
                val = self.eval(kids[-1], frame)
            elif kids:
                key = None
                val = self.eval(kids[0], frame)
                if kids[0].type == "variadic_unpacking":
                    out = out.join(val)
                    continue
            else:
                continue
            entries.append((key, val))
            out = out.with_(cats=val.cats, flags=val.flags, labels=val.labels, origins=val.origins)
        return Value(
            entries=tuple(entries),
            cats=out.cats,
            flags=out.flags,
            labels=out.labels,
            origins=out.origins,
        ).join(Value(entries=out.entries) if out.entries else EMPTY)

    # ------------------------------------------------------------------ names and constants

    def _scope_class(self, scope: Node, frame: Frame) -> str | None:
        name = text(scope)
        if name in ("self", "static"):
            return frame.cls.fqcn if frame.cls else None
        if name == "parent":
            return frame.cls.parent if frame.cls else None
        if scope.type in ("name", "qualified_name", "relative_scope"):
            return frame.ctx.resolve(name)
        return None

    def _class_const(self, node: Node, frame: Frame) -> Value:
        kids = node.named_children
        if len(kids) < 2:
            return UNKNOWN_STR
        cls_name = self._scope_class(kids[0], frame)
        const = text(kids[-1])
        if cls_name is None:
            return UNKNOWN_STR
        if const == "class":
            return Value.literal(cls_name)
        found = self.index.find_const(cls_name, const)
        if found is None:
            return UNKNOWN_STR
        owner, value_node = found
        sub = Frame(
            cls=owner,
            path=owner.path,
            ctx=owner.ctx,
            env={},
            stack=frame.stack,
            depth=frame.depth + 1,
        )
        if frame.depth > MAX_DEPTH + 4:
            return UNKNOWN_STR
        return self.eval(value_node, sub)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ properties

    def _property(self, node: Node, frame: Frame) -> Value:
        obj = fld(node, "object")
        name = text(fld(node, "name"))
        base = self.eval(obj, frame)
        if obj is not None and text(obj) == "$this" and frame.cls is not None:
            return self.property_value(frame.cls, name)
        # Magic property on an object: an SDK resource ($client->messages) stays the SDK.
        for t in base.types:
            if self.k.sdk_for(t.lower()) is not None:
                return base
        return Value(
            strs=frozenset({(None,)}),
            cats=base.cats,
            flags=base.flags,
            labels=base.labels,
            origins=base.origins,
        )

    def property_value(self, cls: ClassInfo, name: str) -> Value:
        assigned = self.props.get((cls.key, name), EMPTY)
        injected = self.wiring.arg_type(cls.fqcn, name)
        found = self.index.find_prop_type(cls.fqcn, name)
        declared = found[1] if found else None
        if declared is None:
            for anc in self.index.ancestors(cls.fqcn):
                base = self.k.base_props.get(anc.lower())
                if base and name in base:
                    declared = base[name]
                    break
        handle = f"prop:{cls.key}:{name}"
        out = assigned
        for tname in (injected, declared):
            if tname:
                out = out.join(self._object_value(tname, handle))
        if out.is_empty:
            default = cls.prop_defaults.get(name)
            if default is not None:
                sub = Frame(
                    cls=cls, path=cls.path, ctx=cls.ctx, env={}, stack=(cls.fqcn,), depth=MAX_DEPTH
                )
                out = self.eval(default, sub)
        return out if not out.is_empty else UNKNOWN_STR

    # ------------------------------------------------------------------ calls

    def _args(self, node: Node, frame: Frame) -> tuple[list[Value], dict[str, Value]]:
        """Positional and named argument values (PHP 8 `name: value`)."""
        args_node = fld(node, "arguments") or next(
            (c for c in node.named_children if c.type == "arguments"), None
        )  # `new X(...)` has its arguments as a plain child, not a field
        positional: list[Value] = []
        named: dict[str, Value] = {}
        if args_node is None:
            return positional, named
        for a in args_node.named_children:
            if a.type != "argument":
                positional.append(self.eval(a, frame))
                continue
            name_node = fld(a, "name")
            value_node = a.named_children[-1] if a.named_children else None
            v = self.eval(value_node, frame)
            if name_node is not None and value_node is not None and value_node != name_node:
                named[text(name_node)] = v
            else:
                positional.append(v)
        return positional, named

    def _member_call(self, node: Node, frame: Frame) -> Value:
        obj = fld(node, "object")
        name = text(fld(node, "name"))
        recv = self.eval(obj, frame)
        args, named = self._args(node, frame)
        is_this = obj is not None and text(obj) == "$this"
        result = self.dispatch(recv, name, args, named, node, frame, is_this=is_this)
        # Collections: addAttributeToSelect('cost') on a variable widens that variable.
        if (
            name.lower() in ("addattributetoselect", "addfieldtoselect")
            and obj is not None
            and obj.type == "variable_name"
        ):
            frame.env[text(obj).lstrip("$")] = result
        return result

    def dispatch(
        self,
        recv: Value,
        name: str,
        args: list[Value],
        named: dict[str, Value],
        node: Node,
        frame: Frame,
        *,
        is_this: bool = False,
    ) -> Value:
        low = name.lower()
        every = [*args, *named.values()]
        results: list[Value] = []
        for tname in sorted(recv.types):
            if tname.startswith("closure:"):
                continue
            got = self._dispatch_type(tname, recv, name, low, args, named, node, frame)
            if got is not None:
                results.append(got)
                if results and not tname.lower().startswith("magento\\framework\\view"):
                    break
        if results:
            return EMPTY.join(*results)
        if self.k.is_validator(None, low):
            return EMPTY.join(*every).without_flags("user_input").with_(flags=["validated"])
        spec = self.k.any_receiver.get(low)
        if spec is not None:
            return self._source_result(spec, recv, name)
        if low in ("getdata", "getcustomattribute", "getattributetext", "getorigdata"):
            return self._data_key(recv, args, low)
        if low == "getvalue" and recv.cats:
            return recv.data_only()
        if low in self.k.vector_methods:
            self._emit_http(
                node, frame, "vector client", recv, EMPTY, EMPTY.join(*every), EMPTY, name
            )
        # Unknown method: data flows from the arguments (serializers, builders, helpers)
        # and from a data-bearing receiver ($response->getBody(), $item->getSomething()).
        out = EMPTY.join(*every).data_only() if every else UNKNOWN_STR
        if (recv.cats or recv.flags or recv.labels) and low not in self.k.metadata_methods:
            out = out.join(recv.data_only()).without_flags("store_scope")
        if SECRET_NAME.search(name) and low.startswith("get"):
            out = out.with_(flags=["secret"], origins=[f"{name}()"])
        return out if not out.is_empty else UNKNOWN_STR

    def _dispatch_type(
        self,
        tname: str,
        recv: Value,
        name: str,
        low: str,
        args: list[Value],
        named: dict[str, Value],
        node: Node,
        frame: Frame,
    ) -> Value | None:
        tl = tname.lower()
        every = [*args, *named.values()]
        # 1. configuration reads
        cfg = self.k.config_methods.get(tl)
        if cfg is not None and low in cfg[0]:
            pos = cfg[0][low]
            return self._config_read(args[pos] if pos < len(args) else EMPTY, cfg[1])
        # 2. AI SDKs
        sdk = self.k.sdk_for(tl)
        if sdk is not None:
            if low in (m.lower() for m in sdk.base_uri_methods):
                for h in recv.handles:
                    st = self.states.setdefault(h, RequestState())
                    st.url = st.url.join(args[0] if args else UNKNOWN_STR)
                return recv
            if low in (m.lower() for m in sdk.send_methods):
                url = EMPTY.join(*(self.states[h].url for h in recv.handles if h in self.states))
                ev = self._event(
                    "sdk",
                    node,
                    frame,
                    name,
                    client=sdk.package,
                    url=url,
                    body=EMPTY.join(*every),
                    sdk=sdk,
                )
                self._record(ev, EMPTY.join(*every), is_ai=True)
                return UNKNOWN_STR.with_(flags=["ai_response"], types=[tname])
            return recv
        # 3. HTTP clients
        http = self.k.http.get(tl)
        if http is not None:
            return self._http_call(http, recv, name, low, args, named, node, frame)
        # 4. loggers
        if tl in self.k.logger_classes and low in self.k.logger_methods:
            pos = self.k.logger_methods[low]
            logged = EMPTY.join(*args[pos:]) if len(args) > pos else EMPTY
            ev = self._event(
                "log", node, frame, name, body=logged, logger_types=frozenset(t for t in recv.types)
            )
            self._merge(ev)
            return EMPTY
        # 5. writers
        writer = self.k.writer_methods.get(tl)
        if writer is not None and low in writer[0]:
            pos = writer[0][low]
            data = args[pos] if pos < len(args) else EMPTY.join(*every)
            ev = self._event(
                "write", node, frame, name, body=data, object_storage=writer[1], client=tname
            )
            self._merge(ev)
            if not writer[1]:
                self.file_data = self.file_data.join(data.deep().data_only())
            return EMPTY
        # 6. validators
        if self.k.is_validator(tl, low):
            return EMPTY.join(*every).without_flags("user_input").with_(flags=["validated"])
        # 7. Magento data sources
        spec = self._source_spec(tname)
        if spec is not None:
            m = spec.methods.get(low)
            if m is not None:
                return self._source_result(m, recv, name)
            if low in ("getdata", "getcustomattribute", "getattributetext", "getorigdata"):
                return self._data_key(recv, args, low, spec.categories, spec.flags)
            if low in ("addattributetoselect", "addfieldtoselect"):
                extra = self._attr_cats(every)
                return recv.with_(cats=extra)
            if low in (
                "getitems",
                "getdata",
                "toarray",
                "getiterator",
                "getfirstitem",
                "getlastitem",
                "load",
                "getallids",
            ):
                elem = recv.with_(cats=spec.categories, flags=spec.flags)
                if low in ("getfirstitem", "getlastitem") and spec.item:
                    return self._object_value(spec.item).with_(cats=spec.categories)
                return elem
            gm = _MAGIC_GETTER.match(name)
            if gm:
                attr = self.k.attributes.get(_snake(gm.group(1)))
                cats = {attr} if attr else set(spec.categories)
                carried = recv.flags & {"bulk", "user_input"}
                return UNKNOWN_STR.with_(
                    cats=cats, flags=spec.flags | carried, origins=[f"{name}()"]
                )
            # setters and other calls on data objects return the object (fluent)
            if low.startswith(("set", "add", "join", "order")):
                return recv
        # 8. magic factories: XFactory::create() builds an X
        if low == "create" and tname.endswith("Factory"):
            built = tname[: -len("Factory")]
            handle = f"new:{frame.path}:{node.start_byte}"
            value = self._object_value(built, handle)
            spec_http = self.k.http.get(built.lower()) or self.k.http.get(
                self.wiring.resolve_type(built).lower()
            )
            if spec_http is not None and args:
                opts = args[0].entry("config") or args[0]
                self._init_state(spec_http, handle, [opts])
            return value
        # 9. the module's own classes
        target = self.index.find_method(self.wiring.resolve_type(tname), name)
        if target is not None:
            owner, method = target
            bound = list(args)
            for i, (pname, _) in enumerate(method.params):
                if pname in named:
                    while len(bound) <= i:
                        bound.append(UNKNOWN_STR)
                    bound[i] = named[pname]
            return self.call_method(owner, method, bound, frame.stack, frame.depth + 1)
        # 10. methods inherited from Magento base classes
        for anc in self.index.ancestors(self.wiring.resolve_type(tname)):
            ret = self.k.base_methods.get(anc.lower(), {}).get(low)
            if ret:
                return self._object_value(ret)
        return None

    def _source_spec(self, tname: str):  # type: ignore[no-untyped-def]
        tl = tname.lower()
        spec = self.k.sources.get(tl)
        if spec is None:
            resolved = self.wiring.resolve_type(tname).lower()
            spec = self.k.sources.get(resolved)
        if spec is None and tl.endswith(("\\proxy", "\\interceptor")):
            spec = self.k.sources.get(tl.rsplit("\\", 1)[0])
        return spec

    def _source_result(self, m: object, recv: Value, name: str) -> Value:
        spec = m if isinstance(m, dict) else {}
        cats = set(spec.get("categories", ()))
        flags = set(spec.get("flags", ()))
        ret = spec.get("returns")
        origin = [f"{name}()"]
        if ret:
            out = self._object_value(ret).with_(cats=cats, flags=flags, origins=origin)
        else:
            out = UNKNOWN_STR.with_(
                cats=cats, flags=flags, origins=origin if cats or "user_input" in flags else []
            )
        carry = recv.flags & {"bulk", "user_input"}
        return out.with_(flags=carry)

    def _data_key(
        self,
        recv: Value,
        args: list[Value],
        low: str,
        default_cats: Iterable[str] = (),
        flags: Iterable[str] = (),
    ) -> Value:
        if not args:
            cats = set(default_cats) | set(recv.cats)
            return UNKNOWN_STR.with_(
                cats=cats, flags=set(flags) - {"store_scope"}, origins=["getData()"]
            )
        cats = self._attr_cats(args)
        if not cats and recv.cats:
            cats = set(recv.cats)
        keys = [s[0] for a in args[:1] for s in a.strs if len(s) == 1 and s[0]]
        out = UNKNOWN_STR.with_(
            cats=cats,
            flags=recv.flags & {"bulk", "user_input"},
            origins=[f"{low}('{k}')" for k in keys][:2],
        )
        if low == "getcustomattribute":
            return out.with_(types=["magento\\framework\\api\\attributeinterface"])
        return out

    def _attr_cats(self, values: Iterable[Value]) -> set[str]:
        cats: set[str] = set()
        for v in values:
            for s in v.strs:
                if len(s) == 1 and s[0]:
                    c = self.k.attributes.get(s[0])
                    if c:
                        cats.add(c)
            for _, e in v.entries:
                cats |= self._attr_cats([e])
        return cats

    def _config_read(self, path_value: Value, source: str) -> Value:
        out = EMPTY
        for s in path_value.strs:
            if len(s) != 1 or s[0] is None:
                continue
            path = s[0]
            values = self.config.get(path) if source != "env" else []
            flags = ["secret"] if SECRET_NAME.search(path.rsplit("/", 1)[-1]) else []
            origin = [f"config {path}" if source != "env" else f"env {path}"]
            if values:
                for cv in values:
                    out = out.join(Value.literal(cv.value).with_(flags=flags, origins=origin))
            else:
                out = out.join(UNKNOWN_STR.with_(flags=flags, origins=origin))
        return out if not out.is_empty else UNKNOWN_STR

    # ------------------------------------------------------------------ HTTP

    def _init_state(self, spec: HttpSpec, handle: str, args: list[Value]) -> None:
        st = self.states.setdefault(handle, RequestState())
        ctor = spec.constructor
        if "options" in ctor and len(args) > ctor["options"]:
            self._apply_options(st, args[ctor["options"]])
        if "url" in ctor and len(args) > ctor["url"]:
            st.url = st.url.join(args[ctor["url"]])
        if "body" in ctor and len(args) > ctor["body"]:
            st.body = st.body.join(args[ctor["body"]])
        if "headers" in ctor and len(args) > ctor["headers"]:
            st.headers = st.headers.join(args[ctor["headers"]])

    def _apply_options(self, st: RequestState, options: Value) -> None:
        for kind, keys in self.k.option_keys.items():
            for key in keys:
                found = options.entry(key)
                if found is None:
                    continue
                if kind == "url":
                    st.url = st.url.join(found)
                elif kind == "body":
                    st.body = st.body.join(found)
                elif kind == "headers":
                    st.headers = st.headers.join(found)

    def _http_call(
        self,
        spec: HttpSpec,
        recv: Value,
        name: str,
        low: str,
        args: list[Value],
        named: dict[str, Value],
        node: Node,
        frame: Frame,
    ) -> Value:
        m = spec.methods.get(low)
        if m is None:
            if spec.any_method_sends and not low.startswith("__"):
                m = {"send": True}
            elif (
                recv.handles & self.ai_handles
                and low.startswith("get")
                and low not in self.k.metadata_methods
            ):
                # Magento's Curl keeps the answer on the client: $this->curl->getBody().
                return UNKNOWN_STR.with_(flags=["ai_response"])
            else:
                return recv if low.startswith(("set", "add", "with")) else UNKNOWN_STR

        def arg(key: str) -> Value:
            pos = m.get(key) if isinstance(m, dict) else None
            return args[pos] if isinstance(pos, int) and pos < len(args) else EMPTY

        current = RequestState(url=arg("url"), body=arg("body"), headers=arg("headers"))
        if "options" in m:
            self._apply_options(current, arg("options"))
        if "request" in m:
            req = arg("request")
            for h in req.handles:
                if h in self.states:
                    current = current.join(self.states[h])
        handles = recv.handles or frozenset({f"anon:{frame.path}:{node.start_byte}"})
        if m.get("state"):
            for h in handles:
                self.states[h] = self.states.get(h, RequestState()).join(current)
            return recv
        if m.get("send"):
            saved = EMPTY
            state = RequestState()
            for h in handles:
                if h in self.states:
                    state = state.join(self.states[h])
            url = _combine_url(state.url, current.url)
            body = state.body.join(current.body)
            if spec.any_method_sends and low not in spec.methods:
                body = body.join(*args)
            headers = state.headers.join(current.headers)
            ai = self._emit_http(node, frame, spec.client, recv, url, body, headers, name)
            if ai:
                self.ai_handles |= handles
            saved = UNKNOWN_STR.with_(flags=["ai_response"] if ai else [])
            return saved
        return UNKNOWN_STR

    def _emit_http(
        self,
        node: Node,
        frame: Frame,
        client: str,
        recv: Value,
        url: Value,
        body: Value,
        headers: Value,
        method: str,
    ) -> bool:
        ev = self._event(
            "http", node, frame, method, client=client, url=url, body=body, headers=headers
        )
        ai = self.is_ai_url(url)
        self._record(ev, body.join(url), is_ai=ai)
        return ai

    def _record(self, ev: Event, payload: Value, *, is_ai: bool) -> None:
        if is_ai:
            self.prompt_labels |= payload.deep().labels
        self._merge(ev)

    # ------------------------------------------------------------------ functions

    def _function_call(self, node: Node, frame: Frame) -> Value:
        fn_node = fld(node, "function")
        fname = text(fn_node).lstrip("\\").rsplit("\\", 1)[-1].lower()
        args, named = self._args(node, frame)
        every = [*args, *named.values()]
        if fn_node is not None and fn_node.type == "variable_name":
            return EMPTY.join(*every).data_only() if every else UNKNOWN_STR
        if fname in _OPAQUE:
            return EMPTY
        spec = self.k.http_functions.get(fname)
        if spec is not None:
            return self._http_function(fname, spec, args, node, frame)
        if fname in self.k.config_functions:
            pos, _source = self.k.config_functions[fname]
            name_v = args[pos] if pos < len(args) else EMPTY
            names = [s[0] for s in name_v.strs if len(s) == 1 and s[0]]
            return UNKNOWN_STR.with_(
                origins=[f"env {n}" for n in names],
                flags=["secret"] if any(SECRET_NAME.search(n) for n in names) else [],
            )
        if fname in self.k.logger_functions:
            pos = self.k.logger_functions[fname]
            ev = self._event(
                "log", node, frame, fname, body=args[pos] if pos < len(args) else EMPTY
            )
            self._merge(ev)
            return EMPTY
        if fname in self.k.writer_functions:
            pos = self.k.writer_functions[fname]
            data = args[pos] if pos < len(args) else EMPTY
            target = args[0] if args else EMPTY
            if fname == "file_put_contents" and any(
                s and s[0] and s[0].startswith(("http://", "https://")) for s in target.strs
            ):
                return EMPTY
            ev = self._event("write", node, frame, fname, body=data, client=fname)
            self._merge(ev)
            self.file_data = self.file_data.join(data.deep().data_only())
            return EMPTY
        if fname == "sprintf" or fname == "vsprintf":
            return self._sprintf(args)
        if fname in _STRING_PASSTHROUGH and args:
            trimmed = args[0]
            if fname == "rtrim":
                trimmed = Value(
                    strs=frozenset(
                        tuple(
                            (p.rstrip("/") if p and i == len(s) - 1 else p) for i, p in enumerate(s)
                        )
                        for s in args[0].strs
                    ),
                    cats=args[0].cats,
                    flags=args[0].flags,
                    labels=args[0].labels,
                    origins=args[0].origins,
                )
            return trimmed
        if fname in _ELEMENTWISE:
            return self._elementwise(fname, args, frame)
        if fname in ("call_user_func", "call_user_func_array"):
            return EMPTY.join(*every).data_only()
        if fname in ("array_merge", "array_replace", "array_merge_recursive"):
            out = EMPTY
            for a in args:
                out = out.join(a)
            return out
        if fname in (
            "array_values",
            "array_slice",
            "array_unique",
            "array_reverse",
            "array_column",
            "iterator_to_array",
            "array_chunk",
        ):
            return args[0] if args else EMPTY
        if fname in ("json_decode",):
            return EMPTY.join(*every).data_only()
        # json_encode, implode, http_build_query, serialize, str_replace...: data flows.
        out = EMPTY.join(*every).data_only() if every else EMPTY
        if fname == "json_encode" and args:
            # JSON keeps the keys: a request body's `model` and `messages` stay visible.
            out = replace(out, entries=args[0].entries)
        if fname in (
            "implode",
            "join",
            "str_replace",
            "strtr",
            "json_encode",
            "http_build_query",
            "serialize",
            "base64_encode",
            "nl2br",
            "strip_tags",
            "htmlspecialchars",
            "mb_substr",
            "substr",
            "ucfirst",
            "wordwrap",
            "preg_replace",
            "number_format",
            "array_keys",
        ):
            return out
        return out if not out.is_empty else UNKNOWN_STR

    def _sprintf(self, args: list[Value]) -> Value:
        if not args:
            return EMPTY
        fmt = args[0]
        rest = args[1:]
        out = EMPTY
        for template in fmt.strs:
            if len(template) != 1 or template[0] is None:
                out = out.join(concat(*args).data_only())
                continue
            pieces = re.split(r"(%(?:\d+\$)?[-+ 0]*\d*(?:\.\d+)?[sdfuxXeEgGbc%])", template[0])
            values: list[Value] = []
            i = 0
            for piece in pieces:
                if piece.startswith("%") and len(piece) >= 2:
                    if piece == "%%":
                        values.append(Value.literal("%"))
                        continue
                    values.append(rest[i] if i < len(rest) else UNKNOWN_STR)
                    i += 1
                elif piece:
                    values.append(Value.literal(piece))
            out = out.join(concat(*values))
        for v in rest:
            out = out.with_(cats=v.cats, flags=v.flags, labels=v.labels, origins=v.origins)
        return out

    def _elementwise(self, fname: str, args: list[Value], frame: Frame) -> Value:
        if fname == "array_map":
            fn, arrays = (args[0] if args else EMPTY), args[1:]
        else:
            arrays, fn = args[:1], (args[1] if len(args) > 1 else EMPTY)
        element = EMPTY.join(*(self.element_of(a) for a in arrays)) if arrays else UNKNOWN_STR
        result = EMPTY
        for t in fn.types:
            closure = frame.closures.get(t)
            if closure is None:
                continue
            result = result.join(self._call_closure(closure, [element, element], frame))
        if fname in ("array_filter", "usort", "uasort", "array_walk"):
            return EMPTY.join(*arrays) if arrays else EMPTY
        if result.is_empty:
            return EMPTY.join(*arrays).data_only() if arrays else EMPTY
        return Value(
            entries=((None, result),),
            cats=result.cats,
            flags=result.flags,
            labels=result.labels,
            origins=result.origins,
        )

    def _call_closure(self, node: Node, args: list[Value], frame: Frame) -> Value:
        env = dict(frame.env)
        params = fld(node, "parameters")
        if params is not None:
            for i, p in enumerate(params.named_children):
                pname = fld(p, "name")
                if pname is not None:
                    env[text(pname).lstrip("$")] = args[i] if i < len(args) else UNKNOWN_STR
        sub = Frame(
            cls=frame.cls,
            path=frame.path,
            ctx=frame.ctx,
            env=env,
            stack=frame.stack,
            depth=frame.depth + 1,
            closures=frame.closures,
        )
        body = fld(node, "body")
        if body is None:
            return EMPTY
        if node.type == "arrow_function":
            return self.eval(body, sub)
        self._block(body, sub)
        return sub.ret

    def _http_function(
        self, fname: str, spec: Mapping[str, Any], args: list[Value], node: Node, frame: Frame
    ) -> Value:
        def arg(key: str) -> Value:
            pos = spec.get(key)
            return args[pos] if isinstance(pos, int) and pos < len(args) else EMPTY

        if spec.get("passthrough") is not None:
            return arg("passthrough")
        if spec.get("handle") and fname == "curl_init":
            handle = f"curl:{frame.path}:{node.start_byte}"
            self.states[handle] = RequestState(url=arg("url"))
            return Value(
                strs=frozenset({(None,)}),
                handles=frozenset({handle}),
                types=frozenset({"curlhandle"}),
            )
        if fname == "curl_setopt":
            h = arg("handle")
            opt = _option_name(node, 1)
            kind = self.k.curl_options.get(opt or "")
            if kind:
                self._update_handles(h, kind, arg("value"))
            return EMPTY
        if fname == "curl_setopt_array":
            h = arg("handle")
            for key, v in arg("options").entries:
                kind = self.k.curl_options.get(key or "")
                if kind:
                    self._update_handles(h, kind, v)
            return EMPTY
        if fname == "curl_exec":
            h = arg("handle")
            state = RequestState()
            for handle in h.handles:
                state = state.join(self.states.get(handle, RequestState()))
            ai = self._emit_http(
                node, frame, "curl", h, state.url, state.body, state.headers, fname
            )
            return UNKNOWN_STR.with_(flags=["ai_response"] if ai else [])
        if spec.get("remote_only"):
            url = arg("url")
            ctx = arg("context")
            remote = any(
                s and s[0] and s[0].lower().startswith(("http://", "https://")) for s in url.strs
            )
            if not remote and ctx.is_empty:
                return (
                    url.data_only().join(self.file_data)
                    if not url.is_empty
                    else self.file_data.join(UNKNOWN_STR)
                )
            http = ctx.entry("http") or EMPTY
            body = EMPTY.join(
                *(http.entry(k) or EMPTY for k in self.k.stream_option_keys.get("body", ()))
            )
            headers = EMPTY.join(
                *(http.entry(k) or EMPTY for k in self.k.stream_option_keys.get("headers", ()))
            )
            ai = self._emit_http(
                node, frame, str(spec.get("client", fname)), url, url, body, headers, fname
            )
            return UNKNOWN_STR.with_(flags=["ai_response"] if ai else [])
        return UNKNOWN_STR

    def _update_handles(self, handle_value: Value, kind: str, value: Value) -> None:
        for h in handle_value.handles:
            st = self.states.setdefault(h, RequestState())
            if kind == "url":
                st.url = st.url.join(value)
            elif kind == "body":
                st.body = st.body.join(value)
            elif kind == "headers":
                st.headers = st.headers.join(value)

    # ------------------------------------------------------------------ new / static

    def _new(self, node: Node, frame: Frame) -> Value:
        kids = node.named_children
        if not kids:
            return UNKNOWN_STR
        cls_node = kids[0]
        if cls_node.type in ("name", "qualified_name"):
            cls_name = frame.ctx.resolve(text(cls_node))
        elif cls_node.type == "relative_scope":
            cls_name = self._scope_class(cls_node, frame) or ""
        else:
            return UNKNOWN_STR
        args, named = self._args(node, frame)
        handle = f"new:{frame.path}:{node.start_byte}"
        spec = self._http_spec_for(cls_name)
        value = self._object_value(cls_name, handle)
        if spec is not None:
            self._init_state(spec, handle, args)
            return value
        sdk = self.k.sdk_for(cls_name.lower())
        if sdk is not None:
            base = named.get("baseUrl") or named.get("base_uri")
            if base is not None:
                self.states[handle] = RequestState(url=base)
            return value
        every = [*args, *named.values()]
        data = EMPTY.join(*every).data_only() if every else EMPTY
        return value.with_(cats=data.cats, flags=data.flags, labels=data.labels)

    def _http_spec_for(self, cls_name: str) -> HttpSpec | None:
        low = cls_name.lower()
        found = self.k.http.get(low)
        if found is None and "\\" not in cls_name:
            found = self.k.http.get(low)
        if found is None:
            short = low.rsplit("\\", 1)[-1]
            if short in ("soapclient",):
                found = self.k.http.get("soapclient")
        return found

    def _static_call(self, node: Node, frame: Frame) -> Value:
        scope = fld(node, "scope")
        name = text(fld(node, "name"))
        args, named = self._args(node, frame)
        if scope is None:
            return UNKNOWN_STR
        scope_text = text(scope)
        cls_name = self._scope_class(scope, frame)
        if cls_name is None:
            return UNKNOWN_STR
        # AI SDK entry points: OpenAI::client($key), OpenAI::factory()
        for candidate in (cls_name, scope_text.lstrip("\\")):
            sdk = self.k.sdk_constructors.get(f"{candidate.lower()}::{name.lower()}")
            if sdk is not None:
                handle = f"sdk:{frame.path}:{node.start_byte}"
                return Value(
                    strs=frozenset({(None,)}),
                    handles=frozenset({handle}),
                    types=frozenset({candidate}),
                )
        if scope_text in ("parent", "self", "static") and frame.cls is not None:
            target = self.index.find_method(cls_name, name)
            if target is not None:
                owner, method = target
                return self.call_method(owner, method, args, frame.stack, frame.depth + 1)
        target = self.index.find_method(cls_name, name)
        if target is not None:
            owner, method = target
            return self.call_method(owner, method, args, frame.stack, frame.depth + 1)
        every = [*args, *named.values()]
        return EMPTY.join(*every).data_only() if every else UNKNOWN_STR

    # ------------------------------------------------------------------ events

    def _event(
        self,
        kind: str,
        node: Node,
        frame: Frame,
        method: str,
        *,
        client: str = "",
        url: Value = EMPTY,
        body: Value = EMPTY,
        headers: Value = EMPTY,
        sdk: Sdk | None = None,
        object_storage: bool = False,
        logger_types: frozenset[str] = frozenset(),
    ) -> Event:
        name_node = fld(node, "name") or fld(node, "function") or node
        line, col, _, _ = line_col(name_node)
        _, _, end_line, end_col = line_col(node)
        ev = Event(
            kind=kind,
            path=frame.path,
            start_byte=node.start_byte,
            line=line,
            column=col,
            end_line=end_line,
            end_column=end_col,
            matched=text(node)[:400],
            method=method,
            client=client,
            url=url,
            body=body,
            headers=headers,
            sdk=sdk,
            object_storage=object_storage,
            logger_types=logger_types,
        )
        ev.stacks.add(frame.stack)
        return ev

    def _merge(self, ev: Event) -> None:
        found = self.events.get(ev.key)
        if found is None:
            self.events[ev.key] = ev
        else:
            found.merge(ev)

    def _echo(self, node: Node, value: Value, frame: Frame) -> None:
        if "secret" in value.flags:
            ev = self._event("echo", node, frame, "echo", body=value)
            self._merge(ev)


def _join_args(a: list[Value], b: list[Value]) -> list[Value]:
    longest = max(len(a), len(b))
    return [
        (a[i] if i < len(a) else EMPTY).join(b[i] if i < len(b) else EMPTY) for i in range(longest)
    ]


def _after_short_echo(prev: Node | None) -> bool:
    if prev is None or prev.type != "text_interpolation" or not prev.named_children:
        return False
    last = prev.named_children[-1]
    return last.type == "php_tag" and text(last) == "<?="


def _combine_url(base: Value, url: Value) -> Value:
    """Guzzle's base_uri + a relative request URI; an absolute URI wins."""
    if base.is_empty:
        return url
    if url.is_empty:
        return base
    absolute = (
        all(s and s[0] is not None and "//" in s[0][:10] for s in url.strs) if url.strs else False
    )
    if absolute:
        return url
    return concat(base, url).join(EMPTY) if url.strs else base


def _option_name(call: Node, index: int) -> str | None:
    args = fld(call, "arguments")
    if args is None:
        return None
    kids = [a for a in args.named_children if a.type == "argument"]
    if index >= len(kids) or not kids[index].named_children:
        return None
    node = kids[index].named_children[-1]
    return text(node) if node.type in ("name", "qualified_name") else None
