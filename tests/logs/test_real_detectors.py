"""The same store with the real built-in detectors (what `mageguard logs` runs): every
planted item is found, timestamps are left alone, nothing raw reaches a report, and a
scrubbed-and-confirmed store holds none of the planted values."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from mageguard.logs.confirm import ConfirmStatus, confirm_logs
from mageguard.logs.discovery import LogFile
from mageguard.logs.filter import RedactingFilter
from mageguard.logs.formats import LogFormat, render
from mageguard.logs.scan import LogDetector, scan_file, scan_logs
from mageguard.logs.scrub import scrub_logs
from mageguard.redact.engine import Redactor
from tests.logs.conftest import DICTIONARY, RAW_VALUES

# What the built-in detectors (+ the test dictionary) find in each fixture file.
FOUND = {
    "var/log/acme_ai.log": {
        "AI_PROMPT": 1,
        "AI_PROVIDER": 1,
        "AI_RESPONSE": 1,
        "COST": 1,
        "EMAIL": 1,
        "PRODUCT": 2,
        "SECRET": 1,
        "SKU": 1,
        "SUPPLIER": 1,
    },
    "var/log/cron.log": {},
    "var/log/debug.log": {"AI_PROVIDER": 1, "SECRET": 1},
    "var/log/exception.log": {"EMAIL": 1},
    "var/log/system.log": {"CREDIT_CARD": 1, "EMAIL": 2, "IP_ADDRESS": 1},
    "var/report/1714550400999": {"AI_PROVIDER": 1},
    # line 20: street, postcode (ZIP+4, taken for a phone number), phone, e-mail
    "var/debug/db.log": {"ADDRESS": 1, "EMAIL": 2, "PHONE": 2},
}
REPORT = "var/report/1714550400123"


@pytest.fixture(scope="module")
def real() -> Redactor:
    return Redactor(dictionary=DICTIONARY)


def test_every_planted_item_is_found(store: Path, real: Redactor) -> None:
    found = {
        f.path.relative_to(store).as_posix(): dict(f.entities)
        for f in scan_logs([store], real).files
    }
    assert {k: v for k, v in found.items() if k != REPORT} == FOUND


def test_the_email_in_a_duplicate_entry_report_is_found(store: Path, real: Redactor) -> None:
    report = scan_file(LogFile(store / REPORT, "report"), LogDetector(real))
    assert dict(report.entities) == {"EMAIL": 1}


@pytest.mark.parametrize("fmt", list(LogFormat))
def test_no_planted_value_reaches_the_report(store: Path, real: Redactor, fmt: LogFormat) -> None:
    text = render(scan_logs([store], real), fmt)
    assert [v for v in RAW_VALUES if v in text] == []


def test_scrub_and_confirm_leave_no_planted_value_and_no_timestamp_changed(
    store: Path, real: Redactor, tmp_path: Path
) -> None:
    def prefixes() -> dict[Path, list[str]]:
        return {
            p: [line[:36] for line in p.read_text().splitlines() if line.startswith("[2024")]
            for p in (store / "var/log").glob("*.log")
        }

    before = prefixes()
    scrub_logs([store], real)
    results = confirm_logs([store], tmp_path / "backup")
    assert {r.status for r in results} <= {ConfirmStatus.REPLACED, ConfirmStatus.NO_COPY}
    assert prefixes() == before
    leaked = {
        (p.relative_to(store).as_posix(), v)
        for p in store.rglob("*")
        if p.is_file()
        for v in RAW_VALUES
        if v in p.read_text()
    }
    assert leaked == set()


def test_a_5_mb_line_takes_seconds_not_minutes(tmp_path: Path, real: Redactor) -> None:
    log = tmp_path / "module.log"
    filler = "the customer asked about delivery on monday " * 120_000
    log.write_text(f"[2024-05-01T09:00:00+00:00] main.INFO: {filler} ana@example.com\n")
    start = time.perf_counter()
    report = scan_file(LogFile(log, "log"), LogDetector(real))
    assert dict(report.entities) == {"EMAIL": 1}
    assert time.perf_counter() - start < 30


def test_the_cli_exit_codes_with_the_real_detectors(store: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(app, ["logs", "scan", str(store / "var/log/cron.log")])
    assert clean.exit_code == 0, clean.output
    found = runner.invoke(app, ["logs", "scan", str(store)])
    assert found.exit_code == 1 and "secret" in found.stdout


def test_the_filter_with_its_default_redactor() -> None:
    record = logging.makeLogRecord(
        {"msg": "refund to %s, card %s", "args": ("ana@example.com", "4111 1111 1111 1111")}
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "refund to [EMAIL], card [CARD]"
