"""What the audit tests share with the processes they spawn: events that are metadata
only, and a store target (SQLite file or PostgreSQL schema) that can also be tampered
with behind the store's back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from mageguard.audit.events import AuditEvent
from mageguard.audit.store import AuditStore
from tests.helpers.services import Postgres


def event(n: int = 0, **changes: Any) -> AuditEvent:
    """A request's event as the gateway would record it; `n` makes it unique."""
    fields: dict[str, Any] = {
        "ts": 1_760_000_000.0 + n / 1000,
        "request_id": f"req-{n:06d}",
        "tenant": "website_base",
        "surface": "search",
        "endpoint": "/v1/chat/completions",
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "backend": "embedded",
        "locality": "local",
        "decision": "allowed",
        "status": 200,
        "latency_ms": 12.5,
        "bytes_in": 812,
        "bytes_out": 1304,
        "stream": True,
        "entities": {"EMAIL": 2, "SKU": 1},
        "categories": {"customer_pii": 2, "catalog_content": 1},
        "injection_score": 0.03,
        "detail": {"flag": "local_search", "variant": "on"},
    }
    fields.update(changes)
    return AuditEvent(**fields)


@dataclass(frozen=True)
class Target:
    kind: str  # sqlite | postgres
    dsn: str
    schema: str | None
    key_file: Path
    witness_file: Path
    postgres: Postgres | None = None

    def open(self, **options: Any) -> AuditStore:
        return AuditStore.open(
            self.dsn, self.key_file, self.witness_file, schema=self.schema, **options
        )

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run `statement` (with ? placeholders) as someone with database access would."""
        if self.postgres is None:
            with closing(sqlite3.connect(self.dsn)) as lite, lite:
                return lite.execute(statement, params).fetchall()
        with self.postgres.connect(schema=self.schema) as conn:
            cur = conn.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


def append_in_process(target: Target, prefix: str, count: int, batch: int, go: Barrier) -> None:
    """A gateway process: opens the store, waits until its peer has too, then appends
    `count` events in batches, as its writer thread would."""
    with target.open(checkpoint_every=100, timeout=30) as store:
        go.wait(60)
        for first in range(0, count, batch):
            chunk = range(first, min(first + batch, count))
            store.append([event(n, request_id=f"{prefix}-{n:05d}") for n in chunk])
            time.sleep(0.001)  # requests arrive over time, not in one burst
