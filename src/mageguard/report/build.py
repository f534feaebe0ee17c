"""From the inputs to the Report: the one place the sections are put together, so the HTML
and the JSON rendering can only ever show the same content."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mageguard.report import model as m
from mageguard.report.audit import AuditSummary
from mageguard.report.controls import decide_controls, status_counts
from mageguard.report.diagram import build_diagram
from mageguard.report.evidence import Evidence
from mageguard.report.findings import finding_ref
from mageguard.report.flows import FlowAudit
from mageguard.report.inputs import PlanInput, PreviousReport, ScanInput
from mageguard.report.inventory import processing_records, third_parties
from mageguard.report.remediation import overhead, plan_remediation
from mageguard.scan.formats.common import SEVERITIES, group_by_surface, ordered_findings


@dataclass(frozen=True)
class Sources:
    """Everything the report is made from, already read and checked."""

    scan: ScanInput
    audit: AuditSummary | None = None
    flows: FlowAudit | None = None
    plan: PlanInput | None = None
    previous: PreviousReport | None = None


def build_report(sources: Sources, inputs: m.Inputs, now: dt.datetime) -> m.Report:
    ordered = ordered_findings(sources.scan.findings)
    tenants = sources.scan.tenants
    refs = tuple(finding_ref(f, tenants) for f in ordered)
    by_fp = {r.fingerprint: r for r in refs}
    plan = sources.plan
    resolved = frozenset(fp for s in plan.steps for fp in s.findings) if plan else frozenset()
    controls = decide_controls(refs, Evidence(sources.audit, sources.flows, now), resolved)
    parties = third_parties(refs, sources.flows)
    summary = m.Summary(
        findings=len(refs),
        by_severity=_severities(refs),
        by_surface=tuple(
            m.SurfaceRisk(
                g.id,
                g.title,
                _severities(by_fp[f.fingerprint] for f in g.findings),
                len(g.findings),
            )
            for g in group_by_surface(ordered)
        ),
        controls=status_counts(controls),
        external_providers=len(parties),
        tenants=len(sources.scan.tenants),
    )
    return m.Report(
        kind=m.KIND,
        version=m.VERSION,
        generated_at=now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        tool_version=sources.scan.tool_version,
        store=sources.scan.root,
        inputs=inputs,
        summary=summary,
        changes=_changes(refs, controls, sources.previous),
        processing=processing_records(refs),
        third_parties=parties,
        diagram=build_diagram(refs, sources.flows),
        controls=controls,
        remediation=plan_remediation(refs, plan),
        overhead=overhead(),
        audit=sources.audit,
        flows=sources.flows,
        findings=refs,
    )


def _severities(refs: Iterable[m.FindingRef]) -> tuple[tuple[str, int], ...]:
    counts = Counter(r.severity for r in refs)
    return tuple((str(s), counts[str(s)]) for s in SEVERITIES)


def _changes(
    refs: tuple[m.FindingRef, ...],
    controls: tuple[m.ControlResult, ...],
    previous: PreviousReport | None,
) -> m.Changes | None:
    if previous is None:
        return None
    now = {r.fingerprint for r in refs}
    changed = tuple(
        m.ControlChange(c.id, previous.controls.get(c.id), str(c.status))
        for c in controls
        if previous.controls.get(c.id) != str(c.status)
    )
    return m.Changes(
        previous_generated_at=previous.generated_at,
        new_findings=tuple(sorted(now - previous.fingerprints)),
        resolved_findings=tuple(sorted(previous.fingerprints - now)),
        unchanged_findings=len(now & previous.fingerprints),
        controls=changed,
    )


def describe_inputs(
    scan: Path, audit: str | None, flows: Path | None, plan: Path | None, previous: Path | None
) -> m.Inputs:
    def name(p: Path | str | None) -> str | None:
        return None if p is None else str(p)

    return m.Inputs(str(scan), audit, name(flows), name(plan), name(previous))
