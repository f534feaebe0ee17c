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

from mageguard.guard import native as _native
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


_WORD_TABLE: npt.NDArray[np.bool_] | None = None


def _word_table() -> npt.NDArray[np.bool_]:
    """Word-character flag for every code point: str.isalnum below U+10000 (surrogates
    excluded), and every astral character counts as a word character."""
    global _WORD_TABLE
    if _WORD_TABLE is None:
        table = np.ones(0x110000, dtype=np.bool_)
        table[:0x10000] = [chr(i).isalnum() for i in range(0x10000)]
        table[0xD800:0xE000] = False
        _WORD_TABLE = table
    return _WORD_TABLE


def prepare(texts: Sequence[str]) -> str:
    """The joined, normalised string the hashes are computed over."""
    joined = _SEP.join(t.replace(_SEP, " ") if _SEP in t else t for t in texts)
    v = fold(joined).replace(_SEP, f" {_SEP} ")
    # str.split() splits at exactly the characters re's \s matches (str.isspace).
    return " " + " ".join(v.split()) + " "


def _mix(z: U64, tmp: U64) -> None:
    """splitmix64's finaliser, in place (every input bit affects every output bit);
    `tmp` (same length) is scratch, so there are no allocations."""
    np.right_shift(z, np.uint64(30), out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, np.uint64(0xBF58476D1CE4E5B9), out=z)
    np.right_shift(z, np.uint64(27), out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, np.uint64(0x94D049BB133111EB), out=z)
    np.right_shift(z, np.uint64(31), out=tmp)
    np.bitwise_xor(z, tmp, out=z)


def _sort_keys(key: I64, limit: int) -> I64:
    """`key` sorted (all values in [0, limit)). Below 2**32 two stable 16-bit radix passes
    (numpy's radix sort) are several times faster than a comparison sort of int64."""
    if limit <= 1 << 32:
        p = np.argsort(key.astype(np.uint16), kind="stable")
        k1 = key[p]
        p = np.argsort((k1 >> np.int64(16)).astype(np.uint16), kind="stable")
        return k1[p]
    return np.sort(key)


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
    cp32 = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    length = len(cp32)  # >= 2: `norm` starts and ends with a space
    native = _native.featurize(
        cp32,
        _word_table().view(np.uint8),
        tuple(config.char_ngrams),
        config.bits,
        (config.word_unigrams, config.word_bigrams),
        len(texts),
        total,
    )
    if native is not None:  # the same counts from csrc/featurize.c, several times faster
        unit, column, net = native
        return _rows(n_units, unit, column, net, config) if len(unit) else empty
    bits = config.bits
    shift = bits + 1
    # Sort key of an n-gram: unit, then the top `bits` bits of its hash (the column),
    # then the next bit (the sign). N-grams to drop (crossing a unit separator, or a
    # bigram across two units) get the unit `n_units`: they sort last and are cut off.
    dummy = n_units << shift
    is_sep = cp32 == 1
    sep_pos = np.flatnonzero(is_sep)
    ukey = np.cumsum(is_sep, dtype=np.int64)  # the unit of each (non-separator) position
    ukey <<= np.int64(shift)
    pw = _powers(length, _BASE, "base")
    ipw = _powers(length, _BASE_INV, "inv")
    prefix = np.empty(length + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(cp32 * pw, dtype=np.uint64, out=prefix[1:])

    ngrams = [n for n in config.char_ngrams if length >= n]
    n_char = sum(length - n + 1 for n in ngrams)
    words = config.word_unigrams or config.word_bigrams
    w_starts = w_stops = np.zeros(0, np.int64)
    if words:
        is_w = _word_table()[cp32]
        # The first and last characters are spaces, so edges alternate: start, stop, ...
        edge = np.flatnonzero(is_w[1:] != is_w[:-1])
        edge += 1
        w_starts, w_stops = edge[0::2], edge[1::2]
    n_words = len(w_starts)
    n_hash = n_char + n_words
    n_bigrams = n_words - 1 if config.word_bigrams and n_words > 1 else 0
    n_uni = n_words if config.word_unigrams else 0
    n_keys = n_char + n_uni + n_bigrams
    if not n_keys:
        return empty
    h = np.empty(n_hash, dtype=np.uint64)
    key = np.empty(n_keys, dtype=np.int64)
    # near[i, j] = sep_pos[i] - j: an n-gram starting there holds a separator if j < n.
    near = np.subtract.outer(sep_pos, _arange(max(ngrams, default=0)))
    off = 0
    for n in ngrams:
        m = length - n + 1
        hs = h[off : off + m]
        # (prefix[a+n] - prefix[a]) * BASE**-a == sum(cps[a+k] * BASE**k).
        np.subtract(prefix[n:], prefix[:m], out=hs)
        np.multiply(hs, ipw[:m], out=hs)
        np.add(hs, np.uint64((_SALT_CHAR * n) & _MASK64), out=hs)
        ks = key[off : off + m]
        ks[:] = ukey[:m]
        if len(sep_pos):
            bad = near[:, :n].ravel()
            ks[bad[(bad >= 0) & (bad < m)]] = dummy
        off += m
    if n_words:
        hw = h[n_char:]
        np.subtract(prefix[w_stops], prefix[w_starts], out=hw)
        np.multiply(hw, ipw[w_starts], out=hw)
        np.add(hw, np.uint64(_SALT_WORD), out=hw)
    _mix(h, np.empty_like(h))
    top = np.uint64(63 - bits)
    np.bitwise_or(key[:n_char], (h[:n_char] >> top).view(np.int64), out=key[:n_char])
    if n_words:
        wu = ukey[w_starts]
        if n_uni:
            np.bitwise_or(wu, (h[n_char:] >> top).view(np.int64), out=key[n_char : n_char + n_uni])
        if n_bigrams:
            wh = h[n_char:]
            bh = wh[:-1] * np.uint64(_BASE)
            inner = wh[1:].copy()
            _mix(inner, np.empty_like(inner))
            bh += inner
            bh += np.uint64(_SALT_BIGRAM)
            _mix(bh, inner)
            bk = key[n_char + n_uni :]
            np.bitwise_or(wu[1:], (bh >> top).view(np.int64), out=bk)
            bk[wu[1:] != wu[:-1]] = dummy
    if total > 0:
        inside = key[key < (total << shift)]
        inside &= np.int64((1 << shift) - 1)
        inside |= np.int64(len(texts) << shift)
        key = np.concatenate((key, inside))
    key = _sort_keys(key, dummy + (1 << shift))
    key = key[: int(np.searchsorted(key, dummy))]
    if not len(key):
        return empty
    # Runs of one (unit, column): the sign bit says +1 or -1; their sum is the value.
    pair = key >> np.int64(1)
    brk = np.flatnonzero(pair[1:] != pair[:-1])
    ends = np.empty(len(brk) + 1, dtype=np.int64)
    ends[:-1] = brk
    ends[-1] = len(key) - 1
    cum = (ends + 1) - 2 * np.cumsum(key & np.int64(1))[ends]  # running sum at each end
    net = cum.copy()
    net[1:] -= cum[:-1]
    keep = net != 0
    keys = pair[ends[keep]]
    unit = keys >> np.int64(bits)
    column = keys & np.int64((1 << bits) - 1)
    return _rows(n_units, unit, column, net[keep], config)


def native_logits(
    texts: Sequence[str],
    config: FeatureConfig,
    total: int,
    weights: npt.NDArray[np.float32],
    bias: float,
) -> F64 | None:
    """The linear model's logits for `featurize(texts, config, total)`'s rows, in one C
    call (csrc/featurize.c), or None without the C featuriser. Within float rounding of
    the rows dotted with `weights` plus `bias` (tests/guard/test_native.py)."""
    if not texts or _native.library() is None:
        return None
    return _native.logits(
        prepare(texts).encode("utf-32-le", "surrogatepass"),
        _word_table().view(np.uint8),
        tuple(config.char_ngrams),
        config.bits,
        (config.word_unigrams, config.word_bigrams),
        len(texts),
        total,
        config.sublinear_tf,
        weights,
        bias,
    )


def _rows(n_units: int, unit: I64, column: I64, net: I64, config: FeatureConfig) -> FeatureBatch:
    """Net signed counts per (unit, column), damped and L2-normalised per unit: one home
    for both featurisers, so their floats are the same to the bit."""
    value = net.astype(np.float64)
    if config.sublinear_tf:
        value = np.copysign(np.log1p(np.abs(value)), value)
    norms = np.sqrt(np.bincount(unit, weights=value * value, minlength=n_units))
    value = value / norms[unit]
    return FeatureBatch(n_units, unit, column, value)
