"""One hyperscan scan per text for all the built-in detectors.

Running each detector's regexes with Python `re` costs ~1-3 us per pattern per 2 KB prompt
and 20+ patterns blow the latency budget, so every detector declares *triggers* instead:
cheap expressions compiled together into one hyperscan database. Entity regexes are
compiled with HS_FLAG_PREFILTER, which accepts Python-style lookarounds and matches a
superset; their hits only mark where the exact Python regex is then run, in a short
window. Word lists (context words, cues, street types) report their end only: their start
is taken as the end minus the longest word, which is all a context window needs.
HS_FLAG_SOM_LEFTMOST was measured and left out: it cost ~10x scan time on patterns with
unbounded leading classes (an e-mail), 5-12 us per word list with a whitespace run in it, and
hyperscan refuses it together with PREFILTER.

Text is str; hyperscan sees UTF-8. Lone surrogates (invalid UTF-8 decoded with
surrogateescape) are encoded as '?' so the bytes are always valid UTF-8 (HS_FLAG_UTF8
requires it) and one character still maps to a known number of bytes. ASCII text, the
common case, needs no offset mapping at all.

What a trigger costs is mostly its shape, not its count: in one database, pure literals
(`@`, `sk-`, country codes) cost next to nothing, while a trigger made of character classes
and bounded repeats, or with a class tail or `\b` around its literals, adds its own engine:
measured 0.5-5 us per 2 KB prompt each (country codes followed by `[0-9A-Z]{0,2}[0-9]{2}`
~5 us, six leading letters of a codice fiscale ~4 us, the full IPv6 alternation ~4 us).
Triggers whose hits are only needed once a detector already has a candidate (the context
words that raise a score) are `lazy`: they go into a second database that is scanned only
when a detector asks for one of their keys, at most once per text.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import hyperscan

from mageguard.errors import CatalogError
from mageguard.redact.text import str_offsets

_PREFILTER = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_UTF8
_WORDS = hyperscan.HS_FLAG_UTF8
_NO_HITS: Mapping[str, list[tuple[int, int]]] = {}


@dataclass(frozen=True, slots=True)
class Trigger:
    """`expression` (hyperscan/PCRE syntax, also valid Python `re`) marks candidates for
    the detector that owns `key`. `words`: a literal word list, `reach` its longest word;
    its hits are checked to end a word in Unicode terms too."""

    key: str
    expression: str
    caseless: bool = False
    words: bool = False
    reach: int = 0
    # exact expressions (no lookarounds) skip prefilter mode, which loses hyperscan's
    # literal matcher on long alternations (a name list: 4 ms a prompt instead of 16 us)
    exact: bool = False
    # scanned only when a detector asks for this key (see Hits.get); a key that is also
    # given eagerly is eager
    lazy: bool = False


def word_trigger(
    key: str, words: Iterable[str], *, caseless: bool = True, lazy: bool = False
) -> Trigger:
    """A trigger for whole words or phrases (`date of birth`, `né le`, `Str.`)."""
    alts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        esc = re.escape(w).replace(r"\ ", r"\s+")
        # \b only at ASCII word edges: hyperscan has no Unicode \b (UCP refuses it), and
        # "né" or "d.o.b." must still match; Hits checks Unicode edges afterwards.
        head = r"\b" if w[:1].isascii() and (w[:1].isalnum() or w[:1] == "_") else ""
        tail = r"\b" if w[-1:].isascii() and (w[-1:].isalnum() or w[-1:] == "_") else ""
        alts.append(head + esc + tail)
    reach = max((len(w) for w in words), default=0)
    expression = "(?:" + "|".join(alts) + ")"
    return Trigger(key, expression, caseless=caseless, words=True, reach=reach, lazy=lazy)


class Hits:
    """Where each trigger matched in one text: (start, end) in str offsets. `end` is
    exact; `start` is -1 for prefilter triggers and, for word lists, the end minus the
    longest word (never later than the real start). `in` and iteration cover the eager
    triggers only; `get` of a lazy key runs the lazy scan (once)."""

    __slots__ = ("_by_key", "_lazy", "_lazy_hits", "_lazy_keys")

    def __init__(
        self,
        by_key: Mapping[str, list[tuple[int, int]]],
        lazy: Callable[[], Mapping[str, list[tuple[int, int]]]] | None = None,
        lazy_keys: frozenset[str] = frozenset(),
    ) -> None:
        self._by_key = by_key
        self._lazy = lazy
        self._lazy_keys = lazy_keys
        self._lazy_hits: Mapping[str, list[tuple[int, int]]] | None = None

    def get(self, key: str) -> list[tuple[int, int]]:
        found = self._by_key.get(key)
        if found is not None:
            return found
        if self._lazy is None or key not in self._lazy_keys:
            return []
        if self._lazy_hits is None:
            self._lazy_hits = self._lazy()
        return self._lazy_hits.get(key) or []

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)


def _collect(i: int, start: int, end: int, flags: int, out: object) -> None:
    out.append((i, start, end))  # type: ignore[attr-defined]  # out is the scan's list


@dataclass
class _Compiled:
    db: hyperscan.Database | None
    keys: tuple[str, ...]
    words: tuple[bool, ...]
    reach: tuple[int, ...]
    fallback: tuple[tuple[int, re.Pattern[str]], ...]


def _flags(t: Trigger) -> int:
    mode = _WORDS if t.words or t.exact else _PREFILTER
    return mode | (hyperscan.HS_FLAG_CASELESS if t.caseless else 0)


def _compile_db(triggers: Sequence[Trigger], ids: Sequence[int]) -> hyperscan.Database:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[t.expression.encode("utf-8") for t in triggers],
        ids=list(ids),
        flags=[_flags(t) for t in triggers],
    )
    return db


def _cache_path(triggers: Sequence[Trigger]) -> Path:
    digest = hashlib.sha256(
        repr([(t.expression, _flags(t)) for t in triggers]).encode("utf-8")
    ).hexdigest()[:32]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mageguard" / "hyperscan" / f"triggers-{digest}.db"


def _load_cached(path: Path) -> hyperscan.Database | None:
    with contextlib.suppress(OSError, hyperscan.error):
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    return None


def _store(path: Path, db: hyperscan.Database) -> None:
    """Best effort: a cache that cannot be written only means compiling next time."""
    with contextlib.suppress(OSError, hyperscan.error):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(hyperscan.dumpb(db))
        tmp.replace(path)


@functools.cache
def _compiled(triggers: tuple[Trigger, ...]) -> _Compiled:
    """The database for these triggers, once per process, and on disk (compiling takes
    ~1 s; loading a few ms). A trigger hyperscan cannot express (rare: a construct that
    prefilter mode does not approximate) falls back to Python `re` over the whole text;
    `Scanner.fallback_keys` names them so a test can keep the list empty."""
    fallback: list[tuple[int, re.Pattern[str]]] = []
    db: hyperscan.Database | None = None
    path = _cache_path(triggers)
    try:
        if triggers:
            db = _load_cached(path)
            if db is None:
                db = _compile_db(triggers, range(len(triggers)))
                _store(path, db)
    except hyperscan.error:
        ok: list[int] = []
        for i, t in enumerate(triggers):
            try:
                _compile_db([t], [i])
                ok.append(i)
            except hyperscan.error:
                try:
                    fallback.append((i, re.compile(t.expression, re.I if t.caseless else 0)))
                except re.error as exc:
                    raise CatalogError(f"trigger {t.key}: bad regex: {exc}") from exc
        db = _compile_db([triggers[i] for i in ok], ok) if ok else None
    return _Compiled(
        db=db,
        keys=tuple(t.key for t in triggers),
        words=tuple(t.words for t in triggers),
        reach=tuple(t.reach for t in triggers),
        fallback=tuple(fallback),
    )


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _encode(text: str) -> bytes:
    if text.isascii():
        return text.encode("ascii")
    # surrogates become '?': valid UTF-8 for hyperscan, one byte for one char
    return text.encode("utf-8", "replace")


class Scanner:
    """Runs every trigger over a text in one hyperscan scan. Detectors sharing a Scanner
    share the scan: the hits of the last text scanned on this thread are remembered (by
    identity; a str never changes), so an engine that calls five detectors on one prompt
    pays for one scan. Lazy triggers get a second database, scanned on demand."""

    def __init__(self, triggers: Iterable[Trigger]) -> None:
        unique: dict[Trigger, None] = dict.fromkeys(triggers)
        eager = tuple(t for t in unique if not t.lazy)
        eager_keys = {t.key for t in eager}
        lazy: dict[str, Trigger] = {}
        for t in unique:
            if t.lazy and t.key not in eager_keys:
                lazy.setdefault(t.key, t)
        self.triggers = eager + tuple(lazy.values())
        self._eager = eager
        self._lazy = tuple(lazy.values())
        self._lazy_keys = frozenset(lazy)
        self._local = threading.local()

    @functools.cached_property
    def _db(self) -> _Compiled:
        return _compiled(self._eager)

    @functools.cached_property
    def _lazy_db(self) -> _Compiled:
        return _compiled(self._lazy)

    @property
    def fallback_keys(self) -> tuple[str, ...]:
        eager = tuple(self._eager[i].key for i, _ in self._db.fallback)
        return eager + tuple(self._lazy[i].key for i, _ in self._lazy_db.fallback)

    def scan(self, text: str) -> Hits:
        local = self._local
        if getattr(local, "text", None) is text:
            hits: Hits = local.hits
            return hits
        hits = self._scan(text)
        local.text, local.hits = text, hits
        return hits

    def _scratch(self, name: str, db: hyperscan.Database) -> hyperscan.Scratch:
        scratch = getattr(self._local, name, None)
        if scratch is None:
            scratch = hyperscan.Scratch(db)
            setattr(self._local, name, scratch)
        return scratch

    def _scan(self, text: str) -> Hits:
        if not text:
            return Hits(_NO_HITS)
        data = _encode(text)
        by_key = self._run(self._db, "scratch", text, data)
        if not self._lazy:
            return Hits(by_key)
        return Hits(
            by_key,
            lambda: self._run(self._lazy_db, "lazy_scratch", text, data),
            self._lazy_keys,
        )

    def _run(
        self, compiled: _Compiled, scratch: str, text: str, data: bytes
    ) -> dict[str, list[tuple[int, int]]]:
        raw: list[tuple[int, int, int]] = []
        if compiled.db is not None:
            compiled.db.scan(
                data,
                match_event_handler=_collect,
                context=raw,
                scratch=self._scratch(scratch, compiled.db),
            )
        words, reach = compiled.words, compiled.reach
        if len(data) != len(text) and raw:
            where = str_offsets(data, [e for _, _, e in raw])
            raw = [(i, s, where[e]) for i, s, e in raw]
        by_key: dict[str, list[tuple[int, int]]] = {}
        keys = compiled.keys
        n = len(text)
        for i, _, e in raw:
            if words[i]:
                if e < n and text[e].isalnum():
                    continue  # a word inside a longer (non-ASCII) word
                start = max(0, e - reach[i])
            else:
                start = -1
            by_key.setdefault(keys[i], []).append((start, e))
        for i, regex in compiled.fallback:
            found = [(m.start(), m.end()) for m in regex.finditer(text)]
            if found:
                by_key.setdefault(keys[i], []).extend(found)
        return by_key


def windows(ends: Iterable[int], before: int, after: int, limit: int) -> list[tuple[int, int]]:
    """Merged [end - before, end + after) windows, clipped to [0, limit)."""
    out: list[tuple[int, int]] = []
    for e in sorted(ends):
        lo, hi = max(0, e - before), min(limit, e + after)
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
