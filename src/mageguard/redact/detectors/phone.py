"""Phone numbers: a cheap candidate shape in the shared hyperscan database, then
libphonenumber (`phonenumbers`) on candidates only.

A leading `+` or `00` makes a number international and its country code decides the
region; a national number is tried in the regions of patterns.yaml, in order, skipping
those whose possible lengths (libphonenumber's own metadata) it cannot have. Parsing costs
~30 us and validating ~20 us per region, so shapes that are something else are refused
before: dates, dotted quads, thousands groupings, Luhn-valid card numbers, IBAN tails,
order and invoice numbers (`#000113266`, "order 000113266").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers

from mageguard.redact.detectors import data as redact_data
from mageguard.redact.detectors.patterns import context_near, context_trigger
from mageguard.redact.detectors.scanner import Scanner, Trigger, windows
from mageguard.redact.detectors.validators import digits_of, luhn
from mageguard.redact.spans import Span

NAME = "phone"
_KEY = "phone:candidate"

_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?[0-9]{1,6}$", re.ASCII)
_DATE = re.compile(r"^(?:[0-9]{1,4}[./-][0-9]{1,2}[./-][0-9]{1,4}|[0-9]{4}[./-][0-9]{2})(?:\s|$)")
_BARE = re.compile(r"^[1-9][0-9]+$")
_DOTTED_QUAD = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$")
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:[.,][0-9]{3})+$")
_IBAN_HEAD = re.compile(r"[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4})* \Z")

VALID, POSSIBLE, NO = 2, 1, 0


@dataclass(frozen=True)
class PhoneConfig:
    regions: tuple[str, ...]
    trigger: Trigger
    regex: re.Pattern[str]
    max_length: int
    context: Trigger
    negative: Trigger | None
    window: tuple[int, int]
    score: float
    score_with_context: float
    score_possible_with_context: float


@functools.cache
def load_config() -> PhoneConfig:
    raw: Mapping[str, Any] = redact_data.load("patterns")["phone"]
    return PhoneConfig(
        regions=tuple(raw["regions"]),
        trigger=Trigger(_KEY, raw["prefilter"]),
        regex=redact_data.compile_regex(raw["regex"], where="phone"),
        max_length=raw["max_length"],
        context=context_trigger(raw["context"]),
        negative=context_trigger(raw["negative_context"]) if raw.get("negative_context") else None,
        window=(raw["window"][0], raw["window"][1]),
        score=raw["score"],
        score_with_context=raw["score_with_context"],
        score_possible_with_context=raw["score_possible_with_context"],
    )


def triggers() -> list[Trigger]:
    cfg = load_config()
    return [t for t in (cfg.trigger, cfg.context, cfg.negative) if t is not None]


@functools.cache
def _region_shape(region: str) -> tuple[str, frozenset[int]]:
    """(national prefix, possible lengths of the national significant number)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None:
        return "", frozenset()
    return meta.national_prefix or "", frozenset(meta.general_desc.possible_length or ())


def _plausible_regions(digits: str, regions: Sequence[str]) -> list[str]:
    out = []
    for region in regions:
        prefix, lengths = _region_shape(region)
        nsn = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if len(nsn) in lengths:
            out.append(region)
    return out


def _not_a_phone(core: str, digits: str) -> bool:
    if not 7 <= len(digits) <= 15 or len(set(digits)) < 3:
        return True
    if _DATE.match(core) or _DOTTED_QUAD.match(core) or _THOUSANDS.match(core):
        return True
    # a Luhn-valid 13+ digit run is a card number's business, not ours
    return len(digits) >= 13 and luhn(digits) and not core.startswith(("+", "00"))


@functools.lru_cache(maxsize=4096)
def verdict(candidate: str, regions: tuple[str, ...]) -> int:
    """VALID, POSSIBLE or NO for one candidate. Cached: a chat client re-sends the whole
    conversation on every turn, so the same numbers come back again and again."""
    core = _EXTENSION.sub("", candidate)
    digits = digits_of(core)
    if _not_a_phone(core, digits):
        return NO
    possible = False
    if core.startswith(("+", "00")):
        tries: list[tuple[str, str | None]] = [("+" + core[2:] if core[:2] == "00" else core, None)]
    else:
        tries = [(core, r) for r in _plausible_regions(digits, regions)]
    for number, region in tries:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return VALID
        possible = possible or phonenumbers.is_possible_number(parsed)
    return POSSIBLE if possible else NO


class PhoneDetector:
    def __init__(self, scanner: Scanner | None = None, config: PhoneConfig | None = None) -> None:
        self._cfg = config or load_config()
        self.scanner = scanner or Scanner(triggers())

    @property
    def name(self) -> str:
        return NAME

    @property
    def entities(self) -> frozenset[str]:
        return frozenset({"PHONE"})

    def detect(self, text: str) -> list[Span]:
        if not text:
            return []
        hits = self.scanner.scan(text)
        ends = [e for _, e in hits.get(_KEY)]
        if not ends:
            return []
        cfg = self._cfg
        n = len(text)
        ctx = sorted(hits.get(cfg.context.key), key=lambda h: (h[1], h[0]))
        neg = sorted(hits.get(cfg.negative.key), key=lambda h: (h[1], h[0])) if cfg.negative else []
        out: list[Span] = []
        seen: set[int] = set()
        for lo, hi in windows(ends, cfg.max_length + 8, 8, n):
            for m in cfg.regex.finditer(text, lo, hi):
                start, end = m.span()
                if (end == hi and hi < n) or start in seen:
                    continue
                seen.add(start)
                value = m.group()
                international = value.startswith(("+", "00"))
                if not international and (
                    context_near(neg, start, end, (24, 0))
                    or _IBAN_HEAD.search(text, max(0, start - 40), start)
                ):
                    continue  # an order number, or the tail of a spaced IBAN
                if text[end : end + 1] == ":" and text[end + 1 : end + 2].isdigit():
                    continue  # "2024-01-04 14:30": a date and a time
                has_context = context_near(ctx, start, end, cfg.window)
                if not has_context and _BARE.match(value):
                    continue  # a bare run of digits without a trunk 0: an id until a cue says so
                found = verdict(value, cfg.regions)
                if found == NO:
                    continue
                if found == VALID:
                    score = cfg.score_with_context if has_context else cfg.score
                elif has_context:
                    score = cfg.score_possible_with_context
                else:
                    continue
                out.append(Span(start, end, "PHONE", score, NAME))
        return out
