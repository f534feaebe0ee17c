"""The real services tests talk to (DESIGN.md, "Real parts"), found or not found once.

A service that is not reachable skips the tests that need it, with the reason; under
CI=true it fails them instead, so that a CI run can never pass by skipping what it must
prove. Connection parameters come from MAGEGUARD_TEST_MARIADB_{HOST,PORT,USER,PASSWORD}.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

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
