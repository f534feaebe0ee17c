"""Fixtures shared by every test package: the real services (see tests/helpers/services.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.helpers.services import MariaDB, require_mariadb

if TYPE_CHECKING:  # imported by the fixture: aiohttp only for the tests that use it
    from tests.helpers.stub_upstream import StubUpstream


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


@pytest.fixture(scope="session")
def _stub_upstream_server() -> Iterator[StubUpstream]:
    from tests.helpers.stub_upstream import running_stub

    yield from running_stub()


@pytest.fixture
def stub_upstream(_stub_upstream_server: StubUpstream) -> Iterator[StubUpstream]:
    """The stub model server (tests/helpers/stub_upstream.py): `.url`, `.requests`
    (every request it received, for proofs of what left the gateway), `.answer`."""
    _stub_upstream_server.clear()
    yield _stub_upstream_server
    _stub_upstream_server.clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    """llama_cpp opens two /dev/null files at import and never closes them; under this
    suite's warnings-are-errors filter the interpreter's exit reports each one."""
    import sys

    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None:
            handle.close()
