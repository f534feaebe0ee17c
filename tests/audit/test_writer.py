"""The writer the gateway records through: cheap to call, writes in the background, and
fails closed (record() raises) whenever an event might not reach the store."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest

from mageguard.audit.errors import AuditUnavailable
from mageguard.audit.store import AuditStore
from mageguard.audit.writer import AuditWriter
from tests.audit.support import Target, event

SECRET = "Jane Doe asked about order 100023"


@contextmanager
def locked(target: Target) -> Iterator[None]:
    """Another connection holds the SQLite write lock: the store cannot write."""
    with closing(sqlite3.connect(target.dsn, isolation_level=None)) as conn:
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def test_recorded_events_are_in_the_store_in_order_after_flush(target: Target) -> None:
    async def scenario() -> None:
        with target.open() as store:
            writer = AuditWriter(store, batch=16)
            await writer.start()
            for n in range(100):
                writer.record(event(n))
            await writer.flush()
            assert [e.request_id for _, e in store.events()] == [f"req-{n:06d}" for n in range(100)]
            assert writer.healthy and writer.written == 100
            await writer.aclose()
            assert store.verify().ok

    run(scenario)


def test_aclose_writes_what_is_queued_then_a_final_checkpoint(sqlite_target: Target) -> None:
    async def scenario() -> None:
        with sqlite_target.open(checkpoint_every=1000) as store:
            writer = AuditWriter(store)
            await writer.start()
            for n in range(10):
                writer.record(event(n))
            await writer.aclose()
            assert len(store.events()) == 10
            assert not writer.healthy
            with pytest.raises(AuditUnavailable, match="not running"):
                writer.record(event(10))
        assert sqlite_target.sql("SELECT seq FROM audit_checkpoints") == [(10,)]
        assert '"seq":10' in sqlite_target.witness_file.read_text()

    run(scenario)


def test_record_before_start_is_refused(sqlite_target: Target) -> None:
    with sqlite_target.open() as store:
        writer = AuditWriter(store)
        assert not writer.healthy
        with pytest.raises(AuditUnavailable, match="not running"):
            writer.record(event(0))


def test_a_full_queue_refuses_the_next_event(sqlite_target: Target) -> None:
    async def scenario() -> None:
        with sqlite_target.open(timeout=10) as store:
            writer = AuditWriter(store, max_queue=3)
            await writer.start()
            with locked(sqlite_target):
                for n in range(3):
                    writer.record(event(n))
                with pytest.raises(AuditUnavailable, match=r"queue is full \(3 events\)"):
                    writer.record(event(3))
            await writer.flush()
            assert len(store.events()) == 3
            writer.record(event(3))  # room again
            await writer.aclose()

    run(scenario)


def test_a_store_that_refuses_writes_closes_the_writer_until_it_takes_them_again(
    sqlite_target: Target,
) -> None:
    async def scenario() -> None:
        with sqlite_target.open(timeout=0.05) as store:
            writer = AuditWriter(store)
            await writer.start()
            with locked(sqlite_target):
                writer.record(event(0))
                await until(lambda: not writer.healthy)
                with pytest.raises(AuditUnavailable, match=r"refuses writes: .*locked"):
                    writer.record(event(1))
                with pytest.raises(AuditUnavailable, match="not written"):
                    await writer.flush()
            await until(lambda: writer.healthy)
            writer.record(event(2))
            await writer.flush()
            # the event queued before the outage was kept and written once
            assert [e.request_id for _, e in store.events()] == ["req-000000", "req-000002"]
            await writer.aclose()
            assert store.verify().ok

    run(scenario)


def test_an_event_that_is_not_metadata_only_is_dropped_and_the_writer_stays_closed(
    sqlite_target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        with sqlite_target.open() as store:
            writer = AuditWriter(store)
            await writer.start()
            writer.record(event(0))
            writer.record(event(1, reason=SECRET))
            writer.record(event(2))
            with pytest.raises(AuditUnavailable, match="not metadata only"):
                await writer.flush()
            assert [e.request_id for _, e in store.events()] == ["req-000000", "req-000002"]
            assert writer.dropped == 1 and not writer.healthy
            with pytest.raises(AuditUnavailable, match="not metadata only"):
                writer.record(event(3))
            await writer.aclose()

    with caplog.at_level(logging.ERROR, logger="mageguard.audit.writer"):
        run(scenario)
    assert "field 'reason'" in caplog.text
    assert SECRET not in caplog.text


def test_aclose_gives_up_on_a_store_that_stays_down(sqlite_target: Target) -> None:
    async def scenario() -> None:
        with sqlite_target.open(timeout=0.05) as store:
            writer = AuditWriter(store)
            await writer.start()
            with locked(sqlite_target):
                writer.record(event(0))
                with pytest.raises(AuditUnavailable, match="closed with 1 events unwritten"):
                    await writer.aclose(timeout=0.3)
            assert store.events() == []

    run(scenario)


def test_the_event_loop_runs_on_while_the_store_is_blocked(sqlite_target: Target) -> None:
    async def scenario() -> None:
        with sqlite_target.open(timeout=5) as store:
            writer = AuditWriter(store)
            await writer.start()
            with locked(sqlite_target):
                writer.record(event(0))
                started = time.perf_counter()
                for _ in range(10):
                    await asyncio.sleep(0.005)
                assert time.perf_counter() - started < 1.0
            await writer.aclose()
            assert len(store.events()) == 1

    run(scenario)


def test_record_costs_microseconds(sqlite_target: Target) -> None:
    events = [event(n) for n in range(20_000)]

    async def scenario() -> None:
        with sqlite_target.open() as store:
            writer = AuditWriter(store, max_queue=len(events))
            await writer.start()
            started = time.perf_counter()
            for one in events:
                writer.record(one)
            per_event = (time.perf_counter() - started) / len(events)
            await writer.aclose()
            assert writer.written == len(events)
        assert per_event < 25e-6, f"{per_event * 1e6:.1f} µs per record()"

    run(scenario)


def test_a_writer_can_only_be_started_once(sqlite_target: Target) -> None:
    async def scenario() -> None:
        with AuditStore.open(
            sqlite_target.dsn, sqlite_target.key_file, sqlite_target.witness_file
        ) as store:
            writer = AuditWriter(store)
            await writer.start()
            with pytest.raises(AuditUnavailable, match="already started"):
                await writer.start()
            await writer.aclose()

    run(scenario)
