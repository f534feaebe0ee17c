"""The engine: spans from every detector, one per stretch of text, operators by policy,
refusal when the policy blocks, and restore(redact(x)) == x for an echoing model."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.redact import engine
from mageguard.redact.dictionary import Dictionary
from mageguard.redact.engine import Redactor
from mageguard.redact.policy import Policy
from mageguard.redact.spans import Span
from mageguard.redact.vault import Vault


class EmailsAndCards:
    """A stand-in detector: the engine's behaviour does not depend on which detectors."""

    name = "test"
    entities = frozenset({"EMAIL", "CREDIT_CARD"})

    def detect(self, text: str) -> Iterator[Span]:
        for m in re.finditer(r"[\w.]+@[\w.]+\.\w+", text):
            yield Span(m.start(), m.end(), "EMAIL", 0.95, self.name)
        for m in re.finditer(r"\b4\d{15}\b", text):
            yield Span(m.start(), m.end(), "CREDIT_CARD", 0.9, self.name)


DICTIONARY = Dictionary.from_rows(
    [("SKU", "24-MB01"), ("PRODUCT", "Joust Duffle Bag"), ("SUPPLIER", "Litware")], costs=["12.50"]
)


def redactor(policy: Policy | None = None) -> Redactor:
    return Redactor(detectors=[EmailsAndCards()], dictionary=DICTIONARY, policy=policy)


def test_placeholders_are_typed_and_consistent_within_a_request() -> None:
    text = "ana@x.io asked about 24-MB01; cc ana@x.io and bo@x.io. Cost is $12.50."
    result = redactor().redact(text)
    assert result.text == (
        "[EMAIL_1] asked about [SKU_1]; cc [EMAIL_1] and [EMAIL_2]. Cost is [COST_1]."
    )
    assert result.counts == {"EMAIL": 3, "SKU": 1, "COST": 1}
    assert text[result.spans[0].start : result.spans[0].end] == "ana@x.io"


def test_policy_operators_apply_per_entity_and_surface() -> None:
    policy = Policy.from_mapping(
        {
            "operators": {"EMAIL": "mask", "SKU": "hash", "SUPPLIER": "drop"},
            "surfaces": {"checkout_payment": {"CREDIT_CARD": "block"}},
        }
    )
    text = "ana@x.io wants 24-MB01 from Litware with card 4111111111111111"
    out = redactor(policy).redact(text)
    assert out.text.startswith("a***@x.io wants <SKU:")
    assert " from  with card [CARD_1]" in out.text
    blocked = redactor(policy).redact(text, surface="checkout_payment")
    assert blocked.blocked == ("CREDIT_CARD",) and blocked.text == ""


def test_text_without_findings_is_returned_unchanged() -> None:
    result = redactor().redact("Hello, how are you?")
    assert result.text == "Hello, how are you?" and not result.changed


def test_the_redaction_result_holds_no_detected_value() -> None:
    result = redactor().redact("write to ana@x.io")
    assert "ana@x.io" not in repr(result.spans) + repr(result.counts)


SENSITIVE = st.sampled_from(
    ["ana@x.io", "bo.li@shop.example", "24-MB01", "Joust Duffle Bag", "4111111111111111", "Litware"]
)
FILLER = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["[EMAIL_1]", "(sku 2)", "Card_1", "[PRODUCT_9]"]),
).map(lambda s: f" {s} ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FILLER, SENSITIVE), max_size=8), FILLER)
def test_restore_of_redact_is_the_identity_for_an_echoing_model(
    parts: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(f + s for f, s in parts) + tail
    vault = Vault()
    result = redactor().redact(text, vault)
    for _, value in parts:
        assert value not in result.text or value in tail or any(value in f for f, _ in parts)
    assert vault.restore(result.text) == text


def test_a_placeholder_the_user_typed_is_not_replaced_on_restore() -> None:
    vault = Vault()
    text = "Is [EMAIL_1] a template variable? Mail ana@x.io"
    result = redactor().redact(text, vault)
    assert result.text == "Is [EMAIL_1] a template variable? Mail [EMAIL_2]"
    assert vault.restore(result.text) == text


def test_a_replaced_policy_takes_effect_on_the_next_request() -> None:
    r = redactor()
    assert r.redact("write to ana@x.io").text == "write to [EMAIL_1]"
    r.policy = Policy.from_mapping({"operators": {"EMAIL": "drop"}})
    assert r.redact("write to ana@x.io").text == "write to "
    assert r.redact("write to ana@x.io", surface="other").text == "write to "


class Counting(EmailsAndCards):
    def __init__(self) -> None:
        self.calls = 0

    def detect(self, text: str) -> Iterator[Span]:
        self.calls += 1
        return super().detect(text)


def test_a_text_seen_before_is_not_analysed_again() -> None:
    """The system prompt of every request, the history of every turn."""
    detector = Counting()
    r = Redactor(detectors=[detector], policy=None)
    prompt = "You are the shop's assistant. Escalate to ops@shop.example when unsure."
    first = r.redact(prompt, Vault())
    again = r.redact("".join(list(prompt)), Vault())  # equal text, another object
    assert detector.calls == 1
    assert again == first and again.text == prompt.replace("ops@shop.example", "[EMAIL_1]")


def test_a_replaced_policy_forgets_what_was_seen_under_the_old_one() -> None:
    detector = Counting()
    r = Redactor(detectors=[detector])
    r.redact("card 4111111111111111 please")
    r.policy = Policy.from_mapping({"min_score": 0.95})
    assert r.redact("card 4111111111111111 please").spans == ()  # 0.9 is below the floor now
    assert detector.calls == 2


def test_what_a_redactor_remembers_is_bounded_and_keeps_the_texts_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "REMEMBERED", 4)
    detector = Counting()
    r = Redactor(detectors=[detector])
    system = "Answer as the shop. Contact: help@shop.example"
    for n in range(40):
        assert r.redact(system).text == "Answer as the shop. Contact: [EMAIL_1]"
        r.redact(f"customer {n} at c{n}@mail.example")
        _, new, old = r._seen
        assert len(new) <= 4 and len(old) <= 4
    assert detector.calls == 41  # the system prompt once, every customer message once


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a@b.io ", "4111111111111111 ", "x ", "ü "]), max_size=12))
def test_remembered_spans_are_the_spans_a_fresh_analysis_gives(parts: list[str]) -> None:
    text = "".join(parts)
    r = redactor()
    assert r.analyze(text) == r.analyze(text) == redactor()._analyze(text)


# ---------------------------------------------------------------- analysis, step by step


class Sharing(EmailsAndCards):
    """Detectors that share one scan (a memo of the last text scanned) must run back to
    back: analysis does not pause between them."""

    def __init__(self, scanner: object) -> None:
        self.scanner = scanner


def test_the_analysis_pauses_between_detectors_but_not_after_the_last() -> None:
    r = Redactor(detectors=[EmailsAndCards(), EmailsAndCards()], dictionary=DICTIONARY)
    # two detectors, the dictionary, the amounts: three pauses between four
    assert sum(1 for _ in r.analysis("write to ana@x.io about 24-MB01")) == 3


def test_the_analysis_does_not_pause_between_detectors_that_share_a_scan() -> None:
    one, other = object(), object()
    r = Redactor(detectors=[Sharing(one), Sharing(one), Sharing(other)])
    # [one, one] | [other] | amounts
    assert sum(1 for _ in r.analysis("write to ana@x.io")) == 2


def test_the_builtin_detectors_pause_only_between_scans() -> None:
    from mageguard.redact.detectors.builtin import builtin_detectors

    r = Redactor(dictionary=DICTIONARY)
    kinds = [type(d).__name__ for d in r.detectors]
    assert kinds == [
        "PatternDetector",
        "PhoneDetector",
        "AddressDetector",
        "PersonDetector",
        "DictionaryDetector",
        "AmountDetector",
    ]
    assert builtin_detectors()[1].scanner is builtin_detectors()[3].scanner  # type: ignore[attr-defined]
    assert r.pauses(r.detectors) == (True, False, False, True, True, False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a@b.io ", "4111111111111111 ", "24-MB01 ", "$12.50 ", "x "])))
def test_an_analysis_run_to_its_end_is_remembered_as_analyze_would_find_it(
    parts: list[str],
) -> None:
    text = "".join(parts)
    r = redactor()
    for _ in r.analysis(text):
        pass
    r.detectors = ()  # what redact() finds now can only be what the analysis remembered
    assert r.analyze(text) == redactor().analyze(text)


def test_a_text_already_analysed_is_not_analysed_again_step_by_step() -> None:
    detector = Counting()
    r = Redactor(detectors=[detector])
    r.redact("write to ana@x.io")
    assert list(r.analysis("write to ana@x.io")) == []
    assert detector.calls == 1


def test_an_analysis_overtaken_by_a_new_policy_is_not_remembered() -> None:
    """A policy replaced while the analysis paused: its spans were filtered under the
    old policy's floor, so they must not be taken for the new policy's."""
    detector = Counting()
    r = Redactor(detectors=[detector, EmailsAndCards()])
    steps = r.analysis("card 4111111111111111 please")
    next(steps)
    r.policy = Policy.from_mapping({"min_score": 0.95})
    r.analyze("another request, under the new policy")
    for _ in steps:
        pass
    assert r.redact("card 4111111111111111 please").spans == ()  # analysed again, new floor
    assert detector.calls == 3


def test_detectors_replaced_after_construction_are_stepped_through_too() -> None:
    r = redactor()
    r.detectors = (EmailsAndCards(),)
    assert list(r.analysis("write to ana@x.io")) == []  # one detector: nothing to pause between
    r.detectors = ()  # only what the analysis remembered is left to find
    assert [s.entity for s in r.analyze("write to ana@x.io")] == ["EMAIL"]
