"""Text as the matchers see it: folding keeps every offset, the folded bytes are folded
once per prompt, and byte offsets map back to str offsets, lone surrogates included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.redact.text import fold, folded_utf8, str_offsets

# ASCII, accents, quotes, and the characters whose lower case is odd: İ (two characters),
# Σ (depends on its neighbours), ǅ (title case), K (lower case ASCII), Ⅰ Ⓐ (other upper
# case), ß ẞ, a lone surrogate, a character outside the BMP
ODD = "aZ .-_9éÉ’–İıſKΣσςǅⅠⒶßẞΩ\udcff😀"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(ODD), max_size=24))
def test_folded_utf8_is_fold_and_its_utf8_for_any_text(text: str) -> None:
    folded, data = folded_utf8(("x" + text)[1:])  # a fresh object, not the one remembered
    assert folded == fold(text)
    assert data == fold(text).encode("utf-8", "surrogatepass")
    assert len(folded) == len(text)


def test_the_same_text_is_folded_once_per_thread() -> None:
    text = "Chloé Martin asks about the JOUST bag"
    assert folded_utf8(text) is folded_utf8(text)
    assert folded_utf8(text)[0] == "chloé martin asks about the joust bag"


def test_byte_offsets_map_back_to_str_offsets_after_lone_surrogates() -> None:
    text = "é\udcff😀 bag"
    data = text.encode("utf-8", "surrogatepass")
    end = data.index(b"bag") + 3
    assert str_offsets(data, [end, 0, -1]) == {end: len(text), 0: 0, -1: -1}
