"""`mageguard audit verify`: 0 intact, 1 tampered (with the problems listed), 2 when the
store or its key cannot be read."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit.chain import load_key
from mageguard.audit.verify import verify_command
from tests.audit.support import Target, event


def filled(target: Target) -> None:
    with target.open() as store:
        store.append([event(n) for n in range(4)])


def test_an_intact_store_exits_0(sqlite_target: Target) -> None:
    filled(sqlite_target)
    code, message = verify_command(
        sqlite_target.dsn, sqlite_target.key_file, sqlite_target.witness_file
    )
    assert code == 0
    assert message == (
        f"audit store {sqlite_target.dsn}: 4 records, 1 checkpoints; the chain is intact"
    )


def test_a_tampered_store_exits_1_listing_the_problems(sqlite_target: Target) -> None:
    filled(sqlite_target)
    sqlite_target.sql("DELETE FROM audit_events WHERE seq = 2")
    code, message = verify_command(
        sqlite_target.dsn, sqlite_target.key_file, sqlite_target.witness_file
    )
    assert code == 1
    assert message.splitlines() == [
        f"audit store {sqlite_target.dsn}: 3 records, 1 checkpoints; TAMPERED: 1 problem(s), "
        "first bad record 2",
        "  - record 2 missing (deleted?); record 3 cannot be chained",
    ]


def test_a_missing_store_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    load_key(tmp_path / "audit.key", create=True)
    code, message = verify_command(
        str(tmp_path / "audit.db"), tmp_path / "audit.key", tmp_path / "audit.witness"
    )
    assert code == 2
    assert message == f"audit verify: audit store {tmp_path / 'audit.db'} does not exist"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]


def test_a_missing_key_file_exits_2(tmp_path: Path) -> None:
    code, message = verify_command(
        str(tmp_path / "audit.db"), tmp_path / "audit.key", tmp_path / "audit.witness"
    )
    assert code == 2
    assert message == f"audit verify: audit key file {tmp_path / 'audit.key'} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_open_to_others_exits_2(sqlite_target: Target) -> None:
    filled(sqlite_target)
    sqlite_target.key_file.chmod(0o644)
    code, message = verify_command(
        sqlite_target.dsn, sqlite_target.key_file, sqlite_target.witness_file
    )
    assert code == 2
    assert "open to group or others" in message


def test_a_postgres_store_named_by_its_dsn_alone_verifies(postgres_target: Target) -> None:
    filled(postgres_target)
    assert postgres_target.postgres is not None
    dsn = postgres_target.postgres.dsn(schema=postgres_target.schema)
    code, message = verify_command(dsn, postgres_target.key_file, postgres_target.witness_file)
    assert (code, message.endswith("4 records, 1 checkpoints; the chain is intact")) == (0, True)
