"""Zeek's conn, ssl and dns logs, as TSV (a `#fields` header) or JSON lines; the fields
read are data (audit/data/fields.yaml).

ssl gives the SNI (the host a TLS client asked for); conn only addresses and the bytes the
originator sent (joined to ssl by uid, or to a DNS answer by address); dns the answers
that make those addresses names. A connection refused or never answered (REJ, S0) left
nothing: blocked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.columnar import Columns
from mageguard.audit.ingest.envoy import json_object
from mageguard.audit.ingest.record import (
    DNS,
    FLOW,
    Record,
    as_int,
    epoch,
    host_name,
    is_ip,
    iso,
    strip_query,
)
from mageguard.audit.knowledge import load

_NOTHING_SENT = {"REJ", "S0"}
_SIGNATURE = {"conn": "conn_state", "ssl": "server_name", "dns": "qtype_name"}


class ZeekParser(Parser):
    def __init__(self, path: str) -> None:
        self.path = path  # conn | ssl | dns
        self.name = f"zeek-{path}"
        self.gated = path != "conn"
        self._map: Mapping[str, str] = load("fields")[f"zeek_{path}"]
        self._fields: list[str] = []
        self._sep = "\t"
        self._set_sep = ","
        self._unset = {"-", "(empty)"}

    def sniff(self, text: str) -> bool:
        if text.startswith("#path"):
            return text.split()[-1] == self.path
        doc = json_object(text)
        return doc is not None and "id.orig_h" in doc and _SIGNATURE[self.path] in doc

    def prime(self, head: Sequence[str]) -> None:
        for text in head:
            if not text.startswith("#"):
                break
            if text.startswith("#separator "):
                self._sep = text[11:].strip().encode().decode("unicode_escape") or "\t"
                continue
            key, _, value = text[1:].partition(self._sep)
            if key == "set_separator":
                self._set_sep = value.strip() or ","
            elif key in ("unset_field", "empty_field"):
                self._unset.add(value.strip())
            elif key == "fields":
                self._fields = value.split(self._sep)

    def columnar(self, lines: Sequence[str]) -> list[tuple[int, int, Columns]] | None:
        if self.path != "conn" or not self._fields:
            return None  # JSON lines, or no header: line by line
        index = {
            name: self._fields.index(field) + 1
            for name, field in self._map.items()
            if field in self._fields
        }
        columns = Columns(self._sep, len(self._fields), index, tuple(sorted(_NOTHING_SENT)))
        return [(0, len(lines), columns)]

    def parse(self, text: str, line: int) -> list[Record]:
        if text.startswith("#"):
            return []
        doc = json_object(text) if text.startswith("{") else self._tsv(text)
        if doc is None:
            return []
        m = self._map
        raw_ts = doc.get(m["ts"])
        ts = iso(raw_ts) if isinstance(raw_ts, str) and "-" in raw_ts else None
        if ts is None and isinstance(raw_ts, int | float | str) and not isinstance(raw_ts, bool):
            ts = epoch(str(raw_ts))
        src = doc.get(m["src"])
        if ts is None or not isinstance(src, str) or not is_ip(src):
            return []
        clean = strip_query(text)
        if self.path == "dns":
            return self._dns(doc, line, ts, src, clean)
        dst = doc.get(m["dst_ip"])
        if not isinstance(dst, str) or not is_ip(dst):
            return []
        host = None
        if self.path == "ssl":
            sni = doc.get(m["host"])
            host = host_name(sni) if isinstance(sni, str) else None
            if host is None:
                return []
        uid = doc.get(m["conn_id"])
        return [
            Record(
                FLOW,
                line,
                ts,
                src,
                host=host,
                dst_ip=dst,
                dst_port=as_int(doc.get(m["dst_port"])),
                bytes_out=as_int(doc.get(m["bytes_out"])) if "bytes_out" in m else None,
                blocked=self.path == "conn" and doc.get(m["status"]) in _NOTHING_SENT,
                conn_id=uid if isinstance(uid, str) else None,
                text=clean,
            )
        ]

    def _tsv(self, text: str) -> dict[str, Any] | None:
        values = text.split(self._sep)
        if not self._fields or len(values) != len(self._fields):
            return None
        return {k: v for k, v in zip(self._fields, values, strict=True) if v not in self._unset}

    def _dns(
        self, doc: Mapping[str, Any], line: int, ts: float, src: str, text: str
    ) -> list[Record]:
        query = doc.get(self._map["query"])
        host = host_name(query) if isinstance(query, str) else None
        if host is None:
            return []
        answers = doc.get(self._map["answers"]) or []
        if isinstance(answers, str):
            answers = answers.split(self._set_sep)
        ips = (
            [a for a in answers if isinstance(a, str) and is_ip(a)]
            if isinstance(answers, list)
            else []
        )
        return [Record(DNS, line, ts, src, host=host, answer=ip, text=text) for ip in ips] or [
            Record(DNS, line, ts, src, host=host, text=text)
        ]
