"""Helpers for the flow-audit tests: real logs from the shared data with AI records
injected at known lines, and the exact set of Flows the store then holds."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

from mageguard.audit import flowdb
from mageguard.audit.flows import load_flows
from mageguard.audit.incidents import load_incidents
from mageguard.audit.ingest import IngestResult, ingest
from tests.helpers.data import shared_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def real(relative: str) -> list[str]:
    """The lines of a shared real log (gzip or plain)."""
    path = shared_data() / relative
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8").splitlines()


def inject(
    background: Sequence[str], lines: Sequence[tuple[int, str]], out: Path
) -> dict[str, int]:
    """Write `background` with each (index, line) inserted before background[index];
    the 1-based line number of every injected line, by its text."""
    merged = list(background)
    for index, text in sorted(lines, key=lambda p: p[0], reverse=True):
        merged.insert(index, text)
    out.write_text("\n".join(merged) + "\n", "utf-8")
    numbers = {}
    for number, text in enumerate(merged, 1):
        if any(text == injected for _, injected in lines):
            numbers[text] = number
    return numbers


def run(paths: Sequence[Path | str], db: Path, **options: object) -> IngestResult:
    return ingest([str(p) for p in paths], db=db, **options)  # type: ignore[arg-type]


def flows(db: Path) -> set[tuple[str, str, str | None, bool]]:
    """(source, destination, provider, via_gateway) of every AI Flow."""
    with flowdb.connect(db, read_only=True) as con:
        return {(f.source, f.destination, f.provider, f.via_gateway) for f in load_flows(con)}


def flow_lines(db: Path) -> set[tuple[str, str, int]]:
    """(destination, file name, line) of every Flow's evidence."""
    with flowdb.connect(db, read_only=True) as con:
        return {
            (f.destination, Path(e.file).name, e.line) for f in load_flows(con) for e in f.evidence
        }


def incidents(db: Path) -> set[tuple[str, str, str, str]]:
    """(kind, source, destination, severity) of every Incident."""
    with flowdb.connect(db, read_only=True) as con:
        return {
            (i.kind, i.flow.source, i.flow.destination, i.severity) for i in load_incidents(con)
        }
