"""The plan every target renders: which direct paths exist, under which rule ids, and
what the allow list resolves to."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import pytest

from mageguard.egress import plan as p
from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.errors import ConfigError
from tests.egress.conftest import make_policy, resolver


def paths(plan: p.Plan) -> list[tuple[str, str, int, str]]:
    return [(e.rule, str(e.network), e.port, e.protocol) for e in plan.endpoints]


def test_gateway_services_and_resolvers_become_named_paths(
    policy: EgressPolicy, fake_dns: Callable[[str], Sequence[str]]
) -> None:
    assert paths(build_plan(policy, fake_dns)) == [
        ("gateway-api", "10.0.0.5/32", 8088, "tcp"),
        ("gateway-proxy", "10.0.0.5/32", 3128, "tcp"),
        ("service-mysql", "10.0.0.7/32", 3306, "tcp"),
        ("service-redis", "fd00::7/128", 6379, "tcp"),
        ("service-syslog", "10.0.2.0/24", 514, "udp"),
        ("dns-10.0.0.53", "10.0.0.53/32", 53, "udp"),
        ("dns-10.0.0.53", "10.0.0.53/32", 53, "tcp"),
    ]


def test_allow_list_resolves_through_the_given_resolver_by_family(
    policy: EgressPolicy, fake_dns: Callable[[str], Sequence[str]]
) -> None:
    plan = build_plan(policy, fake_dns)
    assert plan.allowed_v4 == (
        ipaddress.IPv4Address("203.0.113.10"),
        ipaddress.IPv4Address("203.0.113.11"),
    )
    assert plan.allowed_v6 == (ipaddress.IPv6Address("2001:db8::10"),)
    assert plan.resolved


def test_duplicate_and_ipv4_mapped_answers_count_once_as_ipv4() -> None:
    dns = resolver({"repo.magento.com": ["203.0.113.10", "::ffff:203.0.113.10"]})
    plan = build_plan(make_policy(), dns)
    assert plan.allowed_v4 == (ipaddress.IPv4Address("203.0.113.10"),)
    assert plan.allowed_v6 == ()


def test_a_wildcard_is_never_looked_up_and_is_named_in_a_warning() -> None:
    asked: list[str] = []

    def dns(host: str) -> Sequence[str]:
        asked.append(host)
        return []

    plan = build_plan(make_policy(), dns)
    assert asked == ["repo.magento.com"]
    assert any(w.startswith("*.paypal.com: a wildcard has no addresses") for w in plan.warnings)


def test_a_name_that_does_not_resolve_is_warned_about_not_allowed() -> None:
    plan = build_plan(make_policy(allow=["gone.example.com"]), resolver({}))
    assert plan.allowed_v4 == plan.allowed_v6 == ()
    assert "gone.example.com: does not resolve; nothing is allowed for it" in plan.warnings


def test_without_a_resolver_the_allowed_sets_are_left_for_the_refresh(
    policy: EgressPolicy,
) -> None:
    plan = build_plan(policy, None)
    assert (plan.allowed_v4, plan.allowed_v6, plan.resolved) == ((), (), False)


def test_name_based_targets_do_not_ask_dns_about_the_allow_list(policy: EgressPolicy) -> None:
    def dns(host: str) -> Sequence[str]:
        raise AssertionError(f"looked up {host}")

    plan = build_plan(policy, dns, allow_addresses=False)
    assert plan.exact_allow == ("repo.magento.com",)
    assert plan.wildcard_allow == ("*.paypal.com",)


def test_no_gateway_is_a_warning_and_no_gateway_path() -> None:
    plan = build_plan(EgressPolicy(), None)
    assert plan.endpoints == ()
    assert plan.warnings == (
        "egress.gateway is not set: the rules open no path to the gateway or its proxy",
    )


def test_a_service_named_by_host_takes_its_single_address() -> None:
    services = [{"name": "mysql", "address": "db.internal", "port": 3306}]
    plan = build_plan(make_policy(services=services), resolver({"db.internal": ["10.0.0.9"]}))
    assert ("service-mysql", "10.0.0.9/32", 3306, "tcp") in paths(plan)


@pytest.mark.parametrize(
    ("answers", "resolve", "message"),
    [
        ({"db.internal": ["10.0.0.9"]}, False, "is a name; give its address"),
        ({"db.internal": ["10.0.0.9", "10.0.0.10"]}, True, "resolves to 2 addresses"),
        ({}, True, "resolves to 0 addresses"),
    ],
)
def test_a_service_name_without_exactly_one_address_is_a_config_error(
    answers: dict[str, list[str]], resolve: bool, message: str
) -> None:
    services = [{"name": "mysql", "address": "db.internal", "port": 3306}]
    with pytest.raises(ConfigError, match=message):
        build_plan(make_policy(services=services), resolver(answers) if resolve else None)


def test_a_resolver_that_is_not_an_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"resolvers: 'dns\.google' is not an IP address"):
        make_policy(resolvers=["dns.google"])


def test_a_name_on_both_lists_stays_shut_as_at_the_proxy(
    fake_dns: Callable[[str], Sequence[str]],
) -> None:
    plan = build_plan(make_policy(deny=["repo.magento.com"]), fake_dns)
    assert plan.exact_allow == ()
    assert plan.allowed_v4 == plan.allowed_v6 == ()
    assert "repo.magento.com: on both the allow and the deny list; deny wins" in plan.warnings
