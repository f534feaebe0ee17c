"""The clocks an Incident starts at awareness (GDPR Art. 33, NIS2 Art. 23), from
audit/data/incidents.yaml: the rules are data, this module only does the arithmetic."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mageguard.audit.knowledge import load


@dataclass(frozen=True)
class Deadline:
    regime: str
    article: str
    obligation: str
    due: float

    def overdue(self, now: float) -> bool:
        return now > self.due


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, the day clamped to the target month (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def deadlines(aware_at: float) -> tuple[Deadline, ...]:
    start = datetime.fromtimestamp(aware_at, UTC)
    out = []
    for rule in load("incidents")["deadlines"]:
        due = add_months(start + timedelta(hours=rule["hours"]), rule.get("months", 0))
        out.append(Deadline(rule["regime"], rule["article"], rule["obligation"], due.timestamp()))
    return tuple(out)
