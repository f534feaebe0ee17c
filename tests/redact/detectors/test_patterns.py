"""Every pattern of redact/data/patterns.yaml against its fixtures, exact spans."""

from __future__ import annotations

from typing import Any

import pytest

from mageguard.redact.detectors.base import Detector
from mageguard.redact.detectors.builtin import builtin_detectors
from mageguard.redact.detectors.patterns import PatternDetector, load_specs
from tests.redact.detectors.fixture_cases import cases, expected_spans, found_spans, load

CASES = cases("patterns")


@pytest.fixture(scope="module")
def detector() -> PatternDetector:
    found = [d for d in builtin_detectors() if isinstance(d, PatternDetector)]
    return found[0]


@pytest.mark.parametrize(
    ("pattern", "case"), CASES, ids=[f"{k}:{c['text'][:30]}" for k, c in CASES]
)
def test_pattern_fixture_spans_are_exact(
    detector: Detector, pattern: str, case: dict[str, Any]
) -> None:
    assert found_spans(detector, case["text"]) == expected_spans(case)


def test_every_pattern_has_a_positive_and_a_negative_fixture() -> None:
    fixtures = load("patterns")
    ids = {s.id.split(":", 1)[0] for s in load_specs()}
    assert set(fixtures) == ids
    for pid, items in fixtures.items():
        assert any(c["expect"] for c in items), f"{pid}: no positive fixture"
        assert any(not c["expect"] for c in items), f"{pid}: no negative fixture"


def test_card_number_without_valid_luhn_is_kept(detector: Detector) -> None:
    assert found_spans(detector, "card 4111 1111 1111 1112") == []


def test_iban_swallowing_the_next_word_is_trimmed_to_its_valid_part(detector: Detector) -> None:
    text = "BE32 1234 5678 9002 CODE"
    assert found_spans(detector, text) == [("IBAN", 0, 19)]


def test_context_raises_the_score(detector: Detector) -> None:
    bare = detector.detect("ref 536-22-8726")
    cued = detector.detect("SSN 536-22-8726")
    assert [s.score for s in bare] == [0.75]
    assert [s.score for s in cued] == [0.95]


def test_context_words_match_whole_words_only(detector: Detector) -> None:
    # "exp" inside "expensive" is no expiry cue
    assert found_spans(detector, "expensive 12/27 item") == []


def test_spans_name_their_pattern(detector: Detector) -> None:
    (span,) = detector.detect("mail a@example.com")
    assert span.detector == "patterns:email"


def test_ai_keys_come_from_the_catalog() -> None:
    from mageguard.catalog import load_catalog

    ids = {s.id for s in load_specs() if s.id.startswith("ai_provider_key:")}
    assert ids == {f"ai_provider_key:{k.id}" for k in load_catalog().key_patterns}


def test_context_words_that_only_raise_a_score_are_lazy() -> None:
    # they would cost every prompt a scan of ~15 word lists; only candidates need them
    for spec in load_specs():
        if spec.context is None:
            continue
        needed_to_find = spec.trigger is None or spec.context_required
        assert spec.context.lazy is not needed_to_find, spec.id


def test_requires_holds_for_every_positive_fixture() -> None:
    fixtures = load("patterns")
    for spec in load_specs():
        if spec.requires is None:
            continue
        for case in fixtures[spec.id]:
            for _, value in case["expect"]:
                assert spec.requires.search(str(value)), (spec.id, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x" * 400 + " mail jane@example.com", "jane@example.com"),
        ("<" + "a" * 64 + "@example.com>", "a" * 64 + "@example.com"),
        ("a@example.com,b@example.org", "a@example.com"),
        ("a@example.com,b@example.org", "b@example.org"),
        ("@@ @x @ jane@example.com", "jane@example.com"),
    ],
)
def test_emails_around_their_at_sign(detector: Detector, text: str, value: str) -> None:
    start = text.index(value)
    assert ("EMAIL", start, start + len(value)) in found_spans(detector, text)


def test_a_local_part_longer_than_64_is_no_email(detector: Detector) -> None:
    assert found_spans(detector, "a" * 65 + "@example.com") == []


@pytest.mark.parametrize(
    "value",
    [
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1ff:fe23:4567:890a",
        "2001:db8::",
        "2001:db8::8a2e:370:7334",
    ],
)
def test_ipv6_forms(detector: Detector, value: str) -> None:
    assert found_spans(detector, f"from {value} today") == [("IP_ADDRESS", 5, 5 + len(value))]


def test_partly_omocodic_codice_fiscale_is_found(detector: Detector) -> None:
    from stdnum.it import codicefiscale

    # day and municipality digits replaced by letters (5 of the 7); the birth year stays
    body = "RSSMRA85T" + "MN" + "A" + "RST"
    value = body + codicefiscale.calc_check_digit(body)
    assert codicefiscale.is_valid(value)
    assert found_spans(detector, f"CF {value}.") == [("NATIONAL_ID", 3, 3 + len(value))]


def test_vat_ids_after_country_code_look_alikes(detector: Detector) -> None:
    text = "ITEMS DESIGN: CHE-107.787.577 MWST and DE136695976"
    swiss, german = text.index("CHE"), text.index("DE1")
    assert found_spans(detector, text) == [
        ("VAT_ID", swiss, swiss + len("CHE-107.787.577 MWST")),
        ("VAT_ID", german, german + len("DE136695976")),
    ]


def test_an_iban_or_vat_id_after_an_underscore_is_found(detector: Detector) -> None:
    # the regexes allow '_' before the value; their prefilters must hit there too, since
    # a window is searched only up to its last hit
    text = "ref_GB82WEST12345698765432 and vat_DE136695976"
    assert found_spans(detector, text) == [("IBAN", 4, 26), ("VAT_ID", 35, 46)]
