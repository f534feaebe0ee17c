"""One ingestion: read the new lines of each log, keep the records that matter, and note
the Incidents they reveal; all in one transaction.

Kept: flows to AI hosts (by name), flows that name only an address (a DNS answer may
make it an AI host later), DNS answers for AI hosts, and everything from the gateway's
audit store. Every other line is only counted, in its source's `records`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import duckdb

from mageguard.audit import flowdb
from mageguard.audit.hosts import HostClassifier, gate_literals
from mageguard.audit.ingest import columnar, formats, gateway, source
from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.gate import LineGate
from mageguard.audit.ingest.plan import Plan
from mageguard.audit.ingest.record import DNS, Record
from mageguard.catalog import load_catalog

GATEWAY_NAME = "gateway"


@dataclass(frozen=True)
class SourceResult:
    path: str
    format: str
    new_records: int
    records: int  # all data lines read from this source, this run and before


class Ingestion:
    def __init__(self, con: duckdb.DuckDBPyConnection, *, final: bool = True) -> None:
        self.con = con
        self.final = final
        self.classifier = HostClassifier()
        self.catalog = load_catalog()
        self._gate: LineGate | None = None
        self.writer = flowdb.RecordWriter(con)

    @property
    def gate(self) -> LineGate:
        if self._gate is None:
            self._gate = LineGate(gate_literals())
        return self._gate

    def run(self, item: Plan) -> SourceResult:
        sid, offset, lines, records = self._source(item)
        if item.log is None:
            new, offset = self._gateway(sid, item.location, offset)
            lines = offset
        else:
            new, offset, lines = self._log(sid, item.format, item.log, offset, lines)
        self.writer.flush()
        self.con.execute(
            'UPDATE sources SET "offset" = ?, lines = ?, records = records + ?, path = ?, '
            "ingested_at = ? WHERE id = ?",
            [offset, lines, new, _shown(item.location), time.time(), sid],
        )
        return SourceResult(_shown(item.location), item.format, new, records + new)

    def _source(self, item: Plan) -> tuple[int, int, int, int]:
        """(id, offset, lines, records) of the source, created if new."""
        log = item.log
        if log is None:
            keys: list[tuple[str, str]] = [("fingerprint", f"store:{item.location}")]
        else:
            keys = [("fingerprint", log.fingerprint)] if log.fingerprint else []
            keys.append(("inode", log.inode))
        for column, value in keys:
            row = self.con.execute(
                f'SELECT id, "offset", lines, records FROM sources WHERE {column} = ? '
                "AND format = ? ORDER BY id LIMIT 1",
                [value, item.format],
            ).fetchone()
            if row is not None:
                if log is not None:
                    self.con.execute(
                        "UPDATE sources SET fingerprint = ?, inode = ? WHERE id = ?",
                        [log.fingerprint, log.inode, row[0]],
                    )
                return int(row[0]), int(row[1]), int(row[2]), int(row[3])
        sid = int(self.con.execute("SELECT coalesce(max(id), 0) + 1 FROM sources").fetchone()[0])  # type: ignore[index]
        fingerprint = keys[0][1] if keys[0][0] == "fingerprint" else None
        self.con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?)",
            [
                sid,
                _shown(item.location),
                item.format,
                fingerprint,
                log.inode if log else None,
                time.time(),
            ],
        )
        return sid, 0, 0, 0

    def _log(
        self, sid: int, fmt: str, log: source.LogFile, offset: int, lines: int
    ) -> tuple[int, int, int]:
        parser = formats.parser(fmt)
        parser.prime(log.head)
        new = 0
        for start, chunk in source.chunks(log, offset, final=self.final):
            new += self._chunk(sid, fmt, parser, chunk, lines)
            lines += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            offset = start + len(chunk)
        return new, offset, lines

    def _chunk(self, sid: int, fmt: str, parser: Parser, chunk: bytes, lines_before: int) -> int:
        """Parse the lines of `chunk` (all, or those the gate lets through) and keep what
        matters; the number of data lines it held."""
        if parser.gated:
            data_lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            data_lines -= chunk.count(b"\n#") + chunk.startswith(b"#") + chunk.count(b"\n\n")
            pos, line = 0, lines_before
            for start, end in self.gate.lines(chunk):
                line += chunk.count(b"\n", pos, start)
                pos = start
                self._keep(sid, fmt, parser.parse(_text(chunk[start:end]), line + 1))
            return max(data_lines, 0)
        text = chunk.decode("utf-8", "replace")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        runs = parser.columnar(lines)
        if runs is not None:
            for start, end, columns in runs:
                columnar.insert(
                    self.con, sid, fmt, lines[start:end], lines_before + start + 1, columns
                )
            comments = text.count("\n#") + text.startswith("#")
            return sum(end - start for start, end, _ in runs) - lines.count("") - comments
        count = 0
        for index, raw in enumerate(chunk.splitlines()):
            found = parser.parse(_text(raw), lines_before + index + 1)
            count += raw.strip() != b"" and not raw.startswith(b"#")
            self._keep(sid, fmt, found)
        return count

    def _keep(self, sid: int, fmt: str, records: list[Record]) -> None:
        for record in records:
            dest = self.classifier.classify(record.host) if record.host else None
            provider = (dest.provider, dest.kind) if dest else None
            if provider is None and record.via_gateway and record.host:
                known = self.catalog.provider_by_id.get(record.host)  # a backend named so
                provider = (known.id, known.kind) if known else None
            if record.kind == DNS:
                if dest is not None and record.answer is not None:
                    self.writer.add(sid, fmt, record, provider)
            elif dest is not None or record.host is None or record.via_gateway:
                self.writer.add(sid, fmt, record, provider)

    def _gateway(self, sid: int, location: str, after: int) -> tuple[int, int]:
        names = [str(r[0]) for r in self.con.execute("SELECT host FROM gateways").fetchall()]
        name = names[0] if names else GATEWAY_NAME
        new = 0
        for seq, event in gateway.events(location, after):
            self._keep(sid, formats.GATEWAY_AUDIT, gateway.records(seq, event, name))
            new += 1
            after = seq
        return new, after


def _shown(location: str) -> str:
    """A location as reports show it: a DSN without its password."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1@", location)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")
