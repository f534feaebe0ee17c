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
