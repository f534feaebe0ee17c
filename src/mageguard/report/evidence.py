"""The checks that decide controls on evidence outside the scan.

controls.yaml names them (`evidence: [{check: ..., at_worst: ...}]`); each is a small pure
function of the evidence given to the report, answering a status and the sentence an
auditor reads. Evidence that was not given is never taken as good: the check says so and
answers open (capped by `at_worst`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mageguard.report.audit import AuditSummary
from mageguard.report.flows import FlowAudit
from mageguard.report.inputs import parse_time
from mageguard.report.model import Status


@dataclass(frozen=True)
class Evidence:
    audit: AuditSummary | None
    flows: FlowAudit | None
    now: dt.datetime


Outcome = tuple[Status, str]
Check = Callable[[Evidence, Mapping[str, Any]], Outcome]

NO_AUDIT = "no audit store was given (--audit): the gateway's audit trail is not evidenced"
NO_FLOWS = "no flow audit was given (--flows): traffic around the gateway is not evidenced"


def audit_chain_intact(ev: Evidence, _: Mapping[str, Any]) -> Outcome:
    if ev.audit is None:
        return Status.OPEN, NO_AUDIT
    a = ev.audit
    if a.chain_intact:
        return Status.MET, (
            f"audit chain of {a.location} verified intact: {a.records} records, "
            f"{a.checkpoints} checkpoints"
        )
    return Status.OPEN, (
        f"audit chain of {a.location} shows tampering ({len(a.problems)} problem(s), first "
        f"bad record {a.first_bad_seq if a.first_bad_seq is not None else '-'})"
    )


def audit_requests_recorded(ev: Evidence, _: Mapping[str, Any]) -> Outcome:
    if ev.audit is None:
        return Status.OPEN, NO_AUDIT
    if ev.audit.requests:
        tenants = len({row.tenant for row in ev.audit.traffic})
        return Status.MET, f"{ev.audit.requests} gateway requests recorded for {tenants} tenant(s)"
    return Status.OPEN, "the audit store holds no gateway request: nothing is routed through it yet"


def flows_observed(ev: Evidence, _: Mapping[str, Any]) -> Outcome:
    if ev.flows is None or not ev.flows.sources:
        return Status.OPEN, NO_FLOWS
    records = sum(s.records for s in ev.flows.sources)
    formats = ", ".join(sorted({s.format for s in ev.flows.sources}))
    return Status.MET, (
        f"flow audit of {len(ev.flows.sources)} log source(s) ({formats}; {records} records) "
        f"generated {ev.flows.generated_at}"
    )


def no_bypass_flows(ev: Evidence, _: Mapping[str, Any]) -> Outcome:
    if ev.flows is None:
        return Status.OPEN, NO_FLOWS
    bypassing = ev.flows.bypassing
    if not bypassing:
        ai = sum(1 for f in ev.flows.flows if f.is_ai)
        return Status.MET, f"no AI flow bypassed the gateway ({ai} AI flow(s) observed)"
    hosts = ", ".join(sorted({f"{f.source} -> {f.destination}" for f in bypassing}))
    return Status.OPEN, f"{len(bypassing)} AI flow(s) bypassed the gateway: {hosts}"


def incident_clocks(ev: Evidence, spec: Mapping[str, Any]) -> Outcome:
    regime = str(spec["regime"])
    if ev.flows is None:
        return Status.OPEN, NO_FLOWS
    overdue: list[str] = []
    running: list[str] = []
    for incident in ev.flows.incidents:
        for d in incident.deadlines:
            if d.regime != regime:
                continue
            late = parse_time(d.due, f"incident {incident.id}") <= ev.now
            (overdue if late else running).append(f"{incident.id} {d.obligation} due {d.due}")
    if overdue:
        return Status.OPEN, f"{regime} deadline(s) passed: " + "; ".join(overdue)
    if running:
        return Status.PARTIAL, f"{regime} clock(s) running: " + "; ".join(running)
    return Status.MET, f"no incident with a {regime} deadline among {len(ev.flows.incidents)}"


def gateway_policy_local(ev: Evidence, spec: Mapping[str, Any]) -> Outcome:
    categories = frozenset(spec["categories"])
    if ev.audit is None or ev.audit.policy is None:
        return Status.OPEN, "no gateway configuration was given (--audit FILE.yaml)"
    leaking = [
        f"{tenant} ({', '.join(sorted(categories.intersection(cats)))})"
        for tenant, cats in ev.audit.external_categories
        if categories.intersection(cats)
    ]
    if leaking:
        return Status.OPEN, "gateway policy lets external backends see: " + "; ".join(leaking)
    return Status.MET, (
        f"gateway policy {ev.audit.policy} keeps {', '.join(sorted(categories))} off external "
        f"backends for all {len(ev.audit.external_categories)} tenant(s)"
    )


CHECKS: Mapping[str, Check] = {
    "audit_chain_intact": audit_chain_intact,
    "audit_requests_recorded": audit_requests_recorded,
    "flows_observed": flows_observed,
    "no_bypass_flows": no_bypass_flows,
    "incident_clocks": incident_clocks,
    "gateway_policy_local": gateway_policy_local,
}


def run_check(ev: Evidence, spec: Mapping[str, Any]) -> Outcome:
    """One `evidence:` entry of controls.yaml, its failure capped by `at_worst`."""
    status, text = CHECKS[spec["check"]](ev, spec)
    cap = Status(spec.get("at_worst", "open"))
    return (cap if status.rank > cap.rank else status), text
