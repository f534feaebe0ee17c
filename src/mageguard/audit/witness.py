"""Checkpoints, and the witness file that keeps a copy of them outside the database.

A checkpoint vouches, under the key, that the chain of store S had head MAC H at seq N.
The database keeps its own copy, but whoever can delete records there can delete its
checkpoints too; the witness file (append-only, fsynced, ideally shipped elsewhere) is
what still says "there were N records" after the tail was cut or the whole database was
replaced by an older or a fresh one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mageguard.audit.errors import AuditStoreError

_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Checkpoint:
    store: str
    seq: int
    head: bytes  # the MAC of record `seq`
    ts: float
    mac: bytes  # chain.checkpoint_mac over the four fields above


@dataclass(frozen=True)
class Witness:
    """What the witness file holds: its checkpoints, the numbers of lines that are not
    checkpoints, and whether the file exists at all."""

    exists: bool
    checkpoints: tuple[tuple[int, Checkpoint], ...]  # (line number, checkpoint)
    bad_lines: tuple[int, ...]


def append(path: Path, checkpoint: Checkpoint) -> None:
    """One line, one write(2) with O_APPEND, then fsync: gateway processes sharing the file
    never interleave, and a line that returned is on disk."""
    line = orjson.dumps(
        {
            "store": checkpoint.store,
            "seq": checkpoint.seq,
            "head": checkpoint.head.hex(),
            "ts": checkpoint.ts,
            "mac": checkpoint.mac.hex(),
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE,
    )
    try:
        created = not path.exists()
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)
    except OSError as exc:
        raise AuditStoreError(f"witness file {path} cannot be written: {exc.strerror}") from None


def read(path: Path) -> Witness:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Witness(False, (), ())
    except OSError as exc:
        raise AuditStoreError(f"witness file {path} cannot be read: {exc.strerror}") from None
    good: list[tuple[int, Checkpoint]] = []
    bad: list[int] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        checkpoint = _parse(line)
        if checkpoint is None:
            bad.append(number)
        else:
            good.append((number, checkpoint))
    return Witness(True, tuple(good), tuple(bad))


def last(path: Path) -> Checkpoint | None:
    """The file's last checkpoint, read from its tail (the file grows for ever)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _TAIL_BYTES))
            tail = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditStoreError(f"witness file {path} cannot be read: {exc.strerror}") from None
    lines = [line for line in tail.splitlines() if line.strip()]
    return _parse(lines[-1]) if lines else None


def _parse(line: bytes) -> Checkpoint | None:
    try:
        raw: Any = orjson.loads(line)
        store, seq, ts = raw["store"], raw["seq"], raw["ts"]
        if not isinstance(store, str) or type(seq) is not int or type(ts) not in (int, float):
            return None
        head, mac = bytes.fromhex(raw["head"]), bytes.fromhex(raw["mac"])
        return Checkpoint(store, seq, head, float(ts), mac)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
