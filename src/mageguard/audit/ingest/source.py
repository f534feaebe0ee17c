"""Opening a log for ingestion: gzip by its magic bytes, the file's identity, and its
new bytes from where the last ingestion stopped.

A file is known by a fingerprint of its first KiB (decompressed), so a log rotated to
`access.log.1` or compressed to `access.log.1.gz` is the same source and its lines are
not counted twice; a file shorter than that is known by device and inode until it grows.
The offset is in decompressed bytes: a gzip file is decompressed from its start and the
bytes already ingested are skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from mageguard.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024
FINGERPRINT_BYTES = 1024
CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class LogFile:
    path: Path
    compressed: bool
    fingerprint: str | None
    inode: str
    head: tuple[str, ...]  # the first lines, decoded (format detection, headers)
    raw_head: bytes


def _open(path: Path, compressed: bool) -> BinaryIO:
    if compressed:
        return cast(BinaryIO, gzip.open(path, "rb"))  # owns its file: closed with it
    return path.open("rb")


def identify(path: Path) -> LogFile:
    """InputError when the file is missing, unreadable, or a gzip file that is not."""
    try:
        st = path.stat()
        with path.open("rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
        with _open(path, compressed) as f:
            head = f.read(HEAD_BYTES)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: unreadable gzip file ({exc or 'truncated'})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    lines = head.decode("utf-8", "replace").splitlines()
    if len(head) == HEAD_BYTES and lines:
        lines.pop()  # cut mid-line
    fingerprint = (
        hashlib.sha256(head[:FINGERPRINT_BYTES]).hexdigest()[:32]
        if len(head) >= FINGERPRINT_BYTES
        else None
    )
    return LogFile(path, compressed, fingerprint, f"{st.st_dev}:{st.st_ino}", tuple(lines), head)


def chunks(log: LogFile, offset: int, *, final: bool) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of whole lines after `offset`. With `final`, a last line without
    a newline is included; without (a file still being written), it is left for later."""
    try:
        with _open(log.path, log.compressed) as f:
            if log.compressed:
                _skip(f, offset)
            else:
                f.seek(offset)
            carry = b""
            while True:
                block = f.read(CHUNK_BYTES)
                if not block:
                    break
                data = carry + block
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                yield offset, data[:cut]
                offset += cut
                carry = data[cut:]
            if carry and final:
                yield offset, carry
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"{log.path}: unreadable gzip file ({exc or 'truncated'})") from None
    except OSError as exc:
        raise InputError(f"{log.path}: cannot read: {exc.strerror}") from None


def _skip(f: IO[bytes], count: int) -> None:
    while count > 0:
        block = f.read(min(count, CHUNK_BYTES))
        if not block:
            return
        count -= len(block)
