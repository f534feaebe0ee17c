"""The CiliumNetworkPolicy: the allow list stays names (toFQDNs, with an SNI check for
exact names), and the DNS rule toFQDNs depends on is there for every resolver.

Cilium's CRD schema is not published on PyPI, so the shape is checked against the small
schema below, written from Cilium's CRD (cilium.io/v2 CiliumNetworkPolicy: endpointSelector,
egress rules with toEndpoints / toCIDR / toFQDNs and toPorts). It closes every object it
describes, so a misspelt field fails; it does not prove that a cluster would accept it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jsonschema
import pytest
import yaml

from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.targets import cilium
from tests.egress.conftest import make_policy

Resolver = Callable[[str], Sequence[str]]
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["matchLabels"],
    "properties": {"matchLabels": LABELS},
}
PORT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["port"],
    "properties": {
        "port": {"type": "string", "pattern": "^[0-9]{1,5}$"},
        "protocol": {"enum": ["TCP", "UDP", "ANY"]},
    },
}
PORT_RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ports"],
    "properties": {
        "ports": {"type": "array", "minItems": 1, "items": PORT},
        "serverNames": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "rules": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "dns": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "matchPattern": {"type": "string"},
                            "matchName": {"type": "string"},
                        },
                    },
                }
            },
        },
    },
}
FQDN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchName": {"type": "string", "pattern": "^[-a-zA-Z0-9_.]+$"},
        "matchPattern": {"type": "string", "pattern": "^[-a-zA-Z0-9_.*]+$"},
    },
    "minProperties": 1,
    "maxProperties": 1,
}
EGRESS_RULE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 2,
    "properties": {
        "toEndpoints": {"type": "array", "items": SELECTOR},
        "toCIDR": {"type": "array", "items": {"type": "string"}},
        "toFQDNs": {"type": "array", "items": FQDN},
        "toPorts": {"type": "array", "minItems": 1, "items": PORT_RULE},
    },
}
CNP_SHAPE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "cilium.io/v2"},
        "kind": {"const": "CiliumNetworkPolicy"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["endpointSelector", "egress"],
            "properties": {
                "endpointSelector": SELECTOR,
                "egress": {"type": "array", "minItems": 1, "items": EGRESS_RULE},
            },
        },
    },
}


def render(policy: EgressPolicy, **options: Any) -> dict[str, Any]:
    plan = build_plan(policy, None, allow_addresses=False)
    text = cilium.network_policy(plan, labels={"app": "magento"}, **options)
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def rule_with(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [r for r in doc["spec"]["egress"] if key in r]


@pytest.mark.parametrize(
    "policy",
    [make_policy(), EgressPolicy(), make_policy(allow=["*.paypal.com"])],
    ids=["full", "default", "wildcards only"],
)
def test_the_policy_has_the_shape_of_a_cilium_network_policy(policy: EgressPolicy) -> None:
    jsonschema.validate(render(policy, namespace="shop"), CNP_SHAPE)


def test_the_shape_check_would_catch_a_wrong_field(policy: EgressPolicy) -> None:
    doc = render(policy)
    doc["spec"]["egress"][0]["toFQDN"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, CNP_SHAPE)


def test_cluster_dns_goes_through_the_dns_proxy_that_tofqdns_needs(
    policy: EgressPolicy,
) -> None:
    first = render(policy)["spec"]["egress"][0]
    assert first["toEndpoints"] == [
        {
            "matchLabels": {
                "k8s:io.kubernetes.pod.namespace": "kube-system",
                "k8s:k8s-app": "kube-dns",
            }
        }
    ]
    assert first["toPorts"] == [
        {"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}
    ]


def test_a_configured_resolver_also_gets_the_dns_rule(policy: EgressPolicy) -> None:
    (resolver,) = [
        r for r in rule_with(render(policy), "toCIDR") if r["toCIDR"] == ["10.0.0.53/32"]
    ]
    assert resolver["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}


def test_allow_list_names_are_tofqdns_with_sni_on_443(policy: EgressPolicy) -> None:
    exact, wildcard = rule_with(render(policy), "toFQDNs")
    assert exact["toFQDNs"] == [{"matchName": "repo.magento.com"}]
    assert exact["toPorts"] == [
        {"ports": [{"port": "80", "protocol": "TCP"}]},
        {"ports": [{"port": "443", "protocol": "TCP"}], "serverNames": ["repo.magento.com"]},
    ]
    assert wildcard["toFQDNs"] == [{"matchPattern": "*.paypal.com"}]
    assert all("serverNames" not in port for port in wildcard["toPorts"])


def test_paths_are_cidrs_with_their_ports(policy: EgressPolicy) -> None:
    cidr_rules = rule_with(render(policy), "toCIDR")
    assert [(r["toCIDR"], r["toPorts"][0]["ports"]) for r in cidr_rules[:3]] == [
        (["10.0.0.5/32"], [{"port": "8088", "protocol": "TCP"}]),
        (["10.0.0.5/32"], [{"port": "3128", "protocol": "TCP"}]),
        (["10.0.0.7/32"], [{"port": "3306", "protocol": "TCP"}]),
    ]


def test_no_allow_list_means_no_fqdn_rule() -> None:
    assert rule_with(render(make_policy(allow=[])), "toFQDNs") == []
