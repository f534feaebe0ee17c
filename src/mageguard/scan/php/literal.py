"""PHP array literals as Python data: app/etc/env.php and config.php are `return [...]`.

Parsed with tree-sitter, never executed: env.php holds the store's secrets and may be
hostile input in a scanner's eyes.
"""

from __future__ import annotations

from dataclasses import dataclass

from mageguard.scan.php.parser import Node, line_col, parse, string_literal, text


@dataclass(frozen=True)
class Leaf:
    value: str | int | float | bool | None
    line: int
    column: int
    source: str  # the literal as written
    # byte offsets of the literal in the file: `mageguard fix` rewrites a value in place
    # and leaves every other byte of env.php as the operator wrote it
    start: int = -1
    end: int = -1


PhpData = dict[str, "PhpData"] | Leaf


def _convert(node: Node) -> PhpData:
    if node.type == "array_creation_expression":
        out: dict[str, PhpData] = {}
        index = 0
        for el in node.named_children:
            if el.type != "array_element_initializer":
                continue
            kids = el.named_children
            if len(kids) == 2:
                key_node, val_node = kids
                key = _scalar(key_node)
                k = str(key.value) if key.value is not None else text(key_node)
            elif len(kids) == 1:
                val_node = kids[0]
                k = str(index)
                index += 1
            else:
                continue
            out[k] = _convert(val_node)
        return out
    return _scalar(node)


def _scalar(node: Node) -> Leaf:
    line, col, _, _ = line_col(node)
    raw = text(node)
    span = (node.start_byte, node.end_byte)
    s = string_literal(node)
    if s is not None:
        return Leaf(s, line, col, raw, *span)
    if node.type == "integer":
        try:
            return Leaf(int(raw, 0), line, col, raw, *span)
        except ValueError:
            return Leaf(None, line, col, raw, *span)
    if node.type == "float":
        try:
            return Leaf(float(raw.replace("_", "")), line, col, raw, *span)
        except ValueError:  # tree-sitter recovers "." or "1e" as a float in broken files
            return Leaf(None, line, col, raw, *span)
    if node.type == "boolean":
        return Leaf(raw.lower() == "true", line, col, raw, *span)
    if node.type == "null":
        return Leaf(None, line, col, raw, *span)
    if node.type == "unary_op_expression" and raw.startswith("-"):
        inner = _scalar(node.named_children[-1])
        if isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
            return Leaf(-inner.value, line, col, raw, *span)
    return Leaf(None, line, col, raw, *span)  # an expression (getenv(), a constant): unknown


def read_returned_array(source: bytes) -> dict[str, PhpData] | None:
    """The array an env.php-style file returns, or None when it returns something else."""
    tree = parse(source)
    for node in tree.root_node.named_children:
        if node.type == "return_statement" and node.named_children:
            value = _convert(node.named_children[0])
            return value if isinstance(value, dict) else None
    return None


def string_leaves(source: bytes) -> list[Leaf]:
    """Every plain string literal in a PHP file (no interpolation), in source order, with
    its byte span: the places `mageguard fix` may rewrite an endpoint or a key."""
    out: list[Leaf] = []
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type in ("string", "encapsed_string"):
            leaf = _scalar(node)
            if isinstance(leaf.value, str):
                out.append(leaf)
            continue
        stack.extend(reversed(node.children))
    return out


def flatten(data: PhpData, prefix: str = "") -> list[tuple[str, Leaf]]:
    """[("db/connection/default/password", Leaf), ...] in source order."""
    if isinstance(data, Leaf):
        return [(prefix, data)]
    out: list[tuple[str, Leaf]] = []
    for k, v in data.items():
        out += flatten(v, f"{prefix}/{k}" if prefix else k)
    return out
