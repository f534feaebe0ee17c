"""The registry, and hostile input: invalid UTF-8, huge and pathological texts, random
strings. Detectors never crash, stay linear, and return spans inside the text."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mageguard.catalog import load_catalog
from mageguard.redact.detectors.builtin import builtin_detectors
from mageguard.redact.spans import Span

OURS = {
    "EMAIL", "PHONE", "PERSON", "ADDRESS", "ZIP_CODE", "DATE_OF_BIRTH", "IP_ADDRESS", "US_SSN",
    "NATIONAL_ID", "VAT_ID", "CREDIT_CARD", "CVV", "CARD_EXPIRY", "IBAN", "SECRET",
}  # fmt: skip
SAMPLE = (
    "Hi, I'm Anna Kowalska (born 28/02/1990), mail anna@example.com, phone +44 20 7946 0018, "
    "card 4111 1111 1111 1111 exp 12/27 CVV 123, IBAN DE89 3704 0044 0532 0130 00, ship to "
    "Hauptstraße 5, 10115 Berlin. Order #000113266: 2x Joust Duffle Bag 24-MB01 at $34.00.\n"
)


def all_spans(text: str) -> list[Span]:
    return [s for d in builtin_detectors() for s in d.detect(text)]


def check_spans(text: str) -> None:
    for d in builtin_detectors():
        spans = list(d.detect(text))
        assert spans == sorted(spans, key=lambda s: s.start) or spans == sorted(spans)
        for s in spans:
            assert 0 <= s.start < s.end <= len(text)
            assert s.entity in d.entities


def test_builtin_detectors_cover_exactly_our_entities() -> None:
    found = set().union(*(d.entities for d in builtin_detectors()))
    assert found == OURS
    assert {e.id for e in load_catalog().entities} >= OURS
    assert [d.name for d in builtin_detectors()] == ["patterns", "phone", "address", "person"]


def test_every_trigger_compiles_into_hyperscan() -> None:
    scanner = builtin_detectors()[0].scanner  # type: ignore[attr-defined]
    scanner.scan("x")
    assert scanner.fallback_keys == ()


def test_sample_prompt_finds_each_kind() -> None:
    entities = {s.entity for s in all_spans(SAMPLE)}
    assert {
        "PERSON",
        "DATE_OF_BIRTH",
        "EMAIL",
        "PHONE",
        "CREDIT_CARD",
        "CARD_EXPIRY",
        "CVV",
        "IBAN",
        "ADDRESS",
    } <= entities


def test_offsets_are_str_offsets_after_non_ascii_text() -> None:
    text = "Grüße aus Köln — 日本語 — mail jane@example.com"
    (span,) = [s for s in all_spans(text) if s.entity == "EMAIL"]
    assert text[span.start : span.end] == "jane@example.com"


def test_invalid_utf8_decoded_with_surrogateescape_is_safe() -> None:
    raw = b"\xff\xfe caf\xc3\xa9 \xed\xa0\x80 mail jane@example.com \xc3"
    text = raw.decode("utf-8", "surrogateescape")
    check_spans(text)
    (span,) = [s for s in all_spans(text) if s.entity == "EMAIL"]
    assert text[span.start : span.end] == "jane@example.com"


@pytest.mark.parametrize(
    "text",
    [
        "1" * 100_000,
        "@" * 100_000,
        "-" * 100_000,
        " " * 100_000,
        "1 " * 50_000,
        "a@" * 50_000,
        "1-" * 50_000,
        "4111 " * 20_000,
        "Mr " * 30_000,
        "Anna " * 20_000,
        "12 Main Street " * 7_000,
        "sk-" * 30_000,
        "eyJ" * 30_000,
        "-----BEGIN PRIVATE KEY-----" + "A" * 100_000,
        "born " + "1/" * 50_000,
        "card " * 20_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_input_finishes_in_linear_time(text: str) -> None:
    start = time.process_time()
    check_spans(text)
    assert time.process_time() - start < 20  # generous: a few hundred ms when linear


@pytest.mark.slow
def test_ten_megabytes_finish() -> None:
    text = (SAMPLE + "The sporty Joust Duffle Bag can't be beat, not in the gym. " * 20) * (
        10_000_000 // (len(SAMPLE) + 1200)
    )
    start = time.process_time()
    spans = all_spans(text)
    assert time.process_time() - start < 120
    assert sum(s.entity == "EMAIL" for s in spans) == text.count("anna@example.com")


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PII_ALPHABET = "0123456789 -+@.()/:#,\nabcxyzABCXYZ_éÜ"


@SETTINGS
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    check_spans(text)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                "jane@example.com",
                "4111 1111 1111 1111",
                "+44 20 7946 0018",
                "DE89 3704 0044 0532 0130 00",
                "born ",
                "12/27",
                "CVV ",
                "Mr ",
                "Anna Kowalska",
                "12 Main Street",
                "Hauptstraße 5",
                "sk-",
                "\ud800",
                "ü",
                " ",
                "\n",
                "-",
                "1",
            ]
        )
        | st.text(alphabet=PII_ALPHABET, max_size=12),
        max_size=30,
    ).map("".join)
)
def test_pii_shaped_text_gives_spans_inside_the_text(text: str) -> None:
    check_spans(text)
