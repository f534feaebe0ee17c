"""One snapshot per format. Refresh with MAGEGUARD_UPDATE_SNAPSHOTS=1 after a deliberate
change, and read the diff: JSON is a stable machine format."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mageguard.logs.formats import LogFormat, render
from mageguard.logs.scan import scan_logs
from mageguard.redact.engine import Redactor

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("fmt", list(LogFormat))
def test_report_matches_its_snapshot(
    store: Path, redactor: Redactor, fmt: LogFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(store)
    Path("var/log/blob.log").write_bytes(b"\x00\x01")
    names = ["system.log", "cron.log", "debug.log", "blob.log"]
    text = render(scan_logs([Path("var/log", n) for n in names], redactor), fmt)
    snapshot = SNAPSHOTS / ("scan.json" if fmt is LogFormat.JSON else "scan.table.txt")
    if os.environ.get("MAGEGUARD_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")
