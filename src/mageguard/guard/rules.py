"""The fast rules of the injection guard: `rules.yaml` loaded, validated and compiled.

All `view` patterns form one hyperscan database run over the text's view
(`normalize.view`), all `raw` patterns another run over the original UTF-8 bytes: one
linear pass each, whatever the number of rules (a few us per 2 KB prompt). Hyperscan
reports where a match ends; its start-of-match mode refuses the bounded repeats these
rules need ("pattern too large"), so the start of a hit is found afterwards by Python
`re` (same pattern, bytes, ASCII semantics like hyperscan's byte mode) in the
`START_WINDOW` bytes before the end: bounded work, and only for the rare hits.

A `decode` rule is a raw pattern compiled as a single-match prefilter; only when it
fires does Python `re` find the candidate blobs, which are decoded, checked by the other
rules and handed to the model as extra segments (`RuleScan.payloads`).

Hits are reported as (rule id, start, end, score) at offsets of the text the caller gave;
a hit never carries the matched text, so it can go into the audit trail as it is.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import hyperscan
import numpy as np
import yaml

from mageguard.catalog.loader import SafeLoader, validate_once
from mageguard.errors import CatalogError
from mageguard.guard.normalize import View, view

RULES_FILE = "rules.yaml"
SCHEMA_FILE = "rules.schema.json"
START_WINDOW = 1024  # bytes before a match's end searched for its start
MAX_MATCHES = 4096  # per scan: past this the text is flooded with hits; stop looking
MAX_DECODE_CANDIDATES = 16  # blobs decoded per text; the rest only count as candidates
MAX_DECODE_CHARS = 8192  # of one blob; a longer one (an inline image) is decoded in part
_DECODE_SHAPE = re.compile(r"\[[^\[\]]+\]\{\d+,\d*\}(?:=\{0,2\})?")
_VIEW_FLAGS = hyperscan.HS_FLAG_CASELESS
_RAW_FLAGS = 0
_PREFILTER_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    category: str
    languages: tuple[str, ...]
    score: float
    target: str  # "view" | "raw"
    decode: str | None
    pattern: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class RuleHit:
    """One rule fired on [start, end) of the original text."""

    start: int
    end: int
    rule: str
    score: float


@dataclass(frozen=True, slots=True)
class Payload:
    """Text decoded from [start, end) of the original (for the model; never reported)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RuleScan:
    hits: tuple[RuleHit, ...]
    payloads: tuple[Payload, ...]

    @property
    def score(self) -> float:
        """Noisy-OR of the strongest hit of each rule."""
        best: dict[str, float] = {}
        for h in self.hits:
            best[h.rule] = max(best.get(h.rule, 0.0), h.score)
        miss = 1.0
        for s in best.values():
            miss *= 1.0 - s
        return 1.0 - miss


def _char_offsets(data: bytes, n_chars: int) -> Callable[[int, int], tuple[int, int]]:
    """Map a [from, to) byte range of the UTF-8 `data` to a char range."""
    if len(data) == n_chars:
        return lambda f, t: (f, t)
    b = np.frombuffer(data, dtype=np.uint8)
    char_of = np.cumsum((b & 0xC0) != 0x80, dtype=np.int64) - 1

    def conv(f: int, t: int) -> tuple[int, int]:
        s = int(char_of[min(f, len(char_of) - 1)])
        e = int(char_of[max(t - 1, f)]) + 1
        return s, max(e, s + 1)

    return conv


def _nonascii_in_class(pattern: str) -> bool:
    """Whether a [...] class holds a non-ASCII character (a byte-mode class would match
    its bytes one by one)."""
    inside, escaped = False, False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "[" and not inside:
            inside = True
        elif ch == "]" and inside and pattern[i - 1] != "[":
            inside = False
        elif inside and not ch.isascii():
            return True
    return False


def _compile(patterns: Sequence[tuple[int, str, int]], where: str) -> Any:
    """One hyperscan block-mode database; a pattern it refuses is named in the error."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(
            expressions=[p.encode("utf-8") for _, p, _ in patterns],
            ids=[i for i, _, _ in patterns],
            elements=len(patterns),
            flags=[f for _, _, f in patterns],
        )
    except hyperscan.error as exc:
        for _i, p, f in patterns:
            one = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            try:
                one.compile(expressions=[p.encode("utf-8")], ids=[0], elements=1, flags=[f])
            except hyperscan.error as inner:
                raise CatalogError(f"{where}: pattern {p[:60]!r}: {inner}") from inner
        raise CatalogError(f"{where}: {exc}") from exc
    return db


def cache_dir() -> Path:
    """Where compiled rule databases are kept (compiling takes ~2 s, loading ~1 ms)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mageguard" / "guard"


def _cached(patterns: Sequence[tuple[int, str, int]], where: str) -> Any:
    """`_compile(patterns)`, from the on-disk cache when these exact patterns, flags and
    hyperscan version were compiled before. A cache that cannot be read or written only
    costs a compile."""
    h = hashlib.sha256(str(getattr(hyperscan, "__version__", "")).encode())
    for i, p, f in patterns:
        h.update(f"{i}\x00{f}\x00{p}\x01".encode("utf-8", "surrogatepass"))
    path = cache_dir() / f"rules-{h.hexdigest()[:32]}.hsdb"
    with contextlib.suppress(OSError, hyperscan.error):
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    db = _compile(patterns, where)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(hyperscan.dumpb(db))
        tmp.replace(path)
    return db


def readable(data: bytes) -> str | None:
    """`data` as text when it reads like text (decoded base64 of an instruction), else
    None (an image, a hash, random bytes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 12:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in text if c.isalpha() or c == " ")
    if printable < 0.95 * len(text) or letters < 0.6 * len(text) or text.count(" ") < 2:
        return None
    return text


def decode_base64(blob: str) -> str | None:
    """Readable text from a base64 (or base64url) blob, or None."""
    body = blob.rstrip("=")[:MAX_DECODE_CHARS].replace("-", "+").replace("_", "/")
    body = body[: len(body) - (len(body) % 4 == 1)]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return readable(raw)


class RuleSet:
    """Rules compiled once per process (tens of ms); `scan` is thread-safe."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.by_id = {r.id: r for r in self.rules}
        view_pats: list[tuple[int, str, int]] = []
        raw_pats: list[tuple[int, str, int]] = []
        self._decoders: dict[int, re.Pattern[str]] = {}
        self._starts: dict[int, re.Pattern[bytes]] = {}
        for i, r in enumerate(self.rules):
            if r.decode:
                raw_pats.append((i, r.pattern, _PREFILTER_FLAGS))
                self._decoders[i] = re.compile(r.pattern)
                continue
            try:
                flags = re.IGNORECASE if r.target == "view" else 0
                self._starts[i] = re.compile(r.pattern.encode("utf-8"), flags)
            except re.error as exc:
                raise CatalogError(f"{RULES_FILE}: rule {r.id}: {exc}") from exc
            if r.target == "raw":
                raw_pats.append((i, r.pattern, _RAW_FLAGS))
            else:
                view_pats.append((i, r.pattern, _VIEW_FLAGS))
        self._view_db = _cached(view_pats, RULES_FILE) if view_pats else None
        self._raw_db = _cached(raw_pats, RULES_FILE) if raw_pats else None
        self._local = threading.local()

    def _scratch(self, name: str, db: Any) -> Any:
        """This thread's scratch space for `db` (hyperscan's is per thread), made once, as
        the redaction scanner's (detectors/scanner.py): a new one per call put every
        scan's working memory in cold cache lines."""
        scratch = getattr(self._local, name, None)
        if scratch is None:
            scratch = hyperscan.Scratch(db)
            setattr(self._local, name, scratch)
        return scratch

    def _run(self, db: Any, name: str, data: bytes) -> list[tuple[int, int, int]]:
        """(rule index, start, end) byte ranges of the matches in `data`."""
        ends: list[tuple[int, int]] = []

        def on_match(idx: int, _start: int, end: int, _flags: int, _ctx: object) -> bool:
            ends.append((idx, end))
            return len(ends) >= MAX_MATCHES  # True stops the scan

        if data:
            with contextlib.suppress(hyperscan.ScanTerminated):
                db.scan(data, match_event_handler=on_match, scratch=self._scratch(name, db))
        found: list[tuple[int, int, int]] = []
        covered: dict[int, int] = {}  # rule -> end of the last span found for it
        for idx, end in ends:
            if idx in self._decoders:
                found.append((idx, 0, end))
                continue
            if covered.get(idx, -1) >= end:
                continue
            start = self._start(idx, data, end)
            covered[idx] = end
            found.append((idx, start, end))
        return found

    def _start(self, idx: int, data: bytes, end: int) -> int:
        """Where the match of rule `idx` that ends at `end` starts (leftmost start within
        START_WINDOW bytes; a match may extend to the left of the window's start)."""
        lo = max(0, end - START_WINDOW)
        m = self._starts[idx].search(data, lo, end)
        return m.start() if m is not None else max(lo, end - 1)

    def _view_hits(self, v: View) -> list[RuleHit]:
        if self._view_db is None or not v.text:
            return []
        data = v.text.encode("utf-8")
        conv = _char_offsets(data, len(v.text))
        hits = []
        for idx, f, t in self._run(self._view_db, "view", data):
            s, e = v.span(*conv(f, t))
            rule = self.rules[idx]
            hits.append(RuleHit(s, e, rule.id, rule.score))
        return hits

    def scan(self, text: str, *, decode: bool = True) -> RuleScan:
        """Every rule hit in `text` (overlapping hits of one rule merged) and the decoded
        payloads found in it."""
        hits = self._view_hits(view(text))
        payloads: list[Payload] = []
        if self._raw_db is not None and text:
            data = text.encode("utf-8", "surrogatepass")
            conv = _char_offsets(data, len(text))
            fired_decoders: set[int] = set()
            for idx, f, t in self._run(self._raw_db, "raw", data):
                if idx in self._decoders:
                    fired_decoders.add(idx)
                    continue
                s, e = conv(f, t)
                rule = self.rules[idx]
                hits.append(RuleHit(s, e, rule.id, rule.score))
            if decode:
                for idx in sorted(fired_decoders):
                    h, p = self._decode(idx, text)
                    hits.extend(h)
                    payloads.extend(p)
        return RuleScan(tuple(_merge(hits)), tuple(payloads))

    def _decode(self, idx: int, text: str) -> tuple[list[RuleHit], list[Payload]]:
        rule = self.rules[idx]
        hits: list[RuleHit] = []
        payloads: list[Payload] = []
        for n, m in enumerate(self._decoders[idx].finditer(text)):
            if n >= MAX_DECODE_CANDIDATES:
                break
            decoded = decode_base64(m.group(0))
            if decoded is None:
                continue
            inner = self.scan(decoded, decode=False)  # one level: no base64 in base64
            score = max([rule.score] + [h.score for h in inner.hits])
            hits.append(RuleHit(m.start(), m.end(), rule.id, score))
            payloads.append(Payload(m.start(), m.end(), decoded))
        return hits, payloads


def _merge(hits: Iterable[RuleHit]) -> list[RuleHit]:
    """Overlapping hits of the same rule become one (the widest span, the best score)."""
    out: list[RuleHit] = []
    by_rule: dict[str, list[RuleHit]] = {}
    for h in hits:
        by_rule.setdefault(h.rule, []).append(h)
    for rule, group in by_rule.items():
        group.sort()
        cur = group[0]
        for h in group[1:]:
            if h.start < cur.end:
                cur = RuleHit(cur.start, max(cur.end, h.end), rule, max(cur.score, h.score))
            else:
                out.append(cur)
                cur = h
        out.append(cur)
    return sorted(out)


def _rule(raw: dict[str, Any]) -> Rule:
    target = raw.get("target", "view")
    decode = raw.get("decode")
    pattern = raw["pattern"]
    where = f"{RULES_FILE}: rule {raw['id']}"
    if decode and target != "raw":
        raise CatalogError(f"{where}: a decode rule must have target: raw")
    if decode and not _DECODE_SHAPE.fullmatch(pattern):
        raise CatalogError(f"{where}: a decode pattern must be one character-class run")
    if _nonascii_in_class(pattern):
        raise CatalogError(f"{where}: non-ASCII character inside [...] (byte mode)")
    return Rule(
        id=raw["id"],
        title=raw["title"],
        category=raw["category"],
        languages=tuple(raw["languages"]),
        score=float(raw["score"]),
        target=target,
        decode=decode,
        pattern=pattern,
        positive=tuple(raw["positive"]),
        negative=tuple(raw["negative"]),
    )


def parse_rules(text: str, schema_text: str, where: str = RULES_FILE) -> tuple[Rule, ...]:
    try:
        data = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    validate_once(data, text, schema_text, where)
    rules = tuple(_rule(r) for r in data["rules"])
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise CatalogError(f"{where}: duplicate rule id {r.id}")
        seen.add(r.id)
    return rules


@functools.cache
def load_rules() -> RuleSet:
    """The packaged rules, validated and compiled; cached per process."""
    pkg = resources.files("mageguard.guard")
    try:
        text = pkg.joinpath(RULES_FILE).read_text("utf-8")
        schema_text = pkg.joinpath(SCHEMA_FILE).read_text("utf-8")
    except OSError as exc:
        raise CatalogError(f"{RULES_FILE}: {exc}") from exc
    return RuleSet(parse_rules(text, schema_text))
