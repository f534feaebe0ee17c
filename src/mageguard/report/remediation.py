"""The remediation plan, ordered by risk (checkout and payment first), with effort and a
timeline; and the operating overhead of local models.

With a fix plan (--plan) its steps are the plan; without one, findings are grouped by
surface and by the remedy `mageguard fix` has for their rule (fix/data/remedies.yaml).
Hours, capacity and rollout windows are data (report/data/effort.yaml), as are the
overhead figures (report/data/local_models.yaml, from bench/RESULTS.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mageguard.catalog.loader import load_data_file
from mageguard.fix.model import SURFACE_ORDER, surface_rank
from mageguard.fix.planner import remedies
from mageguard.report.inputs import PlanInput
from mageguard.report.model import (
    FindingRef,
    OverheadFigure,
    Phase,
    Remediation,
    RemediationItem,
)


@functools.cache
def report_data(name: str) -> Mapping[str, Any]:
    """`report/data/<name>.yaml`, checked against `report/schemas/<name>.schema.json`."""
    data: Mapping[str, Any] = load_data_file(
        name, package="mageguard.report", schemas="mageguard.report"
    )
    return data


@dataclass(frozen=True)
class _Work:
    surface: str
    title: str
    action: str
    where: str
    findings: int
    hours: float


def plan_remediation(findings: Iterable[FindingRef], plan: PlanInput | None) -> Remediation:
    """The fix plan's steps when given, plus the work on the findings it leaves to the
    operator (derived, as without a plan), in risk order; each surface's plan steps first."""
    effort = report_data("effort")
    refs = tuple(findings)
    planned = _from_plan(plan, effort) if plan is not None else []
    resolved = {fp for s in plan.steps for fp in s.findings} if plan is not None else set()
    kinds = {w.action for w in planned}
    first = SURFACE_ORDER[0]
    foundation = [
        _Work(first, f["title"], f["kind"], f["where"], 0, float(f["hours"]))
        for f in effort["foundation"]
        if f["kind"] not in kinds
    ]
    left = _derived((f for f in refs if f.fingerprint not in resolved), effort)
    work = sorted(foundation + planned + left, key=lambda w: surface_rank(w.surface))
    per_week = float(effort["hours_per_week"])
    rollout = effort["rollout_weeks"]
    items: list[RemediationItem] = []
    phases: dict[str, list[float]] = {}  # surface -> [hours, start, built, rolled out]
    spent = 0.0
    for order, w in enumerate(work, 1):
        start, spent = spent, spent + w.hours
        items.append(
            RemediationItem(
                order=order,
                surface=w.surface,
                title=w.title,
                action=w.action,
                where=w.where,
                findings=w.findings,
                hours=round(w.hours, 2),
                start_week=round(start / per_week, 2),
                end_week=round(spent / per_week, 2),
            )
        )
        phase = phases.setdefault(w.surface, [0.0, start / per_week, 0.0, 0.0])
        phase[0] += w.hours
        phase[2] = spent / per_week
        phase[3] = phase[2] + float(rollout.get(w.surface, rollout["default"]))
    return Remediation(
        source="fix plan, and the findings it leaves to the operator"
        if plan is not None
        else "derived from findings",
        items=tuple(items),
        phases=tuple(
            Phase(s, round(h, 2), round(a, 2), round(b, 2), round(c, 2))
            for s, (h, a, b, c) in phases.items()
        ),
        total_hours=round(spent, 2),
        weeks=round(max((p[3] for p in phases.values()), default=0.0), 1),
        hours_per_week=per_week,
        reference=str(effort["reference"]),
    )


def _cost(spec: Mapping[str, Any], count: int) -> float:
    return float(spec["base"]) + float(spec["each"]) * count


def _from_plan(plan: PlanInput, effort: Mapping[str, Any]) -> list[_Work]:
    default = {"base": 2, "each": 0.5}
    return [
        _Work(
            s.surface,
            s.title,
            s.kind,
            s.where,
            len(s.findings),
            _cost(effort["steps"].get(s.kind, default), len(s.findings)),
        )
        for s in plan.steps
    ]


def _derived(findings: Iterable[FindingRef], effort: Mapping[str, Any]) -> list[_Work]:
    known = remedies()
    groups: dict[tuple[str, str], list[FindingRef]] = {}
    for f in findings:
        remedy = known[f.rule_id].remedy if f.rule_id in known else "none"
        action = (
            f"rule:{f.rule_id}" if remedy == "none" and f.rule_id in effort["rules"] else remedy
        )
        groups.setdefault((f.surface, action), []).append(f)
    work = []
    for (surface, action), members in groups.items():
        if action.startswith("rule:"):
            spec = effort["rules"][action[5:]]
        else:
            spec = effort["remedies"].get(action, effort["remedies"]["none"])
        paths = sorted({m.setting or m.path for m in members})
        where = paths[0] if len(paths) == 1 else f"{len(paths)} places ({paths[0]}, ...)"
        work.append(
            _Work(
                surface,
                spec["title"],
                action.removeprefix("rule:"),
                where,
                len(members),
                _cost(spec, len(members)),
            )
        )
    return sorted(work, key=lambda w: (surface_rank(w.surface), -w.hours, w.action))


def overhead() -> tuple[OverheadFigure, ...]:
    return tuple(OverheadFigure(**f) for f in report_data("local_models")["figures"])
