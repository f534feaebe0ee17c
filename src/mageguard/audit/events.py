"""One audit event per gateway request: metadata only.

What a request carried is recorded as counts per entity and data category, never as
text; a store that leaked into a ticket or a backup must not leak customer data."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# A random prefix per process and a counter: unique across replicas and restarts, and
# free, where a urandom call per request cost ~5% of the proxy's CPU (measured with
# py-spy). Request ids need to be unique, not secret: nothing is derived from them
# without a key.
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):012x}"


@dataclass(frozen=True)
class AuditEvent:
    ts: float  # unix seconds
    request_id: str
    kind: str = "request"  # request | flag_change | proxy | admin
    tenant: str = ""
    surface: str = ""
    endpoint: str = ""  # /v1/chat/completions ...
    model: str = ""
    backend: str = ""
    locality: str = ""  # local | external | ""
    decision: str = ""  # allowed | blocked | refused | error | fallback
    reason: str = ""  # a machine code: injection, policy_block, upstream_timeout ...
    status: int = 0
    latency_ms: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0
    stream: bool = False
    entities: Mapping[str, int] = field(default_factory=dict)  # EMAIL: 2, SKU: 1
    categories: Mapping[str, int] = field(default_factory=dict)  # customer_pii: 2 ...
    injection_score: float | None = None
    detail: Mapping[str, str] = field(default_factory=dict)  # flag name/value, proxy host ...
