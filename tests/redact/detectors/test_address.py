"""Postal addresses in eight languages; product names with numbers left alone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.redact.detectors import address
from mageguard.redact.detectors import data as redact_data
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


# ------------------------------------------------- word lists as tries, same matches

DOC = redact_data.load("address")
FLAT = address.build_config(DOC, tries=False)
LISTED = sorted(
    {
        w
        for key in ("suffix_types", "prefix_types", "compound_types")
        for words in DOC[key].values()
        for w in words
    }
    | set(DOC["po_box"])
    | set(DOC["particles"])
    | set(DOC["units"])
)


def every_match(config: address.AddressConfig, text: str) -> list[list[tuple[int, int]]]:
    return [[m.span() for m in g.finditer(text)] for gs in config.grammars.values() for g in gs]


def test_the_grammars_with_tries_match_exactly_what_flat_word_lists_match_on_fixtures() -> None:
    for _, case in CASES:
        assert every_match(address.load_config(), case["text"]) == every_match(FLAT, case["text"])


PIECE = st.one_of(
    st.sampled_from(LISTED),
    st.sampled_from(LISTED).map(str.upper),
    st.sampled_from(LISTED).map(str.title),
    st.sampled_from(LISTED).map(lambda w: w[:-1] if len(w) > 2 else w),  # near misses
    st.integers(1, 99999).map(str),
    st.sampled_from(["Main", "Baker", "Roma", "Długa", "Élysée", "Haupt", "Kerk", "Oak"]),
    st.sampled_from(["SW1A 1AA", "75008", "00-950", "1012 AB", "10115", "NY", "Paris"]),
    st.sampled_from([" ", "  ", ", ", ". ", "\n", "-", "/", "#", "No. ", "nº "]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECE, min_size=1, max_size=14).map(" ".join))
def test_the_grammars_with_tries_match_exactly_what_flat_word_lists_match(text: str) -> None:
    assert every_match(address.load_config(), text) == every_match(FLAT, text)
