"""Edits to PHP that change one value and nothing else: app/etc/env.php and config.php
entries, and, in module code, hard-coded endpoints and keys of calls the connector cannot
reach (raw curl_*, streams).

Magento rewrites env.php and config.php itself (setup:upgrade, config:set --lock-env); an
operator reviewing our change must see a one-line diff, so values are replaced in place at
the byte offsets tree-sitter gives, never by re-serialising the array or by a regex that a
quote in a comment would throw off.
"""

from __future__ import annotations

import re

from mageguard.errors import MageguardError
from mageguard.scan.php.literal import Leaf, flatten, read_returned_array, string_leaves

# The path prefix the OpenAI and Anthropic APIs and the gateway share: `/v1`, or none.
_API_PATH = re.compile(r"(?:/v1(?:[/?#].*)?)?", re.S)


def php_string(value: str) -> str:
    """A single-quoted PHP literal: only backslash and quote need escaping."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def replace_values(source: bytes, values: dict[str, str]) -> bytes:
    """`values` maps flattened keys ("system/default/lumen_ai/openai/endpoint") that exist
    in the file to their new string values."""
    data = read_returned_array(source)
    if data is None:
        raise MageguardError("the file does not return an array")
    leaves = dict(flatten(data))
    edits: list[tuple[Leaf, str]] = []
    for key, value in values.items():
        leaf = leaves.get(key)
        if leaf is None or leaf.start < 0:
            raise MageguardError(f"no literal value at {key}")
        edits.append((leaf, value))
    return _rewrite(source, edits)


def enable_module(config_php: bytes, module: str) -> bytes:
    """config.php with `'<module>' => 1` in its `modules` list (after the last module, in
    that entry's indentation); unchanged when the module is already listed as enabled."""
    data = read_returned_array(config_php)
    modules = data.get("modules") if data else None
    if not isinstance(modules, dict) or not modules:
        raise MageguardError("app/etc/config.php has no `modules` list")
    current = modules.get(module)
    if isinstance(current, Leaf):
        if str(current.value) in ("1", "True"):
            return config_php
        return replace_literal(config_php, current, "1")
    last = max(
        (leaf for _, leaf in flatten(modules) if leaf.start >= 0),
        key=lambda leaf: leaf.end,
    )
    line_start = config_php.rfind(b"\n", 0, last.start) + 1
    indent = config_php[line_start : len(config_php) - len(config_php[line_start:].lstrip())]
    line_end = config_php.find(b"\n", last.end)
    line_end = len(config_php) if line_end < 0 else line_end
    head = config_php[: last.end]
    rest = config_php[last.end : line_end]
    if b"," not in rest:
        rest = b"," + rest
    entry = b"\n" + indent + php_string(module).encode() + b" => 1,"
    return head + rest + entry + config_php[line_end:]


def replace_literal(source: bytes, leaf: Leaf, raw: str) -> bytes:
    """Put `raw` (PHP source, not a value) where the literal was."""
    return source[: leaf.start] + raw.encode("utf-8") + source[leaf.end :]


def gateway_endpoints(source: bytes, host: str, gateway_url: str) -> bytes | None:
    """PHP with each string literal that starts with `https://<host>` pointed at the
    gateway, its API path kept (`/v1/messages`); None when no literal qualifies. A literal
    with another path (Azure's `/openai/deployments/...`) is left alone: the gateway does
    not serve it, and a wrong rewrite would break the feature instead of shutting the leak."""
    prefix = re.compile(rf"https?://{re.escape(host)}(?::443)?(?![\w.-])", re.I)
    edits = []
    for leaf in string_leaves(source):
        value = str(leaf.value)
        found = prefix.match(value)
        if found is not None and _API_PATH.fullmatch(value[found.end() :]):
            edits.append((leaf, gateway_url.rstrip("/") + value[found.end() :]))
    return _rewrite(source, edits) if edits else None


def key_literal(source: bytes, line: int, column: int, key: str) -> bytes | None:
    """PHP with the string literal at line:column (1-based, anywhere inside it) holding
    `key`; None when no literal is there."""
    for leaf in string_leaves(source):
        lines = leaf.source.count("\n")
        if leaf.line <= line <= leaf.line + lines and (
            line > leaf.line or leaf.column <= column < leaf.column + len(leaf.source)
        ):
            return _rewrite(source, [(leaf, key)])
    return None


def _rewrite(source: bytes, edits: list[tuple[Leaf, str]]) -> bytes:
    out = source
    for leaf, value in sorted(edits, key=lambda e: -e[0].start):  # back to front
        out = out[: leaf.start] + php_string(value).encode("utf-8") + out[leaf.end :]
    return out
