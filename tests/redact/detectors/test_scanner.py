"""The shared hyperscan scan: offsets, word triggers, memo."""

from __future__ import annotations

from mageguard.redact.detectors.scanner import Scanner, Trigger, windows, word_trigger


def test_prefilter_hits_report_str_end_offsets_after_multibyte_text() -> None:
    scanner = Scanner([Trigger("t", "[0-9]{3}")])
    text = "ü日本 123"
    assert [e for _, e in scanner.scan(text).get("t")] == [len(text)]


def test_word_trigger_matches_whole_words_in_any_case() -> None:
    scanner = Scanner([word_trigger("w", ["cvv", "né le"])])
    text = "CVV 1, cvvx, Né le 2, néle"
    ends = [e for _, e in scanner.scan(text).get("w")]
    assert ends == [3, text.index("Né le") + 5]


def test_word_inside_a_longer_non_ascii_word_is_no_hit() -> None:
    scanner = Scanner([word_trigger("w", ["zip"])])
    assert scanner.scan("zipé").get("w") == []


def test_the_same_text_is_scanned_once_per_thread() -> None:
    scanner = Scanner([Trigger("t", "a")])
    text = "banana"
    assert scanner.scan(text) is scanner.scan(text)


def test_windows_merge_and_clip() -> None:
    assert windows([5, 8, 40], 4, 2, 41) == [(1, 10), (36, 41)]
