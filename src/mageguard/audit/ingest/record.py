"""The normalised record every log format is parsed into, and the small value parsers
the formats share (timestamps, addresses, query strings).

A record is either a `flow` (someone sent something to a destination: an HTTP request,
a proxy tunnel, a TLS handshake, a connection) or a `dns` answer (a name resolved to an
address), which is what lets a flow that names only an address be attributed to a host.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

FLOW = "flow"
DNS = "dns"


@dataclass(slots=True)
class Record:
    kind: str
    line: int
    ts: float | None
    src: str
    host: str | None = None  # the destination's name, lower case
    dst_ip: str | None = None
    dst_port: int | None = None
    bytes_out: int | None = None  # bytes sent towards the destination, when the log says
    blocked: bool = False  # refused by a proxy or a firewall: nothing left
    upstream: str | None = None  # where a reverse proxy sent it (host or host:port)
    conn_id: str | None = None  # Zeek's uid, joining ssl and conn
    answer: str | None = None  # dns: one resolved address
    via_gateway: bool = False  # the gateway's own audit log says it went through it
    text: str = ""  # the line, query strings stripped


_QUERY = re.compile(r"\?[^\s\"']*")


def strip_query(text: str) -> str:
    """A URL's query string can carry a search term, an e-mail or a token: never kept."""
    return _QUERY.sub("", text) if "?" in text else text


def epoch(value: str) -> float | None:
    try:
        ts = float(value)
    except ValueError:
        return None
    return ts if 0 < ts < 4e9 else None


def iso(value: str) -> float | None:
    """ISO 8601 with or without a zone (UTC assumed); None when it is not one."""
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def strptime(value: str, fmt: str) -> float | None:
    try:
        dt = datetime.strptime(value, fmt)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})*\Z")


def host_name(value: str) -> str | None:
    """`value` as a DNS name (lower case, no trailing dot), or None."""
    host = value.strip().lower().rstrip(".")
    if not host or len(host) > 253 or not _HOSTNAME.match(host) or is_ip(host):
        return None
    return host


def split_hostport(value: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, `v4:port` or a bare host/address."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, int(port) if port.isdigit() and int(port) < 65536 else None
    return value, None


def destination(value: str) -> tuple[str | None, str | None, int | None]:
    """(host name, address, port) of an authority; exactly one of the first two is set
    when it is usable."""
    host, port = split_hostport(value)
    if is_ip(host):
        return None, host, port
    return host_name(host), None, port
