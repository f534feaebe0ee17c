"""The placeholder vault: the same value gets the same placeholder within a request or,
when asked, a conversation; placeholders in a model's answer are put back.

The vault never leaves the process, or Redis when gateway replicas share conversations
(values are stored under the conversation's key with a TTL, and never logged).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol, cast

import hyperscan

# [EMAIL_1], and what models make of it: [email_1], (EMAIL_1), {Email-1}, EMAIL 1, ⟦EMAIL_1⟧.
# The lookahead names every character a match can start with (an opener or the first
# letter of a prefix): re then drops most positions with one set test instead of trying
# both branches there, which halved the cost of restoring a 1 KB answer (~45 -> ~24 us).
_MANGLED = (
    r"(?=[\[\(\{{<⟦«{firsts}])"
    r"(?:[\[\(\{{<⟦«]\s*({prefixes})[ _\-]?(\d{{1,6}})(?!\d)(?:\s*[\]\)\}}>⟧»])?"
    r"|(?<!\w)({prefixes})[_\-](\d{{1,6}})(?!\d))"
)
OPENERS = "[({<⟦«"
_ASCII_SPACE = frozenset(" \t\n\r\f\v\x1c\x1d\x1e\x1f")  # what re's \s is in ASCII text
# What a user may have typed that looks like one of our placeholders: [EMAIL_1], (card 2),
# sku-3. Case-insensitive, like the model's mangling.
_TYPED = (
    r"(?:[\[\(\{{]\s*|(?<![A-Za-z0-9]))({prefixes})[_\-](\d{{1,6}})(?!\d)"
    r"|[\[\(\{{]\s*({prefixes})[ ]?(\d{{1,6}})(?!\d)"
)
# The non-ASCII characters Python's re, case-insensitive, takes for an ASCII letter
# (tests/redact/test_vault.py checks there are no others).
_CASE_ALIASES = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}


def _prefilter_expression(prefixes: Iterable[str]) -> bytes:
    """A byte-level hyperscan expression (caseless: ASCII only) that matches wherever
    _TYPED can, and more: any case of a prefix or its letters' non-ASCII aliases; any
    non-ASCII character where _TYPED wants a digit or white space (its \\d and \\s take
    Arabic-Indic digits and no-break spaces); any non-alphanumeric byte before a prefix."""
    alternatives = []
    for prefix in prefixes:
        parts = []
        for ch in prefix:
            aliases = [a.encode() for a in _CASE_ALIASES.get(ch.lower(), "")]
            escaped = [re.escape(ch), *("".join(f"\\x{b:02x}" for b in a) for a in aliases)]
            parts.append(escaped[0] if len(escaped) == 1 else f"(?:{'|'.join(escaped)})")
        alternatives.append("".join(parts))
    prefix = f"(?:{'|'.join(alternatives)})"
    digit = r"(?:[0-9]|[\x80-\xff])"
    space = r"[\t-\r\x1c-\x20\x80-\xff]"  # str.isspace() in ASCII, and any non-ASCII
    return (
        rf"(?:^|[^A-Za-z0-9]){prefix}[_\-]{digit}|[\[\(\{{]{space}*{prefix}[ ]?{digit}"
    ).encode()


class _TypedTokens:
    """Placeholder-like tokens a user typed, for these prefixes.

    Python's re has no literal to skip ahead on here (a match may start anywhere), so the
    regex costs ~200 us per 2 KB prompt, as much as all the detectors together. Every
    match holds a prefix (any case) and a digit, with an opening bracket or a separator
    around them: a hyperscan prefilter finds that in ~1 us, and most prompts have none,
    so the regex runs only on those that do."""

    def __init__(self, prefixes: frozenset[str]) -> None:
        ordered = sorted(prefixes, key=lambda p: (-len(p), p))  # longest first: deterministic
        alternation = "|".join(re.escape(p) for p in ordered)
        self.regex = re.compile(_TYPED.format(prefixes=alternation), re.I)
        self._db: hyperscan.Database | None = None
        if ordered and all(p.isascii() for p in ordered):  # hyperscan's caseless is ASCII's
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=[_prefilter_expression(ordered)],
                ids=[0],
                flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH],
            )
        self._local = threading.local()  # a hyperscan scratch is not shared between threads

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._db is not None:
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = hyperscan.Scratch(self._db)
            found: list[int] = []
            self._db.scan(
                text.encode("utf-8", "surrogatepass"),
                match_event_handler=_collect,
                context=found,
                scratch=scratch,
            )
            if not found:
                return iter(())
        return self.regex.finditer(text)


def _collect(_id: int, _start: int, end: int, _flags: int, found: object) -> None:
    cast(list[int], found).append(end)


@functools.lru_cache(maxsize=32)
def _typed_tokens(prefixes: frozenset[str]) -> _TypedTokens:
    """Compiled once per set of prefixes (one per process with the catalog's)."""
    return _TypedTokens(prefixes)


@functools.lru_cache(maxsize=256)
def _restore_pattern(prefixes: frozenset[str]) -> re.Pattern[str]:
    """The restore pattern for these prefixes, built once: a vault is made per request,
    and escaping, formatting and looking up the compiled pattern cost ~10 us each time."""
    ordered = sorted(prefixes, key=lambda p: (-len(p), p))  # longest first
    firsts = "".join(sorted({re.escape(p[0]) for p in ordered}))
    body = _MANGLED.format(prefixes="|".join(re.escape(p) for p in ordered), firsts=firsts)
    return re.compile(body, re.I)


@functools.lru_cache(maxsize=256)
def _searched(prefixes: frozenset[str]) -> tuple[str, ...] | None:
    """The prefixes lower-cased for str.find in an ASCII answer; None if one is not ASCII
    (re, case-insensitive, may then match characters that lower() does not give)."""
    lowered = tuple(sorted(p.lower() for p in prefixes))
    return lowered if all(p.isascii() for p in lowered) else None


@functools.cache
def _catalog_prefixes() -> tuple[Mapping[str, str], frozenset[str]]:
    """entity -> placeholder prefix from the catalog, and the set of prefixes: read once
    per process, not once per request (a Vault is made per request)."""
    from mageguard.catalog import load_catalog

    prefixes = {e.id: e.placeholder for e in load_catalog().entities}
    return prefixes, frozenset(prefixes.values())


class Vault:
    """Per-request (or per-conversation) mapping between values and typed placeholders."""

    def __init__(
        self, prefixes: Mapping[str, str] | None = None, state: Mapping[str, str] | None = None
    ) -> None:
        # entity -> placeholder prefix (CREDIT_CARD -> CARD), from catalog entities
        if prefixes is None:
            catalog, self._prefix_set = _catalog_prefixes()
            self._prefixes = dict(catalog)
        else:
            self._prefixes = dict(prefixes)
            self._prefix_set = frozenset(self._prefixes.values())
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_token: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        for token, value in (state or {}).items():
            self._remember(token, value)
        self._pattern: re.Pattern[str] | None = None
        self._prefixes_issued: frozenset[str] = frozenset()  # what _pattern was made for

    def _remember(self, token: str, value: str) -> None:
        prefix, _, number = token.strip("[]").rpartition("_")
        entity = next((e for e, p in self._prefixes.items() if p == prefix), prefix)
        self._by_value[(entity, value)] = token
        self._by_token[token.strip("[]").upper()] = value
        self._counts[prefix] = max(self._counts.get(prefix, 0), int(number or 0))

    def placeholder(self, entity: str, value: str) -> str:
        with self._lock:
            found = self._by_value.get((entity, value))
            if found is not None:
                return found
            prefix = self._prefixes.get(entity, entity)
            n = self._counts.get(prefix, 0) + 1
            self._counts[prefix] = n
            key = f"{prefix}_{n}"
            token = f"[{key}]"
            self._by_value[(entity, value)] = token
            self._by_token[key] = value
            self._pattern = None
            return token

    def reserve(self, text: str) -> None:
        """Number new placeholders past any placeholder-like token already in `text`, so a
        user who typed "[EMAIL_1]" does not get someone's e-mail back in its place."""
        for m in _typed_tokens(self._prefix_set).finditer(text):
            prefix_text, number = (
                (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            )
            prefix = prefix_text.upper()
            with self._lock:
                self._counts[prefix] = max(self._counts.get(prefix, 0), int(number))

    def __len__(self) -> int:
        return len(self._by_token)

    def state(self) -> dict[str, str]:
        """token -> value, to persist a conversation's vault (Redis) or hand it over."""
        return {f"[{k}]": v for k, v in self._by_token.items()}

    @property
    def max_token_length(self) -> int:
        return max((len(k) + 4 for k in self._by_token), default=0) + 6

    def pattern(self) -> re.Pattern[str] | None:
        if not self._by_token:
            return None
        if self._pattern is None:
            self._prefixes_issued = frozenset(k.rpartition("_")[0] for k in self._by_token)
            self._pattern = _restore_pattern(self._prefixes_issued)
        return self._pattern

    def restore(self, text: str) -> str:
        """Put values back where the model kept a placeholder, however it mangled case or
        brackets; tokens this vault never issued are left alone."""
        pattern = self.pattern()
        if pattern is None:
            return text

        def back(m: re.Match[str]) -> str:
            prefix, number = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            value = self._by_token.get(f"{prefix.upper()}_{int(number)}")
            return value if value is not None else m.group(0)

        starts = self._starts(text)
        if starts is None:
            return pattern.sub(back, text)
        out: list[str] = []
        last = 0
        by_token = self._by_token
        for pos in starts:
            if pos < last:
                continue
            if text[pos] == "[":  # the token as issued, "[EMAIL_1]": what the regex would
                close = text.find("]", pos, pos + 40)  # match there, without the regex
                value = by_token.get(text[pos + 1 : close]) if close > 0 else None
                if value is not None:
                    out.append(text[last:pos])
                    out.append(value)
                    last = close + 1
                    continue
            m = pattern.match(text, pos)
            if m is not None:
                out.append(text[last : m.start()])
                out.append(back(m))
                last = m.end()
        out.append(text[last:])
        return "".join(out)

    def _starts(self, text: str) -> list[int] | None:
        """Where in an ASCII `text` a placeholder can start, in order, or None to let the
        regex scan (a text or a prefix that is not ASCII). A match starts at a prefix or
        at an opener with only whitespace before the prefix, so trying the pattern there
        alone finds what re.sub finds, without a test at every position of the answer
        (~24 -> ~8 us for 1 KB; tests/redact/test_vault.py compares the two)."""
        searched = _searched(self._prefixes_issued)
        if searched is None or not text.isascii():
            return None
        low = text.lower()
        starts: set[int] = set()
        for prefix in searched:
            at = low.find(prefix)
            while at >= 0:
                starts.add(at)
                j = at - 1
                while j >= 0 and low[j] in _ASCII_SPACE:
                    j -= 1
                if j >= 0 and low[j] in OPENERS:
                    starts.add(j)
                at = low.find(prefix, at + 1)
        return sorted(starts)


class VaultStore(Protocol):
    """Where conversation vaults live between requests."""

    def load(self, conversation: str) -> dict[str, str]: ...

    def save(self, conversation: str, state: Mapping[str, str]) -> None: ...


class MemoryVaultStore:
    """In process, with a TTL: the embedded default (one gateway process)."""

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self.ttl = ttl_seconds
        self._data: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def load(self, conversation: str) -> dict[str, str]:
        with self._lock:
            found = self._data.get(conversation)
            if found is None or found[0] < time.monotonic():
                self._data.pop(conversation, None)
                return {}
            return dict(found[1])

    def save(self, conversation: str, state: Mapping[str, str]) -> None:
        with self._lock:
            self._data[conversation] = (time.monotonic() + self.ttl, dict(state))


class RedisVaultStore:
    """Shared by gateway replicas: one Redis hash per conversation, expiring after `ttl`.
    Conversation ids are namespaced per tenant by the caller."""

    def __init__(self, client: object, ttl_seconds: int = 3600, prefix: str = "mageguard:vault:"):
        self._redis = client
        self.ttl = ttl_seconds
        self.prefix = prefix

    def load(self, conversation: str) -> dict[str, str]:
        raw = self._redis.hgetall(self.prefix + conversation)  # type: ignore[attr-defined]
        return {_s(k): _s(v) for k, v in raw.items()}

    def save(self, conversation: str, state: Mapping[str, str]) -> None:
        if not state:
            return
        key = self.prefix + conversation
        pipe = self._redis.pipeline()  # type: ignore[attr-defined]
        pipe.hset(key, mapping=dict(state))
        pipe.expire(key, self.ttl)
        pipe.execute()


def _s(value: object) -> str:
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else str(value)
