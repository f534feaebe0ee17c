"""The shared hyperscan scan: offsets, word triggers, memo."""

from __future__ import annotations

from typing import Any

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


def _counting(scanner: Scanner) -> list[int]:
    """How many databases the scanner has run, appended to as it runs them."""
    runs: list[int] = []
    run = scanner._run

    def counted(*args: Any) -> Any:
        runs.append(1)
        return run(*args)

    scanner._run = counted  # type: ignore[method-assign,assignment]
    return runs


def test_lazy_triggers_are_scanned_once_and_only_when_asked() -> None:
    scanner = Scanner([Trigger("eager", "[0-9]{3}"), word_trigger("lazy", ["card"], lazy=True)])
    runs = _counting(scanner)
    hits = scanner.scan("card 123")
    assert len(runs) == 1
    assert list(hits) == ["eager"] and "lazy" not in hits
    assert hits.get("eager") == [(-1, 8)]
    assert len(runs) == 1
    assert hits.get("lazy") == [(0, 4)]
    assert hits.get("lazy") == [(0, 4)]
    assert len(runs) == 2


def test_an_eager_key_without_hits_runs_no_lazy_scan() -> None:
    scanner = Scanner([Trigger("eager", "[0-9]{3}"), word_trigger("lazy", ["card"], lazy=True)])
    runs = _counting(scanner)
    hits = scanner.scan("card")
    assert hits.get("eager") == [] and hits.get("unknown") == []
    assert len(runs) == 1


def test_a_key_given_eagerly_and_lazily_is_eager() -> None:
    words = ["card"]
    scanner = Scanner([word_trigger("w", words, lazy=True), word_trigger("w", words)])
    assert "w" in scanner.scan("card")
    assert [t.lazy for t in scanner.triggers] == [False]


def test_lazy_hits_map_offsets_after_multibyte_text() -> None:
    scanner = Scanner([Trigger("eager", "x"), word_trigger("lazy", ["card"], lazy=True)])
    text = "日本 card"
    assert [e for _, e in scanner.scan(text).get("lazy")] == [len(text)]
