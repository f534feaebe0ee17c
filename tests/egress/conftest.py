"""The egress tests' policy, resolver and real tools.

One policy exercises every kind of rule: a gateway with its proxy, services on IPv4 and
IPv6 (one a range, one UDP), a resolver, an exact and a wildcard allow-list name, a
denied host. Names resolve through a mapping, never through DNS: documentation addresses
(RFC 5737, RFC 3849) that belong to nobody.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from mageguard.egress.policy import EgressPolicy
from tests.helpers.debian import require
from tests.helpers.services import unavailable

POLICY: dict[str, Any] = {
    "mode": "ai_block",
    "allow": ["repo.magento.com", "*.paypal.com"],
    "deny": ["api.example-ai.com"],
    "magento_hosts": ["10.0.1.0/24", "fd00:1::/64"],
    "gateway": {"address": "10.0.0.5", "port": 8088, "proxy_port": 3128},
    "services": [
        {"name": "mysql", "address": "10.0.0.7", "port": 3306},
        {"name": "redis", "address": "fd00::7", "port": 6379},
        {"name": "syslog", "address": "10.0.2.0/24", "port": 514, "protocol": "udp"},
    ],
    "resolvers": ["10.0.0.53"],
}
ADDRESSES = {"repo.magento.com": ["203.0.113.10", "203.0.113.11", "2001:db8::10"]}


def make_policy(**changes: Any) -> EgressPolicy:
    return EgressPolicy.from_mapping({**POLICY, **changes})


def resolver(mapping: dict[str, list[str]]) -> Callable[[str], Sequence[str]]:
    def resolve(host: str) -> Sequence[str]:
        return mapping.get(host, [])

    return resolve


@pytest.fixture
def policy() -> EgressPolicy:
    return make_policy()


@pytest.fixture
def fake_dns() -> Callable[[str], Sequence[str]]:
    return resolver(ADDRESSES)


def require_root() -> None:
    if os.geteuid() != 0:
        unavailable("needs root: network namespaces and nftables")


@pytest.fixture
def nft() -> str:
    """The nft binary (installed from Debian on first use), usable as root."""
    require_root()
    return require("nft", "nftables", "iproute2")
