"""One self-contained HTML page: inline CSS and a few lines of inline JS, no external
asset, so it can be mailed, attached to a ticket or opened offline.

Every string is passed through `html.escape`: evidence is masked by the analyzers, yet it is
still text taken from the scanned store and may hold markup. A Content-Security-Policy
forbids any fetch as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from mageguard.scan.finding import Finding
from mageguard.scan.formats.common import (
    SEVERITIES,
    SurfaceGroup,
    group_by_surface,
    location_text,
    not_magento_warning,
    notice_location_text,
    ordered_notices,
    ordered_tenants,
    plural,
    provider_name,
    rules_by_id,
    severity_counts,
    summary_text,
    tool_version,
)
from mageguard.scan.formats.interface import FormatOptions
from mageguard.scan.result import ScanResult
from mageguard.scan.ruleset import Rule


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; padding: 1.5rem; max-width: 1400px; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .25rem; border-bottom: 1px solid var(--line); }
.meta, .muted { color: var(--muted); }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--alt); padding: .5rem; white-space: pre-wrap; word-break: break-all;
      margin: .25rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: var(--alt); }
td.num, th.num { text-align: right; }
/* Fixed layout so the findings tables of all surfaces line up column by column. */
table.findings { table-layout: fixed; }
table.findings th:nth-child(1) { width: 7.5em; }
table.findings th:nth-child(2) { width: 16%; }
table.findings th:nth-child(3) { width: 22%; }
table.findings th:nth-child(4) { width: 14%; }
table.findings th:nth-child(5) { width: 12%; }
td { overflow-wrap: anywhere; }
.sev { display: inline-block; min-width: 5.5em; padding: 0 .4em; border-radius: 3px;
       font-weight: 600; font-size: 12px; text-align: center; }
.sev-critical { background: #82071e; color: #fff; }
.sev-high { background: #cf222e; color: #fff; }
.sev-medium { background: #bf8700; color: #fff; }
.sev-low { background: #0969da; color: #fff; }
.sev-info { background: #eaeef2; color: #1f2328; }
.counts { display: flex; gap: .5rem; flex-wrap: wrap; margin: .75rem 0; }
.counts .sev { font-size: 14px; padding: .3rem .6rem; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: .5rem; }
.filter { position: sticky; top: 0; background: var(--bg); padding: .5rem 0;
          border-bottom: 1px solid var(--line); display: flex; gap: 1rem; }
.filter input { width: 24rem; max-width: 100%; padding: .25rem; }
details summary { cursor: pointer; color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .25rem 0; }
dt { color: var(--muted); }
dd { margin: 0; }
@media print { .filter { display: none; } details { display: block; } }
"""

_JS = """
(function () {
  var box = document.getElementById("filter");
  var floor = document.getElementById("min-severity");
  function apply() {
    var q = box.value.trim().toLowerCase(), min = Number(floor.value), shown = 0;
    document.querySelectorAll("section.surface").forEach(function (section) {
      var visible = 0;
      section.querySelectorAll("tr.finding").forEach(function (row) {
        var ok = Number(row.dataset.severity) >= min &&
          (q === "" || row.textContent.toLowerCase().indexOf(q) !== -1);
        row.hidden = !ok;
        if (ok) { visible++; }
      });
      section.hidden = visible === 0;
      shown += visible;
    });
    document.getElementById("no-match").hidden = shown !== 0;
  }
  box.addEventListener("input", apply);
  floor.addEventListener("change", apply);
})();
"""


class HtmlFormat:
    name = "html"
    file_extension = "html"

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def render(self, result: ScanResult) -> str:
        groups = group_by_surface(result.findings)
        rules = rules_by_id(result)
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">',
            f"<title>mageguard scan report: {esc(result.root)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>mageguard scan report</h1>",
            f'<p class="meta">mageguard {esc(tool_version(result))} · '
            f"<code>{esc(result.root)}</code></p>",
            "</header>",
        ]
        warning = not_magento_warning(result)
        if warning:
            parts.append(f'<p class="warning">{esc(warning)}</p>')
        parts.append(f'<p class="summary">{esc(summary_text(result))}</p>')
        parts.append(_severity_badges(result.findings))
        if groups:
            parts += _summary_table(groups)
            parts += _filter()
            for group in groups:
                parts += _section(group, rules)
            parts.append('<p id="no-match" class="muted" hidden>No findings match the filter.</p>')
        else:
            parts.append("<p>No findings.</p>")
        parts += _notices(result)
        parts += _tenants(result)
        parts += _stats(result)
        if groups:
            parts.append(f"<script>{_JS}</script>")
        parts += ["</body>", "</html>"]
        return "\n".join(parts) + "\n"


def _severity_badges(findings: Iterable[Finding]) -> str:
    badges = "".join(
        f'<span class="sev sev-{s}">{n} {esc(str(s))}</span>'
        for s, n in severity_counts(findings).items()
    )
    return f'<div class="counts">{badges}</div>'


def _summary_table(groups: tuple[SurfaceGroup, ...]) -> list[str]:
    head = "".join(f'<th class="num">{esc(str(s).capitalize())}</th>' for s in SEVERITIES)
    rows = [
        "<h2>Summary</h2>",
        "<table>",
        f'<thead><tr><th>Surface</th>{head}<th class="num">Total</th></tr></thead>',
        "<tbody>",
    ]
    for g in groups:
        cells = "".join(f'<td class="num">{n}</td>' for n in severity_counts(g.findings).values())
        rows.append(
            f'<tr><td><a href="#surface-{esc(g.id)}">{esc(g.title)}</a></td>{cells}'
            f'<td class="num">{len(g.findings)}</td></tr>'
        )
    totals = severity_counts(f for g in groups for f in g.findings)
    cells = "".join(f'<td class="num"><strong>{n}</strong></td>' for n in totals.values())
    rows.append(
        f"<tr><td><strong>Total</strong></td>{cells}"
        f'<td class="num"><strong>{sum(totals.values())}</strong></td></tr>'
    )
    return [*rows, "</tbody>", "</table>"]


def _filter() -> list[str]:
    options = "".join(
        f'<option value="{int(s)}">{esc(str(s))} and above</option>' for s in reversed(SEVERITIES)
    )
    return [
        '<div class="filter">',
        '<label>Filter <input id="filter" type="search" '
        'placeholder="rule, path, provider, category, text"></label>',
        f'<label>Severity <select id="min-severity">{options}</select></label>',
        "</div>",
    ]


def _section(group: SurfaceGroup, rules: Mapping[str, Rule]) -> list[str]:
    risk = f" · risk {group.risk}" if group.risk is not None else ""
    lines = [
        f'<section class="surface" id="surface-{esc(group.id)}">',
        f"<h2>{esc(group.title)}</h2>",
        f'<p class="muted"><code>{esc(group.id)}</code>{risk} · '
        f"{esc(plural(len(group.findings), 'finding'))}</p>",
        '<table class="findings">',
        "<thead><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Provider / host</th>"
        "<th>Data categories</th><th>Message</th></tr></thead>",
        "<tbody>",
    ]
    lines += [_finding_row(f, rules) for f in group.findings]
    return [*lines, "</tbody>", "</table>", "</section>"]


def _finding_row(finding: Finding, rules: Mapping[str, Rule]) -> str:
    rule = rules.get(finding.rule_id)
    severity = str(finding.severity)
    audit = ' <span class="muted">(audit)</span>' if finding.audit else ""
    tenant = (
        f'<br><span class="muted">tenant {esc(finding.tenant)}</span>' if finding.tenant else ""
    )
    provider = "<br>".join(
        [esc(p) for p in (provider_name(finding),) if p]
        + ([f"<code>{esc(finding.host)}</code>"] if finding.host else [])
    )
    details = [
        ("Evidence", f"<pre><code>{esc(finding.evidence)}</code></pre>"),
        ("Remediation", esc(rule.remediation if rule else finding.remediation)),
        ("Pattern", f"<code>{esc(finding.pattern)}</code>"),
        ("Confidence", esc(str(finding.confidence))),
        ("Controls", esc(", ".join(finding.controls)) or "-"),
        ("Module", esc(finding.module or "-")),
        ("Fingerprint", f"<code>{esc(finding.fingerprint)}</code>"),
    ]
    if rule and rule.references:
        links = ", ".join(_reference(ref) for ref in rule.references)
        details.append(("References", links))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in details)
    return (
        f'<tr class="finding" data-severity="{int(finding.severity)}">'
        f'<td><span class="sev sev-{severity}">{esc(severity.upper())}</span></td>'
        f"<td><code>{esc(finding.rule_id)}</code>{audit}</td>"
        f"<td><code>{esc(location_text(finding.location))}</code>{tenant}</td>"
        f"<td>{provider or '-'}</td>"
        f"<td>{esc(', '.join(finding.data_categories)) or '-'}</td>"
        f"<td>{esc(finding.message)}<details><summary>details</summary><dl>{dl}</dl>"
        "</details></td></tr>"
    )


def _reference(ref: str) -> str:
    # Only web links become anchors: a `javascript:` reference must stay inert text.
    if ref.startswith(("https://", "http://")):
        return f'<a href="{esc(ref)}" rel="noreferrer noopener">{esc(ref)}</a>'
    return esc(ref)


def _notices(result: ScanResult) -> list[str]:
    notices = ordered_notices(result.notices)
    if not notices:
        return []
    rows = "".join(
        f"<tr><td><code>{esc(n.kind)}</code></td>"
        f"<td><code>{esc(notice_location_text(n) or '-')}</code></td><td>{esc(n.message)}</td></tr>"
        for n in notices
    )
    return [
        "<h2>Notices</h2>",
        "<table><thead><tr><th>Kind</th><th>Location</th><th>Message</th></tr></thead>",
        f"<tbody>{rows}</tbody></table>",
    ]


def _tenants(result: ScanResult) -> list[str]:
    tenants = ordered_tenants(result.tenants)
    if not tenants:
        return []
    rows = "".join(
        f'<tr><td>{esc(t.scope)}</td><td class="num">{t.scope_id}</td>'
        f"<td><code>{esc(t.code)}</code></td><td>{esc(t.name or '-')}</td>"
        f"<td>{esc(t.website_code or '-')}</td></tr>"
        for t in tenants
    )
    return [
        "<h2>Tenants</h2>",
        '<table><thead><tr><th>Scope</th><th class="num">ID</th><th>Code</th>'
        "<th>Name</th><th>Website</th></tr></thead>",
        f"<tbody>{rows}</tbody></table>",
    ]


def _stats(result: ScanResult) -> list[str]:
    s = result.stats
    items = [
        ("Files seen", f"{s.files_seen:,}"),
        ("Bytes seen", f"{s.bytes_seen:,}"),
        ("Units", f"{s.units:,}"),
        ("AI units", f"{s.ai_units:,}"),
        ("Files parsed", f"{s.files_parsed:,}"),
        ("Cache hits", f"{s.cache_hits:,}"),
        ("Time", f"{s.seconds:.2f} s"),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    return ["<h2>Scan statistics</h2>", f"<dl>{dl}</dl>"]
