"""Amounts are COST or PRICE by the nearest pricing word, or by being a known cost."""

from __future__ import annotations

import time

import pytest

from mageguard.redact.detectors.amounts import AmountDetector


def found(text: str) -> list[tuple[str, str]]:
    return [(s.entity, text[s.start : s.end]) for s in AmountDetector().detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Our unit cost is $12.50 and we sell at $29.00",
            [("COST", "$12.50"), ("PRICE", "$29.00")],
        ),
        ("a 42% margin", [("COST", "42%")]),
        ("Einkaufspreis 12,40 €, Preis 29,90 €", [("COST", "12,40 €"), ("PRICE", "29,90 €")]),
        ("list price: 1.299,00 €", [("PRICE", "1.299,00 €")]),
        ("wholesale USD 1,250.00 per pallet", [("COST", "USD 1,250.00")]),
    ],
)
def test_amounts_next_to_pricing_words(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 we sold 1,234 units",
        "order #000113266 shipped",
        "SKU AR-5381 in size 42",
        "call 555 0100",
        "version 2.4.7 of Magento",
        "see page 12 of the price list at 10:30",
    ],
)
def test_numbers_that_are_not_prices_are_kept(text: str) -> None:
    assert found(text) == []


def test_an_amount_far_from_any_pricing_word_is_kept() -> None:
    text = "The price list is attached." + " filler" * 20 + " we shipped 42 boxes"
    assert found(text) == []


def test_pathological_input_finishes_in_linear_time() -> None:
    detector = AmountDetector()
    for text in ("1," * 200_000, "9" * 500_000, "cost " + "1.000." * 100_000, "$ " * 200_000):
        started = time.perf_counter()
        list(detector.detect(text))
        assert time.perf_counter() - started < 5


def test_a_lone_surrogate_before_a_pricing_word_does_not_shift_offsets() -> None:
    assert found("\udcff é our unit cost is $12.50") == [("COST", "$12.50")]
