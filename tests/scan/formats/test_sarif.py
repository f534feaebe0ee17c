from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mageguard.scan.formats import OutputFormat, render
from mageguard.scan.result import Notice, ScanResult

SCHEMA = Path(__file__).parents[2] / "fixtures" / "sarif-schema-2.1.0.json"


def _log(result: ScanResult) -> dict[str, Any]:
    return json.loads(render(result, OutputFormat.SARIF))  # type: ignore[no-any-return]


def _validate(log: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_output_validates_against_the_official_2_1_0_schema(result: ScanResult) -> None:
    _validate(_log(result))


def test_sarif_without_findings_or_notices_validates_too() -> None:
    _validate(_log(ScanResult(root="relative/root", findings=(), rules=())))


def test_the_schema_fixture_is_the_official_oasis_schema() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    # The schema really rejects what it must: a guard against a hollowed-out fixture.
    with pytest.raises(AssertionError):
        _validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})


def test_every_sarif_result_has_a_mageguard_partial_fingerprint(result: ScanResult) -> None:
    results = _log(result)["runs"][0]["results"]
    assert len(results) == len(result.findings)
    assert sorted(r["partialFingerprints"]["mageguardFingerprint/v1"] for r in results) == (
        sorted(f.fingerprint for f in result.findings)
    )


def test_every_sarif_result_has_a_physical_location_as_github_requires(result: ScanResult) -> None:
    for r in _log(result)["runs"][0]["results"]:
        assert len(r["locations"]) == 1
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        # GitHub rejects the whole upload for an absolute URI of another scheme than file:.
        assert "://" not in uri and not uri.startswith("/")


def test_database_finding_is_a_relative_row_uri_without_region_plus_its_db_name(
    result: ScanResult,
) -> None:
    (db,) = [r for r in _log(result)["runs"][0]["results"] if r["ruleId"] == "db-ai-key-plaintext"]
    location = db["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "core_config_data/42", "uriBaseId": "MAGENTO_DB"}
    }
    assert location["logicalLocations"] == [
        {"fullyQualifiedName": "db://core_config_data/42", "kind": "resource"}
    ]


def test_file_finding_has_a_srcroot_relative_uri_and_its_region(result: ScanResult) -> None:
    (r,) = [r for r in _log(result)["runs"][0]["results"] if r["ruleId"] == "checkout-data-to-ai"]
    assert r["locations"][0]["physicalLocation"] == {
        "artifactLocation": {
            "uri": "app/code/Acme/Fraud/Observer/Score.php",
            "uriBaseId": "%SRCROOT%",
        },
        "region": {"startLine": 41, "startColumn": 9, "endLine": 41, "endColumn": 32},
    }
    assert _log(result)["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (
        "file:///srv/magento/"
    )


def test_paths_with_uri_special_characters_are_percent_encoded(result: ScanResult) -> None:
    finding = replace(
        result.findings[0], location=replace(result.findings[0].location, path="a b/c#1:x%.php")
    )
    log = _log(replace(result, findings=(finding,)))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "a%20b/c%231%3Ax%25.php"
    _validate(log)


def test_sarif_levels_and_security_severity_follow_the_severity(result: ScanResult) -> None:
    run = _log(result)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["checkout-data-to-ai"]["defaultConfiguration"] == {"level": "error"}
    assert rules["checkout-data-to-ai"]["properties"] == {
        "tags": ["external_ai_call", "security"],
        "precision": "high",
        "security-severity": "9.5",
    }
    assert rules["prompt-logged-unredacted"]["defaultConfiguration"] == {"level": "warning"}
    assert rules["prompt-logged-unredacted"]["properties"]["security-severity"] == "5.5"
    assert rules["ai-package-installed"]["defaultConfiguration"] == {"level": "note"}
    assert rules["ai-package-installed"]["properties"]["precision"] == "low"
    assert {r["ruleId"]: r["level"] for r in run["results"]} == {
        "checkout-data-to-ai": "error",
        "hardcoded-ai-key": "error",
        "shared-vector-index": "error",
        "db-ai-key-plaintext": "error",
        "prompt-logged-unredacted": "warning",
        "ai-package-installed": "note",
    }


def test_rule_index_points_at_the_rule_with_that_id(result: ScanResult) -> None:
    run = _log(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_a_finding_of_a_rule_missing_from_the_rule_set_still_gets_a_descriptor(
    result: ScanResult,
) -> None:
    orphan = replace(result.findings[0], rule_id="custom-rule")
    log = _log(replace(result, findings=(orphan,), rules=()))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["custom-rule"]
    assert log["runs"][0]["results"][0]["ruleIndex"] == 0
    _validate(log)


def test_result_properties_carry_surface_pattern_categories_provider_and_tenant(
    result: ScanResult,
) -> None:
    by_rule = {r["ruleId"]: r["properties"] for r in _log(result)["runs"][0]["results"]}
    assert by_rule["shared-vector-index"] == {
        "surface": "multi_tenant_models",
        "pattern": "shared_embeddings",
        "confidence": "high",
        "dataCategories": ["catalog_content", "pricing"],
        "controls": [],
        "evidence": "$pinecone->upsert(['namespace' => 'catalog'])",
        "provider": "pinecone",
        "host": "acme.svc.pinecone.io",
        "tenant": "base",
        "module": "Acme_Search",
    }
    assert by_rule["ai-package-installed"]["audit"] is True


def test_notices_become_tool_execution_notifications(result: ScanResult) -> None:
    db_notice = Notice(
        kind="db_unreachable", message="connection refused", path="db://core_config_data"
    )
    log = _log(replace(result, notices=(*result.notices, db_notice)))
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    first, second = invocation["toolExecutionNotifications"]
    assert first["descriptor"] == {"id": "parse_error"}
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 17}
    assert second["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "core_config_data",
        "uriBaseId": "MAGENTO_DB",
    }
    _validate(log)
