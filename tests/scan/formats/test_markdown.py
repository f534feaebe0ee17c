from __future__ import annotations

from dataclasses import replace

from mageguard.scan.formats import OutputFormat, render
from mageguard.scan.formats.markdown import md_code, md_text
from mageguard.scan.result import ScanResult


def _md(result: ScanResult) -> str:
    return render(result, OutputFormat.MARKDOWN)


def test_markdown_summary_table_counts_findings_per_surface_and_severity(
    result: ScanResult,
) -> None:
    text = _md(result)
    assert "| Surface | Critical | High | Medium | Low | Info | Total |" in text
    assert "| Checkout and payment | 1 | 1 | 0 | 0 | 0 | 2 |" in text
    assert "| **Total** | **1** | **3** | **1** | **0** | **1** | **6** |" in text


def test_markdown_sections_follow_the_risk_order(result: ScanResult) -> None:
    headings = [line for line in _md(result).splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Checkout and payment",
        "## Multi-tenant models and embeddings",
        "## Logging and monitoring",
        "## Search and recommendations",
        "## Content generation",
        "## Notices",
        "## Tenants",
    ]


def test_markdown_gives_each_rules_remediation_once_per_section(result: ScanResult) -> None:
    twice = replace(
        result.findings[2],
        fingerprint="other",
        location=replace(result.findings[2].location, line=99),
    )
    text = _md(replace(result, findings=(*result.findings, twice)))
    assert text.count("- `checkout-data-to-ai` (Checkout or payment data") == 1
    assert text.count("Observer/Score.php:") == 2


def test_markdown_escapes_html_and_table_pipes_from_scanned_code(result: ScanResult) -> None:
    finding = replace(
        result.findings[0],
        message="<img src=x onerror=alert(1)> | *x*",
        evidence="a | `b` <script>",
    )
    text = _md(replace(result, findings=(finding,)))
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\| \\*x\\*" in text
    # Inside a code span `<` is literal text, never markup; only the pipe needs escaping.
    assert "| ``a \\| `b` <script>`` |" in text
    assert text.count("<script>") == 1


def test_md_code_fences_backticks_with_a_longer_run() -> None:
    assert md_code("plain") == "`plain`"
    assert md_code("a `b` c") == "``a `b` c``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("") == ""


def test_md_text_turns_newlines_into_line_breaks_and_escapes_links() -> None:
    assert md_text("[a](javascript:x)\nnext") == "\\[a\\](javascript:x)<br>next"
