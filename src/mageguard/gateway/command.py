"""`mageguard gateway` and `mageguard audit verify`: commands only; the work is in
gateway.config, gateway.server and audit.verify."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from mageguard.errors import MageguardError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
err = Console(stderr=True, highlight=False)


F = TypeVar("F", bound=Callable[..., Any])


def config_option(help: str) -> Callable[[F], F]:
    """`--config FILE` (or MAGEGUARD_GATEWAY_CONFIG): every command reads the one gateway
    configuration; only what it does with it differs."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="MAGEGUARD_GATEWAY_CONFIG",
        help=help,
    )


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(2)


@click.command("gateway", context_settings=CONTEXT)
@config_option(
    "Gateway policy YAML. Default: the embedded defaults (one development "
    "tenant on the embedded local model, SQLite audit in the data directory)."
)
@click.option("--host", envvar="MAGEGUARD_HOST", help="Listen address (default 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    envvar="MAGEGUARD_PORT",
    help="Listen port (default 8088).",
)
@click.option(
    "--check-config",
    is_flag=True,
    help="Validate the configuration (schema and cross-references) and exit.",
)
@click.option(
    "--new-key",
    is_flag=True,
    help="Print a new API key and the sha256 to put in the configuration, and exit.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def gateway_command(
    config_file: Path | None,
    host: str | None,
    port: int | None,
    check_config: bool,
    new_key: bool,
    log_level: str,
) -> None:
    """Run the sovereign AI gateway: OpenAI- and Anthropic-compatible endpoints that
    authenticate, guard, redact, route to local (or allowed) models, check answers and
    audit every request.

    Point a Magento module's AI base URL at http://HOST:PORT/v1 and give it a key of
    its tenant. Without --config the development key comes from MAGEGUARD_DEV_KEY, or is
    generated and printed once (only its hash is kept).
    """
    from mageguard.gateway import config as gateway_config

    if new_key:
        key = gateway_config.new_key()
        click.echo(f"key:    {key}\nsha256: {gateway_config.hash_key(key)}")
        return
    try:
        config = gateway_config.load(config_file, host=host, port=port)
    except MageguardError as exc:
        fail(str(exc))
        return
    if check_config:
        tenants = len(config.tenants)
        click.echo(
            f"{config.source}: OK ({tenants} tenant{'s' * (tenants != 1)}, "
            f"{len(config.backends)} backends, audit {config.audit_store})"
        )
        return
    if config.dev_key:
        err.print(
            "[bold]Development key[/] (shown once; only its hash is kept in "
            f"{escape(str(config.data_dir))}):\n  {config.dev_key}"
        )
    err.print(
        f"mageguard gateway on http://{config.host}:{config.port}/v1 ({escape(config.source)})"
    )
    from mageguard.gateway.server import serve

    serve(config, log_level=log_level)


@click.group("audit", context_settings=CONTEXT)
def audit_group() -> None:
    """The gateway's tamper-evident audit trail."""


@audit_group.command("verify", context_settings=CONTEXT)
@config_option(
    "The gateway configuration whose audit store to check (default: the "
    "embedded defaults' store in the data directory)."
)
def audit_verify_command(config_file: Path | None) -> None:
    """Recompute the audit chain: a changed, removed or truncated record, a forged
    checkpoint or a wrong key is reported with its sequence number. Exit 0 when intact,
    1 when not, 2 when the store cannot be read."""
    from mageguard.audit.verify import verify_command
    from mageguard.gateway import config as gateway_config

    try:
        config = gateway_config.load(config_file, audit_only=True)
        code, message = verify_command(
            config.audit_store, config.audit_key_file, config.witness_file
        )
    except MageguardError as exc:
        fail(str(exc))
        return
    (click.echo if code == 0 else err.print)(message)
    sys.exit(code)


@click.group("intercept", context_settings=CONTEXT)
def intercept_group() -> None:
    """Transparent interception for modules that hard-code a provider's host: a private
    CA and per-host certificates, and the hosts entries that send those hosts to the
    gateway (enable with the `intercept:` section of the gateway configuration)."""


@intercept_group.command("init", context_settings=CONTEXT)
@config_option("The gateway configuration.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write the CA and certificates (default: intercept.ca_dir).",
)
def intercept_init_command(config_file: Path | None, directory: Path | None) -> None:
    """Create the interception CA (once) and a certificate for every AI host of the
    policy. Install ca.pem in the Magento hosts' trust store; ca.key stays here."""
    from mageguard.egress.intercept import certifiable, init
    from mageguard.gateway import config as gateway_config

    try:
        config = gateway_config.load(config_file, audit_only=True)
        target = directory or (
            config.intercept.ca_dir if config.intercept else config.data_dir / "intercept-ca"
        )
        hosts = [h for h in config.egress.ai_hosts() if certifiable(h)]
        files = init(target, hosts)
    except MageguardError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot write the CA: {exc}")
        return
    click.echo(
        f"CA: {files.cert} (trust it on the Magento hosts)\n"
        f"{len(hosts)} host certificates in {target / 'hosts'}"
    )


@intercept_group.command("hosts", context_settings=CONTEXT)
@config_option("The gateway configuration.")
@click.option("--address", required=True, help="The gateway's address as the Magento hosts see it.")
def intercept_hosts_command(config_file: Path | None, address: str) -> None:
    """Print /etc/hosts lines that send the AI hosts to the gateway (wildcard hosts need
    a DNS override instead; they are listed as comments)."""
    from mageguard.egress.intercept import hosts_lines
    from mageguard.gateway import config as gateway_config

    try:
        config = gateway_config.load(config_file, audit_only=True)
    except MageguardError as exc:
        fail(str(exc))
        return
    hosts = config.egress.ai_hosts()
    click.echo(hosts_lines(address, hosts), nl=False)
    for pattern in hosts:
        if "*" in pattern:
            click.echo(f"# needs a DNS override: {pattern}")
