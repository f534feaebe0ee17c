"""Text as the matchers see it: case-folded, UTF-8 encoded, offsets mapped back to str.

The tenant dictionary and the amount detector both scan the folded prompt's bytes.
Folding and encoding a 2 KB prompt that is not pure ASCII costs ~2 us, as much as one
hyperscan scan, so `folded_utf8` does it once per prompt and hands both the same result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

_LAST = threading.local()


def fold(text: str) -> str:
    """Lower-case without changing the length (str.lower() turns 'İ' into two chars, which
    would shift every offset after it)."""
    low = text.lower()
    if len(low) == len(text):
        return low  # the common case, ASCII or not: no character changed length
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


def folded_utf8(text: str) -> tuple[str, bytes]:
    """`fold(text)` and its UTF-8 bytes, lone surrogates encoded as themselves
    (surrogatepass: one character, three bytes, decoded back by `str_offsets`).

    Remembered for the last text on this thread, by identity (a str never changes), like
    the trigger scanner's hits: the engine hands each detector the same prompt object in
    turn, so the second detector to ask gets the first one's work."""
    local = _LAST
    if getattr(local, "text", None) is text:
        found: tuple[str, bytes] = local.folded
        return found
    if text.isascii():
        folded = text.lower()
        out = (folded, folded.encode("ascii"))
    else:
        out = _fold_mostly_ascii(text)
    local.text, local.folded = text, out
    return out


_ASCII = bytes(range(128))


def _fold_mostly_ascii(text: str) -> tuple[str, bytes]:
    """str.lower() of a text that is not pure ASCII costs ~3 ns a character, and prompts
    are mostly ASCII with a few accents, quotes or dashes that have no lower case: lower
    the ASCII letters in the UTF-8 bytes (bytes.lower() touches nothing else), and look
    at the non-ASCII characters alone. If none of them changes case (no capital, no
    Σ, whose lower case depends on its neighbours), that is fold(text); else fold it."""
    data = text.encode("utf-8", "surrogatepass").lower()
    others = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    if others.lower() == others:
        return data.decode("utf-8", "surrogatepass"), data
    folded = fold(text)
    return folded, folded.encode("utf-8", "surrogatepass")


def str_offsets(data: bytes, offsets: Iterable[int]) -> dict[int, int]:
    """Byte offsets into `data` (at character boundaries) -> str offsets, by decoding the
    stretches between consecutive offsets: linear in the text, in C. Negative offsets
    (no position) map to themselves."""
    mapping: dict[int, int] = {}
    prev_b = prev_s = 0
    for b in sorted(set(offsets)):
        if b < 0:
            mapping[b] = b
            continue
        prev_s += len(data[prev_b:b].decode("utf-8", "surrogatepass"))
        prev_b = b
        mapping[b] = prev_s
    return mapping
