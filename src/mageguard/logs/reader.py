"""Reading log files as a stream of line pieces, in bounded memory, byte-exactly.

Bytes are decoded as UTF-8 with `surrogateescape`, so invalid bytes survive a
decode/encode round trip unchanged: the parts of a line that scrub does not redact are
written back exactly as they were read. gzip input (rotated `.log.1.gz`) is recognised by
its magic bytes, not its name.

A line longer than `max_piece` bytes is cut into pieces, preferably just after a space,
tab, comma or semicolon (values worth redacting — e-mails, keys, card numbers — contain
none of them), so one 2 GB line without a newline cannot exhaust memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 8192
MAX_PIECE = 8 * 1024 * 1024
# Where a long line may be cut without splitting a value a detector would find.
_CUT_AFTER = b" \t,;"


@dataclass(frozen=True, slots=True)
class Piece:
    """A whole line, or part of one that exceeded the piece size. `ending` is the line
    terminator as read ("\\n", "\\r\\n") or "" for the middle of a long line and for a
    last line without a newline; `text + ending` encodes back to the bytes read."""

    line: int
    text: str
    ending: str


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class ByteSource(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class HashingReader:
    """Wraps a binary file, hashing every byte read through it: the digest recorded for a
    scrubbed file is that of exactly the bytes its redacted copy was made from."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def _seen(self, data: bytes) -> bytes:
        self.sha256.update(data)
        self.size += len(data)
        return data

    def read(self, size: int = -1, /) -> bytes:
        return self._seen(self._raw.read(size))

    def readline(self, size: int = -1, /) -> bytes:
        return self._seen(self._raw.readline(size))

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("a log is read once, front to back")

    def drain(self) -> None:
        """Read (and hash) whatever a decompressor left unread."""
        while self.read(1 << 20):
            pass


def text_stream(raw: HashingReader, compressed: bool) -> ByteSource:
    """The decompressed byte stream of `raw`."""
    if compressed:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def looks_binary(head: bytes) -> bool:
    """NUL bytes do not occur in Magento's text logs, reports or query logs."""
    return b"\x00" in head


def sniff(path: Path) -> bool:
    """Whether the file is binary, from its first bytes (decompressed, for gzip). Raises
    OSError (gzip.BadGzipFile) or EOFError for a gzip file that cannot be read."""
    with path.open("rb") as f:
        if f.read(2) == GZIP_MAGIC:
            f.seek(0)
            with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                head = gz.read(SNIFF_BYTES)
        else:
            f.seek(0)
            head = f.read(SNIFF_BYTES)
    return looks_binary(head)


def pieces(stream: ByteSource, max_piece: int = MAX_PIECE) -> Iterator[Piece]:
    """Line pieces of at most `max_piece` bytes (plus the terminator)."""
    if max_piece < 2:
        raise ValueError("max_piece must be at least 2")
    line = 1
    carry = b""
    while True:
        chunk = carry + stream.readline(max_piece - len(carry))
        carry = b""
        if not chunk:
            return
        if chunk.endswith(b"\n"):
            body, ending = (chunk[:-2], "\r\n") if chunk.endswith(b"\r\n") else (chunk[:-1], "\n")
            yield Piece(line, decode(body), ending)
            line += 1
            continue
        if len(chunk) < max_piece:  # the last line, without a newline
            yield Piece(line, decode(chunk), "")
            return
        cut = max(chunk.rfind(bytes([b])) for b in _CUT_AFTER)
        if cut > 0:
            chunk, carry = chunk[: cut + 1], chunk[cut + 1 :]
        yield Piece(line, decode(chunk), "")


class LogReader:
    """One pass over a log file: its pieces, the digest and size of the raw bytes read,
    and the file's status when opened and when finished (to see a file grow under us).

        with LogReader(path) as log:
            for piece in log.pieces(): ...
            after = log.finish()
    """

    def __init__(self, path: Path, max_piece: int = MAX_PIECE) -> None:
        self.path = path
        self.max_piece = max_piece
        self._file = path.open("rb")
        try:
            self.opened = os.fstat(self._file.fileno())
            self.compressed = self._file.read(2) == GZIP_MAGIC
            self._file.seek(0)
        except BaseException:
            self._file.close()
            raise
        self.raw = HashingReader(self._file)

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def pieces(self) -> Iterator[Piece]:
        stream = text_stream(self.raw, self.compressed)
        yield from pieces(stream, self.max_piece)

    def finish(self) -> os.stat_result:
        """Read what is left (hashing it) and return the file's status now."""
        self.raw.drain()
        return os.fstat(self._file.fileno())
