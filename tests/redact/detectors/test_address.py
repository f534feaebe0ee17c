"""Postal addresses in eight languages; product names with numbers left alone."""

from __future__ import annotations

from typing import Any

import pytest

from mageguard.redact.detectors.address import AddressDetector
from tests.redact.detectors.fixture_cases import cases, expected_spans, found_spans

CASES = cases("address")


@pytest.fixture(scope="module")
def detector() -> AddressDetector:
    return AddressDetector()


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}:{c['text'][:30]}" for k, c in CASES])
def test_address_fixture_spans_are_exact(
    detector: AddressDetector, kind: str, case: dict[str, Any]
) -> None:
    assert found_spans(detector, case["text"]) == expected_spans(case)
