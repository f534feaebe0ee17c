"""The audit store: what goes in comes back, the chain extends across handles and
processes, and the store refuses to be opened in ways that would hide evidence."""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mageguard.audit.chain import load_key
from mageguard.audit.errors import AuditKeyError, AuditStoreError
from mageguard.audit.events import AuditEvent
from mageguard.audit.store import AuditStore
from tests.audit.support import Target, append_in_process, event


def test_appended_events_read_back_equal_with_consecutive_seqs(target: Target) -> None:
    events = [event(n) for n in range(5)]
    with target.open() as store:
        assert store.append(events[:2]) == [1, 2]
        assert store.append(events[2:]) == [3, 4, 5]
        assert store.events() == list(enumerate(events, start=1))


def test_events_page_after_a_seq(target: Target) -> None:
    with target.open() as store:
        store.append([event(n) for n in range(10)])
        page = store.events(since_seq=4, limit=3)
    assert [seq for seq, _ in page] == [5, 6, 7]
    assert [e.request_id for _, e in page] == ["req-000004", "req-000005", "req-000006"]


def test_an_event_with_only_defaults_round_trips(sqlite_target: Target) -> None:
    bare = AuditEvent(ts=0, request_id="r1")
    with sqlite_target.open() as store:
        store.append([bare])
        assert store.events() == [(1, bare)]


def test_an_empty_batch_writes_nothing(sqlite_target: Target) -> None:
    with sqlite_target.open() as store:
        assert store.append([]) == []
        assert store.events() == []


def test_a_fresh_store_verifies(target: Target) -> None:
    with target.open() as store:
        report = store.verify()
    assert report.ok
    assert (report.records, report.checkpoints, report.problems) == (0, 0, ())
    assert report.first_bad_seq is None


def test_a_long_chain_with_checkpoints_verifies(target: Target) -> None:
    with target.open(checkpoint_every=1000) as store:
        for first in range(0, 5000, 250):
            store.append([event(n) for n in range(first, first + 250)])
        report = store.verify()
    assert report.ok, report.problems
    assert (report.records, report.checkpoints) == (5000, 5)


def test_reopening_the_store_continues_the_one_chain(target: Target) -> None:
    with target.open() as store:
        store.append([event(0), event(1)])
    with target.open() as store:
        assert store.append([event(2)]) == [3]
        report = store.verify()
    assert report.ok, report.problems
    assert report.records == 3


def test_close_checkpoints_the_head_in_the_store_and_the_witness_file(target: Target) -> None:
    with target.open(checkpoint_every=1000) as store:
        store.append([event(n) for n in range(7)])
    assert target.sql("SELECT seq FROM audit_checkpoints") == [(7,)]
    lines = target.witness_file.read_text().splitlines()
    assert len(lines) == 1 and '"seq":7' in lines[0]


def test_a_checkpoint_is_written_each_time_the_chain_crosses_checkpoint_every(
    sqlite_target: Target,
) -> None:
    with sqlite_target.open(checkpoint_every=10) as store:
        store.append([event(n) for n in range(9)])  # 1..9: none yet
        store.append([event(n) for n in range(9, 12)])  # 10..12: crosses 10
        store.append([event(n) for n in range(12, 35)])  # 13..35: crosses 20 and 30
        assert sqlite_target.sql("SELECT seq FROM audit_checkpoints ORDER BY seq") == [
            (12,),
            (35,),
        ]
        assert store.checkpoint() is None  # the head is already covered


def test_a_reader_that_appended_nothing_writes_no_checkpoint(sqlite_target: Target) -> None:
    with sqlite_target.open() as store:
        store.append([event(0)])
    with sqlite_target.open(create=False) as store:
        store.verify()
    assert sqlite_target.sql("SELECT COUNT(*) FROM audit_checkpoints") == [(1,)]
    assert len(sqlite_target.witness_file.read_text().splitlines()) == 1


def test_a_closed_store_refuses_calls(sqlite_target: Target) -> None:
    store = sqlite_target.open()
    store.close()
    store.close()  # twice is fine
    with pytest.raises(AuditStoreError, match="closed"):
        store.append([event(0)])


def test_sqlite_store_runs_in_wal_mode(sqlite_target: Target) -> None:
    with sqlite_target.open():
        assert sqlite_target.sql("PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize("spelling", ["{path}", "sqlite://{path}", "sqlite:///{path}"])
def test_sqlite_dsn_spellings_name_the_same_file(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "audit.db"
    dsn = spelling.format(path=path)  # path is absolute: "sqlite://" + "/tmp/..."
    with AuditStore.open(dsn, tmp_path / "k", tmp_path / "w") as store:
        store.append([event(0)])
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_events").fetchone() == (1,)


def test_verify_mode_needs_an_existing_store_and_creates_nothing(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    load_key(key, create=True)
    with pytest.raises(AuditStoreError, match="does not exist"):
        AuditStore.open(str(tmp_path / "audit.db"), key, tmp_path / "w", create=False)
    assert not (tmp_path / "audit.db").exists()


def test_verify_mode_on_a_missing_postgres_schema_is_an_error(postgres_target: Target) -> None:
    load_key(postgres_target.key_file, create=True)
    with pytest.raises(AuditStoreError, match="does not exist"):
        postgres_target.open(create=False)


def test_a_sqlite_file_with_other_tables_is_not_an_audit_store(tmp_path: Path) -> None:
    path = tmp_path / "magento.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE core_config_data (path TEXT, value TEXT)")
    with pytest.raises(AuditStoreError, match="not an audit store"):
        AuditStore.open(str(path), tmp_path / "k", tmp_path / "w")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    path.write_bytes(b"not a database at all, just some bytes " * 100)
    with pytest.raises(AuditStoreError, match=str(path)):
        AuditStore.open(str(path), tmp_path / "k", tmp_path / "w")


def test_a_search_path_in_the_dsn_selects_the_schema(postgres_target: Target) -> None:
    server, schema = postgres_target.postgres, postgres_target.schema
    assert server is not None and schema is not None
    with postgres_target.open() as store:  # creates the schema through `schema=`
        store.append([event(0)])
    dsn = server.dsn(schema=schema)
    with AuditStore.open(
        dsn, postgres_target.key_file, postgres_target.witness_file, create=False
    ) as store:
        assert [e.request_id for _, e in store.events()] == ["req-000000"]
        assert store.verify().ok


def test_the_location_never_shows_a_password(tmp_path: Path) -> None:
    dsn = "postgresql://auditor:s3cret-pw@127.0.0.1:1/test"
    with pytest.raises(AuditStoreError) as caught:
        AuditStore.open(dsn, tmp_path / "k", tmp_path / "w", timeout=1)
    assert "s3cret-pw" not in str(caught.value)
    assert "auditor@127.0.0.1:1/test" in str(caught.value)


def test_a_writer_refuses_a_key_the_store_was_not_written_with(target: Target) -> None:
    with target.open() as store:
        store.append([event(0)])
    target.key_file.write_bytes(bytes(32))
    with pytest.raises(AuditKeyError, match="not the key"):
        target.open()


def test_a_writer_refuses_a_store_behind_its_witness_file(sqlite_target: Target) -> None:
    with sqlite_target.open() as store:
        store.append([event(n) for n in range(5)])
    sqlite_target.sql("DELETE FROM audit_events WHERE seq > 3")
    with pytest.raises(
        AuditStoreError, match="ends at seq 3 but its witness file vouches for seq 5"
    ):
        sqlite_target.open()


def test_a_writer_refuses_a_database_that_replaced_the_witnessed_one(
    sqlite_target: Target,
) -> None:
    with sqlite_target.open() as store:
        store.append([event(0)])
    Path(sqlite_target.dsn).unlink()
    with pytest.raises(AuditStoreError, match="another store"):
        sqlite_target.open()


def test_two_processes_appending_at_once_build_one_valid_chain(target: Target) -> None:
    """Two gateway replicas sharing one store: every event lands once, the chain has no
    fork or gap, and each process's events keep their order."""
    with target.open():
        pass  # create store and key up front, as a deployment would
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Barrier(2)
    workers = [
        spawn.Process(target=append_in_process, args=(target, name, 600, 5, go))
        for name in ("replica-a", "replica-b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with target.open(create=False) as store:
        report = store.verify()
        records = store.events(limit=10_000)
    assert report.ok, report.problems
    assert report.records == 1200
    assert [seq for seq, _ in records] == list(range(1, 1201))
    writers = [e.request_id.split("-0")[0] for _, e in records]
    for name in ("replica-a", "replica-b"):
        mine = [e.request_id for _, e in records if e.request_id.startswith(name)]
        assert mine == [f"{name}-{n:05d}" for n in range(600)]
    switches = sum(1 for a, b in itertools.pairwise(writers) if a != b)
    assert switches >= 2, "the two processes did not append at the same time"
    assert report.checkpoints >= 12  # every 100 records, plus each replica's close
