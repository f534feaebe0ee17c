"""The evidence pack as one self-contained HTML page: inline CSS, inline SVG, no script and
no external asset (a Content-Security-Policy forbids any fetch), so it can be mailed,
archived with an audit and printed; @media print starts each section on a new page.

Every string taken from the inputs goes through `esc`: paths, hosts and masked code come
from the scanned store and may hold markup. SVG is inserted as is: it is ours (diagram.py)
or matplotlib's, never the store's.
"""

from __future__ import annotations

from mageguard.report import charts
from mageguard.report.diagram import render_svg
from mageguard.report.html_sections import (
    audit_section,
    controls_section,
    findings_section,
    flows_section,
    remediation_section,
)
from mageguard.report.htmlkit import badge, esc, table, words
from mageguard.report.model import Report

LISTED = 30  # fingerprints listed per kind of change; the JSON report has them all
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 2px solid var(--ink); padding-bottom: 4px; } h3 { font-size: 14px; }
.meta, .note { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #f9fafb; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 11px/1.3 ui-monospace, Menlo, monospace; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-weight: 600;
         font-size: 11px; color: #fff; }
.met { background: #16a34a; } .partial { background: #d97706; } .open { background: #dc2626; }
.critical { background: #7f1d1d; } .high { background: #dc2626; } .medium { background: #d97706; }
.low { background: #ca8a04; } .info { background: #6b7280; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.chart svg, .diagram svg { max-width: 100%; height: auto; }
.bypass { color: #dc2626; font-weight: 600; }
ul.evidence { margin: 0; padding-left: 16px; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  td, th { overflow-wrap: break-word; } figure { margin: 0; }
  .chart svg, .diagram svg { max-height: 165mm; width: auto; }
  section { break-before: page; } section#summary { break-before: auto; }
  tr, .card, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(report: Report) -> str:
    body = "".join(
        (
            _header(report),
            _summary(report),
            _inventory(report),
            flows_section(report, render_svg(report.diagram)),
            controls_section(report, charts.controls_chart(report)),
            audit_section(report, charts.traffic_chart(report)),
            remediation_section(report, charts.timeline_chart(report)),
            findings_section(report),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mageguard evidence pack: {esc(report.store)}</title>"
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _header(report: Report) -> str:
    given = [
        f"{name}: <code>{esc(value)}</code>"
        for name, value in (
            ("scan", report.inputs.scan),
            ("audit", report.inputs.audit),
            ("flows", report.inputs.flows),
            ("plan", report.inputs.plan),
            ("previous", report.inputs.previous),
        )
        if value
    ]
    return (
        "<header><h1>AI data-leak evidence pack</h1>"
        f'<p class="meta">Store <code>{esc(report.store)}</code> · generated '
        f"{esc(report.generated_at)} by mageguard {esc(report.tool_version)}</p>"
        f'<p class="meta">Made from {"; ".join(given)}. It shows data categories, counts, '
        "paths and hosts; never prompts or customer values (secrets in code are masked).</p>"
        "</header>"
    )


def _summary(report: Report) -> str:
    s = report.summary
    status = dict(s.controls)
    cards = "".join(
        f'<div class="card"><b>{esc(v)}</b>{esc(k)}</div>'
        for k, v in (
            ("findings", s.findings),
            ("controls met", status.get("met", 0)),
            ("controls partial", status.get("partial", 0)),
            ("controls open", status.get("open", 0)),
            ("external AI providers", s.external_providers),
            ("websites and store views", s.tenants),
        )
    )
    sev = [name for name, _ in s.by_severity]
    rows = [
        [esc(r.title), *(f'<span class="num">{n}</span>' for _, n in r.counts), str(r.total)]
        for r in s.by_surface
    ]
    rows.append(
        ["<b>all surfaces</b>", *(f"<b>{n}</b>" for _, n in s.by_severity), f"<b>{s.findings}</b>"]
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<div class="cards">{cards}</div><h3>Risk by surface and severity</h3>'
        f"{table(['surface', *sev, 'total'], rows, 'risk')}"
        f'<figure class="chart">{charts.risk_chart(report)}</figure>{_changes(report)}</section>'
    )


def _changes(report: Report) -> str:
    c = report.changes
    if c is None:
        return (
            '<h3>Changes since the last report</h3><p class="note">No earlier report was '
            "given (--previous): this is the baseline for the next one.</p>"
        )
    controls = (
        table(
            ["control", "before", "now"],
            (
                [esc(x.id), badge(x.before) if x.before else "new", badge(x.after)]
                for x in c.controls
            ),
        )
        if c.controls
        else '<p class="note">No control changed status.</p>'
    )
    listed = "".join(
        f"<li>{label}: {len(fps)}<ul>"
        + "".join(f"<li><code>{esc(fp)}</code></li>" for fp in fps[:LISTED])
        + (
            f"<li>… and {len(fps) - LISTED} more (see the JSON report)</li>"
            if len(fps) > LISTED
            else ""
        )
        + "</ul></li>"
        for label, fps in (
            ("new findings", c.new_findings),
            ("resolved findings", c.resolved_findings),
        )
    )
    return (
        f'<div id="changes"><h3>Changes since the last report ({esc(c.previous_generated_at)})</h3>'
        f"<ul>{listed}<li>unchanged findings: {c.unchanged_findings}</li></ul>{controls}</div>"
    )


def _inventory(report: Report) -> str:
    records = table(
        [
            "tenant",
            "AI feature",
            "surface",
            "recipient",
            "provider",
            "hosts",
            "data categories",
            "findings",
        ],
        (
            [
                esc(r.tenant),
                f"<code>{esc(r.feature)}</code>",
                esc(r.surface),
                esc(r.recipient),
                esc(r.provider),
                words(r.hosts),
                words(r.data_categories),
                str(r.findings),
            ]
            for r in report.processing
        ),
        "processing",
    )
    parties = table(
        [
            "provider",
            "hosts",
            "surfaces",
            "data categories",
            "account data",
            "tenants",
            "seen in",
            "bypass observed",
        ],
        (
            [
                esc(p.name),
                words(p.hosts),
                words(p.surfaces),
                words(p.data_categories),
                "yes" if p.account_data else "no",
                words(p.tenants),
                words(p.seen_in),
                '<span class="bypass">yes</span>' if p.bypass_observed else "no",
            ]
            for p in report.third_parties
        ),
        "third-parties",
    )
    return (
        '<section id="inventory"><h2>Inventory of AI features</h2>'
        "<h3>Record of processing (GDPR Art. 30)</h3>"
        '<p class="note">One row per tenant, AI feature and recipient. "all tenants": found in '
        "code or the default configuration scope, so it runs for every website.</p>"
        f"{records}<h3>Third-party AI service providers (PCI DSS 12.8.1)</h3>{parties}</section>"
    )
