from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from mageguard.scan.formats import OutputFormat, render
from mageguard.scan.result import ScanResult


def _html(result: ScanResult) -> str:
    return render(result, OutputFormat.HTML)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_html_page_has_no_external_references(result: ScanResult) -> None:
    text = _html(result)
    assert 'src="http' not in text
    assert "<link" not in text
    assert "@import" not in text and "url(" not in text
    for tag, attrs in _tags(text):
        assert "src" not in attrs, tag
        if tag == "a":
            # Links to rule references are fine; assets are not.
            assert attrs["href"] is not None


def test_html_forbids_fetching_anything_with_a_content_security_policy(result: ScanResult) -> None:
    assert "default-src &#x27;none&#x27;" in _html(result)


def test_html_escapes_a_script_tag_in_evidence(result: ScanResult) -> None:
    evil = replace(
        result.findings[0],
        evidence='"><script>alert(1)</script>',
        message="<img src=x onerror=alert(2)>",
        rule_id="x<y",
    )
    text = _html(replace(result, findings=(evil,)))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text
    assert "<script>alert" not in text
    assert "<img" not in text
    # The page's own filter script is the only script element.
    assert [t for t, _ in _tags(text)].count("script") == 1


def test_html_groups_findings_by_surface_in_risk_order(result: ScanResult) -> None:
    ids = re.findall(r'<section class="surface" id="surface-([a-z_]+)">', _html(result))
    assert ids == [
        "checkout_payment",
        "multi_tenant_models",
        "logging",
        "search_recommendations",
        "content_generation",
    ]


def test_html_rows_carry_their_severity_for_the_filter(result: ScanResult) -> None:
    severities = re.findall(r'<tr class="finding" data-severity="(\d)">', _html(result))
    assert severities == ["4", "3", "3", "2", "0", "3"]


def test_html_reference_that_is_not_a_web_link_is_not_an_anchor(result: ScanResult) -> None:
    rule = replace(result.rules[0], references=("javascript:alert(1)",))
    text = _html(replace(result, rules=(rule, *result.rules[1:])))
    assert 'href="javascript' not in text
    assert "javascript:alert(1)" in text
