"""The data-driven pattern detector: e-mail, IP, payment cards, IBAN, card expiry and CVV,
dates of birth, postcodes, national ids, VAT ids and secrets, from `redact/data/patterns.yaml`.

Per text: one hyperscan scan (shared, see scanner.py) marks where each pattern or its
context words occur; the exact Python regex runs only in short windows around those hits;
candidates then pass their validator (Luhn, IBAN mod 97, stdnum checksums, JWT header...)
and their context check. No hit, no Python regex: a prompt without digits or '@' costs one
scan.
"""

from __future__ import annotations

import functools
import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mageguard.errors import CatalogError
from mageguard.redact.detectors import data as redact_data
from mageguard.redact.detectors import validators
from mageguard.redact.detectors.scanner import Hits, Scanner, Trigger, windows, word_trigger
from mageguard.redact.spans import Span

NAME = "patterns"


@dataclass(frozen=True)
class PatternSpec:
    id: str
    entity: str
    regex: re.Pattern[str]
    max_length: int
    score: float
    score_with_context: float
    trigger: Trigger | None = None
    anchor: str = "end"
    group: str | int = 0
    validator: validators.Validator | None = None
    trim: bool = False
    context: Trigger | None = None
    context_required: bool = False
    context_entities: frozenset[str] = frozenset()
    window: tuple[int, int] = (48, 32)


def context_trigger(words: Sequence[str]) -> Trigger:
    """A word trigger whose key is its content, so equal lists share one trigger."""
    digest = hashlib.sha1("\x00".join(sorted(words)).encode()).hexdigest()[:10]
    return word_trigger(f"ctx:{digest}", words)


def _months_fragment(doc: Mapping[str, Any]) -> str:
    months = [m for names in (doc.get("months") or {}).values() for m in names]
    return redact_data.alternation(months) if months else "(?!)"


def _catalog_specs(raw: Mapping[str, Any], common: dict[str, Any]) -> list[PatternSpec]:
    from mageguard.catalog import load_catalog
    from mageguard.scan.analyzers.secrets import plausible

    specs = []
    for key in load_catalog().key_patterns:
        tokens = "|".join(re.escape(t) for t in key.tokens)
        specs.append(
            PatternSpec(
                id=f"{raw['id']}:{key.id}",
                regex=key.regex,
                trigger=Trigger(f"pat:{raw['id']}:{key.id}", f"(?:{tokens})"),
                validator=functools.partial(plausible, key),
                **common,
            )
        )
    return specs


def _spec(
    raw: Mapping[str, Any], doc: Mapping[str, Any], brands: Sequence[validators.CardBrand]
) -> list[PatternSpec]:
    pid = raw["id"]
    window = tuple(raw.get("window") or (doc.get("defaults") or {}).get("window") or (48, 32))
    context = context_trigger(raw["context"]) if raw.get("context") else None
    common: dict[str, Any] = {
        "entity": raw["entity"],
        "max_length": raw["max_length"],
        "score": raw["score"],
        "score_with_context": raw.get("score_with_context", raw["score"]),
        "anchor": raw.get("anchor", "end"),
        "group": raw.get("group", 0),
        "trim": bool(raw.get("trim")),
        "context": context,
        "context_required": bool(raw.get("context_required")),
        "context_entities": frozenset(raw.get("context_entities") or ()),
        "window": (int(window[0]), int(window[1])),
    }
    if raw.get("from_catalog") == "key_patterns":
        return _catalog_specs(raw, common)
    fragments = {**(doc.get("fragments") or {}), "MONTH": _months_fragment(doc)}
    source = redact_data.expand(raw["regex"], fragments)
    regex = redact_data.compile_regex(
        source, unicode=bool(raw.get("unicode")), where=f"pattern {pid}"
    )
    prefilter = raw.get("prefilter", source)
    trigger = None
    if prefilter is not False:
        trigger = Trigger(f"pat:{pid}", redact_data.expand(prefilter, fragments))
    if trigger is None and context is None:
        raise CatalogError(f"pattern {pid}: no prefilter and no context: it could never fire")
    validator = None
    if raw.get("validator"):
        try:
            validator = validators.resolve(raw["validator"], brands)
        except (KeyError, ImportError) as exc:
            raise CatalogError(f"pattern {pid}: {exc}") from exc
    return [PatternSpec(id=pid, regex=regex, trigger=trigger, validator=validator, **common)]


@functools.cache
def load_specs() -> tuple[PatternSpec, ...]:
    """The packaged pattern specs, validated and compiled once per process."""
    doc = redact_data.load("patterns")
    brands = tuple(
        validators.CardBrand(
            name=b["name"],
            ranges=tuple((lo, hi) for lo, hi in b["ranges"]),
            lengths=frozenset(b["lengths"]),
        )
        for b in doc["card_brands"]
    )
    specs = [s for raw in doc["patterns"] for s in _spec(raw, doc, brands)]
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise CatalogError("redact/data/patterns.yaml: duplicate pattern id")
    return tuple(specs)


def triggers(specs: Iterable[PatternSpec] | None = None) -> list[Trigger]:
    out: list[Trigger] = []
    for s in load_specs() if specs is None else specs:
        out.extend(t for t in (s.trigger, s.context) if t is not None)
    return out


def context_near(
    hits: Sequence[tuple[int, int]], start: int, end: int, window: tuple[int, int]
) -> bool:
    """Whether a context hit lies within `window` characters before or after [start, end);
    `hits` are sorted by end."""
    i = bisect_left(hits, (start - window[0], -1), key=lambda h: (h[1], h[0]))
    return any(s <= end + window[1] for s, _ in hits[i : i + 8])


def _trimmed(value: str, validator: validators.Validator) -> int:
    """The length of `value` without its last separated group(s) that passes, or 0."""
    for _ in range(3):
        cut = max(value.rfind(" "), value.rfind("-"), value.rfind("."))
        if cut <= 0:
            return 0
        value = value[:cut].rstrip(" -.")
        if value and validator(value):
            return len(value)
    return 0


class PatternDetector:
    """Every pattern of patterns.yaml (or the given specs) in one detector."""

    def __init__(
        self, scanner: Scanner | None = None, specs: Sequence[PatternSpec] | None = None
    ) -> None:
        self._specs = tuple(load_specs() if specs is None else specs)
        self._scanner = scanner or Scanner(triggers(self._specs))
        # which specs a trigger key can wake up; specs that also look around other
        # entities' spans are always visited (cheaply) in order
        self._by_key: dict[str, list[int]] = {}
        for i, s in enumerate(self._specs):
            for t in (s.trigger, s.context):
                if t is not None:
                    self._by_key.setdefault(t.key, []).append(i)
        self._always = frozenset(i for i, s in enumerate(self._specs) if s.context_entities)
        self._entities = frozenset(s.entity for s in self._specs)

    @property
    def name(self) -> str:
        return NAME

    @property
    def entities(self) -> frozenset[str]:
        return self._entities

    def detect(self, text: str) -> list[Span]:
        if not text:
            return []
        hits = self._scanner.scan(text)
        active: set[int] = set(self._always)
        by_key = self._by_key
        for key in hits:
            active.update(by_key.get(key, ()))
        out: list[Span] = []
        for i in sorted(active):
            out.extend(self._run(self._specs[i], text, hits, out))
        # two patterns on the same stretch (an Azure key after "api-key:") give one span
        best: dict[tuple[int, int, str], Span] = {}
        for span in out:
            where = (span.start, span.end, span.entity)
            if where not in best or span.score > best[where].score:
                best[where] = span
        return sorted(best.values())

    def _run(self, spec: PatternSpec, text: str, hits: Hits, found: list[Span]) -> list[Span]:
        n = len(text)
        before, after = spec.window
        ctx_hits = (
            sorted(hits.get(spec.context.key), key=lambda h: (h[1], h[0])) if spec.context else []
        )
        near_spans = [(s.start, s.end) for s in found if s.entity in spec.context_entities]
        reach: list[int] = []
        spans: list[tuple[int, int]] = []
        if spec.trigger is not None and not spec.context_required:
            ends = [e for _, e in hits.get(spec.trigger.key)]
            if spec.anchor == "end":
                spans = [(lo, hi) for lo, hi in windows(ends, spec.max_length + 8, 8, n)]
            else:
                spans = [(lo, hi) for lo, hi in windows(ends, 64, spec.max_length + 8, n)]
        else:
            # searched only around its context (words, other entities' spans): the
            # context may sit up to `before` characters before the value, `after` after it
            for s, e in [*ctx_hits, *near_spans]:
                lo, hi = s - after - spec.max_length, e + before + spec.max_length
                reach.extend((max(0, lo), min(n, hi)))
            spans = windows_from_pairs(reach)
        if not spans:
            return []
        out: list[Span] = []
        seen: set[tuple[int, int]] = set()
        for lo, hi in spans:
            for m in spec.regex.finditer(text, lo, hi):
                start, end = m.span(spec.group)
                if start == end or (end == hi and hi < n) or (start, end) in seen:
                    continue  # empty, or possibly cut short by the window edge
                seen.add((start, end))
                if spec.validator is not None and not spec.validator(text[start:end]):
                    if not spec.trim:
                        continue
                    length = _trimmed(text[start:end], spec.validator)
                    if not length:
                        continue
                    end = start + length
                has_context = context_near(ctx_hits, start, end, spec.window) or any(
                    e >= start - before and s <= end + after for s, e in near_spans
                )
                if spec.context_required and not has_context:
                    continue
                score = spec.score_with_context if has_context else spec.score
                out.append(Span(start, end, spec.entity, score, f"{NAME}:{spec.id}"))
        return out


def windows_from_pairs(flat: list[int]) -> list[tuple[int, int]]:
    """Merge [lo, hi) pairs given flat as lo0, hi0, lo1, hi1..."""
    pairs = sorted(zip(flat[::2], flat[1::2], strict=True))
    out: list[tuple[int, int]] = []
    for lo, hi in pairs:
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
