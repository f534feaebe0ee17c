"""The gateway's tamper-evident audit store: one hash-chained record per event.

Appends are batched into one transaction that extends the chain from the store's head
row, so several gateway processes sharing one PostgreSQL schema (or one SQLite file) build
one chain between them. Every `checkpoint_every` records, and when a writer closes, a
checkpoint is committed beside the records and appended to the witness file, which is what
catches a cut tail or a replaced database after the fact (see witness.py, integrity.py).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from mageguard.audit import chain, witness
from mageguard.audit.canonical import decode, encode
from mageguard.audit.database import Cursor, Database, connect
from mageguard.audit.errors import AuditEventError, AuditKeyError, AuditStoreError
from mageguard.audit.events import AuditEvent
from mageguard.audit.integrity import StoreState, VerifyReport, check
from mageguard.audit.witness import Checkpoint

FORMAT = "mageguard.audit/1"
_PAGE = 5000


class AuditStore:
    """Open with `AuditStore.open`; safe to share between threads (calls serialise)."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        witness_file: Path,
        *,
        store_id: str,
        key_matches: bool,
        checkpoint_every: int,
    ) -> None:
        self._db, self._key, self._witness_file = db, key, witness_file
        self.store_id = store_id
        self._key_matches = key_matches
        self._every = checkpoint_every
        self._lock = threading.Lock()
        self._closed = False
        self._unwitnessed: list[Checkpoint] = []  # committed, not yet in the witness file
        self._appended_since_checkpoint = False

    @property
    def location(self) -> str:
        return self._db.location

    def __repr__(self) -> str:
        return f"AuditStore({self.location!r})"

    @classmethod
    def open(
        cls,
        dsn: str,
        key_file: Path,
        witness_file: Path,
        *,
        create: bool = True,
        schema: str | None = None,
        checkpoint_every: int = 1000,
        timeout: float = 5.0,
    ) -> AuditStore:
        """Open (and with `create`, create) the store at `dsn`: a path, `sqlite:///path` or
        `postgresql://...` (`schema` selects, and creates, a PostgreSQL schema).

        `create=False` is for readers such as `audit verify`: a missing store or key file is
        an error, and a key that does not match the store is left for verify() to report.
        A writer refuses that key, and refuses a witness file that vouches for another
        store or for records the store no longer has: appending would bury the evidence.
        """
        if checkpoint_every < 1:
            raise AuditStoreError("checkpoint_every must be at least 1")
        key = chain.load_key(key_file, create=create)
        db = connect(dsn, create=create, schema=schema, timeout=timeout)
        try:
            store_id, key_id, last_seq = _initialise(db, key, create=create)
            key_matches = chain.same(key_id.encode(), chain.key_id(key).encode())
            if create and not key_matches:
                raise AuditKeyError(
                    f"audit key file {key_file} is not the key {db.location} was written with"
                )
            if create:
                _check_witness(key, store_id, witness_file, last_seq, db.location)
        except BaseException:
            db.close()
            raise
        return cls(
            db,
            key,
            witness_file,
            store_id=store_id,
            key_matches=key_matches,
            checkpoint_every=checkpoint_every,
        )

    def append(self, events: Sequence[AuditEvent]) -> list[int]:
        """Append `events` in one transaction and return their sequence numbers. Every event
        is checked first: one that is not metadata only refuses the whole batch."""
        bodies = []
        for index, event in enumerate(events):
            try:
                bodies.append(encode(event))
            except AuditEventError as exc:
                raise AuditEventError(f"event {index}: {exc}") from None
        if not bodies:
            return []
        with self._lock:
            self._require_writable()
            self._write_witness()  # a witness line still owed: fail before writing more
            with self._db.transaction(write=True) as cur:
                seq, mac = self._head(cur)
                first, rows = seq + 1, list[tuple[int, str, bytes]]()
                for body in bodies:
                    seq += 1
                    mac = chain.link(self._key, mac, seq, body)
                    rows.append((seq, body.decode(), mac))
                self._db.insert_events(cur, rows)
                cur.execute("UPDATE audit_head SET seq = ?, mac = ? WHERE id = 1", (seq, mac))
                if (first - 1) // self._every != seq // self._every:
                    self._unwitnessed.append(self._insert_checkpoint(cur, seq, mac))
            self._appended_since_checkpoint = True
            # The records are committed: a witness line that failed is retried by the next
            # append, which fails (before writing) if the line still cannot be written.
            with contextlib.suppress(AuditStoreError):
                self._write_witness()
        return list(range(first, seq + 1))

    def checkpoint(self) -> int | None:
        """Checkpoint the current head (if no checkpoint covers it yet); its seq, or None."""
        with self._lock:
            return self._checkpoint()

    def verify(self) -> VerifyReport:
        """Recompute the chain and judge it (integrity.py says what each problem means).
        Appends through this handle wait meanwhile: verify from another process (the CLI)
        rather than from a gateway's own store."""
        with self._lock:
            self._require_open()
            # Read before the snapshot: each line was written after its checkpoint committed.
            witnessed = witness.read(self._witness_file)
            with self._db.transaction(write=False) as cur:
                meta = _meta(cur)
                cur.execute("SELECT seq, mac FROM audit_head WHERE id = 1")
                head = cur.fetchone() or (0, b"")
                cur.execute("SELECT seq, head, ts, mac FROM audit_checkpoints ORDER BY seq")
                checkpoints = tuple(
                    Checkpoint(self.store_id, int(s), _bytes(h), float(t), _bytes(m))
                    for s, h, t, m in cur.fetchall()
                )
                state = StoreState(
                    store_id=meta.get("store_id", ""),
                    key_id=meta.get("key_id", ""),
                    head_seq=int(head[0]),
                    head_mac=_bytes(head[1]),
                    checkpoints=checkpoints,
                )
                return check(self._key, state, _records(cur), witnessed)

    def events(self, since_seq: int = 0, limit: int = 1000) -> list[tuple[int, AuditEvent]]:
        """(seq, event) of the records after `since_seq`, oldest first, at most `limit`."""
        with self._lock:
            self._require_open()
            with self._db.transaction(write=False) as cur:
                cur.execute(
                    "SELECT seq, body FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (since_seq, limit),
                )
                return [(int(seq), decode(int(seq), body)) for seq, body in cur.fetchall()]

    def close(self) -> None:
        """Checkpoint what this handle appended, then let go of the database."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._appended_since_checkpoint or self._unwitnessed:
                    self._checkpoint()
            finally:
                self._closed = True
                self._db.close()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _checkpoint(self) -> int | None:
        self._require_writable()
        self._write_witness()
        with self._db.transaction(write=True) as cur:
            seq, mac = self._head(cur)
            cur.execute("SELECT MAX(seq) FROM audit_checkpoints")
            covered = cur.fetchone()[0] or 0
            made = self._insert_checkpoint(cur, seq, mac) if seq > covered else None
        if made is not None:
            self._unwitnessed.append(made)
            self._write_witness()
        self._appended_since_checkpoint = False
        return made.seq if made is not None else None

    def _head(self, cur: Cursor) -> tuple[int, bytes]:
        cur.execute(f"SELECT seq, mac FROM audit_head WHERE id = 1{self._db.lock_head}")
        row = cur.fetchone()
        if row is None:
            raise AuditStoreError(f"audit store {self.location} has lost its head row")
        return int(row[0]), _bytes(row[1])

    def _insert_checkpoint(self, cur: Cursor, seq: int, head: bytes) -> Checkpoint:
        ts = time.time()
        mac = chain.checkpoint_mac(self._key, self.store_id, seq, head, ts)
        cur.execute(
            "INSERT INTO audit_checkpoints (seq, head, ts, mac) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (seq, head, ts, mac),
        )
        return Checkpoint(self.store_id, seq, head, ts, mac)

    def _write_witness(self) -> None:
        while self._unwitnessed:
            witness.append(self._witness_file, self._unwitnessed[0])
            self._unwitnessed.pop(0)

    def _require_open(self) -> None:
        if self._closed:
            raise AuditStoreError(f"audit store {self.location} is closed")

    def _require_writable(self) -> None:
        self._require_open()
        if not self._key_matches:
            raise AuditKeyError(f"audit store {self.location} was written with another key")


def _initialise(db: Database, key: bytes, *, create: bool) -> tuple[str, str, int]:
    """Create the tables and the chain's genesis if missing; the store id, the key
    fingerprint it was written with, and its last record's seq."""
    with db.transaction(write=create) as cur:
        if not db.has_store(cur):
            if not create:
                raise AuditStoreError(f"audit store {db.location} does not exist")
            db.create_tables(cur)
        if create:
            cur.execute(
                "INSERT INTO audit_meta (name, value) VALUES (?, ?), (?, ?), (?, ?) "
                "ON CONFLICT DO NOTHING",
                ("format", FORMAT, "store_id", secrets.token_hex(16), "key_id", chain.key_id(key)),
            )
        meta = _meta(cur)
        if meta.get("format") != FORMAT or "store_id" not in meta or "key_id" not in meta:
            raise AuditStoreError(f"{db.location} is not a {FORMAT} store")
        if create and chain.same(meta["key_id"].encode(), chain.key_id(key).encode()):
            cur.execute(
                "INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, ?) ON CONFLICT DO NOTHING",
                (chain.genesis(key, meta["store_id"]),),
            )
        cur.execute("SELECT MAX(seq) FROM audit_events")
        last_seq = cur.fetchone()[0] or 0
    return meta["store_id"], meta["key_id"], int(last_seq)


def _check_witness(key: bytes, store_id: str, path: Path, last_seq: int, location: str) -> None:
    last = witness.last(path)
    if last is None:
        return
    if last.store != store_id:
        raise AuditStoreError(
            f"witness file {path} vouches for another store than {location} "
            "(was the database replaced?): run `mageguard audit verify` before moving it aside"
        )
    if not chain.same(chain.checkpoint_mac(key, store_id, last.seq, last.head, last.ts), last.mac):
        raise AuditStoreError(f"witness file {path}: its last checkpoint is forged")
    if last.seq > last_seq:
        raise AuditStoreError(
            f"audit store {location} ends at seq {last_seq} but its witness file vouches for "
            f"seq {last.seq}: records were removed; run `mageguard audit verify`"
        )


def _meta(cur: Cursor) -> dict[str, str]:
    cur.execute("SELECT name, value FROM audit_meta")
    return {str(name): str(value) for name, value in cur.fetchall()}


def _records(cur: Cursor) -> Iterator[tuple[int, bytes, bytes]]:
    """Every record, a page at a time (a chain can be far larger than memory)."""
    after = 0
    while True:
        cur.execute(
            "SELECT seq, body, mac FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, _PAGE),
        )
        rows = cur.fetchall()
        for seq, body, mac in rows:
            yield int(seq), _bytes(body), _bytes(mac)
        if len(rows) < _PAGE:
            return
        after = int(rows[-1][0])


def _bytes(value: Any) -> bytes:
    """A column as bytes, whatever type a hand-edited SQLite row now holds."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()
