"""Cost prices, margins and prices: amounts next to pricing words, and amounts equal to a
cost value in the tenant's dictionary (a cost is secret wherever it appears)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import yaml

from mageguard.catalog.loader import SafeLoader
from mageguard.redact.dictionary import money
from mageguard.redact.spans import Span

# One amount: optional currency, digits with thousands separators, optional decimals,
# optional trailing currency or %. No nested repetition: linear on any input.
AMOUNT = re.compile(
    r"(?<![\w.,\-/#:])(?:[$€£¥]\s?|(?:USD|EUR|GBP)\s)?"
    r"(?:\d{1,3}(?:[,.\u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?"
    r"(?:\s?(?:%|€|\$|£|USD|EUR|GBP)(?!\w))?(?!\w|[:/.]\d)"
)


@functools.cache
def _words() -> tuple[re.Pattern[str], re.Pattern[str], int]:
    raw: Any = yaml.load(
        resources.files("mageguard.redact").joinpath("data", "pricing.yaml").read_text("utf-8"),
        Loader=SafeLoader,
    )

    def alternation(words: list[str]) -> re.Pattern[str]:
        parts = sorted((re.escape(w) for w in words), key=len, reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.I)

    return alternation(raw["cost_words"]), alternation(raw["price_words"]), int(raw["window"])


class AmountDetector:
    name = "amounts"
    entities = frozenset({"COST", "PRICE"})

    def __init__(self, known_costs: frozenset[str] = frozenset()) -> None:
        self.known_costs = known_costs

    def detect(self, text: str) -> Iterator[Span]:
        if not any(ch.isdigit() for ch in text[:4096]) and not re.search(r"\d", text):
            return
        cost_words, price_words, window = _words()
        for m in AMOUNT.finditer(text):
            raw = m.group(0)
            digits = re.sub(r"[^\d.,]", "", raw)
            if len(digits.replace(".", "").replace(",", "")) < 2 and "%" not in raw:
                continue
            before = text[max(0, m.start() - window) : m.start()]
            after = text[m.end() : m.end() + 24]
            value = money(digits)
            decimals = bool(re.search(r"[.,]\d{2}$", digits))
            if value is not None and decimals and value in self.known_costs:
                yield Span(m.start(), m.end(), "COST", 0.95, self.name)
            else:
                kind = _nearest(cost_words, price_words, before)
                if kind == "COST" or (raw.endswith("%") and cost_words.search(after)):
                    yield Span(m.start(), m.end(), "COST", 0.8, self.name)
                elif kind == "PRICE" and not raw.endswith("%"):
                    yield Span(m.start(), m.end(), "PRICE", 0.6, self.name)


def _nearest(cost_words: re.Pattern[str], price_words: re.Pattern[str], before: str) -> str | None:
    """The pricing word closest before an amount decides what it is: "costs us $12, sells
    at $29" has one cost and one price."""
    last_cost = max((m.end() for m in cost_words.finditer(before)), default=-1)
    last_price = max((m.end() for m in price_words.finditer(before)), default=-1)
    if last_cost < 0 and last_price < 0:
        return None
    return "COST" if last_cost > last_price else "PRICE"
