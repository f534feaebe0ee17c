"""Charts of the evidence pack, drawn by matplotlib (Agg, SVG output) and inlined.

SVG keeps the pack one self-contained file that prints sharply; fonts are drawn as paths
so no font is fetched, and ids get a per-chart prefix so charts inlined in one page never
share a clip path. The hash salt and the missing date make two runs byte-identical.
"""

from __future__ import annotations

import io
import re
from typing import Any

from mageguard.fix.model import SURFACE_ORDER
from mageguard.report.controls import by_framework
from mageguard.report.model import Report

SEVERITY_COLOURS = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#fde047",
    "info": "#9ca3af",
}
CRITICAL = SURFACE_ORDER[0]
STATUS_COLOURS = {"met": "#16a34a", "partial": "#f59e0b", "open": "#dc2626"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {"svg.hashsalt": "mageguard-report", "svg.fonttype": "path", "font.size": 9}
    )
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any, prefix: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    _pyplot().close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\bid="', f'id="{prefix}-', text)
    return re.sub(r'(url\(#|xlink:href="#|href="#)', rf"\g<1>{prefix}-", text)


def risk_chart(report: Report) -> str:
    """Findings per surface, stacked by severity: where the risk sits."""
    plt = _pyplot()
    rows = list(reversed(report.summary.by_surface))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(rows), 2) + 1.0))
    left = [0] * len(rows)
    for severity, colour in SEVERITY_COLOURS.items():
        values = [dict(r.counts).get(severity, 0) for r in rows]
        ax.barh([r.title for r in rows], values, left=left, color=colour, label=severity)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("findings")
    ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "risk")


def controls_chart(report: Report) -> str:
    """Controls per framework, stacked by status."""
    plt = _pyplot()
    counts = by_framework(report.controls)
    names = list(counts)
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    bottom = [0] * len(names)
    for status, colour in STATUS_COLOURS.items():
        values = [counts[n][status] for n in names]
        ax.bar(names, values, bottom=bottom, color=colour, label=status)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_ylabel("controls")
    ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "controls")


def timeline_chart(report: Report) -> str:
    """The remediation timeline per surface, in weeks: engineering (solid), then gradual
    rollout behind feature flags (light); checkout and payment first, in red."""
    plt = _pyplot()
    phases = report.remediation.phases
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(phases), 2) + 1.0))
    for row, phase in enumerate(phases):
        colour = SEVERITY_COLOURS["high" if phase.surface == CRITICAL else "medium"]
        built = max(phase.built_week - phase.start_week, 0.05)
        ax.broken_barh([(phase.start_week, built)], (row - 0.35, 0.7), color=colour)
        ax.broken_barh(
            [(phase.built_week, phase.rolled_out_week - phase.built_week)],
            (row - 0.35, 0.7),
            color=colour,
            alpha=0.3,
            hatch="//",
        )
    ax.set_yticks(range(len(phases)), [f"{p.surface} ({p.hours:g} h)" for p in phases])
    ax.invert_yaxis()
    per_week = report.remediation.hours_per_week
    ax.set_xlabel(f"weeks (engineering at {per_week:g} h/week, then rollout behind flags)")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "timeline")


def traffic_chart(report: Report) -> str | None:
    """Gateway requests per tenant, local versus external (from the audit store)."""
    if report.audit is None or not report.audit.traffic:
        return None
    plt = _pyplot()
    per: dict[str, list[int]] = {}
    for row in report.audit.traffic:
        acc = per.setdefault(row.tenant, [0, 0, 0])
        acc[0] += row.local
        acc[1] += row.external
        acc[2] += row.requests - row.local - row.external
    names = list(per)
    fig, ax = plt.subplots(figsize=(7.5, 2.4))
    bottom = [0] * len(names)
    for i, (label, colour) in enumerate(
        (("local", "#16a34a"), ("external", "#dc2626"), ("other", "#9ca3af"))
    ):
        values = [per[n][i] for n in names]
        ax.bar(names, values, bottom=bottom, color=colour, label=label)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_ylabel("requests")
    ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "traffic")
