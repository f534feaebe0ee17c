"""`mageguard gateway` and `mageguard audit verify|ingest|watch|flows|incidents`: commands
only; the work is in gateway.config, gateway.server, audit.verify and audit.ingest."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from mageguard.errors import InputError, MageguardError

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
    """The gateway's tamper-evident audit trail, and the flow audit from network logs."""


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


# ------------------------------------------------------------------ flow audit from logs

_DB_HELP = "The flow store (DuckDB). Default: flows.duckdb in the gateway's data directory."


def _db_option(f: F) -> F:
    return click.option(
        "--db",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="MAGEGUARD_AUDIT_DB",
        help=_DB_HELP,
    )(f)


def _parquet_option(f: F) -> F:
    return click.option(
        "--parquet",
        "parquet",
        multiple=True,
        type=click.Path(path_type=Path, file_okay=False),
        envvar="MAGEGUARD_AUDIT_PARQUET",
        help="Read these `audit export` directories (one per store of a fleet, repeat the "
        "option) instead of a DuckDB flow store.",
    )(f)


@contextlib.contextmanager
def _flow_store(db: Path | None, parquet: tuple[Path, ...]) -> Iterator[Any]:
    """The flow store to read: one DuckDB file, or the Parquet exports of a fleet."""
    from mageguard.audit import flowdb
    from mageguard.audit import parquet as exports
    from mageguard.audit.options import resolve

    if parquet and db is not None:
        raise InputError("give --db or --parquet, not both")
    if parquet:
        with exports.connect(parquet) as con:
            yield con
        return
    with flowdb.connect(resolve(None, db, ()).db, read_only=True) as con:
        yield con


def _ingest_options(f: F) -> F:
    for option in reversed(
        (
            click.argument("files", nargs=-1, required=True),
            click.option(
                "--format",
                "fmt",
                default="auto",
                show_default=True,
                envvar="MAGEGUARD_AUDIT_FORMAT",
                help="auto|nginx|apache|squid|envoy|dnsmasq|bind|coredns|zeek-dns|zeek-ssl|"
                "zeek-conn|vpc-flow|gateway-audit (auto: detected from the first lines).",
            ),
            _db_option,
            click.option(
                "--gateway",
                "gateways",
                multiple=True,
                envvar="MAGEGUARD_AUDIT_GATEWAY",
                help="HOST[:PORT] of the gateway (repeatable; remembered in the store): "
                "flows from it, or to it, went through the gateway.",
            ),
            click.option(
                "--tenants",
                "tenants_file",
                type=click.Path(path_type=Path, dir_okay=False),
                envvar="MAGEGUARD_AUDIT_TENANTS",
                help="YAML mapping source IPs/CIDRs/host names to Magento website codes.",
            ),
            config_option(
                "Gateway configuration: its egress.gateway address and limits.max_body_bytes "
                "(the per-request Policy limit; default 1 MiB)."
            ),
        )
    ):
        f = option(f)
    return f


@audit_group.command("ingest", context_settings=CONTEXT)
@_ingest_options
def audit_ingest_command(
    files: tuple[str, ...],
    fmt: str,
    db: Path | None,
    gateways: tuple[str, ...],
    tenants_file: Path | None,
    config_file: Path | None,
) -> None:
    """Read proxy, web-server, DNS, Zeek and VPC flow logs (plain or gzip) and the
    gateway's audit store into the flow store; lines already ingested are skipped.
    Exit 0 when the store holds no incident, 1 when it holds any (an AI flow that went
    around the gateway or over the Policy), 2 when a file or the store cannot be used
    (nothing is written then)."""
    from mageguard.audit.ingest import ingest
    from mageguard.audit.options import resolve

    try:
        opts = resolve(config_file, db, gateways)
        result = ingest(
            files,
            db=opts.db,
            fmt=fmt,
            gateways=opts.gateways,
            tenants_file=tenants_file,
            max_bytes=opts.max_bytes,
        )
    except MageguardError as exc:
        fail(str(exc))
        return
    for s in result.sources:
        click.echo(f"{s.path}  [{s.format}]  {s.new_records} new record(s), {s.records} in all")
    click.echo(f"{result.incidents} incident(s), {result.new_incidents} new; store {opts.db}")
    sys.exit(1 if result.incidents else 0)


@audit_group.command("watch", context_settings=CONTEXT)
@_ingest_options
@click.option(
    "--interval", type=click.FloatRange(0.05), default=1.0, show_default=True,
    envvar="MAGEGUARD_AUDIT_INTERVAL", help="Seconds between polls.",
)  # fmt: skip
def audit_watch_command(
    files: tuple[str, ...],
    fmt: str,
    db: Path | None,
    gateways: tuple[str, ...],
    tenants_file: Path | None,
    config_file: Path | None,
    interval: float,
) -> None:
    """Follow growing logs (like tail -F) and ingest new lines as they are written, until
    SIGINT or SIGTERM (exit 0; 2 on an error)."""
    import threading

    from mageguard.audit.options import resolve
    from mageguard.audit.watch import stop_on_signals, watch

    stop = threading.Event()
    try:
        opts = resolve(config_file, db, gateways)
        with stop_on_signals(stop):
            err.print(f"watching {len(files)} file(s) into {escape(str(opts.db))}")
            watch(
                files,
                db=opts.db,
                fmt=fmt,
                gateways=opts.gateways,
                tenants_file=tenants_file,
                max_bytes=opts.max_bytes,
                interval=interval,
                stop=stop,
                on_batch=lambda r: click.echo(
                    f"{sum(s.new_records for s in r.sources)} new record(s); "
                    f"{r.incidents} incident(s), {r.new_incidents} new",
                ),
            )
    except MageguardError as exc:
        fail(str(exc))
        return
    err.print("stopped")


_FORMAT = click.option(
    "-f", "--format", "out_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, envvar="MAGEGUARD_AUDIT_OUTPUT_FORMAT",
)  # fmt: skip


@audit_group.command(
    "flows", context_settings=CONTEXT, short_help="The AI flows seen in the ingested logs."
)
@_db_option
@_parquet_option
@_FORMAT
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
    envvar="MAGEGUARD_AUDIT_OUTPUT", help="Write here instead of stdout.",
)  # fmt: skip
def audit_flows_command(
    db: Path | None, parquet: tuple[Path, ...], out_format: str, output: Path | None
) -> None:
    """The AI flows found in the ingested logs (source, destination, provider, first/last
    seen, requests, bytes out, through the gateway or not) and their incidents. `-f json`
    is the document `mageguard report --flows` reads."""
    from mageguard.audit import render

    try:
        with _flow_store(db, parquet) as con:
            doc = render.flows_document(con)
        text = render.as_json(doc) if out_format == "json" else render.flows_table(doc)
        if output is not None:
            output.write_text(text, "utf-8")
        else:
            click.echo(text, nl=False)
    except MageguardError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")


@audit_group.command(
    "incidents", context_settings=CONTEXT, short_help="Incidents and their GDPR/NIS2 deadlines."
)
@_db_option
@_parquet_option
@_FORMAT
@click.option(
    "--now", envvar="MAGEGUARD_AUDIT_NOW",
    help="Judge deadlines at this ISO 8601 time instead of the current time.",
)  # fmt: skip
def audit_incidents_command(
    db: Path | None, parquet: tuple[Path, ...], out_format: str, now: str | None
) -> None:
    """What is due when: each incident's GDPR Art. 33 and NIS2 Art. 23 deadlines, counted
    from when mageguard first detected it; those past are shown OVERDUE. Exit 0 when there
    is no incident, 1 when there are, 2 on an error."""
    from mageguard.audit import render
    from mageguard.audit.options import parse_now

    try:
        moment = parse_now(now)
        with _flow_store(db, parquet) as con:
            doc = render.incidents_document(con, moment)
    except MageguardError as exc:
        fail(str(exc))
        return
    if out_format == "json":
        click.echo(render.as_json(doc), nl=False)
    else:
        click.echo(render.incidents_table(doc, moment), nl=False)
    sys.exit(1 if doc["incidents"] else 0)


@audit_group.command(
    "export", context_settings=CONTEXT, short_help="The flow store as Parquet, for fleets."
)
@_db_option
@click.option(
    "--label", envvar="MAGEGUARD_AUDIT_LABEL",
    help="This store's name among the fleet's exports (default: the host name).",
)  # fmt: skip
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def audit_export_command(db: Path | None, label: str | None, directory: Path) -> None:
    """Write the flow store as Parquet (one file per table) into DIRECTORY, so that
    `audit flows --parquet DIR --parquet DIR2 ...` reads a whole fleet's stores as one with
    the same SQL. Each file is renamed into place when complete."""
    from mageguard.audit import flowdb
    from mageguard.audit import parquet as exports
    from mageguard.audit.options import resolve

    try:
        with flowdb.connect(resolve(None, db, ()).db, read_only=True) as con:
            written = exports.export(con, directory, label or exports.default_label())
    except MageguardError as exc:
        fail(str(exc))
        return
    click.echo(f"{len(written)} table(s) written to {directory}")
