"""The inventory of AI features an auditor asks for first: GDPR Art. 30 record-of-processing
rows (per tenant: feature, recipient, data categories) and the PCI DSS 12.8 list of third
parties, from the scan's findings and the flows observed in the logs.

A finding without a tenant comes from code or the default configuration scope: it speaks
for every tenant, and its row says so ("all tenants") rather than being copied per tenant.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from mageguard.catalog import load_catalog
from mageguard.report.flows import FlowAudit
from mageguard.report.model import FindingRef, ProcessingRecord, ThirdParty

ALL_TENANTS = "all tenants"
AI_PATTERNS = frozenset({"external_ai_call", "training_data_export", "shared_embeddings"})


def is_local_host(host: str | None) -> bool:
    if not host:
        return False
    name = host.split(":")[0].strip("[]").lower()
    if name in ("localhost",) or name.endswith((".local", ".internal", ".localdomain")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_private or address.is_loopback


def _recipient(f: FindingRef) -> str:
    if f.provider:
        return "external"
    return "local" if is_local_host(f.host) else "unknown"


def processing_records(findings: Iterable[FindingRef]) -> tuple[ProcessingRecord, ...]:
    rows: dict[tuple[str, str, str, str], list[FindingRef]] = {}
    for f in findings:
        if f.pattern not in AI_PATTERNS and not f.provider:
            continue
        key = (f.tenant or ALL_TENANTS, f.feature, f.surface, f.provider or "-")
        rows.setdefault(key, []).append(f)
    out = [
        ProcessingRecord(
            tenant=tenant,
            feature=feature,
            surface=surface,
            provider=provider,
            hosts=tuple(sorted({m.host for m in members if m.host})),
            data_categories=tuple(sorted({c for m in members for c in m.data_categories})),
            recipient=_recipient(members[0]),
            findings=len(members),
        )
        for (tenant, feature, surface, provider), members in rows.items()
    ]
    return tuple(
        sorted(
            out, key=lambda r: (r.tenant != ALL_TENANTS, r.tenant, r.feature, r.provider, r.surface)
        )
    )


@dataclass
class _Party:
    hosts: set[str] = field(default_factory=set)
    surfaces: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    tenants: set[str] = field(default_factory=set)
    seen_in: set[str] = field(default_factory=set)
    bypass: bool = False


def third_parties(
    findings: Iterable[FindingRef], flows: FlowAudit | None
) -> tuple[ThirdParty, ...]:
    parties: dict[str, _Party] = {}
    for f in findings:
        if not f.provider:
            continue
        p = parties.setdefault(f.provider, _Party())
        p.hosts.update([f.host] if f.host else [])
        p.surfaces.add(f.surface)
        p.categories.update(f.data_categories)
        p.tenants.add(f.tenant or ALL_TENANTS)
        p.seen_in.add("scan")
    for flow in flows.flows if flows else ():
        if not flow.provider:
            continue
        p = parties.setdefault(flow.provider, _Party())
        p.hosts.add(flow.destination)
        p.seen_in.add("flows")
        p.bypass = p.bypass or flow.bypass
    for incident in flows.incidents if flows else ():
        if incident.provider in parties:
            parties[incident.provider].tenants.update(incident.tenants)
    names = load_catalog().provider_by_id
    return tuple(
        ThirdParty(
            provider=pid,
            name=names[pid].name if pid in names else pid,
            hosts=tuple(sorted(p.hosts)),
            surfaces=tuple(sorted(p.surfaces)),
            data_categories=tuple(sorted(p.categories)),
            account_data="payment" in p.categories,
            tenants=tuple(sorted(p.tenants)),
            seen_in=tuple(sorted(p.seen_in)),
            bypass_observed=p.bypass,
        )
        for pid, p in sorted(
            parties.items(), key=lambda kv: ("payment" not in kv[1].categories, kv[0])
        )
    )
