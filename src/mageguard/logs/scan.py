"""`mageguard logs scan`: what each log file holds, counted, never quoted.

A FileReport holds counts per entity and per kind, the first and last line with a
finding, and a few examples whose values are masked ("j***@e***.com", "sk-p****",
"****1111"): the report is meant to be pasted into a ticket, so it must not become a
second leak. AI traffic markers (a logged prompt or response, a provider's host) are
vocabulary, not data, and are shown as found.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mageguard.catalog import load_catalog
from mageguard.logs.discovery import LogFile, discover
from mageguard.logs.markers import AI_ENTITIES, AiTrafficDetector
from mageguard.logs.reader import MAX_PIECE, LogReader, sniff
from mageguard.logs.redaction import analyze
from mageguard.redact.engine import Redactor
from mageguard.redact.spans import Span, resolve_overlaps

AI_TRAFFIC = "ai_traffic"
# Data categories of the catalog -> the kinds a log report counts.
_KINDS = {
    "customer_pii": "personal_data",
    "payment": "payment",
    "credentials": "secret",
    "catalog_content": "proprietary",
    "supplier_terms": "proprietary",
    "cost_margin": "proprietary",
    "pricing": "proprietary",
}
MAX_EXAMPLES = 8
# Which examples a report shows first when there are more entities than examples.
_KIND_ORDER = ("secret", "payment", "personal_data", "proprietary", "other", AI_TRAFFIC)
# What reading a file can raise when the file, not mageguard, is at fault.
READ_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


@functools.cache
def kind_of(entity: str) -> str:
    if entity in AI_ENTITIES:
        return AI_TRAFFIC
    found = load_catalog().entity_by_id.get(entity)
    return _KINDS.get(found.category, "other") if found is not None else "other"


def printable(text: str) -> str:
    """No control characters or lone surrogates (from invalid UTF-8) in a report."""
    return "".join(c if c.isprintable() and not "\ud800" <= c <= "\udfff" else "?" for c in text)


def masked(entity: str, value: str) -> str:
    """A value as a report may show it: enough shape to recognise, never the value."""
    if entity in AI_ENTITIES:
        return printable(" ".join(value.split())[:60])
    if entity == "CREDIT_CARD":
        digits = [c for c in value if c.isdigit()]
        return "****" + "".join(digits[-4:])
    if entity == "SECRET":
        return printable(value[: min(4, len(value) // 4)]) + "****"
    if entity == "EMAIL" and "@" in value:
        local, _, domain = value.partition("@")
        head, dot, tld = domain.rpartition(".")
        shown = f"{domain[:1]}***{dot}{tld}" if head and len(tld) <= 6 else f"{domain[:1]}***"
        return printable(f"{local[:1]}***@{shown}")
    if entity == "IBAN":
        return printable(value[:2]) + "****"
    return printable(value[:1]) + "***" if len(value) > 3 else "***"


@dataclass(frozen=True)
class Example:
    line: int
    entity: str
    kind: str
    value: str  # masked


@dataclass(frozen=True)
class FileReport:
    path: Path
    kind: str
    lines: int = 0
    size: int = 0
    compressed: bool = False
    entities: Mapping[str, int] = field(default_factory=dict)
    kinds: Mapping[str, int] = field(default_factory=dict)
    lines_with_findings: int = 0
    first_line: int | None = None
    last_line: int | None = None
    examples: tuple[Example, ...] = ()
    skipped: str | None = None  # why the file was not read (binary)
    error: str | None = None  # why it could not be read

    @property
    def findings(self) -> int:
        return sum(self.entities.values())


class Tally:
    """Counts findings line by line into a FileReport."""

    def __init__(self) -> None:
        self.entities: Counter[str] = Counter()
        self.lines_with_findings = 0
        self.first: int | None = None
        self.last: int | None = None
        self.examples: dict[str, Example] = {}  # the first of each entity
        self._last_counted = 0

    def add(self, line: int, text: str, spans: Iterable[Span]) -> None:
        for span in spans:
            self.entities[span.entity] += 1
            if line != self._last_counted:
                self._last_counted = line
                self.lines_with_findings += 1
                self.first = line if self.first is None else self.first
                self.last = line
            if span.entity not in self.examples:
                value = masked(span.entity, text[span.start : span.end])
                kind = kind_of(span.entity)
                self.examples[span.entity] = Example(line, span.entity, kind, value)

    def _chosen_examples(self) -> tuple[Example, ...]:
        def priority(e: Example) -> tuple[int, int, str]:
            order = _KIND_ORDER.index(e.kind) if e.kind in _KIND_ORDER else len(_KIND_ORDER)
            return order, e.line, e.entity

        chosen = sorted(self.examples.values(), key=priority)[:MAX_EXAMPLES]
        return tuple(sorted(chosen, key=lambda e: (e.line, e.entity)))

    def report(self, log: LogFile, lines: int, size: int, compressed: bool) -> FileReport:
        kinds: Counter[str] = Counter()
        for entity, n in self.entities.items():
            kinds[kind_of(entity)] += n
        return FileReport(
            path=log.path,
            kind=log.kind,
            entities=dict(sorted(self.entities.items())),
            kinds=dict(sorted(kinds.items())),
            lines_with_findings=self.lines_with_findings,
            first_line=self.first,
            last_line=self.last,
            examples=self._chosen_examples(),
            lines=lines,
            size=size,
            compressed=compressed,
        )


class LogDetector:
    """Per line: the redactor's spans (personal data, secrets, proprietary terms) and the
    AI traffic markers."""

    def __init__(self, redactor: Redactor, ai: AiTrafficDetector | None = None) -> None:
        self.redactor = redactor
        self.ai = ai or AiTrafficDetector()

    def sensitive(self, text: str) -> list[Span]:
        return analyze(self.redactor, text)

    def markers(self, text: str) -> list[Span]:
        """At most one marker per entity and line: AI traffic is counted in lines (a
        logged prompt names "prompt", "messages" and a role; it is still one prompt)."""
        first: dict[str, Span] = {}
        for span in resolve_overlaps(self.ai.detect(text)):
            first.setdefault(span.entity, span)
        return sorted(first.values())


@dataclass(frozen=True)
class LogScanResult:
    files: tuple[FileReport, ...]

    @property
    def findings(self) -> int:
        return sum(f.findings for f in self.files)

    @property
    def errors(self) -> tuple[FileReport, ...]:
        return tuple(f for f in self.files if f.error is not None)


def scan_file(log: LogFile, detector: LogDetector, max_piece: int = MAX_PIECE) -> FileReport:
    try:
        if sniff(log.path):
            return FileReport(log.path, log.kind, skipped="binary")
        tally = Tally()
        lines = 0
        with LogReader(log.path, max_piece) as reader:
            for piece in reader.pieces():
                lines = piece.line
                spans = detector.sensitive(piece.text) + detector.markers(piece.text)
                if spans:
                    tally.add(piece.line, piece.text, sorted(spans))
            reader.finish()
            size, compressed = reader.raw.size, reader.compressed
    except READ_ERRORS as exc:
        return FileReport(log.path, log.kind, error=read_error(exc))
    return tally.report(log, lines, size, compressed)


def read_error(exc: BaseException) -> str:
    """A file error for a report: what went wrong and on which file, no content."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({printable(str(exc.filename))})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


def scan_logs(
    paths: Sequence[Path],
    redactor: Redactor,
    exclude: Sequence[Path] = (),
    max_piece: int = MAX_PIECE,
) -> LogScanResult:
    detector = LogDetector(redactor)
    return LogScanResult(
        tuple(scan_file(log, detector, max_piece) for log in discover(paths, exclude))
    )
