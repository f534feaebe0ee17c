"""Checks on a model's answer before it leaves the gateway.

    mint_canary(...) / find_canary(answer, canary)     a per-request secret token
    find_tenant_terms(answer, dictionaries)            another tenant's dictionary terms
    find_prompt_leak(answer, system_prompt)            system-prompt leakage
    find_secrets(answer)                               credentials (the catalog's key patterns)
    check_output(answer, ...)                          all of the above

Every check returns immutable `OutputFinding`s: kind, [start, end) in the answer, a score
in [0, 1] and a `detail` naming what matched (a key pattern id, an entity type), never the
leaked text itself, so findings can be logged and audited as they are.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import ahocorasick

OutputKind = Literal["canary", "tenant_term", "system_prompt", "secret"]
CANARY_PREFIX = "mgc"
_CANARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: survives retyping
_CANARY_BODY = 20  # ~99 bits
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits
_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True, order=True)
class OutputFinding:
    start: int
    end: int
    kind: OutputKind
    score: float
    detail: str = ""


class SpanLike(Protocol):
    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


class TermFinder(Protocol):
    """What a tenant's dictionary offers (e.g. `mageguard.redact.dictionary.Dictionary`)."""

    def find(self, text: str) -> Sequence[SpanLike]: ...


# ---------------------------------------------------------------------------- canaries


def mint_canary(request_id: str | None = None, key: bytes | None = None) -> str:
    """A canary token to plant in a request's system prompt, e.g. 'mgc-k3x...'.

    With `key` and `request_id` the token is derived (HMAC-SHA256), so the gateway can
    recompute it instead of storing it; otherwise it is random."""
    if key is not None:
        if request_id is None:
            raise ValueError("a derived canary needs a request_id")
        digest = hmac.new(key, request_id.encode("utf-8"), hashlib.sha256).digest()
    else:
        digest = _secrets.token_bytes(32)
    n = int.from_bytes(digest, "big")
    body = []
    for _ in range(_CANARY_BODY):
        n, r = divmod(n, len(_CANARY_ALPHABET))
        body.append(_CANARY_ALPHABET[r])
    return f"{CANARY_PREFIX}-{''.join(body)}"


def _alnum_index(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text`'s letters and digits, case-folded and joined, with the original start of
    each run: [(offset in joined, offset in text)]."""
    pieces: list[str] = []
    starts: list[tuple[int, int]] = []
    pos = 0
    for m in _WORD.finditer(text):
        w = m.group(0).lower()
        if len(w) != m.end() - m.start():  # a rare multi-char lower(): keep the length
            w = m.group(0)
        starts.append((pos, m.start()))
        pieces.append(w)
        pos += len(w)
    return "".join(pieces), starts


def _to_original(starts: list[tuple[int, int]], j: int) -> int:
    """Original offset of joined offset `j` (binary search over the runs)."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid][0] <= j:
            lo = mid
        else:
            hi = mid - 1
    run_joined, run_orig = starts[lo]
    return run_orig + (j - run_joined)


# ASCII bytes that are not letters or digits, for bytes.translate(None, delete=...).
_ASCII_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())


def _may_hold(answer: str, needle: str) -> bool:
    """False only when `needle` cannot be in `answer`'s letters and digits, lower-cased.
    An ASCII needle is looked for in the answer lower-cased first, then kept to its ASCII
    letters and digits (bytes, C speed: ~5 us for 2 KB against ~45 us for the regex):
    every character that could take part in a match survives (a non-ASCII letter that
    lower-cases to ASCII, the Kelvin sign, is lowered first), and dropping more characters
    only joins more of them, so this is a superset of the exact test."""
    if not needle.isascii():
        return needle in _NOT_ALNUM.sub("", answer).lower()
    kept = answer.lower().encode("ascii", "ignore").translate(None, _ASCII_NOT_ALNUM)
    return needle.encode("ascii") in kept


def find_canary(answer: str, canary: str) -> list[OutputFinding]:
    """Where `canary` appears in `answer`, also when split by whitespace, punctuation or
    zero-width characters, or with its case changed."""
    needle, _ = _alnum_index(canary)
    if len(needle) < 8:
        raise ValueError("canary too short to detect reliably")
    # Most answers hold no canary: decide that at C speed and build the per-word index
    # (0.3 ms for a 2 KB answer, measured) only when there is something to locate.
    if not _may_hold(answer, needle):
        return []
    joined, starts = _alnum_index(answer)
    out: list[OutputFinding] = []
    at = joined.find(needle)
    while at >= 0:
        s = _to_original(starts, at)
        e = _to_original(starts, at + len(needle) - 1) + 1
        out.append(OutputFinding(s, e, "canary", 1.0, CANARY_PREFIX))
        at = joined.find(needle, at + len(needle))
    return out


_ANY_PREFIX = f"{CANARY_PREFIX}-"
_ANY_CANARY = re.compile(rf"(?i){CANARY_PREFIX}-[{_CANARY_ALPHABET}]{{{_CANARY_BODY}}}(?![a-z0-9])")


def find_any_canary(answer: str) -> list[OutputFinding]:
    """Every token shaped like one of our canaries, whichever request planted it: a
    canary from one tenant's prompt showing up in another tenant's answer means a model
    or cache carried it across, and that answer must not leave either.

    Most answers hold none: the case-insensitive regex lowers every character it tries,
    so the answer is first lowered once and searched for the prefix (no other character
    lowers to m, g or c, so nothing the regex would match is skipped)."""
    if _ANY_PREFIX not in answer.lower():
        return []
    return [
        OutputFinding(m.start(), m.end(), "canary", 1.0, CANARY_PREFIX)
        for m in _ANY_CANARY.finditer(answer)
    ]


# ---------------------------------------------------------------------------- tenant terms


def find_tenant_terms(
    answer: str, dictionaries: Iterable[TermFinder], score: float = 0.9
) -> list[OutputFinding]:
    """Terms of other tenants' dictionaries in `answer` (the caller passes every
    dictionary except the requesting tenant's own)."""
    out: list[OutputFinding] = []
    for d in dictionaries:
        for span in d.find(answer):
            entity = getattr(span, "entity", "")
            out.append(
                OutputFinding(int(span.start), int(span.end), "tenant_term", score, str(entity))
            )
    return sorted(set(out))


# ---------------------------------------------------------------------------- prompt leakage

LEAK_NGRAM = 6  # a run of 6 words shared with the system prompt is no coincidence
LEAK_MIN_WORDS = 10  # a leak shorter than this is not reported (unless the prompt is)


@functools.lru_cache(maxsize=512)
def _prompt_grams(
    system_prompt: str, ngram: int
) -> tuple[frozenset[tuple[str, ...]], int, int, ahocorasick.Automaton] | None:
    """A system prompt's word n-grams, remembered: a module sends the same system prompt
    with every request, and rebuilding the set cost ~0.1 ms a request (measured). The
    automaton finds any of them, joined by single spaces, in an answer's words at C speed:
    most answers share none, and walking every n-gram in Python cost ~0.3 ms a request."""
    p_words = [m.group(0).lower() for m in _WORD.finditer(system_prompt)]
    if not p_words:
        return None
    n = min(ngram, len(p_words))
    grams = frozenset(tuple(p_words[i : i + n]) for i in range(len(p_words) - n + 1))
    automaton = ahocorasick.Automaton()
    for gram in grams:
        automaton.add_word(" ".join(gram), 0)
    automaton.make_automaton()
    return grams, n, len(p_words), automaton


def find_prompt_leak(
    answer: str,
    system_prompt: str,
    *,
    ngram: int = LEAK_NGRAM,
    min_words: int = LEAK_MIN_WORDS,
) -> list[OutputFinding]:
    """Stretches of `answer` that repeat `system_prompt` (runs of shared word n-grams,
    case- and whitespace-insensitive). The score is the share of the prompt's words the
    stretch reproduces (up to 40 words count as the whole prompt)."""
    found = _prompt_grams(system_prompt, ngram)
    if found is None:
        return []
    grams, n, n_words, automaton = found
    # The answer's words, lower-cased, one space apart: a superset of the n-gram hits (a
    # gram may also match across a word's edge here), so no match means no leak.
    if next(automaton.iter(_spaced_words(answer)), None) is None:
        return []
    return _leak_runs(answer, grams, n, n_words, min_words)


# ASCII bytes: letters and digits kept, everything else a space (for bytes.translate).
_ASCII_WORD_BYTES = bytes(c if c < 128 and chr(c).isalnum() else 0x20 for c in range(256))


def _spaced_words(answer: str) -> str:
    """`" ".join(w.lower() for w in _WORD.findall(answer))`, at C speed. An ASCII answer
    goes through bytes (translate, lower, split: ~6 us for 1 KB, where the regex took
    ~30); any other through one substitution and one lower(): a space ends lower()'s only
    context rule (final sigma), so each word lowers as it would alone."""
    if answer.isascii():
        data = answer.encode("ascii").translate(_ASCII_WORD_BYTES).lower()
        return b" ".join(data.split()).decode("ascii")
    return _NOT_ALNUM.sub(" ", answer).lower().strip(" ")


def _leak_runs(
    answer: str, grams: frozenset[tuple[str, ...]], n: int, n_words: int, min_words: int
) -> list[OutputFinding]:
    need = min(min_words, n_words)
    p_words_len = n_words
    a_matches = list(_WORD.finditer(answer))
    a_words = [m.group(0).lower() for m in a_matches]
    covered = [False] * len(a_words)
    for i in range(len(a_words) - n + 1):
        if tuple(a_words[i : i + n]) in grams:
            for k in range(i, i + n):
                covered[k] = True
    out: list[OutputFinding] = []
    i = 0
    scale = min(p_words_len, 40)
    while i < len(covered):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(covered) and covered[j + 1]:
            j += 1
        words = j - i + 1
        if words >= need:
            score = min(1.0, words / scale)
            out.append(
                OutputFinding(
                    a_matches[i].start(), a_matches[j].end(), "system_prompt", score, f"{words}w"
                )
            )
        i = j + 1
    return out


# ---------------------------------------------------------------------------- secrets


def find_secrets(answer: str) -> list[OutputFinding]:
    """Credentials in `answer`, by the catalog's anchored key patterns."""
    from mageguard.scan.analyzers.secrets import find_keys

    return [
        OutputFinding(m.start, m.end, "secret", 1.0, m.pattern.id)
        for m in find_keys(answer, ai_unit=True)
    ]


# ---------------------------------------------------------------------------- all together


def check_output(
    answer: str,
    *,
    canaries: Iterable[str] = (),
    system_prompt: str | None = None,
    other_tenants: Iterable[TermFinder] = (),
    secrets: bool = True,
) -> tuple[OutputFinding, ...]:
    """Every finding in `answer`, sorted by position. An empty tuple means it may go out."""
    found: list[OutputFinding] = []
    for c in canaries:
        found.extend(find_canary(answer, c))
    if system_prompt:
        found.extend(find_prompt_leak(answer, system_prompt))
    found.extend(find_tenant_terms(answer, other_tenants))
    if secrets:
        found.extend(find_secrets(answer))
    return tuple(sorted(found))
