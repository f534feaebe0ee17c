"""The terminal table: what a developer reads after `mageguard scan`.

Findings are grouped by surface in risk order, so the first screen shows what to fix first.
Colour only repeats what the text already says (severity names are spelled out), so the
output reads the same piped to a file, in CI logs or with NO_COLOR.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mageguard.scan.finding import Finding, Severity
from mageguard.scan.formats.common import (
    SurfaceGroup,
    group_by_surface,
    location_text,
    not_magento_warning,
    notice_location_text,
    ordered_notices,
    plural,
    provider_name,
    summary_text,
    tool_version,
)
from mageguard.scan.formats.interface import FormatOptions
from mageguard.scan.result import ScanResult

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


class TableFormat:
    name = "table"
    file_extension = "txt"

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def render(self, result: ScanResult) -> str:
        out = io.StringIO()
        console = Console(
            file=out,
            width=self.options.width,
            # Decided here, not sniffed from the environment (TERM, FORCE_COLOR, COLUMNS):
            # the CLI knows whether it writes to a terminal; this keeps snapshots stable.
            force_terminal=self.options.color,
            color_system="standard" if self.options.color else None,
            no_color=not self.options.color,
            highlight=False,
            emoji=False,
            markup=False,
        )
        console.print(Text(f"mageguard {tool_version(result)} · {result.root}", style="bold"))
        warning = not_magento_warning(result)
        if warning:
            console.print(Text(f"warning: {warning}", style="yellow"))
        console.print()
        groups = group_by_surface(result.findings)
        if not groups:
            console.print("No findings.")
            console.print()
        rows = {g.id: [_row(f) for f in g.findings] for g in groups}
        widths = _widths(
            [r for group_rows in rows.values() for r in group_rows], self.options.width
        )
        for group in groups:
            console.print(_heading(group))
            console.print(_table(rows[group.id], widths))
            console.print()
        console.print(Text(summary_text(result), style="bold"))
        notices = ordered_notices(result.notices)
        if notices:
            console.print()
            console.print(Text(f"Notices ({len(notices)}):", style="bold"))
            grid = Table.grid(padding=(0, 2), pad_edge=True)
            grid.add_column(style="yellow", no_wrap=True)
            grid.add_column(overflow="fold")
            grid.add_column(overflow="fold", ratio=1)
            for notice in notices:
                grid.add_row(notice.kind, notice_location_text(notice), notice.message)
            console.print(grid)
        # Rich pads every line to the table width; trailing blanks only make diffs noisy.
        return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def _heading(group: SurfaceGroup) -> Text:
    text = Text(group.title, style="bold underline")
    risk = f", risk {group.risk}" if group.risk is not None else ""
    text.append(f"  ({group.id}{risk}) · {plural(len(group.findings), 'finding')}")
    return text


_COLUMNS = ("Severity", "Rule", "Location", "Provider / host", "Data", "Message")
_SEVERITY_WIDTH = 8
_GAP = 2  # between two columns: one space of padding plus the (blank) divider
# Upper bounds for the columns sized to their content: rule, location, provider, data.
_CAPS = (28, 44, 24, 20)
# When the message would get narrower than a fifth of the screen, columns give way in
# this order, each down to the width given (None: its longest word, so it still wraps
# between words): first the ones that wrap at spaces, then path and host; rule ids last.
_SHRINK: tuple[tuple[int, int | None], ...] = (
    (3, None),
    (2, None),
    (0, None),
    (1, 24),
    (2, 14),
    (1, 16),
    (0, 12),
    (3, 8),
    (2, 8),
)


def _widths(rows: list[tuple[Text, ...]], width: int) -> list[int]:
    """Column widths shared by every surface's table, so the tables line up. Ids, paths and
    hosts get the room they need (up to a cap); the message takes the rest."""
    lines = [[line for row in rows for line in row[i].plain.splitlines()] for i in range(1, 5)]
    natural = [max(map(len, col), default=0) for col in lines]
    longest_word = [max((len(w) for line in col for w in line.split()), default=0) for col in lines]
    widths = [max(len(_COLUMNS[i + 1].split()[0]), min(natural[i], _CAPS[i])) for i in range(4)]
    fixed = _SEVERITY_WIDTH + _GAP * (len(_COLUMNS) - 1)
    message_min = max(20, width // 5)
    for index, floor in _SHRINK:
        deficit = fixed + sum(widths) + message_min - width
        if deficit <= 0:
            break
        floor = longest_word[index] if floor is None else floor
        widths[index] = max(min(floor, widths[index]), widths[index] - deficit)
    message = max(10, width - fixed - sum(widths))
    return [_SEVERITY_WIDTH, *widths, message]


def _table(rows: list[tuple[Text, ...]], widths: list[int]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for title, column_width in zip(_COLUMNS, widths, strict=True):
        table.add_column(title, width=column_width, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _row(finding: Finding) -> tuple[Text, ...]:
    severity = Text(str(finding.severity).upper(), style=SEVERITY_STYLE[finding.severity])
    rule = Text(finding.rule_id)
    if finding.audit:
        rule.append(" (audit)", style="dim")
    location = Text(location_text(finding.location))
    if finding.tenant:
        location.append(f"\ntenant: {finding.tenant}", style="dim")
    provider = "\n".join(p for p in (provider_name(finding), finding.host) if p)
    categories = ", ".join(finding.data_categories)
    return (
        severity,
        rule,
        location,
        Text(provider or "-"),
        Text(categories or "-"),
        Text(finding.message),
    )
