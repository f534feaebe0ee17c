"""Blank out comments, so that an AI host named in a docblock or a TODO does not make a
module look like an AI module (the gate matches raw bytes; only code should gate).

A lexer-level regex, not a parser: it runs on every file that mentions AI, including
4 MB generated PHP arrays that tree-sitter would need 300 MB to parse. String literals are
matched first so that `'http://...'` or `"a // b"` is never taken for a comment; the rare
constructs it misreads (a heredoc holding `/*`) only change which modules get analysed.
"""

from __future__ import annotations

import re

_PHP = re.compile(
    rb"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|(//|\#(?!\[))[^\n]*|/\*.*?(?:\*/|\Z)""", re.S
)
_JS = re.compile(
    rb"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`|//[^\n]*|/\*.*?(?:\*/|\Z)""",
    re.S,
)
_XML = re.compile(rb"<!--.*?(?:-->|\Z)", re.S)
_PATTERNS = {
    "php": _PHP,
    "phtml": _PHP,
    "deployment-config": _PHP,
    "js": _JS,
    "xml": _XML,
    "html": _XML,
}


def _blank(match: re.Match[bytes]) -> bytes:
    text = match.group(0)
    if text[:1] in (b"'", b'"', b"`"):
        return text  # a string literal: code, kept
    return re.sub(rb"[^\n]", b" ", text)  # keep line breaks so offsets and lines hold


def without_comments(data: bytes, kind: str) -> bytes:
    """`data` with every comment replaced by spaces (lengths and lines preserved)."""
    pattern = _PATTERNS.get(kind)
    return pattern.sub(_blank, data) if pattern is not None else data
