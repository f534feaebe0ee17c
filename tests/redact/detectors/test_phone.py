"""Phone numbers confirmed by libphonenumber; SKUs, order numbers, dates, cards and IBAN
fragments left alone."""

from __future__ import annotations

from typing import Any

import pytest

from mageguard.redact.detectors.phone import VALID, PhoneDetector, load_config, verdict
from tests.redact.detectors.fixture_cases import cases, expected_spans, found_spans

CASES = cases("phone")


@pytest.fixture(scope="module")
def detector() -> PhoneDetector:
    return PhoneDetector()


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}:{c['text'][:30]}" for k, c in CASES])
def test_phone_fixture_spans_are_exact(
    detector: PhoneDetector, kind: str, case: dict[str, Any]
) -> None:
    assert found_spans(detector, case["text"]) == expected_spans(case)


def test_leading_plus_decides_the_region() -> None:
    # valid as a UK number only: without the + the national regions are tried instead
    assert verdict("+44 20 7946 0018", load_config().regions) == VALID


def test_phone_with_cue_scores_higher_than_without(detector: PhoneDetector) -> None:
    (cued,) = detector.detect("phone 202-555-0136")
    (bare,) = detector.detect("see 202-555-0136")
    assert cued.score > bare.score
