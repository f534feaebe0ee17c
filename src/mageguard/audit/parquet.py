"""The flow store as Parquet, for fleets: each host exports its store, and the same SQL
that `audit flows` and `audit incidents` run over one DuckDB file runs over any number of
exports at once (a directory each, local or on shared storage).

An export is one Parquet file per table. Source ids are numbered per store, so they are
exported prefixed with the store's label (`shop-1:3`): records of one host never join the
sources of another. Read together, an Incident keeps the earliest moment any store became
aware of it; the clocks of GDPR Art. 33 and NIS2 Art. 23 start then.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from mageguard.errors import InputError

TABLES = ("sources", "records", "gateways", "tenants", "settings", "incidents")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# What a table is when several exports are read as one.
_UNION = {
    "incidents": "SELECT id, min(aware_at) AS aware_at FROM {src} GROUP BY id",
    "settings": "SELECT name, min(value) AS value FROM {src} GROUP BY name",
    "gateways": "SELECT DISTINCT * FROM {src}",
    "tenants": "SELECT DISTINCT * FROM {src}",
}


def default_label() -> str:
    """This host's name, reduced to what a label may hold."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip("-.")
    return name[:64] or "store"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export(con: duckdb.DuckDBPyConnection, directory: Path, label: str) -> list[Path]:
    """Write every table of the store at `con` to `directory/<table>.parquet`. Each file
    is written beside its final name and renamed, so a reader never sees half a table."""
    if not _LABEL.fullmatch(label):
        raise InputError(
            f"label {label!r}: letters, digits, '.', '_' and '-' only (at most 64), "
            "starting with a letter or digit"
        )
    prefix = f"'{label}:' || CAST({{column}} AS VARCHAR) AS {{column}}"
    queries = {
        "sources": f"SELECT * REPLACE ({prefix.format(column='id')}) FROM sources",
        "records": f"SELECT * REPLACE ({prefix.format(column='source')}) FROM records",
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {directory}: {exc.strerror}") from None
    written = []
    for table in TABLES:
        final = directory / f"{table}.parquet"
        partial = directory / f".{table}.parquet.partial"
        query = queries.get(table, f"SELECT * FROM {table}")
        try:
            con.execute(f"COPY ({query}) TO {_literal(partial)} (FORMAT PARQUET)")
            partial.replace(final)
        except (duckdb.Error, OSError) as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise InputError(f"cannot write {final}: {exc}") from None
        written.append(final)
    return written


@contextlib.contextmanager
def connect(directories: Sequence[Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB whose tables are views over the exports in `directories`:
    what `flowdb.connect` gives for one store, for the whole fleet."""
    if not directories:
        raise InputError("no Parquet export given")
    files = {t: [d / f"{t}.parquet" for d in directories] for t in TABLES}
    missing = next((p for paths in files.values() for p in paths if not p.is_file()), None)
    if missing is not None:
        raise InputError(
            f"{missing.parent}: not a flow-store export ({missing.name} is missing; "
            "write one with `mageguard audit export`)"
        )
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        for table, paths in files.items():
            src = "read_parquet([" + ", ".join(_literal(p) for p in paths) + "])"
            view = _UNION.get(table, "SELECT * FROM {src}").format(src=src)
            con.execute(f"CREATE VIEW {table} AS {view}")
        yield con
    except duckdb.Error as exc:
        raise InputError(f"cannot read the Parquet export: {exc}") from None
    finally:
        con.close()
