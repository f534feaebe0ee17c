"""What every log format's parser offers the ingestion loop.

`gated` formats name their destination in the line, so the literal gate (gate.py) may
skip every line that names no AI host before the parser sees it; the others (addresses
only, or state carried from line to line) see every line. `prime` is given the file's
first lines even when ingestion resumes mid-file, so a header (Zeek's #fields, a VPC
flow log's field names) is known before the first new line.
"""

from __future__ import annotations

from collections.abc import Sequence

from mageguard.audit.ingest.columnar import Columns
from mageguard.audit.ingest.record import Record


class Parser:
    name = ""
    gated = True

    def prime(self, head: Sequence[str]) -> None:
        """Learn a header from the file's first lines (default: there is none)."""

    def columnar(self, lines: Sequence[str]) -> list[tuple[int, int, Columns]] | None:
        """Runs of `lines` that DuckDB can parse (start, end, columns), learning any
        header among them; None: this format is parsed line by line in Python."""
        return None

    def parse(self, text: str, line: int) -> list[Record]:
        raise NotImplementedError

    def sniff(self, text: str) -> bool:
        """Whether a line looks like this format (format detection)."""
        raise NotImplementedError
