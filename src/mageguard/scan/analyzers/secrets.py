"""AI provider credentials in text, by the catalog's anchored key patterns.

Detection runs only on files the gate flagged for key tokens; false positives are cut by
tiny pure filters (placeholders, one repeated character, missing character classes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mageguard.catalog import KeyPattern, load_catalog

_PLACEHOLDER = re.compile(r"(x{6,}|\.{3}|\*{3,}|your[_-]?(api[_-]?)?key|<|>|\{|\})", re.I)


@dataclass(frozen=True)
class KeyMatch:
    pattern: KeyPattern
    start: int
    end: int
    value: str


def _mixed(body: str) -> bool:
    return (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and any(c.isdigit() for c in body)
    )


def plausible(pattern: KeyPattern, value: str) -> bool:
    if _PLACEHOLDER.search(value):
        return False
    body = (
        value[max(len(t) for t in pattern.tokens if value.startswith(t)) :]
        if any(value.startswith(t) for t in pattern.tokens)
        else value
    )
    if len(set(body)) < 6:
        return False
    return not (pattern.mixed_charset and not _mixed(body))


def find_keys(text: str, ai_unit: bool = True) -> Iterator[KeyMatch]:
    """Every plausible key in `text`; a span claimed by one pattern is not matched twice."""
    taken: list[tuple[int, int]] = []
    for pattern in load_catalog().key_patterns:
        if pattern.ai_units_only and not ai_unit:
            continue
        if not any(t in text for t in pattern.tokens):
            continue
        for m in pattern.regex.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if plausible(pattern, m.group(0)):
                taken.append((m.start(), m.end()))
                yield KeyMatch(pattern, m.start(), m.end(), m.group(0))


def mask(value: str) -> str:
    """Keep the recognisable prefix, hide the secret: `sk-proj-Ab****`."""
    keep = 0
    for pattern in load_catalog().key_patterns:
        for t in pattern.tokens:
            if value.startswith(t):
                keep = max(keep, len(t))
    if value.startswith(("sk-proj-", "sk-ant-api03-")):
        keep = value.index("-", 3) + 1 if value.startswith("sk-proj-") else 13
    keep = min(keep + 2, max(len(value) // 4, 1))
    return value[:keep] + "****"


def mask_text(text: str) -> str:
    """`text` with every credential in it masked: evidence never carries a raw key."""
    out, last = [], 0
    for m in sorted(find_keys(text, ai_unit=True), key=lambda m: m.start):
        out.append(text[last : m.start])
        out.append(mask(m.value))
        last = m.end
    out.append(text[last:])
    return "".join(out)
