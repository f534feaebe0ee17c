"""Blank out comments, so that an AI host named in a docblock or a TODO does not make a
module look like an AI module (the gate matches raw bytes; only code should gate)."""

from __future__ import annotations

import functools
import re

import tree_sitter

_XML_COMMENT = re.compile(rb"<!--.*?-->", re.S)


@functools.cache
def _query(language: str) -> tuple[tree_sitter.Parser, tree_sitter.Query]:
    if language == "js":
        import tree_sitter_javascript as grammar

        lang = tree_sitter.Language(grammar.language())
    else:
        import tree_sitter_php

        lang = tree_sitter.Language(tree_sitter_php.language_php())
    return tree_sitter.Parser(lang), tree_sitter.Query(lang, "(comment) @c")


def without_comments(data: bytes, kind: str) -> bytes:
    """`data` with every comment replaced by spaces (offsets and lines preserved)."""
    if kind in ("xml", "html"):
        return _XML_COMMENT.sub(lambda m: b" " * len(m.group(0)), data)
    if kind not in ("php", "phtml", "js", "deployment-config"):
        return data
    parser, query = _query("js" if kind == "js" else "php")
    tree = parser.parse(data)
    out = bytearray(data)
    for node in tree_sitter.QueryCursor(query).captures(tree.root_node).get("c", ()):
        out[node.start_byte : node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return bytes(out)
