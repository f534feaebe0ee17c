"""The view: lower-cased, NFKC, invisible characters gone, tag characters revealed, and
every view offset maps back to the original."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.guard.normalize import fold, view


def test_ascii_is_lowered_in_place() -> None:
    v = view("Ignore THIS\x00")
    assert v.text == "ignore this "
    assert v.origin is None
    assert v.span(0, 6) == (0, 6)


def test_invisible_characters_are_removed_and_offsets_map_back() -> None:
    text = "IG\u200bNORE \ufb01le…"
    v = view(text)
    assert v.text == "ignore file..."
    start, end = v.span(v.text.index("file"), v.text.index("file") + 4)
    assert text[start:end] == "\ufb01le"
    s, e = v.span(0, 6)
    assert text[s:e] == "IG\u200bNORE"


def test_tag_characters_become_ascii() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "Hi there")
    assert view("x" + hidden).text == "xhi there"


def test_dotted_capital_i_and_lone_surrogates() -> None:
    text = "İgnore \udcff previous"
    v = view(text)
    assert "\udcff" not in v.text
    v.text.encode("utf-8")  # always encodable
    s, e = v.span(v.text.index("previous"), v.text.index("previous") + 8)
    assert text[s:e] == "previous"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_has_a_consistent_view(text: str) -> None:
    v = view(text)
    v.text.encode("utf-8")
    assert fold(text) == v.text
    if v.origin is not None and len(v.origin):
        assert len(v.origin) == len(v.text)
        assert all(0 <= i < len(text) for i in v.origin.tolist())
        assert list(v.origin) == sorted(v.origin)
