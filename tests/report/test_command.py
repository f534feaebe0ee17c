"""`mageguard report` on the command line: exit 0 with the file written whole, exit 2 with
`error: ...` and nothing written for any input it cannot use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from tests.report.conftest import FLOWS


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.output


def test_html_report_is_written_and_names_the_store(scan_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.html"
    code, _ = run("--scan", str(scan_json), "-o", str(out), "--as-of", "2026-11-28T12:00:00Z")
    assert code == 0
    text = out.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.html"]  # no temporary left


def test_json_report_goes_to_standard_output_without_output(scan_json: Path) -> None:
    code, output = run("--scan", str(scan_json), "-f", "json")
    assert code == 0
    assert json.loads(output)["kind"] == "mageguard.report"


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--scan", None, "cannot read mageguard scan JSON"),
        ("--scan", "{not json", "not JSON"),
        (
            "--scan",
            json.dumps({"kind": "mageguard.flows", "version": 1}),
            "not a mageguard scan JSON",
        ),
        (
            "--flows",
            json.dumps({**json.loads(FLOWS.read_text()), "version": 2}),
            "not a mageguard flows JSON",
        ),
        (
            "--flows",
            json.dumps({**json.loads(FLOWS.read_text()), "kind": "mageguard.report"}),
            "not a mageguard flows JSON",
        ),
        ("--plan", json.dumps({"kind": "mageguard.flows"}), "not a mageguard fix JSON plan"),
        (
            "--previous",
            json.dumps({"kind": "mageguard.report", "version": 9}),
            "not a mageguard report JSON",
        ),
    ],
)
def test_an_unusable_input_exits_2_and_leaves_no_output(
    scan_json: Path, tmp_path: Path, option: str, content: str | None, message: str
) -> None:
    bad = tmp_path / "input.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    out = tmp_path / "evidence.html"
    args = ["--scan", str(scan_json)] if option != "--scan" else []
    code, output = run(*args, option, str(bad), "-o", str(out))
    assert code == 2
    assert output.startswith("error: ") and message in output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["input.json"] if content else [])


def test_a_failed_run_keeps_the_previous_report_untouched(scan_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.html"
    out.write_text("earlier report", encoding="utf-8")
    code, _ = run(
        "--scan", str(scan_json), "--flows", str(tmp_path / "missing.json"), "-o", str(out)
    )
    assert code == 2
    assert out.read_text("utf-8") == "earlier report"


def test_an_incident_time_that_is_not_iso_8601_is_a_bad_input(
    scan_json: Path, tmp_path: Path
) -> None:
    data = json.loads(FLOWS.read_text())
    data["incidents"][0]["deadlines"][0]["due"] = "tomorrow"
    bad = tmp_path / "flows.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    code, output = run("--scan", str(scan_json), "--flows", str(bad))
    assert code == 2 and "not an ISO 8601 time" in output


def test_pdf_needs_an_html_output_file(scan_json: Path) -> None:
    code, output = run("--scan", str(scan_json), "--pdf")
    assert code == 2 and "--pdf needs" in output


def test_an_output_directory_that_does_not_exist_is_exit_2(scan_json: Path, tmp_path: Path) -> None:
    code, output = run("--scan", str(scan_json), "-o", str(tmp_path / "no" / "evidence.html"))
    assert code == 2 and output.startswith("error: cannot write")


def test_an_audit_store_that_cannot_be_opened_is_exit_2(scan_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.html"
    code, output = run(
        "--scan", str(scan_json), "--audit", str(tmp_path / "audit.db"), "-o", str(out)
    )
    assert code == 2 and output.startswith("error: ") and "audit" in output
    assert not out.exists()


def test_the_audit_store_is_read_from_a_gateway_configuration(
    scan_json: Path, gateway_config: Path
) -> None:
    code, output = run("--scan", str(scan_json), "--audit", str(gateway_config), "-f", "json")
    assert code == 0
    audit = json.loads(output)["audit"]
    assert audit["chain_intact"] is True and audit["requests"] == 12
    assert audit["policy"] == str(gateway_config)
