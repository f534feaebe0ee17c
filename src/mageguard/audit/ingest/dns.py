"""DNS servers' query logs: dnsmasq (`query[A] host from ip`, `reply host is ip`),
BIND's querylog and CoreDNS's `log` plugin.

Only dnsmasq logs answers; BIND's querylog and CoreDNS's log hold queries alone, which
say who looked an AI host up but cannot turn an address in a flow log into a name
(answers need dnstap, or Zeek's dns.log). dnsmasq logs a CNAME chain over several lines
(`reply api.x.com is <CNAME>`, then `reply edge.cdn.net is 1.2.3.4`): the addresses are
attributed to the name first asked for, so its state spans lines and it sees every line.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.record import (
    DNS,
    Record,
    host_name,
    is_ip,
    iso,
    split_hostport,
    strip_query,
    strptime,
)

_DNSMASQ = re.compile(
    r"(?P<prefix>.*?)\bdnsmasq(?:\[\d+\])?: (?:\d+ \S+ )?"
    r"(?:query\[\w+\] (?P<q>\S+) from (?P<src>\S+)|(?:reply|cached) (?P<r>\S+) is (?P<a>\S+))\Z"
)
_SYSLOG_TS = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d)")
_BIND = re.compile(
    r"(?P<ts>\d{2}-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d(?:\.\d+)?) .*?client (?:@0x[0-9a-f]+ )?"
    r"(?P<src>[0-9a-fA-F.:]+)#\d+(?: \([^)]*\))?: (?:view \S+: )?query: (?P<q>\S+) IN \S+"
)
_COREDNS = re.compile(
    r"(?:(?P<ts>\d{4}-\d\d-\d\dT\S+) )?\[INFO\] (?P<src>\S+) - \d+ \"\S+ IN (?P<q>\S+) "
    r"(?:udp|tcp) \d+ \w+ \d+\" \S+"
)


def syslog_time(prefix: str) -> float | None:
    """An ISO prefix, or syslog's `Nov 26 17:00:01` (no year: this year, or last year if
    that would be more than a day ahead)."""
    first = prefix.split(" ", 1)[0]
    if first[:1].isdigit():
        return iso(first)
    m = _SYSLOG_TS.match(prefix)
    if m is None:
        return None
    year = datetime.now(UTC).year
    ts = strptime(f"{year} {m[1]} {m[2]} {m[3]}", "%Y %b %d %H:%M:%S")
    if ts is not None and ts > time.time() + 86400:
        ts = strptime(f"{year - 1} {m[1]} {m[2]} {m[3]}", "%Y %b %d %H:%M:%S")
    return ts


class DnsmasqParser(Parser):
    name = "dnsmasq"
    gated = False

    def __init__(self) -> None:
        self._client: dict[str, str] = {}
        self._root: str | None = None

    def sniff(self, text: str) -> bool:
        return _DNSMASQ.match(text) is not None

    def parse(self, text: str, line: int) -> list[Record]:
        m = _DNSMASQ.match(text)
        if m is None:
            return []
        ts = syslog_time(m["prefix"])
        if m["q"] is not None:
            host = host_name(m["q"])
            self._root = None
            if host is None or not is_ip(m["src"]):
                return []
            if len(self._client) > 10_000:
                self._client.clear()
            self._client[host] = m["src"]
            return [Record(DNS, line, ts, m["src"], host=host, text=strip_query(text))]
        name = host_name(m["r"])
        if name is None:
            return []
        root = self._root or name
        if m["a"] == "<CNAME>":
            self._root = root
            return []
        if not is_ip(m["a"]):
            return []
        src = self._client.get(root, "")
        return [Record(DNS, line, ts, src, host=root, answer=m["a"], text=strip_query(text))]


class BindParser(Parser):
    name = "bind"

    def sniff(self, text: str) -> bool:
        return _BIND.match(text) is not None

    def parse(self, text: str, line: int) -> list[Record]:
        m = _BIND.match(text)
        host = host_name(m["q"]) if m else None
        if m is None or host is None:
            return []
        ts = strptime(m["ts"].split(".")[0], "%d-%b-%Y %H:%M:%S")
        return [Record(DNS, line, ts, m["src"], host=host, text=strip_query(text))]


class CorednsParser(Parser):
    name = "coredns"

    def sniff(self, text: str) -> bool:
        return _COREDNS.match(text) is not None

    def parse(self, text: str, line: int) -> list[Record]:
        m = _COREDNS.match(text)
        host = host_name(m["q"]) if m else None
        if m is None or host is None:
            return []
        src = split_hostport(m["src"])[0]
        if not is_ip(src):
            return []
        ts = iso(m["ts"]) if m["ts"] else None
        return [Record(DNS, line, ts, src, host=host, text=strip_query(text))]
