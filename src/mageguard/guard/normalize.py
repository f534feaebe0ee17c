"""The view of a text that rules and the model look at, with a map back to the original.

Attackers hide instructions from naive matchers with zero-width characters inside words
("ig\u200bnore"), full-width or ligature forms ("ｉｇｎｏｒｅ", "ﬁle") and Unicode tag
characters that render as nothing but spell ASCII ("ASCII smuggling"). The view removes
the invisible characters, maps tag characters to the ASCII they encode, applies NFKC per
character and lower-cases. `View.origin` maps every view character back to the index of
the original character it came from, so a hit in the view is reported at offsets in the
text the caller gave.

Cost: for ASCII text the view is `text.lower()` and the identity map; otherwise one
`str.translate` with a per-character table built from the distinct characters of the
text (a few dozen), and a numpy `repeat` for the map. No per-character Python loop.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

# Default_Ignorable_Code_Point and friends: rendered as nothing (or nearly nothing).
_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # arabic letter mark
    (0x115F, 0x1160),  # hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # mongolian variation selectors / vowel separator
    (0x200B, 0x200F),  # zero-width space / non-joiner / joiner, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates
    (0x3164, 0x3164),  # hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),  # musical formatting
    (0xE0000, 0xE001F),  # tag block outside the ASCII mirror
    (0xE007F, 0xE007F),  # cancel tag
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
# Tag characters U+E0020..U+E007E spell ASCII 0x20..0x7E invisibly.
_TAG_FIRST, _TAG_LAST = 0xE0020, 0xE007E


def is_invisible(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _INVISIBLE_RANGES)


def is_tag(cp: int) -> bool:
    return _TAG_FIRST <= cp <= _TAG_LAST


@functools.lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """What one character becomes in the view ('' for an invisible one)."""
    cp = ord(ch)
    if is_tag(cp):
        return chr(cp - 0xE0000).lower()
    if is_invisible(cp):
        return ""
    if ch == "\x00":
        return " "
    if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate (from surrogateescape or a JSON escape)
        return "\ufffd"
    out = unicodedata.normalize("NFKC", ch).lower()
    # NFKC turns a few characters into control or invisible ones; keep the view printable.
    return "".join(c for c in out if not is_invisible(ord(c)))


@dataclass(frozen=True, slots=True)
class View:
    """`text` as the matchers see it; `origin[i]` is the original index of view char i
    (None when the view is the identity: the original was lower-case-able ASCII)."""

    text: str
    origin: IntArray | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of view [start, end) (end > start)."""
        if self.origin is None:
            return start, end
        if not self.text:
            return 0, 0
        last = len(self.origin) - 1
        s = int(self.origin[min(start, last)])
        e = int(self.origin[min(max(end - 1, start), last)]) + 1
        return s, max(e, s + 1)


def _changes(low: str) -> list[tuple[str, str]]:
    """(char, replacement) for the characters of lower-cased `low` that the view changes
    beyond lower-casing: few, so one `str.replace` each beats a translate table."""
    out = []
    for ch in set(low):
        if ch.isascii():
            if ch == "\x00":
                out.append((ch, " "))
            continue
        folded = fold_char(ch)
        if folded != ch:
            out.append((ch, folded))
    out.sort()
    return out


def fold(text: str) -> str:
    """`view(text).text` without the offset map (what the model's features read)."""
    return view(text, offsets=False).text


def view(text: str, *, offsets: bool = True) -> View:
    """The normalised view of `text` with its offset map (see the module doc)."""
    low = text.lower()
    if text.isascii():
        # ASCII: lower() keeps the length; NUL becomes a space (hyperscan and the model
        # use it as a separator).
        if "\x00" in low:
            low = low.replace("\x00", " ")
        return View(low, None, len(text))
    if len(low) != len(text):  # 'İ'.lower() is two characters: fold char by char
        return _view_slow(text)
    changes = _changes(low)
    grow = [(ch, len(f)) for ch, f in changes if len(f) != 1]
    out = low
    for ch, f in changes:
        out = out.replace(ch, f)
    if not grow:
        return View(out, None, len(text))
    if not offsets:
        return View(out, np.zeros(0, dtype=np.int64), len(text))
    cps = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    lengths = np.ones(len(cps), dtype=np.int64)
    for ch, n in grow:
        lengths[cps == ord(ch)] = n
    origin = np.repeat(np.arange(len(cps), dtype=np.int64), lengths)
    return View(out, origin, len(text))


def _view_slow(text: str) -> View:
    pieces = [fold_char(ch) for ch in text]
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    origin = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)
    return View("".join(pieces), origin, len(text))
