"""`--format json`: the same model as the HTML, stable for machines, and readable back as
--previous to say what changed since."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mageguard.cli import app
from tests.report.conftest import FLOWS

AS_OF = "2026-11-28T12:00:00Z"


def report_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", "-f", "json", "--as-of", AS_OF, *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_json_has_every_section_in_a_fixed_order(scan_json: Path) -> None:
    data = report_json("--scan", str(scan_json), "--flows", str(FLOWS))
    assert list(data) == [
        "kind", "version", "generated_at", "tool_version", "store", "inputs", "summary",
        "changes", "processing", "third_parties", "diagram", "controls", "remediation",
        "overhead", "audit", "flows", "findings",
    ]  # fmt: skip
    assert (data["kind"], data["version"], data["generated_at"]) == (
        "mageguard.report", 1, AS_OF,
    )  # fmt: skip
    assert data["changes"] is None and data["audit"] is None
    assert data["inputs"] == {
        "scan": str(scan_json), "audit": None, "flows": str(FLOWS), "plan": None,
        "previous": None,
    }  # fmt: skip
    control = next(c for c in data["controls"] if c["id"] == "GDPR-33")
    assert control == {
        "id": "GDPR-33",
        "framework": "GDPR",
        "ref": "Art. 33",
        "title": "Notification of a personal data breach within 72 hours",
        "status": "partial",
        "evidence": [
            "flow audit of 2 log source(s) (nginx_combined, squid; 70452 records) generated "
            "2026-11-26T12:00:00Z",
            "GDPR clock(s) running: INC-0001 notify the supervisory authority due "
            "2026-11-29T12:00:00Z",
        ],
        "findings": [],
    }
    figure = data["overhead"][0]
    assert figure["source"].startswith("bench/RESULTS.md") and "tokens/s" in figure["value"]


def test_two_runs_at_the_same_time_give_the_same_bytes(scan_json: Path) -> None:
    assert report_json("--scan", str(scan_json)) == report_json("--scan", str(scan_json))


def test_previous_report_gives_new_and_resolved_findings_and_control_changes(
    scan_json: Path, tmp_path: Path
) -> None:
    earlier = report_json("--scan", str(scan_json))
    gone = earlier["findings"][0]["fingerprint"]
    earlier["findings"] = [*earlier["findings"][1:], {"fingerprint": "php-ai-http-call:old:1"}]
    for control in earlier["controls"]:
        if control["id"] == "PCI-3.3.1":
            control["status"] = "open"
    earlier["controls"] = [c for c in earlier["controls"] if c["id"] != "PCI-6.2.4"]
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(earlier), encoding="utf-8")

    changes = report_json("--scan", str(scan_json), "--previous", str(previous))["changes"]
    assert changes == {
        "previous_generated_at": AS_OF,
        "new_findings": [gone],
        "resolved_findings": ["php-ai-http-call:old:1"],
        "unchanged_findings": len(earlier["findings"]) - 1,
        "controls": [
            {"id": "PCI-3.3.1", "before": "open", "after": "met"},
            {"id": "PCI-6.2.4", "before": None, "after": "open"},
        ],
    }


def test_the_same_inputs_twice_change_nothing(scan_json: Path, tmp_path: Path) -> None:
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(report_json("--scan", str(scan_json))), encoding="utf-8")
    changes = report_json("--scan", str(scan_json), "--previous", str(previous))["changes"]
    assert changes["new_findings"] == changes["resolved_findings"] == changes["controls"] == []


def test_a_fix_plan_orders_its_steps_into_the_remediation(scan_json: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    from tests.report.conftest import DUMP, STORE

    result = CliRunner().invoke(
        app, ["fix", str(STORE), "--db", str(DUMP), "-f", "json", "-o", str(plan)]
    )
    assert result.exit_code == 1, result.output  # a dry run with changes
    remediation = report_json("--scan", str(scan_json), "--plan", str(plan))["remediation"]
    assert remediation["source"] == "fix plan, and the findings it leaves to the operator"
    kinds = [i["action"] for i in remediation["items"]]
    assert "gateway_config" in kinds and "js-ai-direct-call" in kinds
    assert remediation["items"][0]["surface"] == "checkout_payment"
