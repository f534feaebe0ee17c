"""The nftables ruleset: default deny on the Magento host's output (or a router's
forward), each exception a counted rule named `mageguard:<id>`, accepted by the real
`nft` in check mode, and an allow-list refresh that really replaces the sets' contents."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.targets import nftables
from mageguard.errors import ConfigError
from tests.egress.conftest import ADDRESSES, make_policy, resolver

Resolver = Callable[[str], Sequence[str]]
REJECT = "reject with icmpx type admin-prohibited"


def chain(text: str, name: str) -> list[str]:
    """The rule lines of one chain, without its header."""
    body = text.split(f"\tchain {name} {{\n", 1)[1].split("\n\t}", 1)[0]
    return [line.strip() for line in body.splitlines()[1:]]


def test_output_chain_accepts_only_the_policys_paths_then_rejects(
    policy: EgressPolicy, fake_dns: Resolver
) -> None:
    text = nftables.ruleset(build_plan(policy, fake_dns))
    assert "type filter hook output priority filter; policy drop;" in text
    assert chain(text, "output") == [
        'oifname "lo" counter accept comment "mageguard:loopback"',
        'ct state established,related counter accept comment "mageguard:established"',
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } counter "
        'accept comment "mageguard:ipv6-nd"',
        'ip daddr 10.0.0.5 tcp dport 8088 counter accept comment "mageguard:gateway-api"',
        'ip daddr 10.0.0.5 tcp dport 3128 counter accept comment "mageguard:gateway-proxy"',
        'ip daddr 10.0.0.7 tcp dport 3306 counter accept comment "mageguard:service-mysql"',
        'ip6 daddr fd00::7 tcp dport 6379 counter accept comment "mageguard:service-redis"',
        'ip daddr 10.0.2.0/24 udp dport 514 counter accept comment "mageguard:service-syslog"',
        'ip daddr 10.0.0.53 udp dport 53 counter accept comment "mageguard:dns-10.0.0.53"',
        'ip daddr 10.0.0.53 tcp dport 53 counter accept comment "mageguard:dns-10.0.0.53"',
        f"meta l4proto {{ tcp, udp }} th dport {{ 53, 853 }} counter {REJECT} "
        'comment "mageguard:dns-other"',
        'ip daddr @allowed_v4 tcp dport { 80, 443 } counter accept comment "mageguard:allowed-v4"',
        'ip6 daddr @allowed_v6 tcp dport { 80, 443 } counter accept comment "mageguard:allowed-v6"',
        f'counter {REJECT} comment "mageguard:default-reject"',
    ]


def test_allowed_sets_hold_the_resolved_addresses_by_family(
    policy: EgressPolicy, fake_dns: Resolver
) -> None:
    text = nftables.ruleset(build_plan(policy, fake_dns))
    assert "elements = { 203.0.113.10, 203.0.113.11 }" in text
    assert "elements = { 2001:db8::10 }" in text
    assert 'comment "allow list (resolved at render time): repo.magento.com"' in text


def test_the_load_replaces_the_table_atomically(policy: EgressPolicy) -> None:
    lines = nftables.ruleset(build_plan(policy, None)).splitlines()
    first = lines.index("table inet mageguard")
    assert lines[first + 1] == "delete table inet mageguard"
    assert lines[first + 3] == "table inet mageguard {"


def test_forward_hook_judges_only_packets_from_the_magento_hosts(
    policy: EgressPolicy, fake_dns: Resolver
) -> None:
    text = nftables.ruleset(build_plan(policy, fake_dns), hook="forward")
    assert "type filter hook forward priority filter; policy accept;" in text
    assert chain(text, "forward") == [
        'ip saddr @magento_v4 jump magento_egress comment "mageguard:from-magento"',
        'ip6 saddr @magento_v6 jump magento_egress comment "mageguard:from-magento"',
    ]
    assert "elements = { 10.0.1.0/24 }" in text
    egress = chain(text, "magento_egress")
    assert egress[-1] == f'counter {REJECT} comment "mageguard:default-reject"'
    assert not any("loopback" in line for line in egress)


def test_forward_hook_needs_the_magento_hosts() -> None:
    with pytest.raises(ConfigError, match=r"egress\.magento_hosts"):
        nftables.ruleset(build_plan(make_policy(magento_hosts=[]), None), hook="forward")


def test_warnings_travel_as_comments(policy: EgressPolicy, fake_dns: Resolver) -> None:
    text = nftables.ruleset(build_plan(policy, fake_dns))
    assert "# warning: *.paypal.com: a wildcard has no addresses" in text


def test_refresh_flushes_and_refills_both_sets(policy: EgressPolicy, fake_dns: Resolver) -> None:
    assert nftables.sets(build_plan(policy, fake_dns)).splitlines()[-4:] == [
        "flush set inet mageguard allowed_v4",
        "add element inet mageguard allowed_v4 { 203.0.113.10, 203.0.113.11 }",
        "flush set inet mageguard allowed_v6",
        "add element inet mageguard allowed_v6 { 2001:db8::10 }",
    ]


def test_refresh_with_nothing_resolved_only_flushes(policy: EgressPolicy) -> None:
    lines = nftables.sets(build_plan(policy, resolver({}))).splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        "flush set inet mageguard allowed_v4",
        "flush set inet mageguard allowed_v6",
    ]


POLICIES = {
    "full": lambda: make_policy(),
    "default": lambda: EgressPolicy(),
    "ipv6 gateway": lambda: make_policy(gateway={"address": "fd00::5"}, resolvers=[]),
    "long allow list": lambda: make_policy(allow=[f"host{n}.example.com" for n in range(40)]),
}


CASES = [
    pytest.param(name, resolved, hook, id=f"{name}-{hook}-{'resolved' if resolved else 'empty'}")
    for name in POLICIES
    for hook in ("output", "forward")
    for resolved in (True, False)
    if not (hook == "forward" and name == "default")  # no magento_hosts: refused above
]


@pytest.mark.parametrize(("name", "resolved", "hook"), CASES)
def test_real_nft_accepts_the_ruleset(
    nft: str, tmp_path: Path, name: str, resolved: bool, hook: str
) -> None:
    dns = resolver(
        {**{f"host{n}.example.com": [f"198.51.100.{n}"] for n in range(40)}, **ADDRESSES}
    )
    plan = build_plan(POLICIES[name](), dns if resolved else None)
    path = tmp_path / "ruleset.nft"
    path.write_text(nftables.ruleset(plan, hook=hook))
    check = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.fixture
def namespace(nft: str) -> Iterator[str]:
    name = f"mgtest-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def nft_in(namespace: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, "nft", *args],
        input=stdin,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def elements(namespace: str, name: str) -> list[str]:
    doc = json.loads(nft_in(namespace, "-j", "list", "set", "inet", "mageguard", name))
    return [
        str(e) for item in doc["nftables"] if "set" in item for e in item["set"].get("elem", [])
    ]


def test_refresh_replaces_the_loaded_sets_contents(namespace: str, policy: EgressPolicy) -> None:
    nft_in(namespace, "-f", "-", stdin=nftables.ruleset(build_plan(policy, None)))
    assert elements(namespace, "allowed_v4") == []
    first = resolver({"repo.magento.com": ["203.0.113.10", "2001:db8::10"]})
    nft_in(namespace, "-f", "-", stdin=nftables.sets(build_plan(policy, first)))
    assert elements(namespace, "allowed_v4") == ["203.0.113.10"]
    assert elements(namespace, "allowed_v6") == ["2001:db8::10"]
    moved = resolver({"repo.magento.com": ["203.0.113.20"]})
    nft_in(namespace, "-f", "-", stdin=nftables.sets(build_plan(policy, moved)))
    assert elements(namespace, "allowed_v4") == ["203.0.113.20"]
    assert elements(namespace, "allowed_v6") == []
