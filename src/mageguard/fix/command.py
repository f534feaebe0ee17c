"""`mageguard fix`: command only; the work is in fix.planner, fix.apply and fix.render."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from rich.markup import escape

from mageguard.errors import MageguardError
from mageguard.gateway.command import CONTEXT, err, fail


@click.command("fix", context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--db",
    envvar="MAGEGUARD_DB",
    help="The store's database (mysql://user:pass@host/db[?prefix=]) or, for a plan only, a "
    "mysqldump file. Tenants are made from its websites.",
)
@click.option(
    "--gateway-url",
    default="http://127.0.0.1:8088",
    show_default=True,
    envvar="MAGEGUARD_GATEWAY_URL",
    help="Where the Magento hosts reach the gateway (no /v1).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the plan here."
)
@click.option("--apply", "do_apply", is_flag=True, help="Carry the plan out (after a backup).")
@click.option(
    "--backup",
    type=click.Path(path_type=Path, file_okay=False),
    help="Backup bundle directory for --apply (default ./mageguard-fix-<UTC time>). It holds "
    "the replaced keys: keep it like env.php.",
)
@click.option(
    "--rollback",
    "rollback_bundle",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Undo the apply recorded in this bundle.",
)
@click.option("--force", is_flag=True, help="--rollback even over changes made after apply.")
@click.option("--rotate-keys", metavar="SALT", default="", help="Derive new gateway keys.")
def fix_command(
    path: Path,
    db: str | None,
    gateway_url: str,
    fmt: str,
    output: Path | None,
    do_apply: bool,
    backup: Path | None,
    rollback_bundle: Path | None,
    force: bool,
    rotate_keys: str,
) -> None:
    """Plan (and with --apply, carry out) the rewiring of a Magento store to the sovereign
    gateway: gateway configuration from the store's websites, AI endpoints and keys in
    core_config_data and env.php pointed at the gateway, the Mageguard_Connector module,
    hard-coded endpoints patched, key fields encrypted, prompt-writing log handlers off,
    egress rules rendered (not loaded). Ordered by risk, checkout and payment first; every
    finding it leaves is explained. A dry run unless --apply; --rollback BUNDLE restores
    the store exactly.

    Exit codes: 0 done (or nothing to do), 1 the plan has changes (dry run), 2 error.
    """
    from mageguard.fix.apply import apply_plan, rollback

    try:
        if rollback_bundle is not None:
            outcome = rollback(rollback_bundle, path, db, force=force)
            err.print(
                f"Rolled back {outcome.rows} row(s) and {outcome.files} file(s) from "
                f"{escape(str(outcome.bundle))}."
            )
            return
        plan = _plan(path, db, gateway_url, rotate_keys)
        text = _render(plan, fmt)
        if output is not None:
            output.write_text(text, encoding="utf-8")
        elif not do_apply:
            sys.stdout.write(text)
        if not do_apply:
            sys.exit(0 if plan.is_noop else 1)
        if plan.is_noop:
            err.print("Nothing to change: the store already matches the plan.")
            return
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        bundle = backup or Path(f"mageguard-fix-{stamp}")
        outcome = apply_plan(plan, path, db, bundle)
        err.print(
            f"Applied {len(plan.steps)} step(s): {outcome.rows} row(s), {outcome.files} "
            f"file(s). Backup: {escape(str(outcome.bundle))} (undo: mageguard fix "
            f"{escape(str(path))} --db DSN --rollback {escape(str(outcome.bundle))})."
        )
        for command in plan.commands:
            err.print(f"  next: {escape(command)}")
    except MageguardError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror}")


def _plan(path: Path, db: str | None, gateway_url: str, rotate: str):  # type: ignore[no-untyped-def]
    from mageguard.fix.planner import FixOptions, build_plan
    from mageguard.fix.store import read_store
    from mageguard.scan.engine import ScanOptions, scan

    result = scan(path, ScanOptions(db=db))
    store = read_store(path, db)
    return build_plan(result, store, FixOptions(gateway_url=gateway_url, rotate=rotate))


def _render(plan, fmt: str) -> str:  # type: ignore[no-untyped-def]
    from mageguard.fix.render import to_json, to_markdown

    return to_json(plan) if fmt == "json" else to_markdown(plan)
