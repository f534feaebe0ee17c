"""The plan as an nftables ruleset: default deny for everything the Magento host sends,
except established traffic, loopback, the gateway, its proxy, the services, the resolvers
and the allow list's addresses.

`hook="output"` is loaded on the Magento host itself (or in its network namespace);
`hook="forward"` on a router in front of the Magento hosts, where only packets from
`egress.magento_hosts` are judged. Every rule counts its packets and carries
`comment "mageguard:<rule id>"`, so `egress verify` and `nft list ruleset` can say which
rule decided a connection. The allow list's addresses live in named sets that
`sets()` refreshes atomically as DNS answers change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from mageguard.egress import plan as p
from mageguard.egress.policy import IPNetwork
from mageguard.errors import ConfigError

TABLE = "inet mageguard"
_REJECT = "reject with icmpx type admin-prohibited"


def ruleset(plan: p.Plan, *, hook: str = "output", source: str = "") -> str:
    if hook not in ("output", "forward"):
        raise ConfigError(f"unknown nftables hook {hook!r} (output or forward)")
    if hook == "forward" and not plan.policy.magento_hosts:
        raise ConfigError("the forward hook judges packets from egress.magento_hosts: set it")
    lines = [
        "#!/usr/sbin/nft -f",
        f"# mageguard egress ruleset ({hook} hook), rendered from {source or 'the policy'}.",
        "# Default deny: what is not accepted below is refused with an ICMP",
        "# admin-prohibited and counted by mageguard:default-reject.",
        "# Refresh the allow list's addresses as DNS changes (one atomic transaction):",
        "#   mageguard egress render --target nftables-sets | nft -f -",
        *(f"# warning: {w}" for w in plan.warnings),
        "",
        # Declaring then deleting the table makes the load an atomic replacement, also
        # the first time, when there is nothing to delete yet.
        f"table {TABLE}",
        f"delete table {TABLE}",
        "",
        f"table {TABLE} {{",
        *_set("allowed_v4", "ipv4_addr", plan.allowed_v4, _allow_comment(plan)),
        *_set("allowed_v6", "ipv6_addr", plan.allowed_v6, _allow_comment(plan)),
    ]
    if hook == "output":
        lines += _chain_head("output", "output", "drop")
        lines += _rule('oifname "lo" counter accept', p.LOOPBACK)
        lines += _body(plan)
    else:
        v4 = [n for n in plan.policy.magento_hosts if n.version == 4]
        v6 = [n for n in plan.policy.magento_hosts if n.version == 6]
        lines += _set("magento_v4", "ipv4_addr", v4, "egress.magento_hosts", interval=True)
        lines += _set("magento_v6", "ipv6_addr", v6, "egress.magento_hosts", interval=True)
        lines += _chain_head("forward", "forward", "accept")
        lines += _rule("ip saddr @magento_v4 jump magento_egress", "from-magento")
        lines += _rule("ip6 saddr @magento_v6 jump magento_egress", "from-magento")
        lines += ["\t}", "", "\tchain magento_egress {"]
        lines += _body(plan)
    lines += ["\t}", "}", ""]
    return "\n".join(lines)


def sets(plan: p.Plan) -> str:
    """Commands for `nft -f -` that replace the allowed sets' contents in one transaction."""
    lines = [f"# mageguard egress: the allow list's addresses ({', '.join(plan.exact_allow)})"]
    lines += [f"# warning: {w}" for w in plan.warnings]
    for name, addresses in (("allowed_v4", plan.allowed_v4), ("allowed_v6", plan.allowed_v6)):
        lines.append(f"flush set {TABLE} {name}")
        if addresses:  # `add element` with no element is a syntax error
            lines.append(f"add element {TABLE} {name} {{ {_join(addresses)} }}")
    return "\n".join(lines) + "\n"


def _body(plan: p.Plan) -> list[str]:
    out = _rule("ct state established,related counter accept", p.ESTABLISHED)
    # Without neighbour discovery no IPv6 packet leaves at all; ARP is not in this family.
    out += _rule(
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } counter accept",
        p.IPV6_ND,
    )
    for e in plan.endpoints:
        family = "ip" if e.version == 4 else "ip6"
        target = e.network.network_address if e.network.num_addresses == 1 else e.network
        out += _rule(f"{family} daddr {target} {e.protocol} dport {e.port} counter accept", e.rule)
    # DNS and DNS over TLS anywhere else are refused by name, before the allowed sets:
    # an allow-listed address must not double as an uncontrolled resolver.
    out += _rule("meta l4proto { tcp, udp } th dport { 53, 853 } counter " + _REJECT, p.DNS_OTHER)
    ports = ", ".join(str(port) for port in p.ALLOWED_PORTS)
    out += _rule(f"ip daddr @allowed_v4 tcp dport {{ {ports} }} counter accept", p.ALLOWED_V4)
    out += _rule(f"ip6 daddr @allowed_v6 tcp dport {{ {ports} }} counter accept", p.ALLOWED_V6)
    out += _rule(f"counter {_REJECT}", p.DEFAULT_REJECT)
    return out


def _chain_head(name: str, hook: str, policy: str) -> list[str]:
    return [
        f"\tchain {name} {{",
        f"\t\ttype filter hook {hook} priority filter; policy {policy};",
    ]


def _rule(text: str, rule: str) -> list[str]:
    return [f'\t\t{text} comment "mageguard:{rule}"']


def _set(
    name: str,
    kind: str,
    elements: Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address | IPNetwork],
    comment: str,
    *,
    interval: bool = False,
) -> list[str]:
    out = [f"\tset {name} {{", f"\t\ttype {kind}"]
    if interval:
        out.append("\t\tflags interval")
    out.append(f'\t\tcomment "{_quote(comment)}"')
    listed = _join(elements)
    if listed:
        out.append(f"\t\telements = {{ {listed} }}")
    return [*out, "\t}", ""]


def _allow_comment(plan: p.Plan) -> str:
    hosts = ", ".join(plan.exact_allow) or "none"
    state = "resolved at render time" if plan.resolved else "empty until refreshed"
    return f"allow list ({state}): {hosts}"


def _join(elements: Iterable[object]) -> str:
    return ", ".join(str(e) for e in elements)


def _quote(text: str) -> str:
    # nft comments are at most 128 bytes and end at a double quote.
    text = text.replace('"', "'")
    return (
        text if len(text.encode()) <= 128 else text.encode()[:125].decode(errors="ignore") + "..."
    )
