"""The manifest written next to a redacted copy: what the copy was made from.

`scrub --confirm` replaces an original only while it is still exactly the file the copy
was made from (same inode, size, mtime and SHA-256), and only while the copy itself is
intact (its size and SHA-256). It holds paths, sizes, digests and counts; no log content.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from mageguard.logs.discovery import MANIFEST_SUFFIX, REDACTED_SUFFIX

FORMAT = "mageguard-logs-scrub"
VERSION = 1


def copy_path(original: Path) -> Path:
    return original.with_name(original.name + REDACTED_SUFFIX)


def manifest_path(original: Path) -> Path:
    return original.with_name(original.name + MANIFEST_SUFFIX)


@dataclass(frozen=True)
class Manifest:
    original: str  # absolute path
    inode: int
    size: int
    mtime_ns: int
    sha256: str
    copy_size: int
    copy_sha256: str
    compressed: bool
    redactions: Mapping[str, int] = field(default_factory=dict)
    ai_lines_removed: int = 0
    created: str = ""

    def write(self, path: Path) -> None:
        doc = {"format": FORMAT, "version": VERSION, **asdict(self)}
        doc["redactions"] = dict(self.redactions)
        write_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())

    @staticmethod
    def read(path: Path) -> Manifest:
        """Raises OSError when unreadable, ValueError when not a manifest of ours."""
        doc: Any = json.loads(path.read_text("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("not a mageguard scrub manifest")
        if doc.get("version") != VERSION:
            raise ValueError(f"manifest version {doc.get('version')!r} is not {VERSION}")
        try:
            return Manifest(
                original=str(doc["original"]),
                inode=int(doc["inode"]),
                size=int(doc["size"]),
                mtime_ns=int(doc["mtime_ns"]),
                sha256=str(doc["sha256"]),
                copy_size=int(doc["copy_size"]),
                copy_sha256=str(doc["copy_sha256"]),
                compressed=bool(doc["compressed"]),
                redactions={str(k): int(v) for k, v in dict(doc["redactions"]).items()},
                ai_lines_removed=int(doc.get("ai_lines_removed", 0)),
                created=str(doc.get("created", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"manifest field missing or wrong: {exc}") from None


def digest(stream: IO[bytes], limit: int | None = None) -> tuple[int, str]:
    """(size, sha256) of the stream from its current position, up to `limit` bytes."""
    h = hashlib.sha256()
    size = 0
    while limit is None or size < limit:
        want = 1 << 20 if limit is None else min(1 << 20, limit - size)
        chunk = stream.read(want)
        if not chunk:
            break
        h.update(chunk)
        size += len(chunk)
    return size, h.hexdigest()


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
