"""`mageguard logs scrub`: write a redacted copy next to each log, never touch the original.

For `system.log` the copy is `system.log.mageguard-redacted` (gzip-compressed when the
original is) with `system.log.mageguard-redacted.json` beside it, the manifest that
`scrub --confirm` checks before it replaces anything (see confirm.py). A file that changes
while it is read gets no copy: the copy would not match what the manifest records.

Lines are redacted with unnumbered typed tokens (see redaction.py). With
`ai_lines=remove`, a line that logs AI traffic loses its whole message, not only the data
the detectors recognise: a logged prompt or answer may carry proprietary text no detector
knows. The Magento prefix ("[2024-05-01T10:00:00+00:00] main.INFO: ") is kept so the
log's timeline survives.
"""

from __future__ import annotations

import enum
import gzip
import hashlib
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from mageguard.logs.discovery import LogFile, discover
from mageguard.logs.manifest import Manifest, copy_path, fsync_dir, manifest_path
from mageguard.logs.markers import AiTrafficDetector
from mageguard.logs.reader import MAX_PIECE, LogReader, encode, sniff
from mageguard.logs.redaction import SURFACE, analyze, redact_line
from mageguard.logs.scan import READ_ERRORS, read_error
from mageguard.redact.engine import Redactor

REMOVED = "[AI traffic removed by mageguard]"
# Monolog's line format as Magento writes it: "[time] channel.LEVEL: message context extra"
_MAGENTO_PREFIX = re.compile(r"\[[^\]\n]{1,64}\]\s{1,4}[\w.-]{1,64}\.[A-Z]{3,9}:\s?")


class AiLines(enum.StrEnum):
    REDACT = "redact"  # redact the data in them, like any other line
    REMOVE = "remove"  # remove their message, keep the Magento prefix


class ScrubStatus(enum.StrEnum):
    WRITTEN = "written"  # a redacted copy and its manifest are next to the original
    CLEAN = "clean"  # nothing to redact: no copy
    SKIPPED = "skipped"  # binary, not read
    CHANGED = "changed"  # the file changed while it was read: no copy
    ERROR = "error"


@dataclass(frozen=True)
class ScrubOptions:
    ai_lines: AiLines = AiLines.REDACT
    surface: str = SURFACE
    max_piece: int = MAX_PIECE


@dataclass(frozen=True)
class ScrubResult:
    path: Path
    kind: str
    status: ScrubStatus
    copy: Path | None = None
    redactions: Mapping[str, int] = field(default_factory=dict)
    ai_lines: int = 0  # lines that log prompts, responses or provider calls
    ai_lines_removed: int = 0
    message: str | None = None

    @property
    def total(self) -> int:
        return sum(self.redactions.values())


class _HashingWriter:
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def remove_ai_content(text: str) -> str:
    prefix = _MAGENTO_PREFIX.match(text)
    return (prefix.group(0) if prefix else "") + REMOVED


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    ai_lines: int = 0  # lines that log AI traffic
    removed: int = 0  # of which removed


def _redact_lines(
    reader: LogReader,
    out: _HashingWriter | gzip.GzipFile,
    redactor: Redactor,
    options: ScrubOptions,
    ai: AiTrafficDetector,
) -> _Tally:
    """Write every piece, redacted; count redactions per entity and AI traffic lines."""
    tally = _Tally()
    for piece in reader.pieces():
        text = piece.text
        spans = analyze(redactor, text)
        is_ai = any(True for _ in ai.detect(text))
        tally.ai_lines += is_ai
        if is_ai and options.ai_lines is AiLines.REMOVE:
            text = remove_ai_content(text)
            tally.removed += 1
            tally.counts.update(s.entity for s in spans)
        elif spans:
            text, changed = redact_line(redactor, text, spans, options.surface)
            tally.counts.update(s.entity for s in changed)
        out.write(encode(text + piece.ending))
    return tally


def _discard(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def scrub_file(
    log: LogFile,
    redactor: Redactor,
    options: ScrubOptions = ScrubOptions(),
    ai: AiTrafficDetector | None = None,
) -> ScrubResult:
    path = log.path
    real = path.resolve()  # a symlinked log is scrubbed (and replaced) where its bytes are
    copy, manifest = copy_path(real), manifest_path(real)
    tmp = copy.with_name(copy.name + ".tmp")
    try:
        if sniff(real):
            return ScrubResult(path, log.kind, ScrubStatus.SKIPPED, message="binary")
        ai = ai or AiTrafficDetector()
        with LogReader(real, options.max_piece) as reader:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw_out:
                sink = _HashingWriter(raw_out)
                out: _HashingWriter | gzip.GzipFile = sink
                if reader.compressed:
                    out = gzip.GzipFile(
                        filename="", mode="wb", fileobj=sink, mtime=reader.opened.st_mtime
                    )
                tally = _redact_lines(reader, out, redactor, options, ai)
                if isinstance(out, gzip.GzipFile):
                    out.close()
                raw_out.flush()
                os.fsync(raw_out.fileno())
            after = reader.finish()
            before = reader.opened
            read_size = reader.raw.size
            original_sha = reader.raw.sha256.hexdigest()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
            read_size != before.st_size
        ):
            _discard(tmp)
            grew = "grew" if after.st_size > before.st_size else "changed"
            return ScrubResult(
                path,
                log.kind,
                ScrubStatus.CHANGED,
                message=f"{grew} while it was read (still being written?): no copy made",
            )
        counts, removed = tally.counts, tally.removed
        if not counts and not removed:
            _discard(tmp, copy, manifest)  # a copy from an earlier run is stale now
            return ScrubResult(path, log.kind, ScrubStatus.CLEAN, ai_lines=tally.ai_lines)
        tmp.replace(copy)
        fsync_dir(copy.parent)
        Manifest(
            original=str(real),
            inode=before.st_ino,
            size=before.st_size,
            mtime_ns=before.st_mtime_ns,
            sha256=original_sha,
            copy_size=sink.size,
            copy_sha256=sink.sha256.hexdigest(),
            compressed=reader.compressed,
            redactions=dict(sorted(counts.items())),
            ai_lines_removed=removed,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        ).write(manifest)
    except READ_ERRORS as exc:
        _discard(tmp)
        return ScrubResult(path, log.kind, ScrubStatus.ERROR, message=read_error(exc))
    except BaseException:
        _discard(tmp)
        raise
    return ScrubResult(
        path,
        log.kind,
        ScrubStatus.WRITTEN,
        copy=copy,
        redactions=dict(sorted(counts.items())),
        ai_lines=tally.ai_lines,
        ai_lines_removed=removed,
    )


def scrub_logs(
    paths: Sequence[Path],
    redactor: Redactor,
    options: ScrubOptions = ScrubOptions(),
    exclude: Sequence[Path] = (),
) -> tuple[ScrubResult, ...]:
    ai = AiTrafficDetector()
    return tuple(scrub_file(log, redactor, options, ai) for log in discover(paths, exclude))
