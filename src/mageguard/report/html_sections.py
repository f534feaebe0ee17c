"""The evidence sections of the HTML pack: flows, controls, the gateway's audit trail,
remediation and the findings appendix. Same escaping rule as html.py: every input string
through `esc`; the SVG handed in is ours or matplotlib's."""

from __future__ import annotations

from mageguard.report.audit import Count
from mageguard.report.htmlkit import badge, esc, table, words
from mageguard.report.model import Report


def _flow_path(bypass: bool, via_gateway: bool) -> str:
    if bypass:
        return '<span class="bypass">bypassed the gateway</span>'
    return "through the gateway" if via_gateway else "not AI"


def flows_section(report: Report, diagram_svg: str) -> str:
    out = [
        '<section id="flows"><h2>Data flows</h2>',
        '<p class="note">From the scan (calls found in code and configuration) and, when given, '
        "the flows observed in network logs. Red: AI traffic that went around the gateway.</p>",
        f'<figure class="diagram">{diagram_svg}</figure>',
    ]
    flows = report.flows
    if flows is None:
        return "".join([*out, '<p class="note">No flow audit was given (--flows).</p></section>'])
    out.append(f"<h3>Observed flows (generated {esc(flows.generated_at)})</h3>")
    head = [
        "source",
        "destination",
        "provider",
        "first seen",
        "last seen",
        "requests",
        "bytes out",
        "path",
    ]
    out.append(
        table(
            head,
            (
                [
                    esc(f.source),
                    esc(f.destination),
                    esc(f.provider or "-"),
                    esc(f.first_seen),
                    esc(f.last_seen),
                    str(f.requests),
                    "-" if f.bytes_out is None else str(f.bytes_out),
                    _flow_path(f.bypass, f.via_gateway),
                ]
                for f in flows.flows
            ),
            "flows",
        )
    )
    out.append("<h3>Incidents and their clocks (GDPR Art. 33, NIS2 Art. 23)</h3>")
    if not flows.incidents:
        return "".join([*out, '<p class="note">No incident.</p></section>'])
    head = ["incident", "severity", "kind", "path", "tenants", "aware at", "evidence", "deadlines"]
    out.append(
        table(
            head,
            (
                [
                    esc(i.id),
                    badge(i.severity),
                    esc(i.kind),
                    f"{esc(i.source)} → {esc(i.destination)}",
                    words(i.tenants),
                    esc(i.aware_at),
                    f"{i.evidence_lines} log line(s) in {words(i.evidence_files)}",
                    "<br>".join(
                        f"{esc(d.regime)} {esc(d.article)}: {esc(d.obligation)} by {esc(d.due)}"
                        for d in i.deadlines
                    ),
                ]
                for i in flows.incidents
            ),
            "incidents",
        )
    )
    return "".join([*out, "</section>"])


def controls_section(report: Report, chart_svg: str) -> str:
    rows = (
        [
            f'<span id="control-{esc(c.id)}">{esc(c.framework)}</span>',
            esc(c.ref),
            esc(c.title),
            badge(c.status),
            '<ul class="evidence">' + "".join(f"<li>{esc(e)}</li>" for e in c.evidence) + "</ul>",
        ]
        for c in report.controls
    )
    return (
        '<section id="controls"><h2>Controls</h2>'
        '<p class="note">Met: nothing in the evidence stands against it. Partial: only '
        "low-severity or low-confidence findings, or evidence still to come in. Open: a "
        "finding, a failed check or missing evidence.</p>"
        f'<figure class="chart">{chart_svg}</figure>'
        f"{table(['framework', 'ref', 'control', 'status', 'evidence'], rows, 'controls')}"
        "</section>"
    )


def _counts(items: tuple[Count, ...]) -> str:
    return esc(", ".join(f"{c.name} {c.count}" for c in items)) or "none"


def audit_section(report: Report, chart_svg: str | None) -> str:
    a = report.audit
    out = ['<section id="audit"><h2>Gateway audit trail</h2>']
    if a is None:
        out.append('<p class="note">No audit store was given (--audit).</p></section>')
        return "".join(out)
    verdict = (
        badge("met") + " the hash chain is intact"
        if a.chain_intact
        else badge("open") + f" TAMPERED: first bad record {esc(a.first_bad_seq or '-')}"
    )
    out.append(
        f"<p>Store <code>{esc(a.location)}</code>: {a.records} records, {a.checkpoints} "
        f"checkpoints; {verdict}.</p>"
    )
    if a.problems:
        out.append("<ul>" + "".join(f"<li>{esc(p)}</li>" for p in a.problems) + "</ul>")
    if chart_svg:
        out.append(f'<figure class="chart">{chart_svg}</figure>')
    out.append(
        table(
            ["tenant", "surface", "requests", "local", "external", "blocked"],
            (
                [
                    esc(r.tenant),
                    esc(r.surface),
                    str(r.requests),
                    str(r.local),
                    str(r.external),
                    str(r.blocked),
                ]
                for r in a.traffic
            ),
            "traffic",
        )
    )
    out.append(
        f"<p>Decisions: {_counts(a.decisions)}.<br>Redacted entities: "
        f"{_counts(a.redacted_entities)}.<br>Redacted data categories: "
        f"{_counts(a.redacted_categories)}.<br>Forward proxy refusals by host: "
        f"{_counts(a.proxy_blocked_hosts)}.</p>"
    )
    if a.policy:
        out.append(f"<p>Gateway policy read from <code>{esc(a.policy)}</code>.</p>")
    return "".join([*out, "</section>"])


def remediation_section(report: Report, chart_svg: str) -> str:
    r = report.remediation
    rows = (
        [
            str(i.order),
            esc(i.surface),
            esc(i.title),
            f"<code>{esc(i.action)}</code>",
            f"<code>{esc(i.where)}</code>",
            str(i.findings),
            f"{i.hours:g}",
            f"{i.start_week:g}–{i.end_week:g}",
        ]
        for i in r.items
    )
    overhead = (
        [esc(o.subject), esc(o.measure), esc(o.value), esc(o.source)] for o in report.overhead
    )
    head = ["#", "surface", "what", "action", "where", "findings", "hours", "weeks"]
    return (
        '<section id="remediation"><h2>Remediation plan</h2>'
        f"<p>Ordered by risk, checkout and payment first ({esc(r.source)}): {r.total_hours:g} "
        f"engineer-hours, about {r.weeks:g} weeks including gradual rollout behind feature "
        f"flags, at {r.hours_per_week:g} hours a week.</p>"
        f'<p class="note">{esc(r.reference)}</p>'
        f"{table(head, rows, 'remediation')}"
        f'<figure class="chart">{chart_svg}</figure>'
        "<h3>Operating overhead of local models</h3>"
        f"{table(['model or component', 'measure', 'value', 'source'], overhead, 'overhead')}"
        "</section>"
    )


def findings_section(report: Report) -> str:
    rows = (
        [
            badge(f.severity),
            f"<code>{esc(f.rule_id)}</code>",
            esc(f.surface),
            f"<code>{esc(f.path)}:{f.line}</code>"
            + (f"<br><code>{esc(f.setting)}</code>" if f.setting else ""),
            words(f.data_categories),
            esc(f.host or f.provider or "-"),
            f"<code>{esc(f.evidence)}</code>",
            f"<code>{esc(f.fingerprint)}</code>",
        ]
        for f in report.findings
    )
    head = [
        "severity",
        "rule",
        "surface",
        "where",
        "data categories",
        "destination",
        "evidence (masked)",
        "fingerprint",
    ]
    return (
        '<section id="findings"><h2>Appendix: findings</h2>'
        f"{table(head, rows, 'findings')}</section>"
    )
