"""The evidence pack as values: what both the HTML and the JSON rendering show.

Every value is frozen and made of strings, numbers and tuples, so `dataclasses.asdict` is
the JSON format and a later report can be diffed against this one. Nothing here holds a
customer value or a prompt: categories, counts, paths, hosts and masked code only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mageguard.report.audit import AuditSummary
from mageguard.report.flows import FlowAudit

KIND = "mageguard.report"
VERSION = 1


class Status(enum.StrEnum):
    """A control's status, ordered from best to worst (`worst` relies on it)."""

    MET = "met"
    PARTIAL = "partial"
    OPEN = "open"

    @property
    def rank(self) -> int:
        return list(Status).index(self)


def worst(statuses: tuple[Status, ...] | list[Status]) -> Status:
    return max(statuses, key=lambda s: s.rank, default=Status.MET)


@dataclass(frozen=True)
class FindingRef:
    """What the report keeps of a scan Finding: its identity, place and categories; the
    evidence is code from the store, masked again and cut short."""

    fingerprint: str
    rule_id: str
    title: str
    severity: str
    surface: str
    pattern: str
    path: str
    line: int
    setting: str | None  # the configuration path, for a finding in configuration
    provider: str | None
    host: str | None
    module: str | None
    feature: str  # the AI feature it belongs to: module, package or configuration section
    tenant: str | None  # None: code or the default scope, so every tenant
    data_categories: tuple[str, ...]
    controls: tuple[str, ...]
    audit: bool
    evidence: str


@dataclass(frozen=True)
class SurfaceRisk:
    surface: str
    title: str
    counts: tuple[tuple[str, int], ...]  # (severity, count), most severe first
    total: int


@dataclass(frozen=True)
class ControlChange:
    id: str
    before: str | None  # None: the control is new in this report
    after: str


@dataclass(frozen=True)
class Changes:
    """What changed since the report given as --previous (findings by fingerprint)."""

    previous_generated_at: str
    new_findings: tuple[str, ...]
    resolved_findings: tuple[str, ...]
    unchanged_findings: int
    controls: tuple[ControlChange, ...]


@dataclass(frozen=True)
class Summary:
    findings: int
    by_severity: tuple[tuple[str, int], ...]
    by_surface: tuple[SurfaceRisk, ...]
    controls: tuple[tuple[str, int], ...]  # (status, count)
    external_providers: int
    tenants: int


@dataclass(frozen=True)
class ProcessingRecord:
    """One GDPR Art. 30 record-of-processing row: an AI feature of a tenant, where its data
    goes and which categories it carries."""

    tenant: str
    feature: str  # the module, or the configuration path's section
    surface: str
    provider: str
    hosts: tuple[str, ...]
    data_categories: tuple[str, ...]
    recipient: str  # external | local | unknown
    findings: int


@dataclass(frozen=True)
class ThirdParty:
    """One PCI DSS 12.8 service-provider row: an external AI provider the store talks to."""

    provider: str
    name: str
    hosts: tuple[str, ...]
    surfaces: tuple[str, ...]
    data_categories: tuple[str, ...]
    account_data: bool  # payment data reaches it
    tenants: tuple[str, ...]
    seen_in: tuple[str, ...]  # scan | flows | audit
    bypass_observed: bool


@dataclass(frozen=True)
class ControlResult:
    id: str
    framework: str
    ref: str
    title: str
    status: Status
    evidence: tuple[str, ...]  # sentences an auditor reads: what decided the status
    findings: tuple[str, ...]  # fingerprints of the findings that bear on it


@dataclass(frozen=True)
class RemediationItem:
    order: int
    surface: str
    title: str
    action: str  # the step kind of the fix plan, or the remedy of fix/data/remedies.yaml
    where: str
    findings: int
    hours: float
    start_week: float
    end_week: float


@dataclass(frozen=True)
class Phase:
    """One surface on the timeline: its engineering work, then its gradual rollout behind
    feature flags (0% to 100% local), in weeks from the start."""

    surface: str
    hours: float
    start_week: float
    built_week: float
    rolled_out_week: float


@dataclass(frozen=True)
class Remediation:
    source: str  # "fix plan" or "derived from findings"
    items: tuple[RemediationItem, ...]
    phases: tuple[Phase, ...]
    total_hours: float
    weeks: float
    hours_per_week: float
    reference: str  # the seed's timeline guidance, for comparison


@dataclass(frozen=True)
class OverheadFigure:
    subject: str
    measure: str
    value: str
    source: str


@dataclass(frozen=True)
class DiagramNode:
    id: str
    label: str
    layer: int  # 0 sources, 1 the gateway, 2 destinations
    kind: str  # tenant | module | host | gateway | local | external


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    kind: str  # scanned | via_gateway | bypass | local
    label: str


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


@dataclass(frozen=True)
class Inputs:
    scan: str
    audit: str | None
    flows: str | None
    plan: str | None
    previous: str | None


@dataclass(frozen=True)
class Report:
    kind: str
    version: int
    generated_at: str
    tool_version: str
    store: str
    inputs: Inputs
    summary: Summary
    changes: Changes | None
    processing: tuple[ProcessingRecord, ...]
    third_parties: tuple[ThirdParty, ...]
    diagram: Diagram
    controls: tuple[ControlResult, ...]
    remediation: Remediation
    overhead: tuple[OverheadFigure, ...]
    audit: AuditSummary | None
    flows: FlowAudit | None
    findings: tuple[FindingRef, ...]
