"""Incidents: AI Flows that went around the gateway (`bypass`), or went through it
carrying more than the Policy allows in one request (`over_policy`: a record whose
bytes_out exceeds the gateway's `limits.max_body_bytes`, which the gateway itself refuses,
so such a record means the limit was not applied there).

An Incident's id is a hash of its kind, source and destination: the same Flow is the
same Incident on every run, and its `aware_at`, the moment an ingestion first detected
it, is kept in the flow store and never moves; the deadlines run from it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from mageguard.audit import flowdb
from mageguard.audit.deadlines import Deadline, deadlines
from mageguard.audit.flows import Flow, load_flows
from mageguard.audit.knowledge import load
from mageguard.audit.tenants import tenants_of

BYPASS = "bypass"
OVER_POLICY = "over_policy"
DEFAULT_MAX_BYTES = 1 << 20  # the gateway's default limits.max_body_bytes


@dataclass(frozen=True)
class Incident:
    id: str
    severity: str
    kind: str
    flow: Flow
    tenants: tuple[str, ...]
    aware_at: float
    deadlines: tuple[Deadline, ...]


def incident_id(kind: str, flow: Flow) -> str:
    digest = hashlib.sha256(f"{kind}\x00{flow.source}\x00{flow.destination}".encode())
    return "inc-" + digest.hexdigest()[:16]


def severity(kind: str, provider_kind: str | None, rules: Sequence[Mapping[str, Any]]) -> str:
    for rule in rules:
        if "kind" in rule and kind not in rule["kind"]:
            continue
        if "provider_kind" in rule and (provider_kind or "ai_service") not in rule["provider_kind"]:
            continue
        return str(rule["severity"])
    return "low"


def candidates(flows: Iterable[Flow], max_bytes: int) -> list[tuple[str, str, Flow]]:
    """(id, kind, flow) of every Flow that is an Incident."""
    out = []
    for flow in flows:
        if not flow.via_gateway:
            kind = BYPASS
        elif flow.max_bytes_out is not None and flow.max_bytes_out > max_bytes:
            kind = OVER_POLICY
        else:
            continue
        out.append((incident_id(kind, flow), kind, flow))
    return out


def max_bytes(con: duckdb.DuckDBPyConnection) -> int:
    value = flowdb.setting(con, "max_bytes_out")
    return int(value) if value else DEFAULT_MAX_BYTES


def record_new(con: duckdb.DuckDBPyConnection, now: float | None = None) -> tuple[int, int]:
    """Note the moment of awareness of every Incident not seen before: (new, all)."""
    found = candidates(load_flows(con), max_bytes(con))
    known = {str(r[0]) for r in con.execute("SELECT id FROM incidents").fetchall()}
    moment = time.time() if now is None else now
    new = sorted({iid for iid, _, _ in found} - known)
    for iid in new:
        con.execute("INSERT INTO incidents VALUES (?, ?)", [iid, moment])
    return len(new), len(found)


def load_incidents(con: duckdb.DuckDBPyConnection, now: float | None = None) -> list[Incident]:
    rules = load("incidents")["severity"]
    aware = {
        str(i): float(t) for i, t in con.execute("SELECT id, aware_at FROM incidents").fetchall()
    }
    mapping = [
        (str(w), str(s)) for w, s in con.execute("SELECT website, source FROM tenants").fetchall()
    ]
    fallback = time.time() if now is None else now
    out = []
    for iid, kind, flow in candidates(load_flows(con), max_bytes(con)):
        aware_at = aware.get(iid, fallback)
        out.append(
            Incident(
                id=iid,
                severity=severity(kind, flow.provider_kind, rules),
                kind=kind,
                flow=flow,
                tenants=tuple(tenants_of(flow.source, mapping)),
                aware_at=aware_at,
                deadlines=deadlines(aware_at),
            )
        )
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    out.sort(key=lambda i: (order[i.severity], i.aware_at, i.flow.first_seen, i.id))
    return out
