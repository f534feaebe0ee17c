"""Cost prices, margins and prices: amounts next to pricing words. (Amounts equal to a
known cost value are found by the tenant dictionary, which holds the costs as terms.)

Line rate matters here: a Python regex pass over a 2 KB prompt costs ~100 us, more than
every other detector together. So the pricing words are found with one hyperscan literal
scan (most prompts have none), and the amount pattern only runs in a short window around
each word.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import hyperscan
import yaml

from mageguard.catalog.loader import SafeLoader
from mageguard.redact.spans import Span
from mageguard.redact.text import folded_utf8, str_offsets

# One amount: optional currency, digits with thousands separators, optional decimals,
# optional trailing currency or %. No nested repetition: linear on any input.
AMOUNT = re.compile(
    r"(?<![\w.,\-/#:])(?:[$€£¥]\s?|(?:USD|EUR|GBP)\s)?"
    r"(?:\d{1,3}(?:[,.\u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?"
    r"(?:\s?(?:%|€|\$|£|USD|EUR|GBP)(?!\w))?(?!\w|[:/.]\d)"
)
COST, PRICE = 0, 1


@dataclass(frozen=True)
class _Words:
    db: Any
    kinds: tuple[int, ...]  # per word id: COST or PRICE
    lengths: tuple[int, ...]
    window: int


@functools.cache
def _words() -> _Words:
    raw: Any = yaml.load(
        resources.files("mageguard.redact").joinpath("data", "pricing.yaml").read_text("utf-8"),
        Loader=SafeLoader,
    )
    words = [(w.lower(), COST) for w in raw["cost_words"]]
    words += [(w.lower(), PRICE) for w in raw["price_words"]]
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[w.encode("utf-8") for w, _ in words],
        ids=list(range(len(words))),
        elements=len(words),
        flags=hyperscan.HS_FLAG_CASELESS,
        literal=True,
    )
    return _Words(
        db, tuple(k for _, k in words), tuple(len(w) for w, _ in words), int(raw["window"])
    )


class AmountDetector:
    name = "amounts"
    entities = frozenset({"COST", "PRICE"})

    def __init__(self) -> None:
        self._words = _words()
        self._scratch = hyperscan.Scratch(self._words.db)

    def detect(self, text: str) -> list[Span]:
        if not text:
            return []
        # the same folded bytes the tenant dictionary scans: folded and encoded once
        folded, data = folded_utf8(text)
        hits: list[tuple[int, int]] = []  # (end byte, word id)
        self._words.db.scan(data, match_event_handler=_collect, context=hits, scratch=self._scratch)
        if not hits:
            return []
        where = str_offsets(data, [end for end, _ in hits]) if len(data) != len(folded) else None
        lengths, kinds = self._words.lengths, self._words.kinds
        words: list[tuple[int, int, int]] = []  # (start, end, kind) in str offsets
        for end_byte, i in hits:
            end = end_byte if where is None else where[end_byte]
            start = end - lengths[i]
            if _whole_word(folded, start, end):
                words.append((start, end, kinds[i]))
        if not words:
            return []
        return list(self._amounts(text, sorted(words)))

    def _amounts(self, text: str, words: list[tuple[int, int, int]]) -> Iterator[Span]:
        """Run the amount pattern once over each stretch near a pricing word (overlapping
        windows merged), so a text of 200k "$" signs stays linear."""
        window = self._words.window
        ends = [end for _, end, _ in words]
        stretches: list[list[int]] = []
        for w_start, w_end, _kind in words:
            lo, hi = max(0, w_start - 24), min(len(text), w_end + window)
            if stretches and lo <= stretches[-1][1]:
                stretches[-1][1] = max(stretches[-1][1], hi)
            else:
                stretches.append([lo, hi])
        for lo, hi in stretches:
            for m in AMOUNT.finditer(text, lo, hi):
                span = _classify(m, words, ends, window)
                if span is not None:
                    yield span


def _collect(i: int, _start: int, end: int, _flags: int, hits: list[tuple[int, int]]) -> None:
    hits.append((end, i))


def _classify(
    m: re.Match[str], words: list[tuple[int, int, int]], ends: list[int], window: int
) -> Span | None:
    raw = m.group(0)
    digits = re.sub(r"[^\d.,]", "", raw)
    if len(digits.replace(".", "").replace(",", "")) < 2 and "%" not in raw:
        return None
    i = bisect.bisect_right(ends, m.start()) - 1  # the closest pricing word before it
    if i >= 0 and m.start() - ends[i] <= window:
        kind = words[i][2]
    elif (
        raw.endswith("%")
        and i + 1 < len(words)
        and words[i + 1][2] == COST
        and words[i + 1][0] - m.end() <= 24
    ):
        kind = COST  # "42% margin"
    else:
        return None
    if kind == PRICE and raw.endswith("%"):
        return None
    return Span(
        m.start(),
        m.end(),
        "COST" if kind == COST else "PRICE",
        0.8 if kind == COST else 0.6,
        "amounts",
    )


def _whole_word(text: str, start: int, end: int) -> bool:
    first, last = text[start : start + 1], text[end - 1 : end]
    if first.isalnum() and start > 0 and text[start - 1].isalnum():
        return False
    return not (last.isalnum() and end < len(text) and text[end].isalnum())
