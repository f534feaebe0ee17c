"""Hashed character and word n-grams, computed for a batch of texts in a few numpy passes.

The same function featurises at training and at inference time, so the hashing cannot
drift between the two. Python's `hash()` is salted per process and never used: an n-gram's
hash is a polynomial over its code points modulo 2**64 (computed for every substring at
once from prefix sums), finished with the splitmix64 mixer. Everything is unsigned 64-bit
arithmetic that wraps identically on every platform numpy runs on;
`tests/guard/test_features.py` pins a few hash values.

A batch of units is joined with U+0001 between them; an n-gram that would cross a
separator is dropped, so each unit's features are exactly those it would have alone.

Features of a unit (after `normalize.view`, whitespace collapsed, padded with one space):
  - character n-grams for each n in `FeatureConfig.char_ngrams`;
  - word unigrams and bigrams (words are runs of alphanumeric characters).
Each hashes to one of 2**bits columns with a sign (colliding features partly cancel
instead of adding up); counts are damped with log1p and each unit's row is L2-normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mageguard.guard.normalize import fold

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_SALT_CHAR = 0x2545F4914F6CDD1D
_SALT_WORD = 0x5851F42D4C957F2D
_SALT_BIGRAM = 0x14057B7EF767814F
_SEP = "\x01"
_MASK64 = (1 << 64) - 1
_POWERS_CACHE: dict[str, U64] = {}
_ARANGE: list[I64] = [np.arange(4096, dtype=np.int64)]


def _arange(n: int) -> I64:
    if len(_ARANGE[0]) < n:
        _ARANGE[0] = np.arange(max(n, 2 * len(_ARANGE[0])), dtype=np.int64)
    return _ARANGE[0][:n]


@dataclass(frozen=True)
class FeatureConfig:
    bits: int = 18
    char_ngrams: tuple[int, ...] = (3, 4, 5)
    word_unigrams: bool = True
    word_bigrams: bool = True
    sublinear_tf: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["char_ngrams"] = list(self.char_ngrams)
        d["hash"] = "poly64-splitmix64-v1"
        return d

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> FeatureConfig:
        if raw.get("hash", "poly64-splitmix64-v1") != "poly64-splitmix64-v1":
            raise ValueError(f"unknown feature hash {raw.get('hash')!r}")
        return FeatureConfig(
            bits=int(raw["bits"]),
            char_ngrams=tuple(int(n) for n in raw["char_ngrams"]),
            word_unigrams=bool(raw["word_unigrams"]),
            word_bigrams=bool(raw["word_bigrams"]),
            sublinear_tf=bool(raw["sublinear_tf"]),
        )


@dataclass(frozen=True)
class FeatureBatch:
    """Sparse rows: unit `unit[k]` has value `value[k]` in column `column[k]`."""

    n_units: int
    unit: I64
    column: I64
    value: F64 = field(repr=False)


def _powers(n: int, base: int, name: str) -> U64:
    """base**0 .. base**(n-1) modulo 2**64, cached and grown by doubling."""
    have = _POWERS_CACHE.get(name)
    if have is not None and len(have) >= n:
        return have[:n]
    size = max(n, 4096, 2 * len(have) if have is not None else 0)
    out = np.empty(size, dtype=np.uint64)
    out[0] = 1
    out[1:] = np.cumprod(np.full(size - 1, base, dtype=np.uint64), dtype=np.uint64)
    _POWERS_CACHE[name] = out
    return out[:n]


def _mix(z: U64) -> U64:
    """splitmix64's finaliser: every input bit affects every output bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


_WORD_TABLE: npt.NDArray[np.bool_] | None = None


def _word_table() -> npt.NDArray[np.bool_]:
    global _WORD_TABLE
    if _WORD_TABLE is None:
        table = np.array([chr(i).isalnum() for i in range(0x10000)], dtype=np.bool_)
        table[0xD800:0xE000] = False
        _WORD_TABLE = table
    return _WORD_TABLE


def prepare(texts: Sequence[str]) -> str:
    """The joined, normalised string the hashes are computed over."""
    joined = _SEP.join(t.replace(_SEP, " ") if _SEP in t else t for t in texts)
    v = fold(joined).replace(_SEP, f" {_SEP} ")
    # str.split() splits at exactly the characters re's \s matches (str.isspace).
    return " " + " ".join(v.split()) + " "


def featurize(texts: Sequence[str], config: FeatureConfig, total: int = 0) -> FeatureBatch:
    """Hashed, signed, L2-normalised n-gram rows for `texts` (one row per text).

    With `total` > 0 one more row is appended: the n-grams of `texts[:total]` together
    (a document as the bag of its segments' n-grams; it costs a sort, not a second
    hashing pass over the document)."""
    n_units = len(texts) + (1 if total > 0 else 0)
    empty = FeatureBatch(
        n_units, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    )
    if not texts:
        return empty
    norm = prepare(texts)
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    length = len(cps)
    is_sep = cps == np.uint64(1)
    seps = np.concatenate(([0], np.cumsum(is_sep, dtype=np.int64)))  # separators before i
    unit_of = seps[:-1]
    pw = _powers(length, _BASE, "base")
    ipw = _powers(length, _BASE_INV, "inv")
    prefix = np.zeros(length + 1, dtype=np.uint64)
    np.cumsum(cps * pw, dtype=np.uint64, out=prefix[1:])

    # Every n-gram is a substring [a, b) with its salt; hashed in one vectorised pass.
    starts: list[I64] = []
    stops: list[I64] = []
    salts: list[U64] = []
    for n in config.char_ngrams:
        if length < n:
            continue
        a = _arange(length - n + 1)
        starts.append(a)
        stops.append(a + n)
        salts.append(np.full(len(a), (_SALT_CHAR * n) & _MASK64, dtype=np.uint64))
    w_starts = w_stops = np.zeros(0, np.int64)
    if config.word_unigrams or config.word_bigrams:
        table = _word_table()
        low = np.minimum(cps, np.uint64(0xFFFF)).astype(np.int64)
        is_w = np.where(cps < np.uint64(0x10000), table[low], cps > np.uint64(0xFFFF))
        edge = np.diff(is_w.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        w_starts = np.flatnonzero(edge == 1)
        w_stops = np.flatnonzero(edge == -1)
        starts.append(w_starts)
        stops.append(w_stops)
        salts.append(np.full(len(w_starts), _SALT_WORD, dtype=np.uint64))
    if not starts:
        return empty
    a = np.concatenate(starts)
    b = np.concatenate(stops)
    salt = np.concatenate(salts)
    ok = seps[b] == seps[a]  # n-grams that cross a unit separator are dropped
    a, b, salt = a[ok], b[ok], salt[ok]
    # (prefix[b] - prefix[a]) * BASE**-a == sum(cps[a+k] * BASE**k): position-independent.
    h = _mix((prefix[b] - prefix[a]) * ipw[a] + salt)
    u = unit_of[a]
    n_words = len(w_starts)  # words never cross a separator: they are h's tail
    wh, wu = h[len(h) - n_words :], u[len(u) - n_words :]
    if n_words and not config.word_unigrams:
        h, u = h[:-n_words], u[:-n_words]
    if config.word_bigrams and n_words > 1:
        same = wu[1:] == wu[:-1]
        bh = _mix(wh[:-1][same] * np.uint64(_BASE) + _mix(wh[1:][same]) + np.uint64(_SALT_BIGRAM))
        h = np.concatenate((h, bh))
        u = np.concatenate((u, wu[1:][same]))
    if total > 0:
        inside = u < total
        h = np.concatenate((h, h[inside]))
        u = np.concatenate((u, np.full(int(inside.sum()), len(texts), dtype=np.int64)))
    if not len(h):
        return empty
    # Key = unit, then the top `bits` bits of the hash (the column), then the next bit
    # (the sign). One in-place sort groups equal (unit, column) pairs, positives first.
    bits = config.bits
    key = (u << np.int64(bits + 1)) | (h >> np.uint64(63 - bits)).astype(np.int64)
    key.sort()
    first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    runs = np.diff(np.append(first, len(key))).astype(np.float64)
    signed_keys = key[first]
    runs[(signed_keys & 1) == 1] *= -1.0
    pair_key = signed_keys >> np.int64(1)
    head = np.flatnonzero(np.concatenate(([True], pair_key[1:] != pair_key[:-1])))
    keys = pair_key[head]
    value = np.add.reduceat(runs, head)
    nz = value != 0
    keys, value = keys[nz], value[nz]
    if config.sublinear_tf:
        value = np.sign(value) * np.log1p(np.abs(value))
    unit = keys >> np.int64(config.bits)
    column = keys & np.int64((1 << config.bits) - 1)
    norms = np.sqrt(np.bincount(unit, weights=value * value, minlength=n_units))
    value = value / norms[unit]
    return FeatureBatch(n_units, unit, column, value)
