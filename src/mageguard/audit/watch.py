"""`mageguard audit watch`: follow growing logs like `tail -F` and ingest new lines as
they are written, until SIGINT or SIGTERM.

Each poll ingests the files that changed (size, or identity after a rotation) in one
transaction, as `audit ingest` would, except that a last line still being written (no
newline yet) waits for the next poll. A file that does not exist yet, or is still empty,
is waited for. The flow store is opened per batch, so `audit flows` can read meanwhile.
A signal stops the loop between batches: a batch is never cut in half.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from mageguard.audit.ingest import IngestResult, ingest

Stat = tuple[int, int, int]  # device, inode, size


def _stat(path: str) -> Stat | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size) if st.st_size > 0 else None


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` instead of killing the process mid-transaction."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def watch(
    paths: Sequence[str],
    *,
    db: Path,
    fmt: str = "auto",
    gateways: Sequence[str] = (),
    tenants_file: Path | None = None,
    max_bytes: int | None = None,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> int:
    """Poll until `stop` is set; the number of batches ingested. `on_batch` hears of
    those that brought new records (not of a half-written line that waits)."""
    stop = stop or threading.Event()
    seen: dict[str, Stat] = {}
    batches = 0
    while not stop.is_set():
        changed = []
        for path in paths:
            now = _stat(path)
            if now is not None and seen.get(path) != now:
                changed.append(path)
                seen[path] = now
        if changed:
            result = ingest(
                changed,
                db=db,
                fmt=fmt,
                gateways=gateways,
                tenants_file=tenants_file,
                max_bytes=max_bytes,
                final=False,
            )
            batches += 1
            if on_batch is not None and any(s.new_records for s in result.sources):
                on_batch(result)
        stop.wait(interval)
    return batches
