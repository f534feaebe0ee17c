"""Each control of the catalog, met / partial / open, with the evidence that decides it.

A control with `when` clauses is decided by the findings that bear on it (the scan wrote
their control ids into each finding): none is met; only low-confidence (audit) or
low-severity ones is partial; anything else is open. A control's `evidence` checks
(report/evidence.py) are decided on the audit store, flows and incidents; the status is
the worst of both. The rules live in controls.yaml; this is the small code that reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from mageguard.catalog.loader import load_data_file
from mageguard.report.evidence import Evidence, run_check
from mageguard.report.model import ControlResult, FindingRef, Status, worst
from mageguard.scan.formats.common import SEVERITIES

_MINOR = frozenset({"low", "info"})


def decide_controls(
    findings: Iterable[FindingRef], evidence: Evidence, resolved: frozenset[str] = frozenset()
) -> tuple[ControlResult, ...]:
    """`resolved`: fingerprints a fix plan resolves, named in the evidence (a plan not yet
    applied changes no status)."""
    refs = tuple(findings)
    results = []
    for raw in load_data_file("controls")["controls"]:
        statuses: list[Status] = []
        texts: list[str] = []
        bearing = tuple(f for f in refs if raw["id"] in f.controls)
        if raw.get("when"):
            status, text = _by_findings(bearing, len(refs), resolved)
            statuses.append(status)
            texts.append(text)
        for spec in raw.get("evidence", ()):
            status, text = run_check(evidence, spec)
            statuses.append(status)
            texts.append(text)
        if not statuses:
            statuses, texts = [Status.OPEN], ["no rule decides this control"]
        texts = list(dict.fromkeys(texts))  # two checks missing the same input say it once
        results.append(
            ControlResult(
                id=raw["id"],
                framework=raw["framework"],
                ref=raw["ref"],
                title=raw["title"],
                status=worst(statuses),
                evidence=tuple(texts),
                findings=tuple(f.fingerprint for f in bearing),
            )
        )
    return tuple(results)


def _by_findings(
    bearing: tuple[FindingRef, ...], scanned: int, resolved: frozenset[str]
) -> tuple[Status, str]:
    if not bearing:
        return Status.MET, f"no finding bears on it ({scanned} finding(s) in the scan)"
    severities = Counter(f.severity for f in bearing)
    counts = ", ".join(f"{severities[str(s)]} {s}" for s in SEVERITIES if severities[str(s)])
    rules = ", ".join(sorted({f.rule_id for f in bearing}))
    text = f"{len(bearing)} finding(s) bear on it ({counts}; rules: {rules})"
    planned = sum(1 for f in bearing if f.fingerprint in resolved)
    if planned:
        text += f"; the fix plan resolves {planned} of them once applied"
    minor = all(f.audit or f.severity in _MINOR for f in bearing)
    return (Status.PARTIAL if minor else Status.OPEN), text


def status_counts(results: Iterable[ControlResult]) -> tuple[tuple[str, int], ...]:
    counts = Counter(r.status for r in results)
    return tuple((str(s), counts[s]) for s in Status)


def by_framework(results: Iterable[ControlResult]) -> Mapping[str, Mapping[str, int]]:
    """{framework: {status: count}} in catalog order, for the chart."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        out.setdefault(r.framework, dict.fromkeys((str(s) for s in Status), 0))[str(r.status)] += 1
    return out
