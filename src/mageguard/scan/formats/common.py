"""What several formats share: the order findings are read in, grouping by surface, counts
and the short texts a human-facing format shows for a location or a provider.

Every format sorts with these so table, Markdown, HTML, JSON and SARIF agree on order and
two runs over the same tree produce byte-identical output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import mageguard
from mageguard.catalog import load_catalog
from mageguard.scan.finding import Finding, Location, Severity
from mageguard.scan.result import Notice, ScanResult, Tenant
from mageguard.scan.ruleset import Rule

TOOL_NAME = "mageguard"

#: Most severe first: the order of columns and counts in every human-facing format.
SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


@dataclass(frozen=True)
class SurfaceGroup:
    """The findings of one surface, in reading order."""

    id: str
    title: str
    risk: int | None
    findings: tuple[Finding, ...]


def tool_version(result: ScanResult) -> str:
    return result.tool_version or mageguard.__version__


def finding_order(finding: Finding) -> tuple[int, str, int, int, str, str, str]:
    """Severity desc, then path/line/column and rule; the fingerprint breaks the last ties
    so the order never depends on the order analyzers ran in."""
    return (*finding.sort_key, finding.fingerprint, finding.message)


def ordered_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=finding_order))


def ordered_notices(notices: Iterable[Notice]) -> tuple[Notice, ...]:
    return tuple(sorted(notices, key=lambda n: (n.path or "", n.line or 0, n.kind, n.message)))


def ordered_tenants(tenants: Iterable[Tenant]) -> tuple[Tenant, ...]:
    return tuple(sorted(tenants, key=lambda t: (t.scope, t.scope_id, t.code)))


def group_by_surface(findings: Iterable[Finding]) -> tuple[SurfaceGroup, ...]:
    """Groups in the catalog's risk order (checkout and payment first: it is fixed first);
    a surface the catalog does not know comes after the known ones, by id."""
    surfaces = load_catalog().surface_by_id
    by_surface: dict[str, list[Finding]] = {}
    for finding in findings:
        by_surface.setdefault(finding.surface, []).append(finding)

    def rank(surface_id: str) -> tuple[int, int, str]:
        known = surfaces.get(surface_id)
        return (0, known.risk, surface_id) if known else (1, 0, surface_id)

    groups = []
    for surface_id in sorted(by_surface, key=rank):
        known = surfaces.get(surface_id)
        groups.append(
            SurfaceGroup(
                id=surface_id,
                title=known.title if known else (surface_id or "No surface"),
                risk=known.risk if known else None,
                findings=ordered_findings(by_surface[surface_id]),
            )
        )
    return tuple(groups)


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """A count for every severity, zeros included, most severe first."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def rules_by_id(result: ScanResult) -> Mapping[str, Rule]:
    return {rule.id: rule for rule in result.rules}


def location_text(location: Location) -> str:
    """`path:line` for files; a database row has no line worth showing."""
    return f"{location.path}:{location.line}" if location.is_file else location.path


def notice_location_text(notice: Notice) -> str:
    if notice.path is None:
        return ""
    return notice.path if notice.line is None else f"{notice.path}:{notice.line}"


def provider_name(finding: Finding) -> str | None:
    if finding.provider is None:
        return None
    known = load_catalog().provider_by_id.get(finding.provider)
    return known.name if known else finding.provider


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def summary_text(result: ScanResult) -> str:
    """One line a person reads first: counts per severity, what was scanned, how long, and
    what was left out on purpose (suppressed inline, accepted in the baseline)."""
    counts = severity_counts(result.findings)
    by_severity = ", ".join(f"{n} {s}" for s, n in counts.items())
    parts = [
        f"{plural(len(result.findings), 'finding')} ({by_severity})",
        f"{plural(result.stats.files_seen, 'file')} scanned in {result.stats.seconds:.2f} s",
        f"{result.suppressed:,} suppressed",
        f"{result.baselined:,} baselined",
    ]
    if result.routed:
        parts.append(f"{plural(len(result.routed), 'call')} routed by Mageguard_Connector")
    if result.notices:
        parts.append(plural(len(result.notices), "notice"))
    return " · ".join(parts)


def not_magento_warning(result: ScanResult) -> str | None:
    if result.is_magento:
        return None
    return (
        f"{result.root} does not look like a Magento 2 installation: "
        "surface and data-category attribution may be incomplete"
    )
