"""What verify catches. Each test tampers the way someone with database (or file) access
would, with raw SQL behind the store's back, and expects the problem at the right seq."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mageguard.audit.errors import AuditStoreError
from mageguard.audit.integrity import VerifyReport
from tests.audit.support import Target, event

DECISION_ALLOWED = '"decision":"allowed"'
DECISION_BLOCKED = '"decision":"blocked"'


def filled(target: Target, count: int = 10, **options: int) -> None:
    with target.open(**options) as store:
        store.append([event(n) for n in range(count)])


def verify(target: Target) -> VerifyReport:
    with target.open(create=False) as store:
        return store.verify()


def test_an_untouched_store_verifies(target: Target) -> None:
    filled(target)
    report = verify(target)
    assert report == VerifyReport(True, 10, 1, (), None)


def test_a_changed_field_is_found_at_its_seq(target: Target) -> None:
    filled(target)
    target.sql(
        "UPDATE audit_events SET body = replace(body, ?, ?) WHERE seq = 6",
        (DECISION_ALLOWED, DECISION_BLOCKED),
    )
    report = verify(target)
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.problems == ("record 6 was changed: its MAC does not match",)


def test_two_swapped_records_are_both_found(target: Target) -> None:
    filled(target)
    (three,), (four,) = target.sql("SELECT body FROM audit_events WHERE seq IN (3, 4) ORDER BY seq")
    target.sql("UPDATE audit_events SET body = ? WHERE seq = 3", (four,))
    target.sql("UPDATE audit_events SET body = ? WHERE seq = 4", (three,))
    report = verify(target)
    assert report.first_bad_seq == 3
    assert report.problems == (
        "record 3 was changed: its MAC does not match",
        "record 4 was changed: its MAC does not match",
    )


def test_a_mac_copied_from_another_record_does_not_pass(target: Target) -> None:
    filled(target)
    target.sql(
        "UPDATE audit_events SET mac = (SELECT mac FROM audit_events WHERE seq = 2) WHERE seq = 5"
    )
    report = verify(target)
    assert report.first_bad_seq == 5
    assert "record 5 was changed: its MAC does not match" in report.problems


def test_a_deleted_middle_record_is_found_at_its_seq(target: Target) -> None:
    filled(target)
    target.sql("DELETE FROM audit_events WHERE seq = 4")
    report = verify(target)
    assert report.first_bad_seq == 4
    assert report.records == 9
    assert report.problems == ("record 4 missing (deleted?); record 5 cannot be chained",)


def test_deleted_records_at_the_start_are_found(target: Target) -> None:
    filled(target)
    target.sql("DELETE FROM audit_events WHERE seq <= 3")
    report = verify(target)
    assert report.first_bad_seq == 1
    assert report.problems == ("records 1 to 3 missing (deleted?); record 4 cannot be chained",)


def test_a_cut_tail_is_found_by_head_checkpoint_and_witness(target: Target) -> None:
    filled(target)  # closing checkpointed seq 10
    target.sql("DELETE FROM audit_events WHERE seq > 7")
    report = verify(target)
    assert report.first_bad_seq == 8
    assert report.records == 7
    assert report.problems == (
        "the head says seq 10 but records end at 7: records 8 to 10 were removed",
        "checkpoint vouches for seq 10 but records end at 7: records 8 to 10 were removed "
        "(truncated)",
        "witness line 1 vouches for seq 10 but records end at 7: records 8 to 10 were removed "
        "(truncated)",
    )


def test_a_cut_tail_covered_up_in_the_database_is_still_found_by_the_witness(
    target: Target,
) -> None:
    """The thorough intruder also moves the head back and deletes the checkpoints that
    would give the cut away: only the witness file, outside the database, still knows."""
    filled(target)
    target.sql("DELETE FROM audit_events WHERE seq > 7")
    target.sql("UPDATE audit_head SET seq = 7, mac = (SELECT mac FROM audit_events WHERE seq = 7)")
    target.sql("DELETE FROM audit_checkpoints WHERE seq > 7")
    report = verify(target)
    assert report.first_bad_seq == 8
    assert report.problems == (
        "witness line 1 vouches for seq 10 but records end at 7: records 8 to 10 were removed "
        "(truncated)",
    )


def test_a_restored_older_copy_of_the_database_is_found(sqlite_target: Target) -> None:
    filled(sqlite_target, 5)
    backup = Path(sqlite_target.dsn).with_name("backup.db")
    shutil.copy(sqlite_target.dsn, backup)
    with sqlite_target.open() as store:
        store.append([event(n) for n in range(5, 9)])
    backup.replace(sqlite_target.dsn)
    report = verify(sqlite_target)
    assert report.first_bad_seq == 6
    assert report.problems == (
        "witness line 2 vouches for seq 9 but records end at 5: records 6 to 9 were removed "
        "(truncated)",
    )


def test_a_replaced_database_is_found_by_the_witness(target: Target) -> None:
    filled(target)
    for table in ("audit_events", "audit_checkpoints", "audit_head", "audit_meta"):
        target.sql(f"DROP TABLE {table}")
    # the intruder rebuilds a clean-looking store with the same key, witnessed elsewhere
    elsewhere = replace(target, witness_file=target.witness_file.with_name("elsewhere"))
    with elsewhere.open() as store:
        store.append([event(0)])
    report = verify(target)
    assert not report.ok
    assert report.problems == (
        "witness line 1 belongs to another store (was the database replaced?)",
    )


def test_a_changed_checkpoint_is_reported_as_forged(target: Target) -> None:
    filled(target)
    target.sql("UPDATE audit_checkpoints SET ts = ts + 3600")
    report = verify(target)
    assert report.first_bad_seq == 10
    assert report.problems == ("checkpoint at seq 10 is forged or was changed",)


def test_a_checkpoint_moved_to_another_seq_is_found(target: Target) -> None:
    with target.open(checkpoint_every=10) as store:
        for first in (0, 10, 20):
            store.append([event(n) for n in range(first, first + 10)])
    target.sql("UPDATE audit_checkpoints SET seq = 15 WHERE seq = 20")
    report = verify(target)
    assert report.first_bad_seq == 15
    assert "checkpoint at seq 15 is forged or was changed" in report.problems
    assert "witness line 2: the store lost its checkpoint at seq 20" in report.problems


def test_a_changed_witness_line_is_reported_as_forged(sqlite_target: Target) -> None:
    filled(sqlite_target)
    text = sqlite_target.witness_file.read_text()
    sqlite_target.witness_file.write_text(text.replace('"seq":10', '"seq":9'))
    report = verify(sqlite_target)
    assert report.problems == ("witness line 1 at seq 9 is forged or was changed",)


def test_an_unreadable_witness_line_is_reported(sqlite_target: Target) -> None:
    filled(sqlite_target)
    with sqlite_target.witness_file.open("a") as f:
        f.write('{"seq": 11, "half a line\n')
    report = verify(sqlite_target)
    assert report.problems == ("witness line 2 is not a checkpoint",)


def test_a_missing_witness_file_is_reported_once_checkpoints_exist(sqlite_target: Target) -> None:
    filled(sqlite_target)
    sqlite_target.witness_file.unlink()
    report = verify(sqlite_target)
    assert report.problems == ("the witness file is missing: a cut tail cannot be ruled out",)
    assert report.first_bad_seq is None


def test_a_swapped_key_file_is_reported_and_nothing_else(target: Target) -> None:
    filled(target)
    target.key_file.write_bytes(os.urandom(32))
    report = verify(target)
    assert report.records == 10
    assert report.first_bad_seq == 1
    assert report.problems == (
        "the key file is not the key this store was written with: nothing can be verified",
    )


def test_problems_and_errors_never_quote_event_content(sqlite_target: Target) -> None:
    filled(sqlite_target)
    sqlite_target.sql(
        "UPDATE audit_events SET body = replace(body, 'website_base', 'jane.doe@example.com') "
        "WHERE seq = 2"
    )
    sqlite_target.sql("UPDATE audit_events SET body = 'jane.doe@example.com' WHERE seq = 3")
    report = verify(sqlite_target)
    assert report.first_bad_seq == 2
    assert not any("jane" in problem for problem in report.problems)
    with sqlite_target.open(create=False) as store, pytest.raises(AuditStoreError) as caught:
        store.events(since_seq=2)
    assert str(caught.value) == "record 3 does not hold an audit event"
