"""`mageguard audit ingest|watch|flows|incidents`: exit codes (0 none, 1 incidents,
2 error), `error: ...` messages, nothing half-written, and watch following a file that
grows until it is told to stop."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mageguard.gateway.command import audit_group
from tests.audit.flowsupport import flows

OPENAI = (
    "1700000000.000  10 10.0.1.6 TCP_TUNNEL/200 99 CONNECT "
    "api.openai.com:443 - HIER_DIRECT/1.1.1.1 -"
)
PLAIN = (
    "1700000001.000  10 10.0.1.6 TCP_MISS/200 99 GET "
    "http://repo.magento.com/x - HIER_DIRECT/1.1.1.2 text/html"
)


def _cli(*args: str, **env: str) -> Result:
    return CliRunner().invoke(audit_group, list(args), env=env or None)


def _log(tmp_path: Path, *lines: str) -> Path:
    log = tmp_path / "access.log"
    log.write_text("".join(line + "\n" for line in lines))
    return log


def test_ingest_exits_1_when_the_store_holds_an_incident(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    result = _cli("ingest", str(_log(tmp_path, PLAIN, OPENAI)), "--db", str(db))
    assert result.exit_code == 1, result.output
    assert "[squid]  2 new record(s), 2 in all" in result.output
    assert "1 incident(s), 1 new" in result.output


def test_ingest_exits_0_without_incidents_and_reads_env_vars(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    log = _log(tmp_path, PLAIN, OPENAI)
    result = _cli(
        "ingest", str(log), MAGEGUARD_AUDIT_DB=str(db), MAGEGUARD_AUDIT_GATEWAY="10.0.1.6"
    )
    assert result.exit_code == 0, result.output
    assert flows(db) == {("10.0.1.6", "api.openai.com", "openai", True)}


def test_ingest_uses_the_gateway_data_directory_by_default(tmp_path: Path) -> None:
    result = _cli("ingest", str(_log(tmp_path, PLAIN)), MAGEGUARD_DATA_DIR=str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "flows.duckdb").is_file()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: ["ingest", str(p / "missing.log")], "missing.log: no such file"),
        (lambda p: ["ingest", "--format", "iis", str(_log(p, PLAIN))], "unknown format 'iis'"),
        (lambda p: ["ingest", str(p / "bad.gz")], "unreadable gzip file"),
        (lambda p: ["ingest", str(p / "notes.txt")], "unknown log format"),
        (lambda p: ["ingest", str(_log(p, PLAIN)), "--tenants", str(p / "notes.txt")], "notes.txt"),
    ],
)
def test_bad_input_is_an_error_and_writes_nothing(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"x" * 5000)[:20])
    (tmp_path / "notes.txt").write_text("hello\n")
    db = tmp_path / "f.duckdb"
    result = _cli(*make(tmp_path), "--db", str(db))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and message in result.output
    assert not db.exists()


def test_flows_json_goes_to_a_file(tmp_path: Path) -> None:
    db, out = tmp_path / "f.duckdb", tmp_path / "flows.json"
    _cli("ingest", str(_log(tmp_path, OPENAI)), "--db", str(db))
    result = _cli("flows", "--db", str(db), "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert [(f["source"], f["destination"]) for f in doc["flows"]] == [
        ("10.0.1.6", "api.openai.com")
    ]
    table = _cli("flows", "--db", str(db))
    assert "10.0.1.6 -> api.openai.com (openai)  BYPASS  1 request(s)" in table.output


def test_flows_without_a_store_is_an_error(tmp_path: Path) -> None:
    result = _cli("flows", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2 and "no flow store" in result.output


def test_incidents_show_what_is_due_and_what_is_overdue(tmp_path: Path) -> None:
    from mageguard.audit.ingest import ingest

    db = tmp_path / "f.duckdb"
    ingest([str(_log(tmp_path, OPENAI))], db=db, now=1_800_000_000.0)  # 2027-01-15T08:00Z
    result = _cli("incidents", "--db", str(db), "--now", "2027-01-17T08:00:00Z")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "CRITICAL  bypass  10.0.1.6 -> api.openai.com (openai)  tenants: unknown" in lines[0]
    due = [
        " ".join(line.split()[:5])
        for line in lines
        if line.startswith("  GDPR") or line.startswith("  NIS2")
    ]
    assert due == [
        "GDPR Art. 33(1) 2027-01-18T08:00:00Z due",
        "NIS2 Art. 23(4)(a) 2027-01-16T08:00:00Z OVERDUE",
        "NIS2 Art. 23(4)(b) 2027-01-18T08:00:00Z due",
        "NIS2 Art. 23(4)(d) 2027-02-18T08:00:00Z due",
    ]
    doc = json.loads(_cli("incidents", "--db", str(db), "-f", "json", "--now", "2027-03-01").output)
    assert [d["overdue"] for d in doc["incidents"][0]["deadlines"]] == [True] * 4


def test_incidents_exit_0_when_there_are_none_and_2_on_a_bad_now(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    _cli("ingest", str(_log(tmp_path, PLAIN)), "--db", str(db))
    assert _cli("incidents", "--db", str(db)).exit_code == 0
    bad = _cli("incidents", "--db", str(db), "--now", "yesterday")
    assert bad.exit_code == 2 and "error: --now 'yesterday'" in bad.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watch_ingests_appended_lines_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    log, db = tmp_path / "access.log", tmp_path / "f.duckdb"
    log.write_text(PLAIN + "\n")
    env = {**os.environ, "MAGEGUARD_AUDIT_DB": str(db)}
    command = [str(Path(sys.executable).parent / "mageguard"), "audit", "watch", str(log)]
    with subprocess.Popen(
        [*command, "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert "1 new record(s); 0 incident(s)" in proc.stdout.readline()
            with log.open("a") as f:
                f.write(OPENAI[:40])  # half a line: waits for its newline
                f.flush()
                time.sleep(0.5)
                f.write(OPENAI[40:] + "\n")
            assert "1 new record(s); 1 incident(s), 1 new" in proc.stdout.readline()
            proc.send_signal(sig)
            _, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0 and "stopped" in stderr
    assert flows(db) == {("10.0.1.6", "api.openai.com", "openai", False)}


def test_config_gives_the_gateway_address_and_the_policy_limit(tmp_path: Path) -> None:
    from tests.helpers.gateway import write_config

    config = write_config(
        tmp_path, "http://127.0.0.1:9", egress={"gateway": {"address": "10.0.9.9"}}
    )
    envoy = tmp_path / "envoy.jsonl"
    envoy.write_text(
        '{"start_time":"2026-11-20T09:00:02Z","authority":"api.openai.com","bytes_received":'
        '300000,"upstream_host":"162.159.140.245:443","downstream_remote_address":"10.0.9.9:1"}\n'
    )
    db = tmp_path / "f.duckdb"
    result = _cli("ingest", str(envoy), "--db", str(db), "--config", str(config))
    assert result.exit_code == 1, result.output  # 300 kB > the config's 256 KiB limit
    assert flows(db) == {("10.0.9.9", "api.openai.com", "openai", True)}
    doc = json.loads(_cli("flows", "--db", str(db), "-f", "json").output)
    assert [(i["kind"], i["severity"]) for i in doc["incidents"]] == [("over_policy", "high")]


def test_watch_reports_bad_input_as_an_error(tmp_path: Path) -> None:
    log = _log(tmp_path, PLAIN)
    result = _cli("watch", str(log), "--format", "iis", "--db", str(tmp_path / "f.duckdb"))
    assert result.exit_code == 2 and "error: unknown format 'iis'" in result.output
