"""The data-driven pattern detector: e-mail, IP, payment cards, IBAN, card expiry and CVV,
dates of birth, postcodes, national ids, VAT ids and secrets, from `redact/data/patterns.yaml`.

Per text: one hyperscan scan (shared, see scanner.py) marks where each pattern occurs, and
where the context words of the patterns that are searched only around their context occur;
the exact Python regex runs only in short windows around those hits; candidates then pass
their validator (Luhn, IBAN mod 97, stdnum checksums, JWT header...) and their context
check. Context words that only raise a score are lazy triggers: they are scanned for (once
per text) only when a candidate needs them. No hit, no Python regex: a prompt without
digits or '@' costs one scan.
"""

from __future__ import annotations

import functools
import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mageguard.errors import CatalogError
from mageguard.redact.detectors import data as redact_data
from mageguard.redact.detectors import validators
from mageguard.redact.detectors.scanner import Hits, Scanner, Trigger, word_trigger
from mageguard.redact.spans import Span, make_span

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
    # anchor "start": the match starts at most this many characters before its hit's end,
    # and (`lead`) every character from its start to the hit's end is in this class, so
    # the search starts where the run of them before the hit starts
    lookback: int = 64
    lead: re.Pattern[str] | None = None
    # every accepted match contains this: a window without it is not searched
    requires: re.Pattern[str] | None = None

    @cached_property
    def detector(self) -> str:
        """What its spans' `detector` says: built once, not per span."""
        return f"{NAME}:{self.id}"

    @property
    def lazy_context(self) -> bool:
        """Context words that only raise the score of a candidate found by its own
        trigger: looked for only once there is a candidate."""
        return self.trigger is not None and not self.context_required


def context_trigger(words: Sequence[str], *, lazy: bool = False) -> Trigger:
    """A word trigger whose key is its content, so equal lists share one trigger."""
    digest = hashlib.sha1("\x00".join(sorted(words)).encode()).hexdigest()[:10]
    return word_trigger(f"ctx:{digest}", words, lazy=lazy)


def _months_fragment(doc: Mapping[str, Any]) -> str:
    # a trie, not a flat list: Python's re tries each branch of an alternation in turn at
    # every position, and ~150 month names made the date-of-birth regex cost ~25 us per
    # 100 characters searched
    months = [m for names in (doc.get("months") or {}).values() for m in names]
    return redact_data.trie_alternation(months) if months else "(?!)"


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
    # context words only raise the score of what the pattern's own trigger finds, unless
    # the pattern is searched around them (no trigger of its own, or context required)
    lazy = bool(raw.get("prefilter", True) is not False and not raw.get("context_required"))
    context = context_trigger(raw["context"], lazy=lazy) if raw.get("context") else None
    requires, lead = raw.get("requires"), raw.get("lead")
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
        "lookback": int(raw.get("lookback", 64)),
        # matched against the text before the hit, reversed: the run's length
        "lead": (
            redact_data.compile_regex(f"(?:{lead})*", where=f"pattern {pid}: lead")
            if lead
            else None
        ),
        "requires": (
            redact_data.compile_regex(requires, where=f"pattern {pid}: requires")
            if requires
            else None
        ),
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


def _by_end(hit: tuple[int, int]) -> tuple[int, int]:
    return hit[1], hit[0]


def hit_windows(
    ends: Iterable[int],
    before: int,
    after: int,
    limit: int,
    text: str = "",
    lead: re.Pattern[str] | None = None,
) -> list[tuple[int, int, int]]:
    """Merged [end - before, end + after) windows clipped to [0, limit), each with the
    last hit end it covers. With `lead`, a window starts no earlier than the run of
    `lead` characters that ends at its hit."""
    out: list[tuple[int, int, int]] = []
    for e in sorted(ends):
        lo, hi = e - before, e + after
        if lo < 0:
            lo = 0
        if lead is not None:
            run = lead.match(text[lo:e][::-1])
            lo = e - (run.end() if run else 0)
        if hi > limit:
            hi = limit
        if out and lo <= out[-1][1]:
            last = out[-1]
            out[-1] = (last[0], hi if hi > last[1] else last[1], e)
        else:
            out.append((lo, hi, e))
    return out


class _Context:
    """One pattern's context hits in one text, sorted by end, fetched at first need (for a
    lazy context that is what runs the lazy scan)."""

    __slots__ = ("_hits", "_key", "_sorted")

    def __init__(self, hits: Hits, key: str | None) -> None:
        self._hits, self._key = hits, key
        self._sorted: list[tuple[int, int]] | None = None

    def hits(self) -> list[tuple[int, int]]:
        if self._sorted is None:
            self._sorted = sorted(self._hits.get(self._key), key=_by_end) if self._key else []
        return self._sorted


_NO_CONTEXT = _Context(Hits({}), None)  # a pattern without context words: no hits, ever


class PatternDetector:
    """Every pattern of patterns.yaml (or the given specs) in one detector."""

    def __init__(
        self, scanner: Scanner | None = None, specs: Sequence[PatternSpec] | None = None
    ) -> None:
        self._specs = tuple(load_specs() if specs is None else specs)
        self.scanner = scanner or Scanner(triggers(self._specs))
        # which specs a trigger key can wake up (lazy context keys wake nobody: their
        # pattern has a trigger of its own); specs that also look around other entities'
        # spans are always visited (cheaply) in order
        self._by_key: dict[str, list[int]] = {}
        for i, s in enumerate(self._specs):
            for t in (s.trigger, None if s.lazy_context else s.context):
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
        hits = self.scanner.scan(text)
        active: set[int] = set()
        by_key = self._by_key
        for key in hits:
            woken = by_key.get(key)
            if woken:
                active.update(woken)
        always = self._always
        out: list[Span] = []
        specs = self._specs
        for i in sorted(active | always):
            spec = specs[i]
            if i not in active and not any(s.entity in spec.context_entities for s in out):
                continue  # nothing to look around (yet)
            found = self._run(spec, text, hits, out)
            if found:
                out.extend(found)
        if len(out) < 2:
            return out
        # two patterns on the same stretch (an Azure key after "api-key:") give one span
        best: dict[tuple[int, int, str], Span] = {}
        for span in out:
            where = (span.start, span.end, span.entity)
            if where not in best or span.score > best[where].score:
                best[where] = span
        return sorted(best.values())

    def _run(self, spec: PatternSpec, text: str, hits: Hits, found: list[Span]) -> list[Span]:
        n = len(text)
        near_spans = (
            [(s.start, s.end) for s in found if s.entity in spec.context_entities]
            if spec.context_entities and found
            else []
        )
        ctx = _Context(hits, spec.context.key) if spec.context is not None else _NO_CONTEXT
        spans: list[tuple[int, int, int]]
        # a match that starts after the last hit of its window is no match of that hit
        # (the triggers of "start" and "inside" patterns end inside their match)
        stop = False
        if spec.trigger is not None and not spec.context_required:
            raw = hits.get(spec.trigger.key)
            if not raw:
                return []
            ends = [e for _, e in raw]
            if spec.anchor == "end":
                spans = hit_windows(ends, spec.max_length + 8, 8, n)
            elif spec.anchor == "start":
                spans = hit_windows(ends, spec.lookback, spec.max_length + 8, n, text, spec.lead)
                stop = True
            else:  # inside: the hit may end anywhere in the match
                spans = hit_windows(ends, spec.max_length + 8, spec.max_length + 8, n)
                stop = True
        else:
            # searched only around its context (words, other entities' spans): the
            # context may sit up to `before` characters before the value, `after` after it
            around = ctx.hits()
            if near_spans:
                around = sorted([*around, *near_spans])
            elif not around:
                return []
            before, after = spec.window
            spans = []
            for s, e in around:  # sorted by start (context hits: end - constant reach)
                lo, hi = s - after - spec.max_length, e + before + spec.max_length
                if lo < 0:
                    lo = 0
                if hi > n:
                    hi = n
                if spans and lo <= spans[-1][1]:
                    if hi > spans[-1][1]:
                        spans[-1] = (spans[-1][0], hi, n)
                else:
                    spans.append((lo, hi, n))
        # the score is the same with or without context: no need to look for it
        wants_context = spec.context_required or spec.score_with_context != spec.score
        requires, regex = spec.requires, spec.regex
        out: list[Span] = []
        for lo, hi, last in spans:
            if requires is not None and requires.search(text, lo, hi) is None:
                continue
            for m in regex.finditer(text, lo, hi):
                if stop and m.start() >= last:
                    break
                span = self._accept(spec, text, m, hi, ctx, near_spans, wants_context)
                if span is not None:
                    out.append(span)
                if stop and m.end() >= last:
                    break  # the next match would start after the last hit: not searched
        return out

    def _accept(
        self,
        spec: PatternSpec,
        text: str,
        m: re.Match[str],
        hi: int,
        ctx: _Context,
        near_spans: list[tuple[int, int]],
        wants_context: bool,
    ) -> Span | None:
        start, end = m.span(spec.group)
        if start == end or (end == hi and hi < len(text)):
            return None  # empty, or possibly cut short by the window edge
        validator = spec.validator
        if validator is not None and not validator(text[start:end]):
            if not spec.trim:
                return None
            length = _trimmed(text[start:end], validator)
            if not length:
                return None
            end = start + length
        has_context = False
        if wants_context:
            if spec.context is not None:
                has_context = context_near(ctx.hits(), start, end, spec.window)
            if not has_context and near_spans:
                before, after = spec.window
                has_context = any(e >= start - before and s <= end + after for s, e in near_spans)
            if spec.context_required and not has_context:
                return None
        score = spec.score_with_context if has_context else spec.score
        return make_span((start, end, spec.entity, score, spec.detector))
