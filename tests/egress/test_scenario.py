"""The scenario `egress verify` proves: which probes a policy gets, what each must do
and which rule must decide it; where the stand-ins live. No root needed: nothing runs."""

from __future__ import annotations

import pytest

from mageguard.egress import netns
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.scenario import scenario
from mageguard.errors import ConfigError
from tests.egress.conftest import make_policy


def probes_for(policy: EgressPolicy, rule: str) -> list[tuple[str, int, bool, int]]:
    return [
        (p.target, p.port, p.expect, p.family) for p in scenario(policy).probes if p.rule == rule
    ]


def test_every_ai_host_is_probed_on_both_families_and_must_be_refused() -> None:
    refused = {(t, f) for t, _, expect, f in probes_for(make_policy(), "default-reject")}
    for name in ("api.openai.com", "mageguard-probe.openai.azure.com", "api.example-ai.com"):
        assert {(name, 4), (name, 6)} <= refused
    assert ("bedrock-runtime.mageguard-probe.amazonaws.com", 4) in refused


def test_allow_list_names_must_connect_and_wildcards_must_not() -> None:
    assert probes_for(make_policy(), "allowed-v4") == [("repo.magento.com", 443, True, 4)]
    assert probes_for(make_policy(), "allowed-v6") == [("repo.magento.com", 443, True, 6)]
    refused = [t for t, _, _, _ in probes_for(make_policy(), "default-reject")]
    assert "mageguard-probe.paypal.com" in refused  # address rules cannot allow a wildcard


def test_the_gateway_host_is_reachable_only_on_its_two_ports() -> None:
    assert probes_for(make_policy(), "gateway-api") == [("10.0.0.5", 8088, True, 4)]
    assert probes_for(make_policy(), "gateway-proxy") == [("10.0.0.5", 3128, True, 4)]
    assert ("10.0.0.5", 22, False, 4) in probes_for(make_policy(), "default-reject")


def test_a_range_is_probed_at_its_first_host_and_served_by_the_gateway_side() -> None:
    sc = scenario(make_policy())
    assert probes_for(make_policy(), "service-syslog") == [("10.0.2.1", 514, True, 4)]
    assert ("udp", "10.0.2.1", 514) in sc.listen[netns.GATEWAY]


def test_a_loopback_gateway_is_served_by_the_magento_host_itself() -> None:
    policy = make_policy(gateway={"address": "127.0.0.1", "port": 8088})
    sc = scenario(policy)
    assert ("tcp", "127.0.0.1", 8088) in sc.listen[netns.MAGENTO]
    assert all(a.is_loopback is False for a in sc.gateway_side)
    # loopback is open on every port: no "other port is refused" probe to expect
    assert [t for t, *_ in probes_for(policy, "default-reject") if t == "127.0.0.1"] == []


def test_a_policy_inside_the_labs_own_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="overlaps the verify lab's own range"):
        scenario(make_policy(gateway={"address": "198.18.0.2"}))
