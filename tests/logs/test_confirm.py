"""`logs scrub --confirm`: originals are replaced only while they are exactly what was
scrubbed, each kept in the backup directory first; nothing is lost by accident."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from mageguard.logs import confirm as confirm_module
from mageguard.logs import manifest
from mageguard.logs.confirm import ConfirmStatus, backup_path, confirm_file, confirm_logs
from mageguard.logs.discovery import LogFile
from mageguard.logs.manifest import copy_path, manifest_path
from mageguard.logs.scrub import scrub_file, scrub_logs
from mageguard.redact.engine import Redactor

LOG = "var/log/system.log"


@pytest.fixture
def scrubbed(store: Path, redactor: Redactor) -> Path:
    log = store / LOG
    log.chmod(0o640)
    scrub_file(LogFile(log, "log"), redactor)
    return log


def test_confirm_replaces_the_original_and_keeps_it_in_the_backup(
    scrubbed: Path, tmp_path: Path
) -> None:
    original, redacted = scrubbed.read_bytes(), copy_path(scrubbed).read_bytes()
    st = scrubbed.stat()
    result = confirm_file(scrubbed, tmp_path / "backup")
    assert result.status is ConfirmStatus.REPLACED and result.late_bytes == 0
    assert scrubbed.read_bytes() == redacted
    assert result.backup == tmp_path / "backup" / str(scrubbed.resolve()).lstrip("/")
    assert result.backup.read_bytes() == original
    assert not copy_path(scrubbed).exists() and not manifest_path(scrubbed).exists()
    now = scrubbed.stat()
    assert (now.st_mode, now.st_uid, now.st_gid, now.st_mtime_ns) == (
        st.st_mode,
        st.st_uid,
        st.st_gid,
        st.st_mtime_ns,
    )
    assert result.backup.stat().st_mode & 0o777 == 0o600  # it holds the unredacted log


def test_the_backup_restores_the_original_byte_for_byte(
    store: Path, redactor: Redactor, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    scrub_logs([store], redactor)
    results = confirm_logs([store], tmp_path / "backup")
    replaced = [r for r in results if r.status is ConfirmStatus.REPLACED]
    assert len(replaced) == 6
    for r in replaced:
        assert r.backup is not None
        assert r.path.read_bytes() != before[r.path]
        shutil.copyfile(r.backup, r.path)
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


def test_an_original_that_changed_since_scrub_is_not_replaced(
    scrubbed: Path, tmp_path: Path
) -> None:
    st = scrubbed.stat()
    data = bytearray(scrubbed.read_bytes())
    data[0:1] = b"{"  # same size, same mtime: only the digest can tell
    scrubbed.write_bytes(bytes(data))
    os.utime(scrubbed, ns=(st.st_atime_ns, st.st_mtime_ns))
    result = confirm_file(scrubbed, tmp_path / "backup")
    assert result.status is ConfirmStatus.CHANGED
    assert scrubbed.read_bytes() == bytes(data)
    assert copy_path(scrubbed).exists() and not (tmp_path / "backup").exists()


def test_an_original_that_grew_is_still_being_written_and_is_skipped(
    scrubbed: Path, tmp_path: Path
) -> None:
    line = "[2024-05-01T08:16:00+00:00] main.INFO: new line\n"
    with scrubbed.open("a") as f:
        f.write(line)
    grown = scrubbed.read_bytes()
    result = confirm_file(scrubbed, tmp_path / "backup")
    assert result.status is ConfirmStatus.GROWING
    assert f"grew by {len(line)} bytes" in (result.message or "")
    assert scrubbed.read_bytes() == grown


def test_a_replaced_file_of_the_same_name_is_not_overwritten(
    scrubbed: Path, tmp_path: Path
) -> None:
    content = scrubbed.read_bytes()
    scrubbed.rename(scrubbed.with_name("system.log.1"))  # rotated, a new one created
    scrubbed.write_bytes(content)
    result = confirm_file(scrubbed, tmp_path / "backup")
    assert result.status is ConfirmStatus.CHANGED and scrubbed.read_bytes() == content


def test_a_damaged_copy_is_not_used(scrubbed: Path, tmp_path: Path) -> None:
    original = scrubbed.read_bytes()
    with copy_path(scrubbed).open("a") as f:
        f.write("edited by hand\n")
    assert confirm_file(scrubbed, tmp_path / "b").status is ConfirmStatus.COPY_DAMAGED
    copy_path(scrubbed).unlink()
    assert confirm_file(scrubbed, tmp_path / "b").status is ConfirmStatus.COPY_DAMAGED
    manifest_path(scrubbed).write_text("not json")
    assert confirm_file(scrubbed, tmp_path / "b").status is ConfirmStatus.COPY_DAMAGED
    assert scrubbed.read_bytes() == original


def test_a_log_never_scrubbed_has_nothing_to_confirm(store: Path, tmp_path: Path) -> None:
    log = store / "var/log/cron.log"
    assert confirm_file(log, tmp_path / "b").status is ConfirmStatus.NO_COPY


def test_without_a_backup_directory_nothing_is_kept(scrubbed: Path) -> None:
    redacted = copy_path(scrubbed).read_bytes()
    result = confirm_file(scrubbed, None)
    assert result.status is ConfirmStatus.REPLACED and result.backup is None
    assert scrubbed.read_bytes() == redacted


def test_an_earlier_backup_is_never_overwritten(
    store: Path, redactor: Redactor, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backup"
    log = store / LOG
    first = backup_path(backup_dir, log)
    first.parent.mkdir(parents=True)
    first.write_bytes(b"an earlier backup\n")
    scrub_file(LogFile(log, "log"), redactor)
    original = log.read_bytes()
    result = confirm_file(log, backup_dir)
    assert result.backup == first.with_name("system.log.1")
    assert result.backup.read_bytes() == original
    assert first.read_bytes() == b"an earlier backup\n"


def test_gzip_round_trip(tmp_path: Path, redactor: Redactor) -> None:
    log = tmp_path / "logs" / "system.log.2.gz"
    log.parent.mkdir()
    original = gzip.compress(b"login ana@example.com\n")
    log.write_bytes(original)
    scrub_file(LogFile(log, "log"), redactor)
    result = confirm_file(log, tmp_path / "backup")
    assert gzip.decompress(log.read_bytes()) == b"login [EMAIL]\n"
    assert result.backup is not None and result.backup.read_bytes() == original


def _writer_keeps_writing_after_the_rename(
    monkeypatch: pytest.MonkeyPatch, log: Path, late: bytes
) -> None:
    """PHP-FPM holds the log open: after the rename its writes land in the old inode."""
    handle = log.open("ab")

    def fsync_dir(directory: Path) -> None:
        if directory == log.parent and not handle.closed:
            handle.write(late)
            handle.close()
        manifest.fsync_dir(directory)

    monkeypatch.setattr(confirm_module, "fsync_dir", fsync_dir)


def test_bytes_written_during_the_replace_go_to_the_backup(
    scrubbed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = scrubbed.read_bytes()
    late = b"[2024-05-01T08:16:00+00:00] main.INFO: late ana@example.com\n"
    _writer_keeps_writing_after_the_rename(monkeypatch, scrubbed, late)
    result = confirm_file(scrubbed, tmp_path / "backup")
    assert result.status is ConfirmStatus.REPLACED and result.late_bytes == len(late)
    assert result.backup is not None and result.late_path == result.backup
    assert result.backup.read_bytes() == original + late


def test_without_a_backup_late_bytes_are_still_kept(
    scrubbed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = b"late line\n"
    _writer_keeps_writing_after_the_rename(monkeypatch, scrubbed, late)
    result = confirm_file(scrubbed, None)
    assert result.late_path == scrubbed.with_name("system.log.mageguard-late")
    assert result.late_path.read_bytes() == late


def test_the_backup_directory_is_never_scanned_as_logs(store: Path, redactor: Redactor) -> None:
    backup_dir = store / "var/log/backup"
    scrub_logs([store / "var/log"], redactor)
    first = confirm_logs([store / "var/log"], backup_dir)
    assert first and all(r.path.parent == store / "var/log" for r in first)
    again = scrub_logs([store / "var/log"], redactor, exclude=[backup_dir])
    assert all(r.path.parent == store / "var/log" for r in again)


def test_a_symlinked_log_is_redacted_where_its_bytes_are(
    tmp_path: Path, redactor: Redactor
) -> None:
    target = tmp_path / "shared" / "system.log"
    target.parent.mkdir()
    target.write_text("login ana@example.com\n")
    log_dir = tmp_path / "var" / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "system.log").symlink_to(target)
    scrub_logs([log_dir], redactor)
    assert copy_path(target).exists() and not copy_path(log_dir / "system.log").exists()
    (result,) = confirm_logs([log_dir], tmp_path / "backup")
    assert result.status is ConfirmStatus.REPLACED and result.path == log_dir / "system.log"
    assert (log_dir / "system.log").is_symlink()
    assert target.read_text() == "login [EMAIL]\n"
