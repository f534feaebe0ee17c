"""Connecting to a Magento database from a DSN: one home for parsing, masking and the
connection, shared by `scan --db`, the redaction dictionary and (later) `fix --apply`.

`mysql://user:pass@host[:port]/db[?prefix=mg_]` or `mariadb://...`; error messages never
contain the password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mageguard.errors import DatabaseError


@dataclass(frozen=True)
class Dsn:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    database: str
    prefix: str

    @property
    def shown(self) -> str:
        """The DSN as it may be printed: password replaced by ***."""
        login = f"{self.user}:***@" if self.password else f"{self.user}@" if self.user else ""
        text = f"{self.scheme}://{login}{self.host}:{self.port}/{self.database}"
        return text + (f"?prefix={self.prefix}" if self.prefix else "")


def is_dsn(text: str) -> bool:
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text))


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ***, even when the DSN does not parse."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*:).*@", r"\1***@", dsn, flags=re.S)


def parse_dsn(dsn: str) -> Dsn:
    masked, parts = mask_dsn(dsn), urlsplit(dsn)
    if parts.scheme.lower() not in ("mysql", "mariadb"):
        raise DatabaseError(f"unsupported DSN {masked}: use mysql://, mariadb:// or a dump path")
    if masked != dsn and parts.password is None:  # a raw "/", "?" or "#" cut the password
        raise DatabaseError(f"invalid DSN {masked}: percent-encode the password")
    try:
        port = parts.port or 3306
    except ValueError:
        raise DatabaseError(f"invalid DSN {masked}: bad port") from None
    host, database = parts.hostname or "", unquote(parts.path.lstrip("/"))
    options = dict(parse_qsl(parts.query))
    prefix = options.pop("prefix", "")
    if not host or not database or options or not re.fullmatch(r"\w*", prefix):
        raise DatabaseError(
            f"invalid DSN {masked}: expected {parts.scheme}://user:pass@host"
            ":port/db, optionally ?prefix=<table prefix>"
        )
    return Dsn(
        parts.scheme,
        host,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        database,
        prefix,
    )


def failure(dsn: Dsn, doing: str, exc: Exception) -> DatabaseError:
    text = str(exc.args[1] if len(exc.args) > 1 else exc)
    text = text.replace(dsn.password, "***") if dsn.password else text
    return DatabaseError(f"cannot {doing} {dsn.shown}: {' '.join(text.split())}")


def connect(dsn: Dsn, *, read_only: bool = True, **options: Any) -> Any:
    """A PyMySQL connection (utf8mb4); read-only sessions unless asked otherwise."""
    import contextlib

    import pymysql

    try:
        conn = pymysql.connect(
            host=dsn.host,
            port=dsn.port,
            user=dsn.user,
            password=dsn.password,
            database=dsn.database,
            charset="utf8mb4",
            connect_timeout=5,
            read_timeout=60,
            **options,
        )
    except (pymysql.MySQLError, RuntimeError) as exc:  # RuntimeError: an auth plugin
        raise failure(dsn, "connect to", exc) from None
    if read_only:
        with conn.cursor() as cur, contextlib.suppress(pymysql.MySQLError):
            cur.execute("SET SESSION TRANSACTION READ ONLY")
    return conn
