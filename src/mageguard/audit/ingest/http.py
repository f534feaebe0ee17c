"""nginx and Apache access logs: `combined` and `common`, optionally followed by extra
fields such as nginx's `$upstream_addr` or `$proxy_host`.

Such a log shows AI traffic when the server is an egress proxy: a `CONNECT host:443`
or an absolute `GET http://host/...` in the request line, or an upstream that is an AI
host (a reverse proxy in front of a provider). The first extra field that is a host or
host:port is read as the upstream. Request bodies are not in these formats, so
bytes_out is unknown (null).
"""

from __future__ import annotations

import re

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.record import FLOW, Record, destination, strip_query, strptime

_LINE = re.compile(
    r'(?P<src>\S+) \S+ \S+ \[(?P<time>[^\]]{20,40})\] "(?P<req>[^"]*)" (?P<status>\d{3}|-) '
    r'(?P<bytes>\d+|-)(?: "[^"]*" "[^"]*")?(?P<rest>.*)\Z'
)
_ABSOLUTE = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^@/?#\s]*@)?([^/?#\s]+)", re.I)
_EXTRA = re.compile(r'"([^"]*)"|(\S+)')


class HttpParser(Parser):
    def __init__(self, name: str = "nginx") -> None:
        self.name = name

    def sniff(self, text: str) -> bool:
        return _LINE.match(text) is not None

    def parse(self, text: str, line: int) -> list[Record]:
        m = _LINE.match(text)
        if m is None:
            return []
        method, _, rest = m["req"].partition(" ")
        target = rest.partition(" ")[0]
        authority = ""
        if method == "CONNECT":
            authority = target
        else:
            absolute = _ABSOLUTE.match(target)
            if absolute:
                authority = absolute.group(1)
        upstream = _upstream(m["rest"])
        # A reverse proxy's request names itself; where it went is the upstream.
        host, ip, port = destination(authority or upstream or "")
        if host is None and ip is None and upstream is None:
            return []
        status = int(m["status"]) if m["status"].isdigit() else 0
        return [
            Record(
                FLOW,
                line,
                strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z"),
                m["src"],
                host=host,
                dst_ip=ip,
                dst_port=port,
                blocked=method == "CONNECT" and status in (403, 407),
                upstream=upstream,
                text=strip_query(text),
            )
        ]


def _upstream(rest: str) -> str | None:
    for m in _EXTRA.finditer(rest):
        value = (m.group(1) or m.group(2) or "").split(",")[0].strip()
        if not value or value == "-":
            continue
        host, ip, _ = destination(value)
        if (host and "." in host) or ip:
            return value.lower()
    return None
