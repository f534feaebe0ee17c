"""The plan as a CiliumNetworkPolicy: like the NetworkPolicy, but the allow list stays a
list of names (`toFQDNs`), so its addresses follow DNS instead of being frozen.

toFQDNs only works when Cilium's DNS proxy sees the pods' lookups, hence the DNS rule
(`rules: dns: matchPattern: "*"`) on every resolver the pods may use. Exact allow-list
names also get `serverNames` on 443: Cilium's proxy then checks the TLS SNI, so an
AI host on an allowed name's (shared CDN) address is still refused. That needs Cilium's
L7 proxy (Envoy); Cilium's `*.` matches one label, narrower than the policy's any-depth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mageguard.egress import plan as p
from mageguard.egress.targets.manifest import Rule, by_rule, cidrs, document, metadata

CLUSTER_DNS = "dns-cluster"
ALLOWED_FQDN = "allowed-fqdn"
ALLOWED_FQDN_PATTERN = "allowed-fqdn-pattern"
_SEE_ALL_LOOKUPS = {"dns": [{"matchPattern": "*"}]}


def network_policy(
    plan: p.Plan,
    *,
    labels: Mapping[str, str],
    namespace: str | None = None,
    source: str = "",
) -> str:
    dns_ports = [{"port": "53", "protocol": "ANY"}]
    rules: list[Rule] = [
        (
            CLUSTER_DNS,
            "the cluster DNS, through Cilium's DNS proxy so toFQDNs learns the addresses",
            {
                "toEndpoints": [
                    {
                        "matchLabels": {
                            "k8s:io.kubernetes.pod.namespace": "kube-system",
                            "k8s:k8s-app": "kube-dns",
                        }
                    }
                ],
                "toPorts": [{"ports": dns_ports, "rules": _SEE_ALL_LOOKUPS}],
            },
        )
    ]
    for rule, endpoints in by_rule(plan.endpoints).items():
        ports = [
            {"port": str(port), "protocol": protocol}
            for protocol, port in dict.fromkeys((e.protocol.upper(), e.port) for e in endpoints)
        ]
        port_rule: dict[str, Any] = {"ports": ports}
        if all(e.port == 53 for e in endpoints):  # a resolver: its lookups must be seen too
            port_rule = {"ports": dns_ports, "rules": _SEE_ALL_LOOKUPS}
        rules.append(
            (
                rule,
                endpoints[0].note,
                {"toCIDR": cidrs(e.network for e in endpoints), "toPorts": [port_rule]},
            )
        )
    if plan.exact_allow:
        rules.append(
            (
                ALLOWED_FQDN,
                "the allow list's names; 443 only with a matching TLS SNI",
                {
                    "toFQDNs": [{"matchName": h} for h in plan.exact_allow],
                    "toPorts": _web_ports(server_names=plan.exact_allow),
                },
            )
        )
    if plan.wildcard_allow:
        rules.append(
            (
                ALLOWED_FQDN_PATTERN,
                "the allow list's wildcards (no SNI check: serverNames takes exact names)",
                {
                    "toFQDNs": [{"matchPattern": h} for h in plan.wildcard_allow],
                    "toPorts": _web_ports(),
                },
            )
        )
    header = [
        f"mageguard egress: CiliumNetworkPolicy, rendered from {source or 'the policy'}.",
        "Default deny for the selected endpoints' egress; every rule below is an exception.",
        "serverNames needs Cilium's L7 proxy (Envoy); without it, remove serverNames and",
        "accept that an AI host sharing an allowed name's address is reachable on 443.",
    ]
    head = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": metadata(namespace),
    }
    spec = {"endpointSelector": {"matchLabels": dict(labels)}}
    return document(header, head, spec, rules)


def _web_ports(server_names: Iterable[str] = ()) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names = list(server_names)
    for port in p.ALLOWED_PORTS:
        rule: dict[str, Any] = {"ports": [{"port": str(port), "protocol": "TCP"}]}
        if port == 443 and names:
            rule["serverNames"] = names
        out.append(rule)
    return out
