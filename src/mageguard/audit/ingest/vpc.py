"""AWS VPC flow logs, versions 2 to 5. Version 2's default format has no header and a
fixed field order; custom formats (v3+) start with a header line naming their fields,
and a header may appear again mid-file (logs of several formats concatenated). Records
carry addresses only: a flow is attributed to an AI host through a DNS answer. A record
in one direction holds the bytes sent that way, so `bytes` of an outbound record is
bytes_out. REJECT means the security group or NACL refused it: blocked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.columnar import Columns
from mageguard.audit.ingest.record import FLOW, Record, as_int, epoch, is_ip
from mageguard.audit.knowledge import load

_FIELD = re.compile(r"[a-z][a-z0-9-]*\Z")


class VpcParser(Parser):
    name = "vpc-flow"
    gated = False

    def __init__(self) -> None:
        data = load("fields")
        self._default: list[str] = list(data["vpc_default"])
        self._map: Mapping[str, str] = data["vpc"]
        self._fields = self._default

    def sniff(self, text: str) -> bool:
        tokens = text.split()
        if _header(tokens):
            return "srcaddr" in tokens
        return (
            len(tokens) >= 10
            and tokens[0] in ("2", "3", "4", "5")
            and (
                tokens[-1] in ("OK", "NODATA", "SKIPDATA")
                or any(t.startswith("eni-") for t in tokens)
            )
        )

    def prime(self, head: Sequence[str]) -> None:
        for text in head[:1]:
            tokens = text.split()
            if _header(tokens):
                self._fields = tokens

    def columnar(self, lines: Sequence[str]) -> list[tuple[int, int, Columns]] | None:
        runs, start = [], 0
        headers = [i for i, text in enumerate(lines) if "addr" in text and _header(text.split())]
        for end in [*headers, len(lines)]:
            if end > start:
                runs.append((start, end, self._columns()))
            if end < len(lines):
                self._fields = lines[end].split()
            start = end + 1
        return runs

    def _columns(self) -> Columns:
        index = {
            name: self._fields.index(field) + 1
            for name, field in self._map.items()
            if field in self._fields
        }
        where: tuple[str, ...] = ()
        if "version" in self._fields:
            where = (f"f[{self._fields.index('version') + 1}] IN ('2', '3', '4', '5')",)
        return Columns(None, len(self._fields), index, ("REJECT",), where)

    def parse(self, text: str, line: int) -> list[Record]:
        tokens = text.split()
        if _header(tokens):
            self._fields = tokens
            return []
        if len(tokens) != len(self._fields):
            return []
        row = dict(zip(self._fields, tokens, strict=True))
        m = self._map
        src, dst = row.get(m["src"], "-"), row.get(m["dst_ip"], "-")
        ts = epoch(row.get(m["ts"], "-"))
        if not is_ip(src) or not is_ip(dst) or ts is None:
            return []
        if row.get("version", "2") not in ("2", "3", "4", "5"):
            return []
        return [
            Record(
                FLOW,
                line,
                ts,
                src,
                dst_ip=dst,
                dst_port=as_int(row.get(m["dst_port"], "")),
                bytes_out=as_int(row.get(m["bytes_out"], "")),
                blocked=row.get(m["status"]) == "REJECT",
                text=text,
            )
        ]


def _header(tokens: list[str]) -> bool:
    return (
        bool(tokens)
        and all(_FIELD.match(t) for t in tokens)
        and ("srcaddr" in tokens or "version" in tokens or "dstaddr" in tokens)
    )
