"""Spans: what detectors return. Immutable, offsets are Python str offsets into the text
the detector was given, and they never carry the matched value (callers slice the text),
so a span can be logged or audited without leaking what it covers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Span:
    start: int
    end: int
    entity: str
    score: float = 1.0
    detector: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad span [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep a non-overlapping set: higher score wins, then the longer span, then the
    earlier one. A card number inside an IBAN-like run, an e-mail inside a URL, a SKU
    inside a product name: one placeholder per stretch of text."""
    ordered = sorted(spans, key=lambda s: (-s.score, -s.length, s.start, s.entity))
    kept: list[Span] = []
    for span in ordered:
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
    return sorted(kept)
