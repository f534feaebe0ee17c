"""Fixtures shared by every test package: the real services (see tests/helpers/services.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.services import MariaDB, require_mariadb


@pytest.fixture
def mariadb() -> MariaDB:
    """The local MariaDB; skips when it is down (fails under CI=true)."""
    return require_mariadb()


@pytest.fixture
def mariadb_database(mariadb: MariaDB) -> Iterator[str]:
    """A fresh, empty database on the local MariaDB, dropped after the test."""
    name = f"mageguard_test_{secrets.token_hex(6)}"
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield name
    finally:
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
