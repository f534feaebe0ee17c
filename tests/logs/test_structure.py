"""Timestamps are structure: no span that touches one is kept."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from mageguard.logs.redaction import redact_text
from mageguard.logs.structure import timestamps
from mageguard.redact.engine import Redactor
from mageguard.redact.spans import Span


class Digits:
    """Flags every run of 6+ digits and dots, as a phone detector might."""

    name = "digits"
    entities = frozenset({"PHONE"})

    def detect(self, text: str) -> Iterator[Span]:
        for m in re.finditer(r"\d[\d.]{5,}", text):
            yield Span(m.start(), m.end(), "PHONE", 0.9, self.name)


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-05-01T08:03:11.482901+00:00",
        "2024-05-01 08:40:00",
        "2024-05-01T08:03:11Z",
        "2024-05-01T08:03:11,123+0200",
    ],
)
def test_timestamps_are_recognised(stamp: str) -> None:
    text = f"[{stamp}] main.INFO: x"
    assert [text[a:b] for a, b in timestamps(text)] == [stamp]


def test_spans_inside_timestamps_are_dropped_and_others_kept() -> None:
    redactor = Redactor(detectors=[Digits()])
    line = "[2024-05-01T08:03:11.482901+00:00] main.INFO: call 0612345678 dob 1973-12-15"
    assert redact_text(redactor, line) == (
        "[2024-05-01T08:03:11.482901+00:00] main.INFO: call [PHONE] dob 1973-12-15"
    )
