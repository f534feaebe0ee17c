"""Squid's native access.log: `time elapsed client action/code bytes method URL user
hierarchy/peer type`. A CONNECT's URL is `host:port`; TCP_DENIED means the proxy refused
it (nothing left). Squid's bytes are what it sent to the client, not the upload, so
bytes_out is unknown (null)."""

from __future__ import annotations

import re

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.record import FLOW, Record, destination, epoch, is_ip, strip_query

_LINE = re.compile(
    r"(?P<ts>\d{9,10}\.\d{1,6})\s+-?\d+\s+(?P<src>\S+)\s+(?P<action>[A-Z_]+)/(?P<code>\d{3})"
    r"\s+\d+\s+(?P<method>[A-Z_]+)\s+(?P<url>\S+)(?:\s+\S+\s+(?P<hier>[A-Z_]+/\S+))?"
)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^@/?#\s]*@)?([^/?#\s]+)", re.I)


class SquidParser(Parser):
    name = "squid"

    def sniff(self, text: str) -> bool:
        return _LINE.match(text) is not None

    def parse(self, text: str, line: int) -> list[Record]:
        m = _LINE.match(text)
        if m is None:
            return []
        url = m["url"]
        if m["method"] == "CONNECT":
            authority = url
        else:
            absolute = _URL.match(url)
            if absolute is None:
                return []
            authority = absolute.group(1)
        host, ip, port = destination(authority)
        peer = (m["hier"] or "").partition("/")[2]
        if ip is None and is_ip(peer):
            ip = peer
        if host is None and ip is None:
            return []
        return [
            Record(
                FLOW,
                line,
                epoch(m["ts"]),
                m["src"],
                host=host,
                dst_ip=ip,
                dst_port=port,
                blocked="DENIED" in m["action"],
                text=strip_query(text),
            )
        ]
