"""One audit event per gateway request: metadata only.

What a request carried is recorded as counts per entity and data category, never as
text; a store that leaked into a ticket or a backup must not leak customer data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
