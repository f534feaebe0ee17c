"""The real services tests talk to (DESIGN.md, "Real parts"), found or not found once.

A service that is not reachable skips the tests that need it, with the reason; under
CI=true it fails them instead, so that a CI run can never pass by skipping what it must
prove. Connection parameters come from MAGEGUARD_TEST_MARIADB_{HOST,PORT,USER,PASSWORD}
and MAGEGUARD_TEST_POSTGRES_{HOST,PORT,USER,PASSWORD,DATABASE}.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import psycopg
import pymysql
import pytest
from pymysql.constants import CLIENT


@dataclass(frozen=True)
class MariaDB:
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    def connect(self, database: str | None = None, **options: Any) -> pymysql.Connection[Any]:
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            connect_timeout=3,
            **options,
        )

    def load(self, database: str, sql: str) -> None:
        """Run a whole SQL file (a mysqldump) in `database`, as the mysql client would."""
        with self.connect(database, client_flag=CLIENT.MULTI_STATEMENTS) as conn:
            with conn.cursor() as cur:
                cur.execute(sql)
                while cur.nextset():
                    pass
            conn.commit()

    def dsn(self, database: str, scheme: str = "mysql") -> str:
        login = quote(self.user, safe="")
        login += f":{quote(self.password, safe='')}" if self.password else ""
        return f"{scheme}://{login}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class Postgres:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "test"

    def dsn(self, *, schema: str | None = None) -> str:
        """A libpq URI; `schema` goes into its search_path (options=-csearch_path=...)."""
        login = quote(self.user, safe="")
        login += f":{quote(self.password, safe='')}" if self.password else ""
        dsn = f"postgresql://{login}@{self.host}:{self.port}/{self.database}"
        if schema is not None:
            dsn += "?options=" + quote(f"-csearch_path={schema}", safe="")
        return dsn

    def connect(self, *, schema: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(schema=schema), autocommit=True, connect_timeout=3)


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: the one place that decides."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(reason)


def require_mariadb() -> MariaDB:
    """The local MariaDB's connection parameters, once it answered a connection."""
    env = os.environ.get
    server = MariaDB(
        env("MAGEGUARD_TEST_MARIADB_HOST", "127.0.0.1"),
        int(env("MAGEGUARD_TEST_MARIADB_PORT", "3306")),
        env("MAGEGUARD_TEST_MARIADB_USER", "root"),
        env("MAGEGUARD_TEST_MARIADB_PASSWORD", ""),
    )
    try:
        server.connect().close()
    except pymysql.MySQLError as exc:
        unavailable(
            f"MariaDB is not reachable at {server.host}:{server.port} as "
            f"{server.user}: {exc.args[-1]}"
        )
    return server


def require_postgres() -> Postgres:
    """The local PostgreSQL's connection parameters, once it answered a connection."""
    env = os.environ.get
    server = Postgres(
        env("MAGEGUARD_TEST_POSTGRES_HOST", "127.0.0.1"),
        int(env("MAGEGUARD_TEST_POSTGRES_PORT", "5432")),
        env("MAGEGUARD_TEST_POSTGRES_USER", "postgres"),
        env("MAGEGUARD_TEST_POSTGRES_PASSWORD", ""),
        env("MAGEGUARD_TEST_POSTGRES_DATABASE", "test"),
    )
    try:
        server.connect().close()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()
        unavailable(
            f"PostgreSQL is not reachable at {server.host}:{server.port}/{server.database} as "
            f"{server.user}: {first[0] if first else type(exc).__name__}"
        )
    return server


def require_redis() -> str:
    """A Redis URL on a database of its own per xdist worker (1..15), emptied first."""
    import redis

    url = os.environ.get("MAGEGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    db = 1 + (int(worker) if worker.isdigit() else 0) % 15
    full = f"{url.rstrip('/')}/{db}"
    try:
        client = redis.Redis.from_url(full, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable at {url}: {exc}")
    return full
