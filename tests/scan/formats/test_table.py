from __future__ import annotations

from mageguard.scan.formats import FormatOptions, OutputFormat, render
from mageguard.scan.result import ScanResult

SURFACE_TITLES = [
    "Checkout and payment",
    "Multi-tenant models and embeddings",
    "Logging and monitoring",
    "Search and recommendations",
    "Content generation",
]


def _table(result: ScanResult, **options: object) -> str:
    return render(result, OutputFormat.TABLE, FormatOptions(**options))  # type: ignore[arg-type]


def test_table_lists_surfaces_in_the_catalogs_risk_order(result: ScanResult) -> None:
    text = _table(result)
    positions = [text.index(title) for title in SURFACE_TITLES]
    assert positions == sorted(positions)


def test_table_lists_findings_of_a_surface_by_severity_then_path(result: ScanResult) -> None:
    text = _table(result, width=200)
    checkout = text[text.index("Checkout and payment") : text.index("Multi-tenant models")]
    assert checkout.index("CRITICAL") < checkout.index("HIGH")
    assert checkout.index("Observer/Score.php:41") < checkout.index("etc/config.xml:12")


def test_table_shows_database_findings_by_row_without_a_line(result: ScanResult) -> None:
    text = _table(result, width=200)
    assert "db://core_config_data/42 " in text
    assert "db://core_config_data/42:" not in text


def test_table_summary_counts_severities_files_time_suppressed_and_baselined(
    result: ScanResult,
) -> None:
    text = _table(result, width=200)
    assert (
        "6 findings (1 critical, 3 high, 1 medium, 0 low, 1 info) · 1,234 files scanned "
        "in 1.25 s · 2 suppressed · 1 baselined · 1 notice"
    ) in text


def test_table_lists_notices_after_the_summary(result: ScanResult) -> None:
    text = _table(result, width=200)
    assert text.index("Notices (1):") > text.index("6 findings")
    assert "parse_error  app/code/Acme/Legacy/Model/Broken.php:17  tree-sitter" in text


def test_table_without_colour_has_no_escape_codes_and_with_colour_has_them(
    result: ScanResult,
) -> None:
    assert "\x1b[" not in _table(result, color=False)
    assert "\x1b[" in _table(result, color=True)


def test_table_keeps_to_the_requested_width(result: ScanResult) -> None:
    for width in (80, 120):
        lines = _table(result, width=width).splitlines()
        assert max(len(line) for line in lines) <= width


def test_table_prints_markup_in_evidence_and_messages_literally(result: ScanResult) -> None:
    from dataclasses import replace

    finding = replace(result.findings[0], message="[bold red]not markup[/]")
    text = _table(replace(result, findings=(finding,)), width=200)
    assert "[bold red]not markup[/]" in text
