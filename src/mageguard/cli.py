"""The `mageguard` command line: commands only, no logic.

Exit codes follow ruff and pip-audit: 0 clean, 1 findings at or over --fail-on,
2 usage, configuration or internal error (never 1 for "the tool broke").
Every flag also reads an environment variable (MAGEGUARD_<FLAG>); config comes from
mageguard.yaml or [tool.mageguard] in pyproject.toml; flags win.
"""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mageguard import __version__
from mageguard.config import find_config, load_config, section
from mageguard.errors import MageguardError
from mageguard.scan import baseline as baselines
from mageguard.scan.engine import ScanOptions, scan
from mageguard.scan.finding import Severity
from mageguard.scan.formats import FormatOptions, OutputFormat, render
from mageguard.scan.result import ScanResult

app = typer.Typer(
    name="mageguard",
    help="Find and shut the paths by which a Magento store's AI features leak data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mageguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """mageguard: scan, fix, enforce, validate and prove."""


def _fail(message: str) -> typer.Exit:
    err.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(2)


@app.command("scan")
def scan_command(
    path: Path = typer.Argument(
        Path(), help="Root of the Magento tree to scan.", show_default=True
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="MAGEGUARD_DB",
        show_default=False,
        help="Also read the live configuration: mysql://user:pass@host[:port]/db or an SQL "
        "dump file. AI endpoints, keys and toggles per website/store become findings "
        "attributed to tenants.",
    ),
    fmt: OutputFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        envvar="MAGEGUARD_FORMAT",
        case_sensitive=False,
        help="Output format: table (default, grouped by surface), json and sarif (stable, "
        "for machines), markdown, html.",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        envvar="MAGEGUARD_OUTPUT",
        help="Write the report to this file instead of standard output.",
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        envvar="MAGEGUARD_BASELINE",
        help="Report only findings not accepted in this baseline file.",
    ),
    write_baseline: Path | None = typer.Option(
        None,
        "--write-baseline",
        envvar="MAGEGUARD_WRITE_BASELINE",
        help="Accept every current finding: write them to this baseline file and exit 0.",
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        envvar="MAGEGUARD_FAIL_ON",
        help="Exit 1 when a finding has this severity or higher: info, low (default), "
        "medium, high, critical, or never. Audit rules (low confidence) never fail.",
    ),
    changed_since: str | None = typer.Option(
        None,
        "--changed-since",
        envvar="MAGEGUARD_CHANGED_SINCE",
        help="Report only findings in files changed since this git revision (and "
        "untracked files); the whole tree is still analysed for context.",
    ),
    rule: list[str] | None = typer.Option(
        None, "--rule", envvar="MAGEGUARD_RULE", help="Run only this rule (repeatable)."
    ),
    skip_rule: list[str] | None = typer.Option(
        None, "--skip-rule", envvar="MAGEGUARD_SKIP_RULE", help="Skip this rule (repeatable)."
    ),
    exclude: list[str] | None = typer.Option(
        None,
        "--exclude",
        envvar="MAGEGUARD_EXCLUDE",
        help="Glob of paths to skip, relative to PATH (repeatable), e.g. 'vendor/acme/*'.",
    ),
    include_tests: bool | None = typer.Option(
        None,
        "--include-tests/--no-include-tests",
        envvar="MAGEGUARD_INCLUDE_TESTS",
        help="Also scan Test/ and tests/ directories (skipped by default: they hold fake "
        "keys and hosts on purpose).",
    ),
    cache_dir: Path | None = typer.Option(
        None,
        "--cache-dir",
        envvar="MAGEGUARD_CACHE_DIR",
        help="Where to keep the scan cache (default: ~/.cache/mageguard/<tree>).",
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", envvar="MAGEGUARD_NO_CACHE", help="Neither read nor write the cache."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        envvar="MAGEGUARD_CONFIG",
        help="Configuration file (default: mageguard.yaml or [tool.mageguard] in "
        "pyproject.toml, in the current directory or PATH).",
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        envvar="MAGEGUARD_QUIET",
        help="No progress bar and no summary on standard error.",
    ),
) -> None:
    """Scan a Magento tree (and optionally its database) for AI data leaks.

    Finds every outbound AI call and the Magento data that flows into it, prompt and
    response logging, AI keys in code, env.php, core_config_data and the storefront,
    training-data exports, shared vector indexes and unvalidated input in prompts.
    Exit 0: clean. 1: findings at or over --fail-on. 2: usage or internal error.
    """
    try:
        cfg = section(load_config(find_config(config, [Path.cwd(), path])), "scan")
        options = _options(
            path,
            cfg,
            db=db,
            baseline=baseline,
            changed_since=changed_since,
            rule=rule,
            skip_rule=skip_rule,
            exclude=exclude,
            include_tests=include_tests,
            cache_dir=cache_dir,
            no_cache=no_cache,
        )
        threshold = _threshold(fail_on or cfg.get("fail_on") or "low")
        chosen = fmt or OutputFormat(cfg.get("format", "table"))
        result = _run_scan(path, options, quiet)
    except MageguardError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted") from None
    except Exception as exc:  # the tool broke: exit 2, never 1
        if os.environ.get("MAGEGUARD_DEBUG"):
            traceback.print_exc()
        raise _fail(
            f"internal error: {type(exc).__name__}: {exc} (set MAGEGUARD_DEBUG=1 for a traceback)"
        ) from None

    if write_baseline is not None:
        try:
            n = baselines.write(write_baseline, result.findings)
        except MageguardError as exc:
            raise _fail(str(exc)) from None
        if not quiet:
            err.print(
                f"Wrote {n} finding(s) to baseline {write_baseline}.", markup=False, soft_wrap=True
            )
        raise typer.Exit(0)

    _emit(result, chosen, output)
    if not quiet:
        _summary(result, output)
    if threshold is None:
        raise typer.Exit(0)
    failing = [f for f in result.findings if f.severity >= threshold and not f.audit]
    raise typer.Exit(1 if failing else 0)


def _options(path: Path, cfg: dict[str, Any], **flags: Any) -> ScanOptions:
    def pick(flag: Any, key: str, default: Any = None) -> Any:
        return flag if flag not in (None, []) else cfg.get(key, default)

    baseline = pick(flags["baseline"], "baseline")
    cache_dir = pick(flags["cache_dir"], "cache_dir")
    key = cfg.get("fingerprint_key")
    return ScanOptions(
        db=pick(flags["db"], "db"),
        rules=tuple(pick(flags["rule"], "rules", ())),
        skip_rules=tuple(pick(flags["skip_rule"], "skip_rules", ())),
        include_tests=bool(pick(flags["include_tests"], "include_tests", False)),
        exclude=tuple(pick(flags["exclude"], "exclude", ())),
        cache_dir=Path(cache_dir) if cache_dir else None,
        use_cache=not flags["no_cache"],
        changed_since=flags["changed_since"],
        baseline=Path(baseline) if baseline else None,
        **({"fingerprint_key": key.encode()} if key else {}),
    )


def _threshold(text: str) -> Severity | None:
    if text.strip().lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise MageguardError(f"--fail-on: {exc} or never") from None


def _run_scan(path: Path, options: ScanOptions, quiet: bool) -> ScanResult:
    if quiet or not err.is_terminal:
        return scan(path, options)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("Reading files", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        from dataclasses import replace

        return scan(path, replace(options, progress=progress))


def _emit(result: ScanResult, fmt: OutputFormat, output: Path | None) -> None:
    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((160, 40)).columns if to_terminal else 160
    text = render(
        result,
        fmt,
        FormatOptions(
            color=to_terminal and fmt == OutputFormat.TABLE and "NO_COLOR" not in os.environ,
            width=max(width, 80),
        ),
    )
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror}") from None


def _summary(result: ScanResult, output: Path | None) -> None:
    if output is not None:
        err.print(
            f"{len(result.findings)} finding(s) written to {output} "
            f"({result.stats.files_seen} files in {result.stats.seconds:.2f}s)."
        )


def main() -> None:
    app()
