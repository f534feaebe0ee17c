"""The plan as a Kubernetes NetworkPolicy: the selected Magento pods may reach the cluster
DNS, the gateway, its proxy, the services and the allow list's addresses, and nothing
else (policyTypes: Egress with no rule for the rest is Kubernetes' default deny).

A NetworkPolicy knows addresses, not names, so the allow list is frozen at render time:
re-render when its addresses change, or use the Cilium target, which follows DNS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mageguard.egress import plan as p
from mageguard.egress.policy import IPAddress, IPNetwork
from mageguard.egress.targets.manifest import Rule, by_rule, cidrs, document, metadata

CLUSTER_DNS = "dns-cluster"


def network_policy(
    plan: p.Plan,
    *,
    labels: Mapping[str, str],
    namespace: str | None = None,
    source: str = "",
) -> str:
    rules: list[Rule] = [
        (
            CLUSTER_DNS,
            "the cluster DNS (kube-dns / CoreDNS in kube-system)",
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
        )
    ]
    for rule, endpoints in by_rule(plan.endpoints).items():
        rules.append(
            (
                rule,
                endpoints[0].note,
                {
                    "to": _blocks(e.network for e in endpoints),
                    "ports": [
                        {"protocol": protocol, "port": port}
                        for protocol, port in dict.fromkeys(
                            (e.protocol.upper(), e.port) for e in endpoints
                        )
                    ],
                },
            )
        )
    web = [{"protocol": "TCP", "port": port} for port in p.ALLOWED_PORTS]
    for rule, addresses in ((p.ALLOWED_V4, plan.allowed_v4), (p.ALLOWED_V6, plan.allowed_v6)):
        if addresses:
            rules.append(
                (
                    rule,
                    "the allow list's addresses at render time: " + ", ".join(plan.exact_allow),
                    {"to": _blocks(addresses), "ports": web},
                )
            )
    header = [
        f"mageguard egress: Kubernetes NetworkPolicy, rendered from {source or 'the policy'}.",
        "Default deny for the selected pods' egress; every rule below is an exception.",
        "ipBlock must name the addresses the pods really connect to: for a gateway in the",
        "cluster use its pod addresses (policies see traffic after Service translation).",
        *(f"warning: {w}" for w in plan.warnings),
    ]
    head = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(namespace),
    }
    spec = {"podSelector": {"matchLabels": dict(labels)}, "policyTypes": ["Egress"]}
    return document(header, head, spec, rules)


def _blocks(addresses: Iterable[IPAddress | IPNetwork]) -> list[dict[str, Any]]:
    return [{"ipBlock": {"cidr": cidr}} for cidr in cidrs(addresses)]
