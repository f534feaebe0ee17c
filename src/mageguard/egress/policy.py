"""The egress decision: may a Magento host open a connection to this destination?

In `ai_block` mode (the default) every AI host the providers catalog knows, plus the
`deny` list, is refused and the rest passes; in `strict` mode only the `allow` list (and
the gateway itself) passes. Private, loopback and link-local addresses are refused unless
`allow_private` names them, so the proxy cannot be used to reach the metadata service or
the internal network (SSRF). Every answer names the rule that decided it, because a
developer who gets a 403 needs to know which line of the policy to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mageguard.catalog import load_catalog
from mageguard.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_HOST = re.compile(
    r"^(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\Z"
)


@dataclass(frozen=True)
class Service:
    """Something the Magento hosts must still reach directly (database, cache, search)."""

    name: str
    address: str
    port: int
    protocol: str = "tcp"


@dataclass(frozen=True)
class Gateway:
    address: str
    port: int = 8088
    proxy_port: int = 3128


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # a machine code: ai_host:openai, deny:example.com, allow:repo.magento.com ...
    reason: str  # one sentence for the 403 body

    @property
    def label(self) -> str:
        return "allowed" if self.allowed else "blocked"


@dataclass(frozen=True)
class EgressPolicy:
    mode: str = "ai_block"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    allow_private: tuple[IPNetwork, ...] = ()
    magento_hosts: tuple[IPNetwork, ...] = ()
    gateway: Gateway | None = None
    services: tuple[Service, ...] = ()
    # DNS servers the Magento hosts may query directly; the rendered network rules refuse
    # every other resolver (and DNS over TLS), so lookups cannot route around the policy.
    resolvers: tuple[IPAddress, ...] = ()
    _allow: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _deny: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    @staticmethod
    def from_mapping(raw: Mapping[str, Any] | None, where: str = "egress") -> EgressPolicy:
        raw = raw or {}
        allow = tuple(h.lower() for h in raw.get("allow") or ())
        deny = tuple(h.lower() for h in raw.get("deny") or ())
        gateway = raw.get("gateway")
        return EgressPolicy(
            mode=raw.get("mode", "ai_block"),
            allow=allow,
            deny=deny,
            allow_private=tuple(_network(c, where) for c in raw.get("allow_private") or ()),
            magento_hosts=tuple(_network(c, where) for c in raw.get("magento_hosts") or ()),
            gateway=Gateway(**gateway) if gateway else None,
            services=tuple(Service(**s) for s in raw.get("services") or ()),
            resolvers=tuple(_address(a, where) for a in raw.get("resolvers") or ()),
            _allow=tuple(host_pattern(h) for h in allow),
            _deny=tuple(host_pattern(h) for h in deny),
        )

    def ai_hosts(self) -> tuple[str, ...]:
        """Every AI host pattern the policy refuses: the catalog's and the deny list."""
        hosts = {h for p in load_catalog().providers for h in p.hosts}
        return tuple(sorted(hosts | set(self.deny)))

    def decide_host(self, host: str) -> Decision:
        """By name, before any DNS lookup: an AI host is refused whatever it resolves to."""
        host = host.lower().rstrip(".")
        if not valid_host(host):
            return Decision(False, "invalid_host", "the destination is not a valid host name")
        if any(p.match(host) for p in self._deny):
            return Decision(False, f"deny:{host}", f"{host} is on the policy's deny list")
        provider = load_catalog().hosts.match(host)
        if provider is not None and not any(p.match(host) for p in self._allow):
            return Decision(
                False,
                f"ai_host:{provider.id}",
                f"{host} is an AI service ({provider.name}); AI calls go through "
                "the mageguard gateway",
            )
        if self.mode == "strict":
            if any(p.match(host) for p in self._allow):
                return Decision(True, f"allow:{host}", f"{host} is on the allow list")
            return Decision(
                False, "strict:not_allowed", f"{host} is not on the allow list (strict mode)"
            )
        return Decision(True, "ai_block:not_ai", f"{host} is not an AI service")

    def decide_address(self, address: str) -> Decision:
        """After resolution (or for a literal IP): private ranges only when allowed."""
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return Decision(False, "invalid_address", "the destination address is not valid")
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if _internal(ip) and not any(ip in net for net in self.allow_private):
            return Decision(
                False,
                "private_address",
                "private, loopback and link-local destinations are refused "
                "(add them to egress.allow_private to allow)",
            )
        return Decision(True, "public_address", "a public address")


def valid_host(host: str) -> bool:
    return bool(_HOST.match(host))


def host_pattern(pattern: str) -> re.Pattern[str]:
    """`example.com` matches itself; `*.example.com` matches its subdomains (any depth)."""
    if pattern.startswith("*."):
        return re.compile(r"(?:[a-z0-9-]+\.)+" + re.escape(pattern[2:]) + r"\Z")
    return re.compile(re.escape(pattern) + r"\Z")


def _internal(ip: IPAddress) -> bool:
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _network(value: str, where: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not an address or CIDR range") from None


def _address(value: str, where: str) -> IPAddress:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError(f"{where}: resolvers: {value!r} is not an IP address") from None


def literal_ips(values: Iterable[str]) -> Sequence[IPAddress]:
    out: list[IPAddress] = []
    for v in values:
        try:
            out.append(ipaddress.ip_address(v))
        except ValueError:
            continue
    return out
