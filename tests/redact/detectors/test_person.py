"""Person names from cues and the name lexicon; Title Case product names left alone."""

from __future__ import annotations

from typing import Any

import pytest

from mageguard.redact.detectors.person import PersonDetector, lexicon
from tests.redact.detectors.fixture_cases import cases, expected_spans, found_spans

CASES = cases("person")


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector()


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}:{c['text'][:30]}" for k, c in CASES])
def test_person_fixture_spans_are_exact(
    detector: PersonDetector, kind: str, case: dict[str, Any]
) -> None:
    assert found_spans(detector, case["text"]) == expected_spans(case)


def test_honorific_is_not_part_of_the_name(detector: PersonDetector) -> None:
    assert found_spans(detector, "Mrs Jane Doe") == [("PERSON", 4, 12)]


def test_lexicon_holds_given_and_family_names() -> None:
    lex = lexicon()
    assert "Anna" in lex.given and "Kowalska" in lex.family
    assert len(lex.given) > 3000 and len(lex.family) > 5000
