"""`mageguard logs scan|scrub`: exit codes (0 clean/done, 1 findings/skipped, 2 errors),
formats, environment variables, and the confirm contract. With the real built-in
detectors, as the command runs them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from mageguard.logs import scan as scan_module
from tests.logs.conftest import RAW_VALUES

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["logs", *args], env=env or {})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [[], ["scan"], ["scrub"]])
def test_help_describes_each_command(command: list[str]) -> None:
    code, out, _ = _run(*command, "--help")
    assert code == 0 and "Usage: " in out
    assert {"": "var/report", "scan": "Exit codes", "scrub": "--backup-dir"}[
        "".join(command)
    ] in out


def test_scan_exits_0_on_clean_logs_and_1_on_findings(store: Path) -> None:
    assert _run("scan", str(store / "var/log/cron.log"))[0] == 0
    code, out, _ = _run("scan", str(store))
    assert code == 1 and "8 file(s): 7 with findings, 1 clean" in out
    assert not [v for v in RAW_VALUES if v in out]


def test_scan_json_is_machine_readable_and_options_come_from_the_environment(
    store: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku,product_name,supplier_name,standard_cost\n24-MB01,Joust Duffle Bag,Litware,12.50\n"
    )
    env = {
        "MAGEGUARD_LOGS_FORMAT": "json",
        "MAGEGUARD_DICTIONARY": str(catalog),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    code, out, _ = _run("scan", str(store), env=env)
    assert code == 1 and json.loads(out)["summary"]["findings"] == 24


def test_scan_writes_the_report_to_a_file(store: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, out, _ = _run("scan", str(store), "-f", "json", "-o", str(report))
    assert code == 1 and out == ""
    assert json.loads(report.read_text())["version"] == 1


def test_scan_exits_2_when_a_file_cannot_be_read_and_still_reports_the_rest(
    store: Path,
) -> None:
    (store / "var/log/system.log.3.gz").write_bytes(gzip.compress(b"x" * 9000)[:25])
    code, out, _ = _run("scan", str(store))
    assert code == 2 and "system.log.3.gz  [log]  error:" in out and "EMAIL 2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "/nonexistent/magento"], "no such file"),
        (["scan"], "Missing argument"),
        (["scan", ".", "--policy", "/nonexistent.yaml"], "--policy"),
        (["scan", ".", "-f", "sarif"], "Invalid value"),
    ],
)
def test_usage_and_configuration_errors_exit_2(args: list[str], message: str) -> None:
    code, _, err = _run(*args)
    assert code == 2 and message in err


def test_an_internal_error_exits_2_never_1(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(scan_module, "scan_logs", broken)
    code, _, err = _run("scan", str(store))
    assert code == 2 and "internal error: RuntimeError: bug" in err


def test_scrub_changes_no_original_and_says_what_confirm_would_do(
    store: Path, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    code, out, _ = _run("scrub", str(store), "--backup-dir", str(tmp_path / "backup"))
    assert code == 0
    assert {p: p.read_bytes() for p in before} == before
    assert "No original was changed. Review the 6 redacted copy file(s)" in out
    assert f"keeping the original as {tmp_path / 'backup'}" in out
    assert not [v for v in RAW_VALUES if v in out]


def test_confirm_needs_a_backup_directory_or_an_explicit_no_backup(
    store: Path, tmp_path: Path
) -> None:
    _run("scrub", str(store))
    copies = sorted(store.rglob("*.mageguard-redacted"))
    code, _, err = _run("scrub", "--confirm", str(store))
    assert code == 2 and "--confirm needs --backup-dir" in err
    backup = str(tmp_path / "b")
    code, _, err = _run("scrub", "--confirm", "--no-backup", "--backup-dir", backup, str(store))
    assert code == 2 and "exclude each other" in err
    assert sorted(store.rglob("*.mageguard-redacted")) == copies  # nothing was replaced


def test_scrub_then_confirm_round_trip(store: Path, tmp_path: Path) -> None:
    log = store / "var/log/system.log"
    original = log.read_bytes()
    assert _run("scrub", str(store))[0] == 0
    code, out, _ = _run("scrub", "--confirm", "--backup-dir", str(tmp_path / "bk"), str(store))
    assert code == 0 and "6 file(s) replaced, 0 not replaced." in out
    assert b"[EMAIL]" in log.read_bytes()
    assert (tmp_path / "bk" / str(log.resolve()).lstrip("/")).read_bytes() == original
    assert _run("scan", str(store))[1].count("clean") >= 5


def test_confirm_exits_1_when_an_original_changed_and_leaves_it(
    store: Path, tmp_path: Path
) -> None:
    log = store / "var/log/system.log"
    _run("scrub", str(store))
    with log.open("a") as f:
        f.write("[2024-05-01T08:20:00+00:00] main.INFO: still running\n")
    grown = log.read_bytes()
    code, out, _ = _run("scrub", "--confirm", "--backup-dir", str(tmp_path / "bk"), str(store))
    assert code == 1 and "system.log: not replaced (growing)" in out
    assert log.read_bytes() == grown


def test_ai_lines_remove_from_the_environment(store: Path) -> None:
    code, _, _ = _run(
        "scrub", str(store / "var/log/acme_ai.log"), env={"MAGEGUARD_LOGS_AI_LINES": "remove"}
    )
    copy = store / "var/log/acme_ai.log.mageguard-redacted"
    assert code == 0 and copy.read_text().count("[AI traffic removed by mageguard]") == 3
