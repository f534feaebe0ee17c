"""The two places an audit store lives: a SQLite file (the embedded default) or a
PostgreSQL schema that gateway replicas share.

Both speak the same SQL (written with `?` placeholders); what differs is how a write
transaction takes the chain's head for itself. SQLite's BEGIN IMMEDIATE takes the
database's one write lock; PostgreSQL locks the head row (SELECT ... FOR UPDATE), so two
processes appending at once queue on it and extend one chain. Driver errors become
AuditStoreError naming the store's location, never a password or a record's content.
"""

from __future__ import annotations

import math
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from mageguard.audit.errors import AuditStoreError

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Held while a store's tables are created, so that replicas starting together do not race
# on CREATE TABLE IF NOT EXISTS (which is not atomic in PostgreSQL).
_CREATE_LOCK = 0x6D67_6175_6469_7401  # "mgaudit" + 1


class Cursor(Protocol):
    def execute(self, query: str, params: Any = ..., /) -> Any: ...
    def executemany(self, query: str, params: Any, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


_TABLES = {
    "audit_meta": "name TEXT PRIMARY KEY, value TEXT NOT NULL",
    "audit_head": "id INTEGER PRIMARY KEY CHECK (id = 1), seq {int} NOT NULL, mac {blob} NOT NULL",
    "audit_events": "seq {int} PRIMARY KEY, body TEXT NOT NULL, mac {blob} NOT NULL",
    "audit_checkpoints": (
        "seq {int} PRIMARY KEY, head {blob} NOT NULL, ts {real} NOT NULL, mac {blob} NOT NULL"
    ),
}


class Database(ABC):
    location: str
    # appended to the SELECT that reads the head inside a write transaction
    lock_head: str = ""
    types: ClassVar[dict[str, str]]

    @abstractmethod
    def transaction(self, *, write: bool) -> Any:
        """A context manager yielding a Cursor inside one transaction. Write transactions
        serialise with every other writer of the store; read ones see one snapshot."""

    @abstractmethod
    def has_store(self, cur: Cursor) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    def insert_events(self, cur: Cursor, rows: list[tuple[int, str, bytes]]) -> None:
        cur.executemany("INSERT INTO audit_events (seq, body, mac) VALUES (?, ?, ?)", rows)

    def create_tables(self, cur: Cursor) -> None:
        for name, columns in _TABLES.items():
            cur.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns.format(**self.types)})")

    def _error(self, exc: Exception) -> AuditStoreError:
        return AuditStoreError(f"audit store {self.location}: {_describe(exc)}")


def connect(dsn: str, *, create: bool, schema: str | None, timeout: float) -> Database:
    if dsn.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(dsn, create=create, schema=schema, timeout=timeout)
    if schema is not None:
        raise AuditStoreError("a schema is a PostgreSQL option; a SQLite store is one file")
    path = dsn.removeprefix("sqlite://")
    if dsn.startswith("sqlite://") and path.startswith("//"):
        path = path[1:]  # sqlite:////abs/path, SQLAlchemy's spelling
    if not path:
        raise AuditStoreError(f"audit store {dsn!r} names no file")
    return SqliteDatabase(Path(path), create=create, timeout=timeout)


class SqliteDatabase(Database):
    types: ClassVar[dict[str, str]] = {"int": "INTEGER", "blob": "BLOB", "real": "REAL"}

    def __init__(self, path: Path, *, create: bool, timeout: float) -> None:
        self.location = str(path)
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.is_file():
                raise AuditStoreError(f"audit store {path} does not exist")
            uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Cursor]:
        try:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                raise
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.rollback()
            raise self._error(exc) from None

    def has_store(self, cur: Cursor) -> bool:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = {row[0] for row in cur.fetchall()}
        if names - set(_TABLES):
            raise AuditStoreError(f"{self.location} holds other tables: not an audit store")
        return "audit_meta" in names

    def close(self) -> None:
        self._conn.close()


class PostgresDatabase(Database):
    lock_head = " FOR UPDATE"
    types: ClassVar[dict[str, str]] = {"int": "BIGINT", "blob": "BYTEA", "real": "DOUBLE PRECISION"}

    def __init__(self, dsn: str, *, create: bool, schema: str | None, timeout: float) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise AuditStoreError("a schema name is lower-case letters, digits and _")
        self._dsn, self._schema, self._create, self._timeout = dsn, schema, create, timeout
        try:
            info = conninfo_to_dict(dsn)
        except psycopg.Error:
            raise AuditStoreError("the audit store's PostgreSQL DSN is malformed") from None
        where = f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
        user = f"{info['user']}@" if info.get("user") else ""
        self.location = f"postgresql://{user}{where}" + (f" (schema {schema})" if schema else "")
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=max(2, math.ceil(self._timeout))
            )
        except psycopg.Error as exc:
            raise self._error(exc) from None
        try:
            # a writer stuck behind a dead replica's lock gives up instead of hanging
            conn.execute(f"SET lock_timeout = {int(self._timeout * 1000)}")
            if self._schema is not None:
                self._use_schema(conn, self._schema)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from None
            raise
        return conn

    def _use_schema(self, conn: psycopg.Connection[Any], schema: str) -> None:
        if self._create:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
                create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
                conn.execute(create.format(sql.Identifier(schema)))
        else:
            found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if found.fetchone() is None:
                raise AuditStoreError(f"audit store {self.location} does not exist")
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Cursor]:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()  # the server restarted: try once more
        try:
            with self._conn.transaction(), self._conn.cursor() as raw:
                cur = _PgCursor(raw)
                if not write:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                yield cur
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def insert_events(self, cur: Cursor, rows: list[tuple[int, str, bytes]]) -> None:
        """COPY: a batch in one round trip, several times cheaper per row than INSERTs."""
        if not isinstance(cur, _PgCursor):
            raise TypeError("a PostgreSQL store writes through its own cursors")
        with cur.raw.copy("COPY audit_events (seq, body, mac) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def create_tables(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(?)", (_CREATE_LOCK,))
        super().create_tables(cur)

    def has_store(self, cur: Cursor) -> bool:
        cur.execute("SELECT to_regclass('audit_meta') IS NOT NULL")
        return bool(cur.fetchone()[0])

    def close(self) -> None:
        self._conn.close()


class _PgCursor:
    """psycopg's cursor with the `?` placeholders of the SQL both backends share."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self.raw = self._cur = cur

    def execute(self, query: str, params: Any = None, /) -> Any:
        return self._cur.execute(query.replace("?", "%s"), params)

    def executemany(self, query: str, params: Any, /) -> Any:
        return self._cur.executemany(query.replace("?", "%s"), params)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


def _describe(exc: Exception) -> str:
    """The driver's primary message only: PostgreSQL's DETAIL can quote a failing row."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    first = str(exc).strip().splitlines()
    return first[0] if first else type(exc).__name__
