"""The key file: created private, refused when anyone else could read or change it, and
never quoted."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mageguard.audit.chain import KEY_BYTES, load_key
from mageguard.audit.errors import AuditKeyError
from mageguard.audit.store import AuditStore
from tests.audit.support import Target


def test_a_missing_key_file_is_created_private_with_32_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    key = load_key(path, create=True)
    assert len(key) == KEY_BYTES
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path, create=True) == key  # and read back, not replaced
    assert load_key(tmp_path / "other.key", create=True) != key
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temporary left


def test_a_missing_key_file_is_an_error_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="does not exist"):
        load_key(tmp_path / "audit.key", create=False)
    assert not (tmp_path / "audit.key").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666])
def test_a_key_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "audit.key"
    load_key(path, create=True)
    path.chmod(mode)
    with pytest.raises(AuditKeyError, match=f"open to group or others \\(mode {mode:04o}\\)"):
        load_key(path, create=True)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_a_key_file_of_the_wrong_size_is_refused(tmp_path: Path, size: int) -> None:
    path = tmp_path / "audit.key"
    path.write_bytes(b"k" * size)
    path.chmod(0o600)
    with pytest.raises(AuditKeyError, match="exactly 32 bytes"):
        load_key(path, create=True)


def test_a_directory_is_not_a_key_file(tmp_path: Path) -> None:
    (tmp_path / "audit.key").mkdir(mode=0o700)
    with pytest.raises(AuditKeyError):
        load_key(tmp_path / "audit.key", create=True)


def test_the_store_refuses_a_readable_key_before_touching_the_database(
    sqlite_target: Target,
) -> None:
    sqlite_target.key_file.write_bytes(bytes(range(32)))
    sqlite_target.key_file.chmod(0o644)
    with pytest.raises(AuditKeyError):
        sqlite_target.open()
    assert not Path(sqlite_target.dsn).exists()


def test_the_key_never_appears_in_a_message_or_repr(sqlite_target: Target) -> None:
    with sqlite_target.open() as store:
        key = sqlite_target.key_file.read_bytes()
        shown = repr(store) + repr(vars(store).keys())
    sqlite_target.key_file.write_bytes(bytes(32))
    with pytest.raises(AuditKeyError) as caught:
        AuditStore.open(sqlite_target.dsn, sqlite_target.key_file, sqlite_target.witness_file)
    for text in (shown, str(caught.value)):
        assert key.hex() not in text and repr(key) not in text
