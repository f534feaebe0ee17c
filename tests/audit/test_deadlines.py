"""Incident clocks: GDPR Art. 33 72 h; NIS2 Art. 23 24 h early warning, 72 h notification,
final report one calendar month after the notification."""

from __future__ import annotations

from datetime import UTC, datetime

from mageguard.audit.deadlines import add_months, deadlines
from mageguard.audit.flows import iso


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_deadlines_run_from_awareness() -> None:
    found = [(d.regime, d.article, iso(d.due)) for d in deadlines(_ts("2026-11-26T17:30:00"))]
    assert found == [
        ("GDPR", "Art. 33(1)", "2026-11-29T17:30:00Z"),
        ("NIS2", "Art. 23(4)(a)", "2026-11-27T17:30:00Z"),
        ("NIS2", "Art. 23(4)(b)", "2026-11-29T17:30:00Z"),
        ("NIS2", "Art. 23(4)(d)", "2026-12-29T17:30:00Z"),
    ]


def test_a_month_after_the_thirty_first_is_the_end_of_a_shorter_month() -> None:
    start = datetime(2027, 1, 28, 9, 0, tzinfo=UTC)  # + 72 h = 31 Jan
    final = deadlines(start.timestamp())[-1]
    assert iso(final.due) == "2027-02-28T09:00:00Z"
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)


def test_a_deadline_is_overdue_only_after_it_is_due() -> None:
    early = deadlines(_ts("2026-11-26T17:30:00"))[1]
    assert not early.overdue(_ts("2026-11-27T17:30:00"))
    assert early.overdue(_ts("2026-11-27T17:30:01"))
