"""A Markdown report for pull requests and issues (GitHub-flavoured: tables, <br>).

Everything that came from scanned code (messages, evidence, paths) is escaped: evidence is
masked but still attacker-controlled text, and a PR comment must not render its HTML,
links or emphasis.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

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

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")
_BACKTICKS = re.compile(r"`+")


def md_text(text: str) -> str:
    """Plain text safe anywhere in a GFM document, table cells included."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return "<br>".join(escaped.splitlines())


def md_code(text: str) -> str:
    """An inline code span for a table cell: backticks inside are fenced by a longer run,
    and `|` is escaped because GFM splits table cells before it parses code spans."""
    text = " ".join(text.splitlines()).replace("|", "\\|")
    if not text:
        return ""
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


class MarkdownFormat:
    name = "markdown"
    file_extension = "md"

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def render(self, result: ScanResult) -> str:
        groups = group_by_surface(result.findings)
        lines = [
            "# mageguard scan report",
            "",
            f"mageguard {md_text(tool_version(result))} scanned {md_code(result.root)}.",
            "",
            md_text(summary_text(result)),
            "",
        ]
        warning = not_magento_warning(result)
        if warning:
            lines += [f"> **Warning:** {md_text(warning)}", ""]
        if not groups:
            lines += ["No findings.", ""]
        else:
            lines += ["## Summary", "", *_summary_table(groups), ""]
        for group in groups:
            lines += _section(group, result)
        lines += _notices(result)
        lines += _tenants(result)
        return "\n".join(lines).rstrip("\n") + "\n"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _summary_table(groups: tuple[SurfaceGroup, ...]) -> list[str]:
    header = ["Surface", *(str(s).capitalize() for s in SEVERITIES), "Total"]
    lines = [_row(header), _row(["---", *["---:"] * (len(header) - 1)])]
    for group in groups:
        counts = severity_counts(group.findings)
        lines.append(
            _row(
                [md_text(group.title), *(str(n) for n in counts.values()), str(len(group.findings))]
            )
        )
    totals = severity_counts(f for g in groups for f in g.findings)
    total = sum(totals.values())
    lines.append(_row(["**Total**", *(f"**{n}**" for n in totals.values()), f"**{total}**"]))
    return lines


def _section(group: SurfaceGroup, result: ScanResult) -> list[str]:
    risk = f" · risk {group.risk}" if group.risk is not None else ""
    lines = [
        f"## {md_text(group.title)}",
        "",
        f"{md_code(group.id)}{risk} · {plural(len(group.findings), 'finding')}",
        "",
        _row(
            [
                "Severity",
                "Rule",
                "Location",
                "Provider / host",
                "Data categories",
                "Message",
                "Evidence",
            ]
        ),
        _row(["---"] * 7),
    ]
    lines += [_finding_row(f) for f in group.findings]
    lines += ["", "**Remediation**", ""]
    rules = rules_by_id(result)
    seen: set[str] = set()
    for finding in group.findings:
        if finding.rule_id in seen:
            continue
        seen.add(finding.rule_id)
        rule = rules.get(finding.rule_id)
        title = rule.title if rule else finding.title
        remediation = rule.remediation if rule else finding.remediation
        lines.append(f"- {md_code(finding.rule_id)} ({md_text(title)}): {md_text(remediation)}")
    lines.append("")
    return lines


def _finding_row(finding: Finding) -> str:
    rule = md_code(finding.rule_id) + (" (audit)" if finding.audit else "")
    location = md_code(location_text(finding.location))
    if finding.tenant:
        location += f"<br>tenant {md_code(finding.tenant)}"
    provider = (
        "<br>".join(
            [
                *([md_text(p)] if (p := provider_name(finding)) else []),
                *([md_code(finding.host)] if finding.host else []),
            ]
        )
        or "-"
    )
    return _row(
        [
            f"**{str(finding.severity).upper()}**",
            rule,
            location,
            provider,
            md_text(", ".join(finding.data_categories)) or "-",
            md_text(finding.message),
            md_code(finding.evidence) or "-",
        ]
    )


def _notices(result: ScanResult) -> list[str]:
    notices = ordered_notices(result.notices)
    if not notices:
        return []
    lines = ["## Notices", "", _row(["Kind", "Location", "Message"]), _row(["---"] * 3)]
    for n in notices:
        lines.append(
            _row([md_code(n.kind), md_code(notice_location_text(n)) or "-", md_text(n.message)])
        )
    return [*lines, ""]


def _tenants(result: ScanResult) -> list[str]:
    tenants = ordered_tenants(result.tenants)
    if not tenants:
        return []
    lines = [
        "## Tenants",
        "",
        _row(["Scope", "ID", "Code", "Name", "Website"]),
        _row(["---", "---:", "---", "---", "---"]),
    ]
    for t in tenants:
        lines.append(
            _row(
                [
                    md_text(t.scope),
                    str(t.scope_id),
                    md_code(t.code),
                    md_text(t.name) or "-",
                    md_code(t.website_code or "") or "-",
                ]
            )
        )
    return [*lines, ""]
