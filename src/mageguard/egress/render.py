"""`egress render`: one policy, five formats. Pure: the policy and options in, text out;
name resolution comes in as a function so that tests (and `egress verify`) decide what
every allow-list name resolves to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mageguard.egress.plan import Plan, Resolver, build_plan, system_resolver
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.targets import cilium, kubernetes, nftables, squid


class Target(StrEnum):
    NFTABLES = "nftables"
    NFTABLES_SETS = "nftables-sets"  # the refresh: new addresses for the allowed sets
    KUBERNETES = "kubernetes"
    CILIUM = "cilium"
    SQUID = "squid"


@dataclass(frozen=True)
class RenderOptions:
    resolver: Resolver | None = system_resolver  # None: leave the allow list unresolved
    labels: Mapping[str, str] = field(default_factory=lambda: {"app": "magento"})
    namespace: str | None = None
    hook: str = "output"  # nftables: on the Magento host, or "forward" on a router
    squid_files: squid.SquidFiles = field(default_factory=squid.SquidFiles)
    source: str = ""  # the configuration file, named in the output's header


@dataclass(frozen=True)
class Rendered:
    text: str
    warnings: tuple[str, ...]


def render(policy: EgressPolicy, target: Target, options: RenderOptions) -> Rendered:
    # Name-based targets keep the allow list as names: DNS is not asked about them.
    plan = build_plan(policy, options.resolver, allow_addresses=target in _BY_ADDRESS)
    return Rendered(_TEXT[target](plan, options), plan.warnings)


_BY_ADDRESS = {Target.NFTABLES, Target.NFTABLES_SETS, Target.KUBERNETES}


def _nftables(plan: Plan, o: RenderOptions) -> str:
    return nftables.ruleset(plan, hook=o.hook, source=o.source)


def _sets(plan: Plan, o: RenderOptions) -> str:
    return nftables.sets(plan)


def _kubernetes(plan: Plan, o: RenderOptions) -> str:
    return kubernetes.network_policy(plan, labels=o.labels, namespace=o.namespace, source=o.source)


def _cilium(plan: Plan, o: RenderOptions) -> str:
    return cilium.network_policy(plan, labels=o.labels, namespace=o.namespace, source=o.source)


def _squid(plan: Plan, o: RenderOptions) -> str:
    return squid.config(plan, files=o.squid_files, source=o.source)


_TEXT = {
    Target.NFTABLES: _nftables,
    Target.NFTABLES_SETS: _sets,
    Target.KUBERNETES: _kubernetes,
    Target.CILIUM: _cilium,
    Target.SQUID: _squid,
}
