"""tree-sitter-php setup and small node helpers shared by the PHP analyzers."""

from __future__ import annotations

import functools

import tree_sitter
import tree_sitter_php

Node = tree_sitter.Node
Tree = tree_sitter.Tree


@functools.cache
def _language() -> tree_sitter.Language:
    # language_php (not _php_only) because .phtml templates are HTML with PHP islands.
    return tree_sitter.Language(tree_sitter_php.language_php())


def parse(source: bytes) -> Tree:
    """Parse PHP (or phtml); tree-sitter recovers from errors, so broken files still yield
    every well-formed class and call, with ERROR nodes where the syntax breaks."""
    return tree_sitter.Parser(_language()).parse(source)


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def named(node: Node, type_: str) -> list[Node]:
    return [c for c in node.named_children if c.type == type_]


def first(node: Node, *types: str) -> Node | None:
    for c in node.named_children:
        if c.type in types:
            return c
    return None


def line_col(node: Node) -> tuple[int, int, int, int]:
    """1-based line/column of a node's start and end (columns in UTF-8 bytes + 1)."""
    (sl, sc), (el, ec) = node.start_point, node.end_point
    return sl + 1, sc + 1, el + 1, ec + 1


def string_literal(node: Node) -> str | None:
    """The value of a PHP string literal without interpolation, else None."""
    if node.type in ("string", "encapsed_string"):
        parts = []
        for c in node.named_children:
            if c.type == "string_content":
                parts.append(text(c))
            elif c.type == "escape_sequence":
                parts.append(_unescape(text(c)))
            else:
                return None  # "... {$interpolated} ..."
        return "".join(parts)
    if node.type == "nowdoc":
        body = first(node, "nowdoc_body")
        return text(body) if body is not None else ""
    return None


_ESCAPES = {
    "\\n": "\n",
    "\\t": "\t",
    "\\r": "\r",
    "\\\\": "\\",
    "\\'": "'",
    '\\"': '"',
    "\\$": "$",
    "\\0": "\0",
    "\\e": "\x1b",
    "\\v": "\v",
    "\\f": "\f",
}


def _unescape(seq: str) -> str:
    return _ESCAPES.get(seq, seq)
