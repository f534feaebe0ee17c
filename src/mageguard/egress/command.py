"""`mageguard egress render|verify`: commands only; the work is in egress.render and
egress.verify. The policy is the gateway configuration's `egress` section, so the proxy,
the firewall and the cluster policy are written from one source."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from mageguard.egress.policy import EgressPolicy
from mageguard.errors import MageguardError
from mageguard.gateway.command import config_option as gateway_config_option
from mageguard.gateway.command import fail

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
err = Console(stderr=True, highlight=False)
TARGETS = ["nftables", "nftables-sets", "kubernetes", "cilium", "squid"]

config_option = gateway_config_option(
    "Gateway configuration YAML whose `egress` section is the policy."
)
_fail = fail


def _policy(config_file: Path | None) -> EgressPolicy:
    from mageguard.gateway import config as gateway_config

    if config_file is None:
        return EgressPolicy()
    return gateway_config.load(config_file, audit_only=True).egress


@click.group("egress", context_settings=CONTEXT)
def egress_group() -> None:
    """What may leave the Magento hosts: the gateway's egress policy as firewall,
    cluster and proxy rules, and a proof that they hold."""


@egress_group.command("render", context_settings=CONTEXT)
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    required=True,
    envvar="MAGEGUARD_EGRESS_TARGET",
    help="nftables: ruleset for the Magento host (or a router, --hook forward); "
    "nftables-sets: refresh of its allow-list addresses, for `nft -f -`; kubernetes: "
    "NetworkPolicy; cilium: CiliumNetworkPolicy with toFQDNs; squid: SNI peek-and-splice.",
)
@config_option
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="MAGEGUARD_EGRESS_OUTPUT",
    help="Write here instead of standard output.",
)
@click.option(
    "--selector",
    default="app=magento",
    show_default=True,
    envvar="MAGEGUARD_EGRESS_SELECTOR",
    help="kubernetes, cilium: the Magento pods' labels (label=value,...).",
)
@click.option(
    "--namespace",
    envvar="MAGEGUARD_EGRESS_NAMESPACE",
    help="kubernetes, cilium: the policy's namespace.",
)
@click.option(
    "--resolve/--no-resolve",
    default=True,
    show_default=True,
    envvar="MAGEGUARD_EGRESS_RESOLVE",
    help="nftables, kubernetes: resolve the allow list now (--no-resolve leaves the "
    "nftables sets empty for nftables-sets to fill).",
)
@click.option(
    "--hook",
    type=click.Choice(["output", "forward"]),
    default="output",
    show_default=True,
    envvar="MAGEGUARD_EGRESS_HOOK",
    help="nftables: output on the Magento host itself, forward on a router in front of "
    "egress.magento_hosts.",
)
@click.option(
    "--squid-cert",
    default="/etc/squid/mageguard-bump.pem",
    show_default=True,
    envvar="MAGEGUARD_EGRESS_SQUID_CERT",
    help="squid: the certificate (and key) the ssl-bump port requires.",
)
def render_command(
    target: str,
    config_file: Path | None,
    output: Path | None,
    selector: str,
    namespace: str | None,
    resolve: bool,
    hook: str,
    squid_cert: str,
) -> None:
    """Render the egress policy for a network layer. Default deny everywhere: the
    gateway, its proxy, the services, the resolvers and the allow list are the only
    ways out, and the proxy decides the rest by name."""
    from mageguard.egress.plan import system_resolver
    from mageguard.egress.render import RenderOptions, Target, render
    from mageguard.egress.targets.manifest import selector as parse_selector
    from mageguard.egress.targets.squid import SquidFiles

    try:
        policy = _policy(config_file)
        options = RenderOptions(
            resolver=system_resolver if resolve else None,
            labels=parse_selector(selector),
            namespace=namespace,
            hook=hook,
            squid_files=SquidFiles(tls_cert=squid_cert),
            source=str(config_file) if config_file else "the default policy",
        )
        rendered = render(policy, Target(target), options)
    except MageguardError as exc:
        _fail(str(exc))
        return
    for warning in rendered.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if output is None:
        sys.stdout.write(rendered.text)
        return
    try:
        output.write_text(rendered.text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}")


@egress_group.command("verify", context_settings=CONTEXT)
@config_option
def verify_command(config_file: Path | None) -> None:
    """Prove the nftables ruleset on this kernel: network namespaces for the Magento
    host, the gateway side and the internet (stand-ins for every AI host), the rendered
    rules loaded on the Magento host, every path probed without and with them. Prints
    the result per rule. Without --config it proves a built-in example policy.
    Needs root and nftables. Exit 0 when every rule holds, 1 when one does not, 2 when
    the proof cannot run."""
    from mageguard.egress.scenario import EXAMPLE
    from mageguard.egress.verify import format_report, verify

    try:
        if config_file is None:
            policy, source = EgressPolicy.from_mapping(EXAMPLE), "the built-in example policy"
        else:
            policy, source = _policy(config_file), str(config_file)
        report = verify(policy, source=source)
    except MageguardError as exc:
        _fail(str(exc))
        return
    click.echo(f"egress verify: {source}")
    click.echo(format_report(report), nl=False)
    sys.exit(0 if report.ok else 1)
