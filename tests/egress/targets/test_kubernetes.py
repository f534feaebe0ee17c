"""The Kubernetes NetworkPolicy: valid against Kubernetes' own schema (strict: an unknown
field fails), default deny for the selected pods, every exception a commented rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.targets import kubernetes
from mageguard.egress.targets.manifest import selector
from mageguard.errors import ConfigError

Resolver = Callable[[str], Sequence[str]]


def render(policy: EgressPolicy, dns: Resolver | None, **options: Any) -> str:
    options.setdefault("labels", {"app": "magento"})
    return kubernetes.network_policy(build_plan(policy, dns), **options)


def validate(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("resolved", [True, False])
def test_the_policy_validates_against_the_networkpolicy_schema(
    policy: EgressPolicy, fake_dns: Resolver, resolved: bool
) -> None:
    validate(yaml.safe_load(render(policy, fake_dns if resolved else None, namespace="shop")))


def test_the_schema_check_would_catch_a_wrong_field(
    policy: EgressPolicy, fake_dns: Resolver
) -> None:
    doc = yaml.safe_load(render(policy, fake_dns))
    doc["spec"]["egress"][0]["too"] = doc["spec"]["egress"][0].pop("to")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(doc)


def test_selected_pods_get_egress_default_deny(policy: EgressPolicy, fake_dns: Resolver) -> None:
    doc = yaml.safe_load(render(policy, fake_dns, labels={"app": "magento", "tier": "web"}))
    assert doc["metadata"]["name"] == "mageguard-egress"
    assert doc["spec"]["podSelector"] == {"matchLabels": {"app": "magento", "tier": "web"}}
    assert doc["spec"]["policyTypes"] == ["Egress"]


def test_exceptions_are_cluster_dns_the_paths_and_the_allowed_addresses(
    policy: EgressPolicy, fake_dns: Resolver
) -> None:
    egress = yaml.safe_load(render(policy, fake_dns))["spec"]["egress"]
    dns, *paths = egress
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    flat = [
        (block["ipBlock"]["cidr"], port["protocol"], port["port"])
        for rule in paths
        for block in rule["to"]
        for port in rule["ports"]
    ]
    assert flat == [
        ("10.0.0.5/32", "TCP", 8088),
        ("10.0.0.5/32", "TCP", 3128),
        ("10.0.0.7/32", "TCP", 3306),
        ("fd00::7/128", "TCP", 6379),
        ("10.0.2.0/24", "UDP", 514),
        ("10.0.0.53/32", "UDP", 53),
        ("10.0.0.53/32", "TCP", 53),
        ("203.0.113.10/32", "TCP", 80),
        ("203.0.113.10/32", "TCP", 443),
        ("203.0.113.11/32", "TCP", 80),
        ("203.0.113.11/32", "TCP", 443),
        ("2001:db8::10/128", "TCP", 80),
        ("2001:db8::10/128", "TCP", 443),
    ]


def test_each_rule_is_named_in_a_comment_above_it(policy: EgressPolicy, fake_dns: Resolver) -> None:
    comments = [
        line.strip().split(":")[1]
        for line in render(policy, fake_dns).splitlines()
        if line.startswith("  # mageguard:")
    ]
    assert comments == [
        "dns-cluster",
        "gateway-api",
        "gateway-proxy",
        "service-mysql",
        "service-redis",
        "service-syslog",
        "dns-10.0.0.53",
        "allowed-v4",
        "allowed-v6",
    ]


def test_without_resolution_no_allowed_address_is_opened(policy: EgressPolicy) -> None:
    text = render(policy, None)
    assert "allowed-v4" not in text and "203.0.113.10" not in text


def test_namespace_is_set_only_when_given(policy: EgressPolicy) -> None:
    assert "namespace" not in yaml.safe_load(render(policy, None))["metadata"]
    assert yaml.safe_load(render(policy, None, namespace="shop"))["metadata"]["namespace"] == (
        "shop"
    )


def test_selector_reads_label_pairs() -> None:
    assert selector("app=magento, app.kubernetes.io/part-of=shop") == {
        "app": "magento",
        "app.kubernetes.io/part-of": "shop",
    }


@pytest.mark.parametrize("text", ["", "app", "app=ma gento", "=magento", "-app=x"])
def test_selector_refuses_what_is_not_a_label(text: str) -> None:
    with pytest.raises(ConfigError, match="--selector"):
        selector(text)
