"""`egress verify`: the rendered ruleset loaded on a real kernel, in network namespaces,
every path probed without and with it, the verdict given per rule.

The namespace tests need root and nftables; without them they skip with the reason (and
fail under CI=true)."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from mageguard.egress import netns
from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.scenario import EXAMPLE, Probe, scenario
from mageguard.egress.targets import nftables
from mageguard.egress.verify import Outcome, Report, RuleResult, format_report, prove
from tests.helpers.debian import require

EXAMPLE_RULES = [
    "loopback",
    "established",
    "ipv6-nd",
    "gateway-api",
    "gateway-proxy",
    "service-mysql",
    "service-redis",
    "service-syslog",
    "dns-10.20.0.53",
    "dns-other",
    "allowed-v4",
    "allowed-v6",
    "default-reject",
]


def outcome(rule: str, expect: bool, connected: bool, baseline: bool = True) -> Outcome:
    probe = Probe(rule, "api.openai.com", 443, expect, "an AI host")
    return Outcome(probe, "198.18.64.2", baseline, connected, "No route to host")


def test_a_rule_holds_only_when_its_probes_hold_and_it_counted_them() -> None:
    assert RuleResult("default-reject", 2, (outcome("default-reject", False, False),)).ok
    assert not RuleResult("default-reject", 0, (outcome("default-reject", False, False),)).ok
    assert not RuleResult("default-reject", 2, (outcome("default-reject", False, True),)).ok
    assert not RuleResult(
        "default-reject", 2, (outcome("default-reject", False, False, baseline=False),)
    ).ok
    assert not RuleResult("gateway-proxy", 0, (outcome("gateway-proxy", True, False),), False).ok


def test_the_report_names_failed_rules_and_each_probe() -> None:
    report = Report(
        (
            RuleResult("gateway-api", 1, (outcome("gateway-api", True, True),)),
            RuleResult("default-reject", 3, (outcome("default-reject", False, True),)),
        ),
        ruleset="",
    )
    text = format_report(report)
    assert re.search(r"^default-reject\s+3 packets\s+FAILED$", text, re.M)
    assert re.search(
        r"^\s+tcp api.openai.com:443 \(198.18.64.2\)\s+refused\s+connects\s+FAILED$", text, re.M
    )
    assert text.endswith("FAILED: default-reject\n")


def test_verify_without_root_is_a_usage_error_not_a_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    result = CliRunner().invoke(app, ["egress", "verify"])
    assert result.exit_code == 2
    assert "needs root" in result.output


@pytest.fixture
def lab_tools(nft: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Root, nft and ip; and the token the test's lab will be named by, so that what it
    leaves behind can be told from the labs of tests running beside it."""
    require("ip", "iproute2")
    token = secrets.token_hex(3)
    monkeypatch.setattr(netns.secrets, "token_hex", lambda nbytes: token)
    return token


def test_the_example_policy_holds_rule_by_rule(lab_tools: str) -> None:
    result = CliRunner().invoke(app, ["egress", "verify"])
    assert result.exit_code == 0, result.output
    reported = re.findall(r"^(\S+)\s+\d+ packets\s+(.+)$", result.output, re.M)
    assert [rule for rule, _ in reported] == EXAMPLE_RULES
    assert dict(reported)["ipv6-nd"] == "not probed"
    assert {status for rule, status in reported if rule != "ipv6-nd"} == {"ok"}
    assert result.output.endswith("every rule holds\n")
    assert left_behind(lab_tools) == []


def test_a_ruleset_missing_rules_fails_exactly_those_rules(lab_tools: str) -> None:
    policy = EgressPolicy.from_mapping(EXAMPLE)
    sc = scenario(policy)
    full = nftables.ruleset(build_plan(policy, sc.resolve))
    broken = "\n".join(
        line
        for line in full.splitlines()
        if '"mageguard:gateway-proxy"' not in line and '"mageguard:established"' not in line
    )
    report = prove(sc, broken)
    failed = {r.rule: r for r in report.rules if not r.ok}
    assert set(failed) == {"gateway-proxy", "established"}
    assert failed["gateway-proxy"].status == "FAILED (not in the ruleset)"
    assert [o.connected for o in failed["established"].outcomes] == [False]
    assert left_behind(lab_tools) == []


def test_an_ai_host_sharing_an_allowed_address_gets_through_address_rules(
    lab_tools: str,
) -> None:
    """The shared-CDN bypass, shown rather than claimed: address rules cannot tell two
    names on one address apart (Squid's SNI check and Cilium's serverNames can)."""
    policy = EgressPolicy.from_mapping(EXAMPLE)
    sc = scenario(policy)
    sc.names["api.openai.com"] = sc.names["repo.magento.com"]
    report = prove(sc, nftables.ruleset(build_plan(policy, sc.resolve)))
    reject = next(r for r in report.rules if r.rule == "default-reject")
    through = [o for o in reject.outcomes if o.probe.target == "api.openai.com"]
    assert [o.connected for o in through] == [True, True]
    assert all(o.connected is False for o in reject.outcomes if o not in through)


def test_a_lab_that_fails_to_start_leaves_nothing_behind(lab_tools: str) -> None:
    sc = scenario(EgressPolicy.from_mapping(EXAMPLE))
    sc.listen[netns.GATEWAY].add(("tcp", "10.99.0.1", 443))  # an address nobody holds
    with pytest.raises(netns.LabError, match="Cannot assign requested address"):
        prove(sc, "")
    assert left_behind(lab_tools) == []


def test_the_lab_is_three_namespaces_and_a_hosts_file_gone_on_exit(lab_tools: str) -> None:
    with netns.lab([], []) as the:
        the.write_hosts({})
        assert sorted(left_behind(lab_tools)) == [
            f"/etc/netns/mgv-{lab_tools}-magento",
            f"mgv-{lab_tools}-gateway",
            f"mgv-{lab_tools}-internet",
            f"mgv-{lab_tools}-magento",
        ]
    assert left_behind(lab_tools) == []


def left_behind(token: str) -> list[str]:
    """The lab's namespaces and hosts file that still exist."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found = [line.split()[0] for line in names.splitlines() if token in line]
    return found + [str(p) for p in Path("/etc/netns").glob(f"mgv-{token}-*")]
