"""Placeholders are typed, consistent, and come back however the model mangles them."""

from __future__ import annotations

import re
import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mageguard.redact.restore import StreamRestorer
from mageguard.redact.vault import _CASE_ALIASES, MemoryVaultStore, Vault, _typed_tokens


def test_the_same_value_gets_the_same_placeholder() -> None:
    v = Vault()
    assert v.placeholder("EMAIL", "a@x.io") == "[EMAIL_1]"
    assert v.placeholder("EMAIL", "b@x.io") == "[EMAIL_2]"
    assert v.placeholder("EMAIL", "a@x.io") == "[EMAIL_1]"
    assert v.placeholder("CREDIT_CARD", "4111111111111111") == "[CARD_1]"


def test_mangled_placeholders_are_restored_and_unknown_ones_kept() -> None:
    v = Vault()
    v.placeholder("PERSON", "Ana Lima")
    v.placeholder("SKU", "24-MB01")
    answer = (
        "Dear [person_1], (SKU-1) ships; {Person 1} and sku_1 and [PERSON_7] and "
        "PERSONAL_1 and person 1 stay."
    )
    assert v.restore(answer) == (
        "Dear Ana Lima, 24-MB01 ships; Ana Lima and 24-MB01 and "
        "[PERSON_7] and PERSONAL_1 and person 1 stay."
    )


def test_a_conversation_vault_continues_numbering() -> None:
    store = MemoryVaultStore()
    v = Vault()
    v.placeholder("EMAIL", "a@x.io")
    store.save("conv-1", v.state())
    again = Vault(state=store.load("conv-1"))
    assert again.placeholder("EMAIL", "a@x.io") == "[EMAIL_1]"
    assert again.placeholder("EMAIL", "c@x.io") == "[EMAIL_2]"
    assert store.load("other") == {}


def test_an_expired_conversation_is_forgotten() -> None:
    store = MemoryVaultStore(ttl_seconds=-1)
    store.save("c", {"[EMAIL_1]": "a@x.io"})
    assert store.load("c") == {}


@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5),
    st.integers(1, 7),
    st.text(max_size=40),
)
def test_streamed_restore_equals_whole_restore_for_any_chunking(
    values: list[str], chunk: int, filler: str
) -> None:
    v = Vault()
    tokens = [v.placeholder("PERSON", value) for value in values]
    answer = filler.join(tokens) + filler + "[per" + "son_1]" + filler
    stream = StreamRestorer(v)
    out = "".join(stream.feed(answer[i : i + chunk]) for i in range(0, len(answer), chunk))
    out += stream.flush()
    assert out == v.restore(answer)


def test_a_placeholder_split_across_chunks_is_restored() -> None:
    v = Vault()
    v.placeholder("EMAIL", "ana@example.com")
    s = StreamRestorer(v)
    parts = [s.feed(c) for c in ("Write to [EMA", "IL_", "1", "] today")]
    assert parts[0] == "Write to "
    assert "".join(parts) + s.flush() == "Write to ana@example.com today"


def _next_after(text: str, entities: list[str]) -> list[str]:
    v = Vault()
    v.reserve(text)
    return [v.placeholder(entity, "new value") for entity in entities]


def test_placeholders_the_user_typed_are_numbered_past() -> None:
    text = "see [EMAIL_3], (card 12) and sku-7 but not aSKU_9 or full zip 3"
    assert _next_after(text, ["EMAIL", "CREDIT_CARD", "SKU", "ZIP_CODE"]) == [
        "[EMAIL_4]",
        "[CARD_13]",
        "[SKU_8]",
        "[ZIP_1]",
    ]
    # what Python's re reads into them beyond ASCII: other digits, spaces, letters
    text = "email_٣ and [\u00a0PHONE 5] and ſku_9 and \u212aUnknown"
    assert _next_after(text, ["EMAIL", "PHONE", "SKU"]) == ["[EMAIL_4]", "[PHONE_6]", "[SKU_10]"]


# around the prefixes: openers, separators, digits (ASCII and not), white space (ASCII,
# \x1c and no-break), the letters re takes for ASCII ones, a lone surrogate
TYPED = st.lists(
    st.sampled_from(
        [
            *("sku", "SKU", "ſku", "email", "EMAIL", "ip", "İp", "ıp", "s\u212au", "zip", "card"),
            *("[", "(", "{", "_", "-", " ", "\t", "\x1c", "\u00a0", "1", "42", "٣", "x", "é"),
            *("\udcff", ")", "]"),
        ]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(TYPED)
@example("s\u212au_1")
@example("ıp_2 İp-3 [ſku 4] {\x1c\u00a0EMAIL٣}")
def test_the_prefilter_never_skips_a_typed_placeholder(text: str) -> None:
    tokens = _typed_tokens(frozenset(Vault()._prefixes.values()))
    assert [m.span() for m in tokens.finditer(text)] == [
        m.span() for m in tokens.regex.finditer(text)
    ]


def test_the_case_aliases_are_every_non_ascii_letter_re_takes_for_an_ascii_one() -> None:
    aliases: dict[str, set[str]] = {}
    for code in range(0x80, sys.maxunicode + 1):
        c = chr(code)
        for letter in {ch.lower() for ch in c.lower() + c.upper() if ch.isascii() and ch.isalpha()}:
            if re.fullmatch(letter, c, re.I):
                aliases.setdefault(letter, set()).add(c)
    assert aliases == {k: set(v) for k, v in _CASE_ALIASES.items()}


_PIECES = [
    "[EMAIL_1]", "[email_2]", "( PERSON 1 )", "{Person-1}", "sku_1", "SKU-12", "[SKU_1",
    "PERSONAL_1", "EMAILS_1", "person1", "<EMAIL_1>", "[\n\tEMAIL_1 ]", "e-mail", "x_person_1",
    "[[EMAIL_1]]", "EMAIL_0001", "email_1234567", " ", "\n", ",", "(", "[", "word", "_", "1",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_restore_tries_the_pattern_only_where_a_placeholder_can_start(answer: str) -> None:
    """The ASCII path tries the pattern at prefixes and openers only: it must replace
    exactly what re.sub over every position replaces."""
    v = Vault()
    v.placeholder("EMAIL", "a@x.io")
    v.placeholder("EMAIL", "b@x.io")
    v.placeholder("PERSON", "Ana Lima")
    v.placeholder("SKU", "24-MB01")
    pattern = v.pattern()
    assert pattern is not None and v._starts(answer) is not None

    def back(m: re.Match[str]) -> str:
        prefix, number = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return v.state().get(f"[{prefix.upper()}_{int(number)}]", m.group(0))

    assert v.restore(answer) == pattern.sub(back, answer)
    assert v.restore(answer + "é") == pattern.sub(back, answer + "é")  # the regex path
