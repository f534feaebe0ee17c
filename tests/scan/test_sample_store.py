"""The demo: scanning the sample store reports every planted leak, on the right line, with
the right surface, provider and data categories, and nothing else (no decoy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mageguard.scan.engine import ScanOptions, scan
from mageguard.scan.finding import Finding
from mageguard.scan.result import ScanResult

FIXTURES = Path(__file__).parent.parent / "fixtures"
STORE = FIXTURES / "magento-store"
EXPECTED: dict[str, Any] = yaml.safe_load(
    (FIXTURES / "magento-store.expected.yaml").read_text("utf-8")
)


def _line(path: str, number: int) -> str:
    lines = (STORE / path).read_text("utf-8").splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _matches(finding: Finding, entry: dict[str, Any]) -> bool:
    return (
        finding.rule_id == entry["rule"]
        and finding.location.path == entry["path"]
        and entry["line_contains"] in _line(finding.location.path, finding.location.line)
    )


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan(STORE, ScanOptions(use_cache=False))


@pytest.mark.parametrize(
    "entry",
    EXPECTED["findings"],
    ids=[
        f"{e['rule']}@{e['path'].split('/')[-1]}:{e['line_contains'][:30]}"
        for e in EXPECTED["findings"]
    ],
)
def test_every_planted_leak_is_reported_where_it_is(
    result: ScanResult, entry: dict[str, Any]
) -> None:
    found = [f for f in result.findings if _matches(f, entry)]
    assert found, f"not reported: {entry}"
    f = found[0]
    assert f.surface == entry["surface"], (f.surface, entry)
    assert set(entry.get("categories") or ()) <= set(f.data_categories), (f.data_categories, entry)
    if entry.get("provider") and entry["rule"] not in (
        "php-prompt-logging",
        "di-ai-log-handler",
        "db-schema-prompt-storage",
        "system-xml-key-unencrypted",
    ):
        assert f.provider == entry["provider"], (f.provider, entry)


def test_nothing_is_reported_but_the_planted_leaks(result: ScanResult) -> None:
    unexpected = [
        f"{f.rule_id} {f.location.path}:{f.location.line}"
        for f in result.findings
        if not any(_matches(f, e) for e in EXPECTED["findings"])
    ]
    assert unexpected == []


@pytest.mark.parametrize(
    "decoy",
    EXPECTED["decoys"],
    ids=[f"{d['path'].split('/')[-1]}:{d.get('rule', '*')}" for d in EXPECTED["decoys"]],
)
def test_decoys_are_not_reported(result: ScanResult, decoy: dict[str, Any]) -> None:
    for f in result.findings:
        if f.location.path != decoy["path"]:
            continue
        if decoy.get("rule") and f.rule_id != decoy["rule"]:
            continue
        if decoy.get("line_contains") and decoy["line_contains"] not in _line(
            f.location.path, f.location.line
        ):
            continue
        pytest.fail(f"decoy reported: {f.rule_id} {f.location.path}:{f.location.line}")


def test_the_store_scans_without_notices(result: ScanResult) -> None:
    assert [n for n in result.notices] == []


def _db_rows(result: ScanResult) -> set[tuple[str, str, str, str | None]]:
    rows = set()
    for f in result.findings:
        extra = dict(f.extra)
        if "config_path" in extra and "scope" in extra:
            code = None if extra["scope"] == "default" else extra.get("scope_code")
            rows.add((f.rule_id, extra["config_path"], extra["scope"], code))
    return rows


EXPECTED_DB = {(e["rule"], e["path"], e["scope"], e["scope_code"]) for e in EXPECTED["db_findings"]}


def test_the_database_dump_reports_every_planted_row_and_no_decoy() -> None:
    result = scan(STORE, ScanOptions(use_cache=False, db=str(FIXTURES / "magento-db.sql")))
    assert _db_rows(result) == EXPECTED_DB
    assert {t.code for t in result.tenants} == {"base", "b2b", "default", "fr", "b2b_en"}


def test_the_live_database_reports_what_the_dump_does(mariadb: Any, mariadb_database: str) -> None:
    mariadb.load(mariadb_database, (FIXTURES / "magento-db.sql").read_text("utf-8"))
    result = scan(STORE, ScanOptions(use_cache=False, db=mariadb.dsn(mariadb_database)))
    assert _db_rows(result) == EXPECTED_DB
    live = [f for f in result.findings if f.location.path.startswith("db://")]
    assert live and all("core_config_data" in f.location.path for f in live)


def test_a_database_that_does_not_connect_is_a_notice_and_the_code_is_scanned() -> None:
    result = scan(
        STORE, ScanOptions(use_cache=False, db="mysql://magento:s3cret@127.0.0.1:1/magento")
    )
    notices = [n for n in result.notices if n.kind == "database"]
    assert len(notices) == 1
    assert "s3cret" not in notices[0].message and "***" in notices[0].message
    assert any(f.rule_id == "php-ai-http-call" for f in result.findings)


def test_a_configuration_value_belongs_to_the_module_that_declares_its_section() -> None:
    result = scan(STORE, ScanOptions(use_cache=False, db=str(FIXTURES / "magento-db.sql")))
    owners = {
        (dict(f.extra)["config_path"], f.module)
        for f in result.findings
        if f.rule_id in ("db-ai-endpoint", "ai-key-in-env-php")
    }
    assert owners == {
        ("lumen_ai/openai/endpoint", "Lumen_AiDescriptions"),
        ("system/default/lumen_ai/openai/api_key", "Lumen_AiDescriptions"),
        ("lumen_recommendations/api/endpoint", "Lumen_Recommendations"),
        ("lumen_fraudshield/api/endpoint", "Lumen_FraudShield"),
        ("lumen_semanticsearch/pinecone/host", "Lumen_SemanticSearch"),
        ("lumen_margin/datarobot/endpoint", "Lumen_MarginInsights"),
    }
