from __future__ import annotations

import json
from dataclasses import fields

from mageguard.scan.finding import Finding
from mageguard.scan.formats import OutputFormat, render
from mageguard.scan.formats.json_format import finding_from_dict
from mageguard.scan.result import ScanResult


def _doc(result: ScanResult) -> dict:  # type: ignore[type-arg]
    return json.loads(render(result, OutputFormat.JSON))  # type: ignore[no-any-return]


def test_json_findings_round_trip_to_equal_findings(result: ScanResult) -> None:
    parsed = [finding_from_dict(f) for f in _doc(result)["findings"]]
    assert sorted(parsed, key=lambda f: f.fingerprint) == sorted(
        result.findings, key=lambda f: f.fingerprint
    )


def test_json_reparsed_and_dumped_again_is_byte_identical(result: ScanResult) -> None:
    text = render(result, OutputFormat.JSON)
    assert json.dumps(json.loads(text), indent=2) + "\n" == text


def test_json_has_the_documented_top_level_keys_in_order(result: ScanResult) -> None:
    assert list(_doc(result)) == [
        "version",
        "tool",
        "root",
        "is_magento",
        "summary",
        "findings",
        "notices",
        "tenants",
        "stats",
    ]
    assert _doc(result)["version"] == 1
    assert _doc(result)["tool"] == {"name": "mageguard", "version": "0.1.0"}


def test_json_finding_carries_every_finding_field(result: ScanResult) -> None:
    finding = _doc(result)["findings"][0]
    assert list(finding) == [f.name for f in fields(Finding)]
    assert list(finding["location"]) == ["path", "line", "column", "end_line", "end_column"]


def test_json_enums_are_lowercase_strings(result: ScanResult) -> None:
    severities = {f["severity"] for f in _doc(result)["findings"]}
    confidences = {f["confidence"] for f in _doc(result)["findings"]}
    assert severities == {"critical", "high", "medium", "info"}
    assert confidences == {"high", "medium", "low"}


def test_json_findings_are_sorted_by_severity_then_path(result: ScanResult) -> None:
    findings = _doc(result)["findings"]
    assert [(f["severity"], f["location"]["path"]) for f in findings] == [
        ("critical", "app/code/Acme/Fraud/Observer/Score.php"),
        ("high", "app/code/Acme/Fraud/etc/config.xml"),
        ("high", "app/code/Acme/Search/Model/Indexer.php"),
        ("high", "db://core_config_data/42"),
        ("medium", "app/code/Acme/Chat/Model/Assistant.php"),
        ("info", "composer.lock"),
    ]


def test_json_summary_counts_by_severity_and_surface(result: ScanResult) -> None:
    summary = _doc(result)["summary"]
    assert summary == {
        "findings": 6,
        "by_severity": {"critical": 1, "high": 3, "medium": 1, "low": 0, "info": 1},
        "by_surface": {
            "checkout_payment": 2,
            "multi_tenant_models": 1,
            "logging": 1,
            "search_recommendations": 1,
            "content_generation": 1,
        },
        "audit": 1,
        "suppressed": 2,
        "baselined": 1,
        "routed": 0,
        "notices": 1,
    }


def test_json_lists_notices_tenants_and_stats(result: ScanResult) -> None:
    doc = _doc(result)
    assert doc["notices"] == [
        {
            "kind": "parse_error",
            "message": result.notices[0].message,
            "path": "app/code/Acme/Legacy/Model/Broken.php",
            "line": 17,
        }
    ]
    assert [t["code"] for t in doc["tenants"]] == ["base", "b2b"]
    assert doc["stats"]["files_seen"] == 1234


def test_json_output_is_ascii_so_any_terminal_encoding_can_carry_it(result: ScanResult) -> None:
    from dataclasses import replace

    finding = replace(result.findings[0], evidence="prix \u20ac \udcff")
    text = render(replace(result, findings=(finding,)), OutputFormat.JSON)
    assert text.isascii()
    assert _doc(replace(result, findings=(finding,)))["findings"][0]["evidence"] == (
        "prix \u20ac \udcff"
    )
