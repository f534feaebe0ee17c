"""The parts of a log line that are structure, not data: timestamps.

Every Monolog line starts with "[2024-05-01T08:03:11.482901+00:00]", db.log has
"## 2024-05-01 08:40:00" headers, and reports carry times too. A detector looking at a
free-standing text may take "11.482901" for a phone number; in a log it is always the
seconds of a timestamp. Spans that touch a timestamp are dropped, so scrub never
rewrites the log's timeline (a date of birth has no time of day and is not affected).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mageguard.redact.spans import Span

# ISO 8601 / SQL date-times with seconds, optional fraction and offset.
TIMESTAMP = re.compile(
    r"(?<!\d)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
    r"(?:Z|[+-]\d{2}:?\d{2})?(?!\d)"
)


def timestamps(text: str) -> list[tuple[int, int]]:
    if ":" not in text:
        return []
    return [m.span() for m in TIMESTAMP.finditer(text)]


def without_structure(spans: Sequence[Span], text: str) -> list[Span]:
    """`spans` minus those that overlap a timestamp."""
    if not spans:
        return list(spans)
    stamps = timestamps(text)
    if not stamps:
        return list(spans)
    return [s for s in spans if not any(s.start < end and start < s.end for start, end in stamps)]
