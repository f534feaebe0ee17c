"""The tenant dictionary: whole words, any case, longest term, and the same answers from
the Aho-Corasick automaton and the hyperscan database."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.errors import InputError
from mageguard.redact.dictionary import Dictionary, money
from mageguard.redact.text import fold
from tests.helpers.data import shared_data


def small() -> Dictionary:
    return Dictionary.from_rows(
        [
            ("SKU", "24-MB01"),
            ("PRODUCT", "Joust Duffle Bag"),
            ("PRODUCT", "Duffle Bag"),
            ("SUPPLIER", "Litware, Inc."),
            ("SUPPLIER", "LITWARE0001"),
            ("PRODUCT", "Bag"),
            ("SKU", "12"),
        ],
        costs=["34.00", "1,299.50"],
    )


def found(d: Dictionary, text: str) -> list[tuple[str, str]]:
    return [(s.entity, text[s.start : s.end]) for s in d.find(text)]


def test_terms_match_as_whole_words_in_any_case() -> None:
    d = small()
    assert found(d, "Is the JOUST duffle bag (24-mb01) from litware, inc. in stock?") == [
        ("PRODUCT", "JOUST duffle bag"),
        ("SKU", "24-mb01"),
        ("SUPPLIER", "litware, inc."),
    ]
    assert found(d, "X24-MB01Y and LITWARE00012 are other codes") == []


def test_the_longest_term_wins_where_terms_overlap() -> None:
    assert found(small(), "the Joust Duffle Bag") == [("PRODUCT", "Joust Duffle Bag")]


def test_short_and_purely_numeric_terms_are_not_kept() -> None:
    d = small()
    assert "12" not in {t.text for t in d.terms}
    assert "bag" in {t.text for t in d.terms}


def test_the_hyperscan_database_finds_what_the_automaton_finds(tmp_path: Path) -> None:
    d = small()
    text = "Order 24-MB01 x2 — Joust Duffle Bag, supplier LITWARE0001. İstanbul Duffle Bag"
    before = d.find(text)
    d.accelerate(tmp_path)
    assert d.find(text) == before
    cached = Dictionary.from_rows([(t.entity, t.text) for t in small().terms])
    cached.accelerate(tmp_path)  # loads the compiled database from the cache
    assert cached.find(text) == before
    assert list(tmp_path.glob("dict-*.hsdb"))


def test_offsets_survive_text_whose_lowercase_is_longer() -> None:
    d = small()
    text = "İİİ Joust Duffle Bag"
    assert found(d, text) == [("PRODUCT", "Joust Duffle Bag")]
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("34", "34.00"),
        ("1,299.50", "1299.50"),
        ("1.299,50", "1299.50"),
        ("12,5", "125.00"),
        ("47,87", "47.87"),
        ("0.00", None),
        ("n/a", None),
    ],
)
def test_money_values_are_normalised(raw: str, value: str | None) -> None:
    assert money(raw) == value


def test_a_csv_export_loads_skus_products_suppliers_and_costs() -> None:
    d = Dictionary.from_csv(shared_data() / "ecom_dictionary" / "proprietary_dictionary.csv")
    entities = {t.entity for t in d.terms}
    assert {"SKU", "PRODUCT", "SUPPLIER"} <= entities
    assert len(d) > 5000 and len(d.costs) > 100
    text = "Can we lower the price of the Adjustable Race (AR-5381) from Litware, Inc.?"
    assert [s.entity for s in d.find(text)] == ["PRODUCT", "SKU", "SUPPLIER"]


def test_a_csv_without_known_columns_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no known column"):
        Dictionary.from_csv(path)


def test_a_hundred_thousand_terms_build_in_seconds() -> None:
    import time

    rows = [("SKU", f"MG-{i:06d}-X") for i in range(100_000)]
    started = time.perf_counter()
    d = Dictionary.from_rows(rows)
    assert time.perf_counter() - started < 20  # generous: the bench measures the real figure
    assert [s.entity for s in d.find("ship MG-004242-X today")] == ["SKU"]


def test_known_cost_values_are_found_as_costs_wherever_they_appear() -> None:
    d = small()
    assert found(d, "the supplier quoted $34.00 and 1299.50 again") == [
        ("COST", "34.00"),
        ("COST", "1299.50"),
    ]
    assert found(d, "we sold 34 units") == []


def test_a_lone_surrogate_before_a_term_does_not_shift_its_offsets(tmp_path: Path) -> None:
    d = small()
    text = "x \udcff 24-MB01 and é \udcfe\udcfd Joust Duffle Bag"
    expected = [("SKU", "24-MB01"), ("PRODUCT", "Joust Duffle Bag")]
    assert found(d, text) == expected  # the automaton
    d.accelerate(tmp_path)
    assert found(d, text) == expected  # hyperscan, on UTF-8 bytes


def _longest_by_sorting(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """What the overlap rule means: in order of start, longest first at one start, a span
    overlapping the last kept one replaces it when longer and ending later."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans, key=lambda h: (h[0], h[0] - h[1])):
        if out and s < out[-1][1]:
            if e - s > out[-1][1] - out[-1][0] and e > out[-1][1]:
                out[-1] = (s, e)
            continue
        out.append((s, e))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["bag", "duffle", "duffle bag", "joust duffle", "joust"]), max_size=8)
)
def test_overlapping_terms_resolve_as_the_overlap_rule_says(words: list[str]) -> None:
    d = Dictionary.from_rows(
        [("PRODUCT", t) for t in ["Joust Duffle Bag", "Duffle Bag", "Joust Duffle", "Joust"]]
        + [("PRODUCT", "Bag"), ("PRODUCT", "Duffle")]
    )
    text = " ".join(words)
    folded = fold(text)
    hits = [
        (i, i + len(t.text))
        for t in d.terms
        for i in range(len(folded))
        if folded.startswith(t.text, i)
        and (i == 0 or not folded[i - 1].isalnum())
        and (i + len(t.text) == len(folded) or not folded[i + len(t.text)].isalnum())
    ]
    assert [(s.start, s.end) for s in d.find(text)] == _longest_by_sorting(hits)


def test_a_name_with_odd_spacing_is_found_as_written_and_as_normalised() -> None:
    """45 of the shared catalogue's 2,820 product names hold a double space; a module
    copies them into prompts as they are."""
    d = Dictionary.from_rows([("PRODUCT", "Frankie  Sweatshirt-XS-Green")])
    for text in (
        "Is the Frankie  Sweatshirt-XS-Green warm?",
        "Is the Frankie Sweatshirt-XS-Green warm?",
    ):
        (span,) = d.find(text)
        assert text[span.start : span.end].startswith("Frankie") and span.entity == "PRODUCT"
