"""Placeholders are typed, consistent, and come back however the model mangles them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mageguard.redact.restore import StreamRestorer
from mageguard.redact.vault import MemoryVaultStore, Vault


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
