"""The formats `audit ingest` reads, by name, and their detection from a file's first
lines (`--format` overrides it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.dns import BindParser, CorednsParser, DnsmasqParser
from mageguard.audit.ingest.envoy import EnvoyParser
from mageguard.audit.ingest.http import HttpParser
from mageguard.audit.ingest.squid import SquidParser
from mageguard.audit.ingest.vpc import VpcParser
from mageguard.audit.ingest.zeek import ZeekParser
from mageguard.errors import InputError

GATEWAY_AUDIT = "gateway-audit"
PARSERS: dict[str, Callable[[], Parser]] = {
    "nginx": lambda: HttpParser("nginx"),
    "apache": lambda: HttpParser("apache"),
    "squid": SquidParser,
    "envoy": EnvoyParser,
    "dnsmasq": DnsmasqParser,
    "bind": BindParser,
    "coredns": CorednsParser,
    "zeek-dns": lambda: ZeekParser("dns"),
    "zeek-ssl": lambda: ZeekParser("ssl"),
    "zeek-conn": lambda: ZeekParser("conn"),
    "vpc-flow": VpcParser,
}
NAMES = (*PARSERS, GATEWAY_AUDIT)
# nginx and apache share one grammar: detection says nginx. Zeek first: its `#path`
# header names the log; then the JSON formats, then the text ones.
_DETECT_ORDER = (
    "zeek-dns", "zeek-ssl", "zeek-conn", "envoy", "vpc-flow", "squid", "nginx",
    "dnsmasq", "bind", "coredns",
)  # fmt: skip
SNIFF_LINES = 20


def parser(name: str) -> Parser:
    try:
        return PARSERS[name]()
    except KeyError:
        raise InputError(f"unknown format {name!r} (one of: {', '.join(NAMES)})") from None


def detect(head: Sequence[str], where: str) -> str:
    """The format most of the first lines parse as; InputError when none does."""
    lines = [line for line in head if line.strip()][:SNIFF_LINES]
    zeek_path = next((line.split()[-1] for line in lines if line.startswith("#path")), None)
    if zeek_path in ("dns", "ssl", "conn"):
        return f"zeek-{zeek_path}"
    best, score = "", 0
    for name in _DETECT_ORDER:
        candidate = PARSERS[name]()
        hits = sum(1 for line in lines if candidate.sniff(line))
        if hits > score:
            best, score = name, hits
    if not best:
        raise InputError(f"{where}: unknown log format (use --format; one of: {', '.join(NAMES)})")
    return best
