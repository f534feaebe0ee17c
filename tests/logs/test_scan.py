"""`logs scan`: exactly the planted items, counted per entity and kind, located by first
and last line, with masked examples; big, broken and compressed files do not stop it."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from mageguard.logs import reader
from mageguard.logs import scan as scan_module
from mageguard.logs.discovery import LogFile
from mageguard.logs.formats import LogFormat, render
from mageguard.logs.scan import LogDetector, masked, scan_file, scan_logs
from mageguard.redact.engine import Redactor
from tests.logs.conftest import PLANTED, RAW_VALUES


def test_scan_finds_exactly_the_planted_items(store: Path, redactor: Redactor) -> None:
    result = scan_logs([store], redactor)
    found = {
        f.path.relative_to(store).as_posix(): (
            dict(f.entities),
            (f.first_line, f.last_line) if f.findings else None,
        )
        for f in result.files
    }
    assert found == PLANTED
    assert result.errors == ()


def test_counts_per_kind_and_examples_are_masked(store: Path, redactor: Redactor) -> None:
    report = scan_file(LogFile(store / "var/log/system.log", "log"), LogDetector(redactor))
    assert dict(report.kinds) == {"payment": 1, "personal_data": 3}
    assert report.lines == 7 and report.lines_with_findings == 3
    assert [(e.line, e.entity, e.kind, e.value) for e in report.examples] == [
        (3, "EMAIL", "personal_data", "v***@e***.com"),
        (3, "IP_ADDRESS", "personal_data", "2***"),
        (5, "CREDIT_CARD", "payment", "****1111"),
    ]


@pytest.mark.parametrize("fmt", list(LogFormat))
def test_the_report_quotes_no_planted_value(
    store: Path, redactor: Redactor, fmt: LogFormat
) -> None:
    text = render(scan_logs([store], redactor), fmt)
    for value in RAW_VALUES:
        assert value not in text
    assert "sk-p****" in text  # shape is kept: the operator knows which key to rotate


@pytest.mark.parametrize(
    ("entity", "value", "shown"),
    [
        ("EMAIL", "veronica.costello@example.com", "v***@e***.com"),
        ("EMAIL", "root@localhost", "r***@l***"),
        ("CREDIT_CARD", "4111-1111-1111-1111", "****1111"),
        ("SECRET", "sk-ant-api03-" + "x" * 40, "sk-a****"),
        ("SECRET", "hunter2", "h****"),
        ("IBAN", "DE89370400440532013000", "DE****"),
        ("PERSON", "Veronica Costello", "V***"),
        ("ZIP_CODE", "123", "***"),
        ("PERSON", "\udcff\udcfe name", "?***"),
        ("AI_PROVIDER", "api.openai.com", "api.openai.com"),
    ],
)
def test_masked_values_keep_shape_but_not_the_value(entity: str, value: str, shown: str) -> None:
    assert masked(entity, value) == shown


def test_a_5_mb_single_line_is_scanned(tmp_path: Path, redactor: Redactor) -> None:
    path = tmp_path / "module.log"
    filler = '{"sku":"MJ01","qty":1,"note":"' + "lorem ipsum dolor sit amet " * 200_000 + '"}'
    path.write_text(f"[2024-05-01] main.INFO: ok\n{filler} buyer ana@example.com\nend\n")
    assert path.stat().st_size > 5_000_000
    report = scan_file(LogFile(path, "log"), LogDetector(redactor))
    assert dict(report.entities) == {"EMAIL": 1}
    assert (report.first_line, report.last_line, report.lines) == (2, 2, 3)


def test_memory_stays_bounded_on_an_endless_line(tmp_path: Path, redactor: Redactor) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as f:
        for _ in range(6):
            f.write(b"lorem ipsum " * 42_000)  # 3 MB without a newline
        f.write(b"ana@example.com")
    tracemalloc.start()
    try:
        report = scan_file(LogFile(path, "log"), LogDetector(redactor), max_piece=1 << 17)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert dict(report.entities) == {"EMAIL": 1}
    assert peak < 2 * (1 << 20)  # the line alone is 3 MB, 6 MB as bytes plus str


def test_invalid_utf8_is_scanned_without_crashing(tmp_path: Path, redactor: Redactor) -> None:
    path = tmp_path / "system.log"
    path.write_bytes(b"[2024] main.INFO: caf\xe9 \xff\xfe ana@example.com \xc3\n\x80\x81\n")
    report = scan_file(LogFile(path, "log"), LogDetector(redactor))
    assert dict(report.entities) == {"EMAIL": 1} and report.error is None
    json.dumps(render(scan_logs([path], redactor), LogFormat.JSON))  # printable throughout


def test_gzip_logs_are_read(tmp_path: Path, redactor: Redactor) -> None:
    path = tmp_path / "system.log.1.gz"
    path.write_bytes(gzip.compress(b"ok\nlogin ana@example.com\n"))
    report = scan_file(LogFile(path, "log"), LogDetector(redactor))
    assert report.compressed and dict(report.entities) == {"EMAIL": 1}
    assert report.size == path.stat().st_size


def test_binaries_are_skipped_and_unreadable_files_are_errors(
    tmp_path: Path, redactor: Redactor
) -> None:
    (tmp_path / "image.log").write_bytes(b"\x89PNG\x00\x00ana@example.com")
    (tmp_path / "broken.log.gz").write_bytes(gzip.compress(b"y" * 5000)[:30])
    (tmp_path / "fine.log").write_text("ana@example.com\n")
    by_name = {f.path.name: f for f in scan_logs([tmp_path], redactor).files}
    assert by_name["image.log"].skipped == "binary" and not by_name["image.log"].findings
    assert by_name["broken.log.gz"].error is not None
    assert by_name["fine.log"].findings == 1


def test_a_file_that_cannot_be_opened_is_an_error_and_the_others_are_scanned(
    tmp_path: Path, redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked.log"
    locked.write_text("ana@example.com\n")
    (tmp_path / "fine.log").write_text("ana@example.com\n")

    def sniff(path: Path) -> bool:  # chmod 000 does not stop root, which runs CI here
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return reader.sniff(path)

    monkeypatch.setattr(scan_module, "sniff", sniff)
    result = scan_logs([tmp_path], redactor)
    assert [f.path.name for f in result.errors] == ["locked.log"]
    assert result.errors[0].error == f"Permission denied ({locked})"
    assert result.findings == 1
