"""`mageguard logs scrub --confirm`: replace each original by its redacted copy, losing
nothing by accident.

For each log with a manifest (see manifest.py), in this order:
1. the copy must be intact: its size and SHA-256 are those the manifest recorded;
2. the original must be the file the copy was made from: same inode, size, mtime and
   SHA-256. A file that grew is still being written: skipped, reported, try again later
   (or scrub its rotated copy). A file that changed otherwise: skipped;
3. with a backup directory, the original's bytes are copied there first (mirroring its
   absolute path; an existing backup is never overwritten) and verified against the
   manifest's SHA-256;
4. the copy takes the original's mode, owner (when allowed) and times, then replaces it
   with one atomic rename;
5. the original stays open during all this, so bytes that a writer appended after the
   check (into the old inode) are read back and appended to the backup, or without one
   kept in `<file>.mageguard-late`, and reported. A writer that keeps its handle open
   after that writes into the unlinked old file: confirm when writers are quiet.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from mageguard.logs.discovery import LATE_SUFFIX, LogFile, discover
from mageguard.logs.manifest import Manifest, copy_path, digest, fsync_dir, manifest_path
from mageguard.logs.scan import read_error


class ConfirmStatus(enum.StrEnum):
    REPLACED = "replaced"
    NO_COPY = "no-copy"  # never scrubbed, or clean
    CHANGED = "changed"  # the original is not what the copy was made from
    GROWING = "growing"  # the original grew: still being written
    COPY_DAMAGED = "copy-damaged"  # the copy or its manifest is not what scrub wrote
    ERROR = "error"


@dataclass(frozen=True)
class ConfirmResult:
    path: Path
    status: ConfirmStatus
    backup: Path | None = None
    late_bytes: int = 0
    late_path: Path | None = None
    message: str | None = None


def backup_path(backup_dir: Path, original: Path) -> Path:
    """`backup_dir` + the original's absolute path; `.1`, `.2`... when taken already."""
    absolute = original.resolve()
    target = backup_dir.joinpath(*absolute.parts[1:])
    n = 0
    candidate = target
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.{n}")
    return candidate


def _copy_exactly(src: IO[bytes], size: int, dest: Path) -> str:
    """Copy `size` bytes from the start of `src` to a new file `dest` (owner-only: it holds
    the unredacted log); their sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".tmp")
    src.seek(0)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            copied = 0
            h = hashlib.sha256()
            while copied < size:
                chunk = src.read(min(1 << 20, size - copied))
                if not chunk:
                    break
                h.update(chunk)
                out.write(chunk)
                copied += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if copied != size:
            raise OSError(f"read {copied} of {size} bytes")
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    return h.hexdigest()


def _take_over(copy: Path, st: os.stat_result) -> str | None:
    """Give the copy the original's mode, owner and times; a note when the owner cannot
    be kept (Magento must still be able to write its log)."""
    copy.chmod(st.st_mode & 0o7777)
    note = None
    own = copy.stat()
    if (own.st_uid, own.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.chown(copy, st.st_uid, st.st_gid)
        except PermissionError:
            note = f"owner could not be kept (uid {st.st_uid}, gid {st.st_gid})"
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    return note


def confirm_file(path: Path, backup_dir: Path | None) -> ConfirmResult:
    real = path.resolve()  # a symlink's target is what scrub redacted
    copy, manifest_file = copy_path(real), manifest_path(real)
    if not manifest_file.exists():
        return ConfirmResult(path, ConfirmStatus.NO_COPY)
    try:
        manifest = Manifest.read(manifest_file)
    except (OSError, ValueError) as exc:
        return ConfirmResult(path, ConfirmStatus.COPY_DAMAGED, message=f"manifest: {exc}")
    try:
        with copy.open("rb") as f:
            copy_size, copy_sha = digest(f)
    except FileNotFoundError:
        return ConfirmResult(path, ConfirmStatus.COPY_DAMAGED, message="redacted copy missing")
    except OSError as exc:
        return ConfirmResult(path, ConfirmStatus.ERROR, message=read_error(exc))
    if (copy_size, copy_sha) != (manifest.copy_size, manifest.copy_sha256):
        return ConfirmResult(
            path, ConfirmStatus.COPY_DAMAGED, message="redacted copy changed since scrub"
        )
    try:
        with real.open("rb") as original:
            result = _replace(real, original, manifest, copy, manifest_file, backup_dir)
    except OSError as exc:
        return ConfirmResult(path, ConfirmStatus.ERROR, message=read_error(exc))
    return replace(result, path=path)


def _replace(
    path: Path,
    original: IO[bytes],
    manifest: Manifest,
    copy: Path,
    manifest_file: Path,
    backup_dir: Path | None,
) -> ConfirmResult:
    st = os.fstat(original.fileno())
    if st.st_size > manifest.size and st.st_ino == manifest.inode:
        return ConfirmResult(
            path,
            ConfirmStatus.GROWING,
            message=f"grew by {st.st_size - manifest.size} bytes since scrub "
            "(still being written?)",
        )
    recorded = (manifest.inode, manifest.size, manifest.mtime_ns)
    if (st.st_ino, st.st_size, st.st_mtime_ns) != recorded:
        return ConfirmResult(path, ConfirmStatus.CHANGED, message="changed since scrub")
    if digest(original, manifest.size) != (manifest.size, manifest.sha256):
        return ConfirmResult(path, ConfirmStatus.CHANGED, message="content changed since scrub")
    backup = None
    if backup_dir is not None:
        backup = backup_path(backup_dir, path)
        if _copy_exactly(original, manifest.size, backup) != manifest.sha256:
            backup.unlink()
            return ConfirmResult(path, ConfirmStatus.CHANGED, message="changed during backup")
        os.utime(backup, ns=(st.st_atime_ns, st.st_mtime_ns))
    note = _take_over(copy, st)
    now = os.fstat(original.fileno())
    if path.stat().st_ino != st.st_ino or now.st_size != manifest.size:
        if backup is not None:
            backup.unlink()  # the original is still in place: this backup is not needed
        return ConfirmResult(path, ConfirmStatus.GROWING, message="written to during confirm")
    copy.replace(path)
    fsync_dir(path.parent)
    manifest_file.unlink(missing_ok=True)
    late, late_path = _late_writes(original, manifest.size, path, backup)
    return ConfirmResult(
        path,
        ConfirmStatus.REPLACED,
        backup=backup,
        late_bytes=late,
        late_path=late_path,
        message=note,
    )


def _late_writes(
    original: IO[bytes], size: int, path: Path, backup: Path | None
) -> tuple[int, Path | None]:
    """Bytes written into the old file between the last check and the rename."""
    end = os.fstat(original.fileno()).st_size
    if end <= size:
        return 0, None
    target = backup if backup is not None else path.with_name(path.name + LATE_SUFFIX)
    original.seek(size)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    with os.fdopen(os.open(target, flags, 0o600), "ab") as out:
        shutil.copyfileobj(original, out)
        out.flush()
        os.fsync(out.fileno())
    return end - size, target


def confirm_logs(
    paths: Sequence[Path], backup_dir: Path | None, exclude: Sequence[Path] = ()
) -> tuple[ConfirmResult, ...]:
    excluded = [*exclude, *([backup_dir] if backup_dir is not None else [])]
    if backup_dir is not None:
        with contextlib.suppress(FileExistsError):
            backup_dir.mkdir(parents=True, mode=0o700)
    logs: list[LogFile] = discover(paths, excluded)
    return tuple(confirm_file(log.path, backup_dir) for log in logs)
