"""The flow store: one DuckDB file holding the normalised records of every ingested log,
where each source stopped, and when each Incident was first detected.

DuckDB because the questions are analytical (group by source and destination, join
addresses to DNS answers within a time window) over millions of rows, embedded, and the
same SQL runs over Parquet on object storage when one file no longer fits. One writer at
a time: `audit watch` opens the file per batch so `audit flows` can read in between.
Each ingestion is one transaction: a file that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mageguard.audit.ingest.record import Record, split_hostport
from mageguard.errors import InputError

DEFAULT_NAME = "flows.duckdb"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
  id INTEGER PRIMARY KEY, path VARCHAR, format VARCHAR, fingerprint VARCHAR, inode VARCHAR,
  "offset" BIGINT, lines BIGINT, records BIGINT, ingested_at DOUBLE);
CREATE TABLE IF NOT EXISTS records (
  source INTEGER, line BIGINT, fmt VARCHAR, kind VARCHAR, ts DOUBLE, src VARCHAR,
  host VARCHAR, provider VARCHAR, provider_kind VARCHAR, dst_ip VARCHAR, dst_port INTEGER,
  bytes_out BIGINT, blocked BOOLEAN, upstream_host VARCHAR, upstream_port INTEGER,
  conn_id VARCHAR, answer VARCHAR, via_gateway BOOLEAN, text VARCHAR);
CREATE TABLE IF NOT EXISTS gateways (host VARCHAR, port INTEGER);
CREATE TABLE IF NOT EXISTS tenants (website VARCHAR, source VARCHAR);
CREATE TABLE IF NOT EXISTS settings (name VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS incidents (id VARCHAR PRIMARY KEY, aware_at DOUBLE);
"""
_COLUMNS = {
    "source": "INTEGER", "line": "BIGINT", "fmt": "VARCHAR", "kind": "VARCHAR",
    "ts": "DOUBLE", "src": "VARCHAR", "host": "VARCHAR", "provider": "VARCHAR",
    "provider_kind": "VARCHAR", "dst_ip": "VARCHAR", "dst_port": "INTEGER",
    "bytes_out": "BIGINT", "blocked": "BOOLEAN", "upstream_host": "VARCHAR",
    "upstream_port": "INTEGER", "conn_id": "VARCHAR", "answer": "VARCHAR",
    "via_gateway": "BOOLEAN", "text": "VARCHAR",
}  # fmt: skip


def default_path() -> Path:
    """Beside the gateway's embedded defaults (its audit store, its keys)."""
    from mageguard.gateway.config import data_dir_default

    return data_dir_default() / DEFAULT_NAME


@contextlib.contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not path.exists():
        raise InputError(f"{path}: no flow store (run `mageguard audit ingest` first)")
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        raise InputError(f"{path}: cannot open the flow store: {exc}") from None
    try:
        con.execute("SET enable_progress_bar = false")  # it would draw on our stdout
        if not read_only:
            con.execute(_SCHEMA)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class RecordWriter:
    """Buffers records as JSON lines in a temporary file and loads them with one
    read_json per batch: DuckDB's executemany costs far more per row."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch: int = 200_000) -> None:
        self._con, self._batch = con, batch
        self._rows: list[bytes] = []
        self.written = 0

    def add(self, source: int, fmt: str, record: Record, provider: tuple[str, str] | None) -> None:
        up_host, up_port = split_hostport(record.upstream) if record.upstream else (None, None)
        row: dict[str, Any] = {
            "source": source, "line": record.line, "fmt": fmt, "kind": record.kind,
            "ts": record.ts, "src": record.src, "host": record.host,
            "provider": provider[0] if provider else None,
            "provider_kind": provider[1] if provider else None,
            "dst_ip": record.dst_ip, "dst_port": record.dst_port,
            "bytes_out": record.bytes_out, "blocked": record.blocked,
            "upstream_host": up_host, "upstream_port": up_port, "conn_id": record.conn_id,
            "answer": record.answer, "via_gateway": record.via_gateway, "text": record.text,
        }  # fmt: skip
        self._rows.append(orjson.dumps(row))
        if len(self._rows) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        fd, name = tempfile.mkstemp(prefix="mageguard-records-", suffix=".jsonl")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"\n".join(self._rows))
            columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _COLUMNS.items()) + "}"
            self._con.execute(
                f"INSERT INTO records SELECT * FROM read_json(?, format='newline_delimited', "
                f"columns={columns})",
                [name],
            )
        finally:
            Path(name).unlink()
        self.written += len(self._rows)
        self._rows.clear()


def set_gateways(con: duckdb.DuckDBPyConnection, gateways: Sequence[str]) -> None:
    """Add gateway addresses (HOST or HOST:PORT); they are remembered for later queries."""
    for entry in gateways:
        host, port = split_hostport(entry.lower())
        con.execute(
            "INSERT INTO gateways SELECT ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM gateways WHERE host = ? AND port IS NOT DISTINCT FROM ?)",
            [host, port, host, port],
        )


def set_setting(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [name, value])


def setting(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
    return None if row is None else str(row[0])
