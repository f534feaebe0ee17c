"""A store target per backend: a SQLite file, or a PostgreSQL schema of its own (so that
tests running in parallel never share a chain), dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from tests.audit.support import Target
from tests.helpers.services import require_postgres


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Target:
    return Target(
        "sqlite",
        str(tmp_path / "audit.db"),
        None,
        tmp_path / "audit.key",
        tmp_path / "audit.witness",
    )


@pytest.fixture
def postgres_target(tmp_path: Path) -> Iterator[Target]:
    """Skips when PostgreSQL is down; fails instead under CI=true."""
    server = require_postgres()
    schema = f"mageguard_audit_{secrets.token_hex(6)}"
    yield Target(
        "postgres",
        server.dsn(),
        schema,
        tmp_path / "audit.key",
        tmp_path / "audit.witness",
        postgres=server,
    )
    with server.connect() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest) -> Target:
    """The same behaviour, proved on both backends."""
    found: Target = request.getfixturevalue(f"{request.param}_target")
    return found
