"""The contract with `mageguard audit flows -f json`: what the flow audit writes from the
sample logs is what the report reads (tests/fixtures/logs, AI records injected into real
log backgrounds), so a change on either side breaks here first."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mageguard.cli import app
from tests.report.conftest import ROOT

LOGS = ROOT / "tests" / "fixtures" / "logs"


def test_the_flow_audit_of_the_sample_logs_feeds_the_report(
    scan_json: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    store = tmp_path / "flows.duckdb"
    logs = [str(p) for p in sorted((LOGS / "demo").iterdir())]
    ingest = ["audit", "ingest", "--db", str(store), "--gateway", "10.0.9.9",
              "--tenants", str(LOGS / "tenants.yaml"), *logs]  # fmt: skip
    assert runner.invoke(app, ingest).exit_code in (0, 1)  # 1: incidents found
    flows = tmp_path / "flows.json"
    result = runner.invoke(
        app, ["audit", "flows", "--db", str(store), "-f", "json", "-o", str(flows)]
    )
    assert result.exit_code in (0, 1), result.output

    result = runner.invoke(
        app, ["report", "--scan", str(scan_json), "--flows", str(flows), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    written = json.loads(flows.read_text("utf-8"))
    assert len(report["flows"]["flows"]) == len(written["flows"])
    assert len(report["flows"]["incidents"]) == len(written["incidents"]) > 0
    bypass = [e for e in report["diagram"]["edges"] if e["kind"] == "bypass"]
    assert {e["target"] for e in bypass} >= {"p:openai"}
    controls = {c["id"]: c for c in report["controls"]}
    assert controls["AIRMF-MANAGE-3.1"]["status"] == "open"
    assert controls["GDPR-33"]["status"] in ("partial", "open")  # clocks from ingestion time
