"""What the network rules open, worked out once from the egress policy for every target.

Network rules see addresses and ports, not host names, so the plan turns the policy into
both: the direct paths (gateway, proxy, services, resolvers) with the rule id each target
names them by, and the allow list's addresses, resolved now through an injected resolver
(tests pass a mapping; production asks the system's). Every target renders the same plan,
and `egress verify` probes the same rule ids, so a rule cannot be named one way in the
nftables file and checked under another.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mageguard.egress.policy import EgressPolicy, IPAddress, IPNetwork
from mageguard.errors import ConfigError

Resolver = Callable[[str], Sequence[str]]  # host name -> its addresses (none when unknown)

# Rule ids: targets write them as `mageguard:<id>` so a report can name the line.
ESTABLISHED = "established"
LOOPBACK = "loopback"
IPV6_ND = "ipv6-nd"
GATEWAY_API = "gateway-api"
GATEWAY_PROXY = "gateway-proxy"
ALLOWED_V4 = "allowed-v4"
ALLOWED_V6 = "allowed-v6"
DNS_OTHER = "dns-other"  # DNS and DNS over TLS to anything but the policy's resolvers
DEFAULT_REJECT = "default-reject"
ALLOWED_PORTS = (80, 443)  # what an allow-list host is reached on directly


@dataclass(frozen=True)
class Endpoint:
    """One direct path out: an address (or range) and a port the rules accept."""

    rule: str
    network: IPNetwork
    port: int
    protocol: str  # tcp | udp
    note: str

    @property
    def version(self) -> int:
        return self.network.version


@dataclass(frozen=True)
class Plan:
    policy: EgressPolicy
    endpoints: tuple[Endpoint, ...]
    allowed_v4: tuple[ipaddress.IPv4Address, ...]
    allowed_v6: tuple[ipaddress.IPv6Address, ...]
    resolved: bool  # False: the allowed sets are left empty for `nftables-sets` to fill
    warnings: tuple[str, ...]

    @property
    def exact_allow(self) -> tuple[str, ...]:
        """Allow-list names the rules open; a name the deny list also matches stays shut,
        as the proxy keeps it (deny wins)."""
        return tuple(h for h in self.policy.allow if "*" not in h and not _denied(self.policy, h))

    @property
    def wildcard_allow(self) -> tuple[str, ...]:
        return tuple(h for h in self.policy.allow if "*" in h)


def system_resolver(host: str) -> Sequence[str]:
    """Every address the system resolver gives for `host`; none when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def dns_rule(address: IPAddress) -> str:
    return f"dns-{address}"


def service_rule(name: str) -> str:
    return f"service-{name}"


def build_plan(
    policy: EgressPolicy,
    resolver: Resolver | None = system_resolver,
    *,
    allow_addresses: bool = True,
) -> Plan:
    """The plan for `policy`. `resolver=None` leaves the allow list unresolved (and a
    service given by name an error, since a rule needs its address);
    `allow_addresses=False` is for targets that keep the allow list as names."""
    warnings: list[str] = []
    endpoints: list[Endpoint] = []
    gateway = policy.gateway
    if gateway is None:
        warnings.append(
            "egress.gateway is not set: the rules open no path to the gateway or its proxy"
        )
    else:
        net = _network_of(gateway.address, resolver, "egress.gateway")
        endpoints.append(Endpoint(GATEWAY_API, net, gateway.port, "tcp", "mageguard gateway"))
        endpoints.append(
            Endpoint(GATEWAY_PROXY, net, gateway.proxy_port, "tcp", "mageguard forward proxy")
        )
    for service in policy.services:
        net = _network_of(service.address, resolver, f"egress.services.{service.name}")
        endpoints.append(
            Endpoint(service_rule(service.name), net, service.port, service.protocol, service.name)
        )
    for address in policy.resolvers:
        net = ipaddress.ip_network(address)
        for protocol in ("udp", "tcp"):
            endpoints.append(Endpoint(dns_rule(address), net, 53, protocol, "DNS resolver"))
    v4: dict[ipaddress.IPv4Address, None] = {}
    v6: dict[ipaddress.IPv6Address, None] = {}
    for host in policy.allow if allow_addresses else ():
        if _denied(policy, host):
            warnings.append(f"{host}: on both the allow and the deny list; deny wins")
            continue
        if "*" in host:
            warnings.append(
                f"{host}: a wildcard has no addresses; address rules cannot allow it "
                "(the proxy, Squid and Cilium's toFQDNs do)"
            )
            continue
        if resolver is None:
            continue
        addresses = [_ip(a) for a in resolver(host)]
        if not addresses:
            warnings.append(f"{host}: does not resolve; nothing is allowed for it")
        for ip in addresses:
            if isinstance(ip, ipaddress.IPv4Address):
                v4[ip] = None
            else:
                v6[ip] = None
    return Plan(
        policy=policy,
        endpoints=tuple(endpoints),
        allowed_v4=tuple(sorted(v4)),
        allowed_v6=tuple(sorted(v6)),
        resolved=resolver is not None and allow_addresses,
        warnings=tuple(warnings),
    )


def _denied(policy: EgressPolicy, host: str) -> bool:
    return policy.decide_host(host).rule.startswith("deny:")


def _ip(value: str) -> IPAddress:
    ip = ipaddress.ip_address(value.split("%", 1)[0])  # a scoped v6 address keeps its zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _network_of(value: str, resolver: Resolver | None, where: str) -> IPNetwork:
    """An address or CIDR as written; a name only through the resolver, and only when it
    gives exactly one address (a rule for one of several would silently miss the rest)."""
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        pass
    if resolver is None:
        raise ConfigError(
            f"{where}: {value!r} is a name; give its address, or render with --resolve"
        )
    found = tuple(dict.fromkeys(_ip(a) for a in resolver(value)))
    if len(found) != 1:
        raise ConfigError(
            f"{where}: {value!r} resolves to {len(found)} addresses; give the address"
        )
    return ipaddress.ip_network(found[0])
