"""`mageguard audit ingest`: network, proxy and DNS logs (and the gateway's own audit
store) into the flow store, so that AI traffic that went around the gateway shows up as
Flows and Incidents.

    result = ingest(["/var/log/squid/access.log", "dns.log.gz"], db=Path("flows.duckdb"),
                    gateways=["10.0.0.9:8088"])

Formats, detection and field maps: formats.py and audit/data/fields.yaml; why the gate:
gate.py; what is kept: run.py; the store: audit/flowdb.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mageguard.audit import flowdb, incidents, tenants
from mageguard.audit.ingest.plan import plan
from mageguard.audit.ingest.run import Ingestion, SourceResult
from mageguard.errors import InputError

__all__ = ["IngestResult", "SourceResult", "ingest"]


@dataclass(frozen=True)
class IngestResult:
    sources: tuple[SourceResult, ...]
    new_incidents: int
    incidents: int


def ingest(
    paths: Sequence[str],
    *,
    db: Path,
    fmt: str = "auto",
    gateways: Sequence[str] = (),
    tenants_file: Path | None = None,
    max_bytes: int | None = None,
    final: bool = True,
    now: float | None = None,
) -> IngestResult:
    """Every path is checked (exists, readable, known format) before the store is opened;
    then all of them are read in one transaction. `final=False` (watch) leaves a last
    line without its newline for the next call."""
    items = plan(paths, fmt)
    mapping = tenants.load(tenants_file) if tenants_file is not None else None
    try:
        with flowdb.connect(db) as con, flowdb.transaction(con):
            flowdb.set_gateways(con, gateways)
            if mapping is not None:
                con.execute("DELETE FROM tenants")
                for website, source in mapping:
                    con.execute("INSERT INTO tenants VALUES (?, ?)", [website, source])
            if max_bytes is not None:
                flowdb.set_setting(con, "max_bytes_out", str(max_bytes))
            run = Ingestion(con, final=final)
            results = tuple(run.run(item) for item in items)
            new, total = incidents.record_new(con, now)
    except duckdb.Error as exc:
        raise InputError(f"flow store {db}: {exc}") from None
    return IngestResult(results, new, total)
