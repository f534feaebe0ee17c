"""The C featuriser (csrc/featurize.c), when scripts/build-native compiled it at install.

The numpy featuriser in features.py is the reference and the fallback: the C one exists
only because the gateway scores every request and numpy's per-call overhead made the
guard its largest cost. Both give the same rows, and `logits` the same logits within
float rounding (tests/guard/test_native.py compares them on random text).
MAGEGUARD_NATIVE=0 turns the C path off.
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

LIBRARY = Path(__file__).parent / "csrc" / "_featurize.so"

_I64 = np.ctypeslib.ndpointer(dtype=np.int64, flags="C_CONTIGUOUS")
_U32 = np.ctypeslib.ndpointer(dtype="<u4", flags="C_CONTIGUOUS")
_U8 = np.ctypeslib.ndpointer(dtype=np.uint8, flags="C_CONTIGUOUS")
_I32 = np.ctypeslib.ndpointer(dtype=np.int32, flags="C_CONTIGUOUS")


@functools.cache
def library() -> Any | None:
    """The loaded library, or None (not built, switched off, or it does not load)."""
    if os.environ.get("MAGEGUARD_NATIVE", "1") == "0" or not LIBRARY.is_file():
        return None
    try:
        lib = ctypes.CDLL(str(LIBRARY))
    except OSError:
        return None
    try:
        counts, logits = lib.mg_featurize, lib.mg_logits
    except AttributeError:  # a library built from an older featurize.c
        return None
    ints: list[Any] = [ctypes.c_int32, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32]
    ints += [ctypes.c_int64, ctypes.c_int64]
    counts.restype = logits.restype = ctypes.c_int64
    counts.argtypes = [_U32, ctypes.c_int64, _U8, _I32, *ints, _I64, _I64, _I64, ctypes.c_int64]
    # the gateway's call: plain pointers (see `logits`)
    void = ctypes.c_void_p
    logits.argtypes = [void, ctypes.c_int64, void, void, *ints, ctypes.c_int32, void]
    logits.argtypes += [ctypes.c_double, void]
    return lib


_ADDRESSES: dict[int, tuple[npt.NDArray[Any], int]] = {}


def _address(array: npt.NDArray[Any], dtype: type[np.generic]) -> int:
    """The data address of an array that outlives the call (the word table, a model's
    weights), found once and kept with a reference to the array, so the id cannot be
    reused: numpy's checks of each pointer argument cost ~10 us a call, as much as the
    C work for a short message."""
    found = _ADDRESSES.get(id(array))
    if found is None or found[0] is not array:
        if array.dtype != dtype or not array.flags.c_contiguous:
            raise TypeError(f"want a C-contiguous {np.dtype(dtype).name} array")
        found = _ADDRESSES[id(array)] = (array, array.ctypes.data)
    return found[1]


@functools.cache
def _grams(ngrams: tuple[int, ...]) -> npt.NDArray[np.int32]:
    return np.asarray(ngrams, dtype=np.int32)


def featurize(
    cp32: npt.NDArray[np.uint32],
    word_table: npt.NDArray[np.uint8],
    ngrams: tuple[int, ...],
    bits: int,
    words: tuple[bool, bool],  # word unigrams, word bigrams
    n_texts: int,
    total: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(unit, column, net signed count) of every non-zero feature, in (unit, column)
    order, or None when the C featuriser is not available (the caller then runs the
    numpy one). Damping and normalising stay with the caller."""
    lib = library()
    if lib is None:
        return None
    length = len(cp32)
    cap = sum(max(length - n + 1, 0) for n in ngrams) + 2 * length
    cap *= 2 if total > 0 else 1
    unit = np.empty(cap, dtype=np.int64)
    column = np.empty(cap, dtype=np.int64)
    net = np.empty(cap, dtype=np.int64)
    grams = _grams(ngrams)
    written = lib.mg_featurize(
        np.ascontiguousarray(cp32), length, word_table, grams, len(grams), bits,
        int(words[0]), int(words[1]), n_texts, total, unit, column, net, cap,
    )  # fmt: skip
    if written < 0:
        raise MemoryError(f"the C featuriser failed ({written})")
    return unit[:written], column[:written], net[:written]


def logits(
    utf32: bytes,
    word_table: npt.NDArray[np.uint8],
    ngrams: tuple[int, ...],
    bits: int,
    words: tuple[bool, bool],
    n_texts: int,
    total: int,
    sublinear: bool,
    weights: npt.NDArray[np.float32],
    bias: float,
) -> npt.NDArray[np.float64] | None:
    """The linear model's logit per unit straight from the prepared text's UTF-32-LE
    bytes (one C call in place of the counts and ~15 numpy calls), or None without the
    C featuriser."""
    lib = library()
    if lib is None:
        return None
    if len(utf32) % 4:
        raise ValueError("UTF-32 text of a length that is not a multiple of 4")
    out = np.empty(n_texts + (1 if total > 0 else 0), dtype=np.float64)
    grams = _grams(ngrams)
    status = lib.mg_logits(
        utf32, len(utf32) // 4, _address(word_table, np.uint8), _address(grams, np.int32),
        len(grams), bits, int(words[0]), int(words[1]), n_texts, total, int(sublinear),
        _address(weights, np.float32), float(bias), out.ctypes.data,
    )  # fmt: skip
    if status < 0:
        raise MemoryError(f"the C featuriser failed ({status})")
    return out
