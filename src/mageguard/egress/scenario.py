"""What `egress verify` builds and probes for a policy: the hosts its paths need, a
stand-in address for every public name it knows, and one probe per path and address
family, each naming the rule that must decide it and whether it must connect.

Every public name the policy knows (the allow list, every AI host of the providers
catalog and the deny list, and a host that is neither) gets a stand-in on the "internet"
host; a pattern's `*` becomes a label of our own. The policy's gateway, services and
resolvers are hosted on the "gateway" host, or on the Magento host when they are loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from mageguard.egress import netns
from mageguard.egress import plan as p
from mageguard.egress.policy import EgressPolicy, IPAddress, IPNetwork
from mageguard.errors import ConfigError

PROBE_LABEL = "mageguard-probe"  # stands for `*` when an AI host pattern needs a name
OTHER_HOST = "www.example.org"  # neither allowed nor AI: default deny must refuse it
PUBLIC_RESOLVER = "public-dns.example.net"  # a resolver the policy did not name
CONTROL_PORT = 22  # a port the gateway host serves but the rules do not open
LOOPBACK_PORT = 8080
INBOUND_PORT = 80

# What `egress verify` proves when no configuration is given: a gateway with its proxy,
# a database and a cache on the private side, a resolver, one allowed host, one
# allowed wildcard (which address rules cannot allow), a denied host, IPv4 and IPv6.
EXAMPLE = {
    "mode": "ai_block",
    "allow": ["repo.magento.com", "*.paypal.com"],
    "deny": ["api.example-ai.com"],
    "gateway": {"address": "10.20.0.2", "port": 8088, "proxy_port": 3128},
    "services": [
        {"name": "mysql", "address": "10.20.0.3", "port": 3306},
        {"name": "redis", "address": "fd20::4", "port": 6379},
        {"name": "syslog", "address": "10.20.1.0/24", "port": 514, "protocol": "udp"},
    ],
    "resolvers": ["10.20.0.53"],
}


@dataclass(frozen=True)
class Probe:
    rule: str  # the rule that should decide this connection
    target: str  # a name (resolved in the magento namespace) or an address
    port: int
    expect: bool  # True: it must connect
    why: str
    protocol: str = "tcp"
    family: int = 4
    origin: str = netns.MAGENTO  # the namespace the connection starts in


@dataclass
class Scenario:
    """The lab a policy needs: who listens where, what every name resolves to, and
    which probes prove which rule."""

    policy: EgressPolicy
    gateway_side: list[IPAddress] = field(default_factory=list)  # hosted by "gateway"
    listen: dict[str, set[tuple[str, str, int]]] = field(
        default_factory=lambda: {role: set() for role in netns.ROLES}
    )
    names: dict[str, list[IPAddress]] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)

    def serve(self, address: IPAddress, protocol: str, port: int) -> None:
        """A stand-in at `address`: on the Magento host itself when it is loopback."""
        if address.is_loopback:
            self.listen[netns.MAGENTO].add((protocol, str(address), port))
        else:
            if address not in self.gateway_side:
                self.gateway_side.append(address)
            self.listen[netns.GATEWAY].add((protocol, str(address), port))

    def resolve(self, host: str) -> Sequence[str]:
        """The render's resolver: allow-list names resolve to their stand-ins."""
        return [str(a) for a in self.names.get(host, ())]

    @property
    def internet_side(self) -> list[IPAddress]:
        return list(dict.fromkeys(a for addresses in self.names.values() for a in addresses))

    def listeners(self) -> dict[str, set[tuple[str, str, int]]]:
        """`listen`, plus HTTPS on every public name's address as `names` says now."""
        out = {role: set(listen) for role, listen in self.listen.items()}
        out[netns.INTERNET] |= {("tcp", str(a), 443) for a in self.internet_side}
        return out


def scenario(policy: EgressPolicy) -> Scenario:
    sc = Scenario(policy)
    pool4 = _pool(ipaddress.ip_network("198.18.64.0/18"))
    pool6 = _pool(ipaddress.ip_network("fd6d:6700:64::/64"))
    plan = p.build_plan(policy, resolver=None, allow_addresses=False)
    for e in plan.endpoints:
        _check_outside_lab(e.network, e.rule)
        address = _host_in(e.network)
        sc.serve(address, e.protocol, e.port)
        sc.probes.append(
            Probe(e.rule, str(address), e.port, True, e.note, e.protocol, address.version)
        )
    gateway = next((e.network for e in plan.endpoints if e.rule == p.GATEWAY_API), None)
    if gateway is not None and not gateway.is_loopback:  # loopback is open on every port
        address = _host_in(gateway)
        sc.serve(address, "tcp", CONTROL_PORT)
        sc.probes.append(
            Probe(
                p.DEFAULT_REJECT,
                str(address),
                CONTROL_PORT,
                False,
                "the gateway host on a port the rules do not open",
                family=address.version,
            )
        )
    exact_allow = set(plan.exact_allow)
    public = {h: f"the allow list names {h}" for h in plan.exact_allow}
    for pattern in plan.wildcard_allow:
        public.setdefault(_probe_name(pattern), f"{pattern}: a wildcard has no address rule")
    for pattern in policy.ai_hosts():
        public.setdefault(_probe_name(pattern), f"an AI host ({pattern})")
    public[OTHER_HOST] = "neither allowed nor AI: default deny"
    for name, why in public.items():
        sc.names[name] = [next(pool4), next(pool6)]
        allowed = name in exact_allow
        for family, rule in ((4, p.ALLOWED_V4), (6, p.ALLOWED_V6)):
            sc.probes.append(
                Probe(rule if allowed else p.DEFAULT_REJECT, name, 443, allowed, why, family=family)
            )
    sc.names[PUBLIC_RESOLVER] = [next(pool4)]
    for protocol, port in (("udp", 53), ("tcp", 853)):
        sc.listen[netns.INTERNET].add((protocol, str(sc.names[PUBLIC_RESOLVER][0]), port))
        sc.probes.append(
            Probe(
                p.DNS_OTHER,
                PUBLIC_RESOLVER,
                port,
                False,
                "DNS and DNS over TLS to a resolver the policy does not name",
                protocol,
            )
        )
    sc.listen[netns.MAGENTO] |= {
        ("tcp", "127.0.0.1", LOOPBACK_PORT),
        ("tcp", "::1", LOOPBACK_PORT),
        ("tcp", netns.MAGENTO_TO_INTERNET[0], INBOUND_PORT),
    }
    sc.probes += [
        Probe(p.LOOPBACK, "127.0.0.1", LOOPBACK_PORT, True, "the Magento host to itself"),
        Probe(p.LOOPBACK, "::1", LOOPBACK_PORT, True, "the Magento host to itself", family=6),
        Probe(
            p.ESTABLISHED,
            netns.MAGENTO_TO_INTERNET[0],
            INBOUND_PORT,
            True,
            "a customer's connection to the shop is answered",
            origin=netns.INTERNET,
        ),
    ]
    return sc


def _host_in(network: IPNetwork) -> IPAddress:
    """The address a probe uses for an endpoint: the one given, or the range's first
    host (the network address itself is no host)."""
    if network.num_addresses == 1:
        return network.network_address
    return network.network_address + 1


def _probe_name(pattern: str) -> str:
    return pattern.replace("*", PROBE_LABEL)


def _pool(network: IPNetwork) -> Iterator[IPAddress]:
    return iter(network.hosts())


def _check_outside_lab(network: IPNetwork, rule: str) -> None:
    lab = netns.LAB_V4 if network.version == 4 else netns.LAB_V6
    if network.overlaps(lab):
        raise ConfigError(
            f"{rule}: {network} overlaps the verify lab's own range {lab}; "
            "verify cannot tell them apart"
        )
