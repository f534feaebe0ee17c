"""The `mageguard` command line: commands only, no logic.

Exit codes follow ruff and pip-audit: 0 clean, 1 findings at or over --fail-on,
2 usage, configuration or internal error (never 1 for "the tool broke").
Every flag also reads an environment variable (MAGEGUARD_<FLAG>); config comes from
mageguard.yaml or [tool.mageguard] in pyproject.toml; flags win.

Built on Click rather than Typer: Typer now validates every parameter through pydantic,
which costs ~0.2 s per run, and a warm re-scan in CI has to finish in under a second.
"""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from mageguard import __version__
from mageguard.config import find_config, load_config, section
from mageguard.errors import MageguardError
from mageguard.scan import baseline as baselines
from mageguard.scan.engine import ScanOptions, scan
from mageguard.scan.finding import Severity
from mageguard.scan.formats.interface import FormatOptions, OutputFormat
from mageguard.scan.result import ScanResult

err = Console(stderr=True, highlight=False)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SEVERITIES = [s.name.lower() for s in Severity] + ["never"]


@click.group(context_settings=CONTEXT)
@click.version_option(
    __version__, "--version", prog_name="mageguard", message="%(prog)s %(version)s"
)
def app() -> None:
    """Find and shut the paths by which a Magento store's AI features leak data.

    mageguard scan PATH finds every outbound AI call, the Magento data that flows into
    it, prompt logging, AI keys, training-data exports, shared vector indexes and
    unvalidated input in prompts, in the code and (with --db) the live configuration.
    """


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)


def _path(**kw: Any) -> click.Path:
    return click.Path(path_type=Path, **kw)


@app.command("scan", context_settings=CONTEXT)
@click.argument("path", type=_path(), default=".", required=False)
@click.option(
    "--db",
    envvar="MAGEGUARD_DB",
    metavar="DSN",
    help="Also read the live configuration: mysql://user:pass@host[:port]/db or an "
    "SQL dump file. AI endpoints, keys and toggles per website and store view "
    "become findings attributed to tenants.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    envvar="MAGEGUARD_FORMAT",
    type=click.Choice([f.value for f in OutputFormat], case_sensitive=False),
    help="Output format: table (default, grouped by surface), json and sarif "
    "(stable, for machines and GitHub code scanning), markdown, html.",
)
@click.option(
    "--output",
    "-o",
    envvar="MAGEGUARD_OUTPUT",
    type=_path(dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--baseline",
    envvar="MAGEGUARD_BASELINE",
    type=_path(dir_okay=False),
    help="Report only findings that this baseline file does not accept.",
)
@click.option(
    "--write-baseline",
    envvar="MAGEGUARD_WRITE_BASELINE",
    type=_path(dir_okay=False),
    help="Accept every current finding: write them to this baseline file, exit 0.",
)
@click.option(
    "--fail-on",
    envvar="MAGEGUARD_FAIL_ON",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Exit 1 when a finding has this severity or higher (default: low). "
    "'never' always exits 0. Audit rules (low confidence) never fail the run.",
)
@click.option(
    "--changed-since",
    envvar="MAGEGUARD_CHANGED_SINCE",
    metavar="REV",
    help="Report only findings in files changed since this git revision (and "
    "untracked files); the whole tree is still analysed for context.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    envvar="MAGEGUARD_RULE",
    metavar="ID",
    help="Run only this rule (repeatable).",
)
@click.option(
    "--skip-rule",
    "skip_rules",
    multiple=True,
    envvar="MAGEGUARD_SKIP_RULE",
    metavar="ID",
    help="Skip this rule (repeatable).",
)
@click.option(
    "--exclude",
    multiple=True,
    envvar="MAGEGUARD_EXCLUDE",
    metavar="GLOB",
    help="Skip paths matching this glob, relative to PATH (repeatable), e.g. 'vendor/acme/*'.",
)
@click.option(
    "--include-tests/--no-include-tests",
    default=None,
    envvar="MAGEGUARD_INCLUDE_TESTS",
    help="Also scan Test/ and tests/ directories (skipped by default: they hold "
    "fake keys and hosts on purpose).",
)
@click.option(
    "--cache-dir",
    envvar="MAGEGUARD_CACHE_DIR",
    type=_path(file_okay=False),
    help="Where to keep the scan cache (default: ~/.cache/mageguard/<tree>).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    envvar="MAGEGUARD_NO_CACHE",
    help="Neither read nor write the cache.",
)
@click.option(
    "--config",
    envvar="MAGEGUARD_CONFIG",
    type=_path(dir_okay=False),
    help="Configuration file (default: mageguard.yaml or [tool.mageguard] in "
    "pyproject.toml, in the current directory or PATH).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    envvar="MAGEGUARD_JOBS",
    help="Processes for reading a cold tree (default 0: one per core).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    envvar="MAGEGUARD_QUIET",
    help="No progress bar and no summary on standard error.",
)
def scan_command(
    path: Path,
    db: str | None,
    fmt: str | None,
    output: Path | None,
    baseline: Path | None,
    write_baseline: Path | None,
    fail_on: str | None,
    changed_since: str | None,
    rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    exclude: tuple[str, ...],
    include_tests: bool | None,
    cache_dir: Path | None,
    no_cache: bool,
    config: Path | None,
    jobs: int,
    quiet: bool,
) -> None:
    """Scan a Magento tree (and optionally its database) for AI data leaks.

    \b
    Exit codes: 0 clean; 1 findings at or over --fail-on; 2 usage or internal error.
    Suppress a finding with a comment on its line or the line above:
        // mageguard:ignore RULE-ID reason
    """
    try:
        cfg = section(load_config(find_config(config, [Path.cwd(), path])), "scan")
        options = _options(
            cfg,
            db=db,
            baseline=baseline,
            changed_since=changed_since,
            rules=rules,
            skip_rules=skip_rules,
            exclude=exclude,
            include_tests=include_tests,
            cache_dir=cache_dir,
            no_cache=no_cache,
        )
        threshold = _threshold(fail_on or cfg.get("fail_on") or "low")
        chosen = OutputFormat((fmt or cfg.get("format") or "table").lower())
        result = _run_scan(path, replace(options, jobs=jobs), quiet)
        if write_baseline is not None:
            n = baselines.write(write_baseline, result.findings)
            if not quiet:
                err.print(
                    f"Wrote {n} finding(s) to baseline {write_baseline}.",
                    markup=False,
                    soft_wrap=True,
                )
            sys.exit(0)
        _emit(result, chosen, output)
    except MageguardError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # the tool broke: exit 2, never 1
        if os.environ.get("MAGEGUARD_DEBUG"):
            traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (set MAGEGUARD_DEBUG=1 for a traceback)"
        )
    if not quiet and output is not None:
        err.print(
            f"{len(result.findings)} finding(s) written to {output} "
            f"({result.stats.files_seen} files in {result.stats.seconds:.2f}s).",
            markup=False,
            soft_wrap=True,
        )
    failing = threshold is not None and any(
        f.severity >= threshold and not f.audit for f in result.findings
    )
    sys.exit(1 if failing else 0)


@app.command("rules", context_settings=CONTEXT)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "markdown"]),
    default="table",
    help="table for a terminal, markdown for docs/rules.md.",
)
def rules_command(fmt: str) -> None:
    """List the scan rules, from their metadata."""
    from mageguard.scan import ruledocs
    from mageguard.scan.ruleset import load_rules

    try:
        rules = load_rules()
    except MageguardError as exc:
        _fail(str(exc))
    if fmt == "markdown":
        sys.stdout.write(ruledocs.markdown(rules))
        return
    from rich.table import Table

    out = Table("rule", "severity", "confidence", "finds", box=None)
    for row in ruledocs.table(rules):
        out.add_row(*row)
    Console().print(out)


@app.command("redact", context_settings=CONTEXT)
@click.option(
    "--jsonl",
    "jsonl",
    type=click.File("rb"),
    metavar="IN.jsonl",
    help='Rows {"id", "text"}; writes {"id", "redacted", "spans"} per row. '
    "'-' reads standard input. Without it, redacts standard input as one text.",
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Where to write (default: standard output).",
)
@click.option(
    "--dictionary",
    envvar="MAGEGUARD_DICTIONARY",
    metavar="CSV|DSN",
    help="The tenant's proprietary dictionary: a catalogue CSV export or the store's "
    "database (mysql://...). SKUs, products, suppliers, costs, customers.",
)
@click.option(
    "--policy",
    envvar="MAGEGUARD_POLICY",
    type=_path(dir_okay=False),
    help="Redaction policy YAML (operators per entity and surface).",
)
@click.option(
    "--surface",
    envvar="MAGEGUARD_SURFACE",
    help="The surface the text comes from (checkout_payment blocks card data).",
)
def redact_command(
    jsonl: Any, output: Any, dictionary: str | None, policy: Path | None, surface: str | None
) -> None:
    """Replace personal data, secrets and proprietary terms with typed placeholders.

    Streams in constant memory. Exit 0; 1 when some rows could not be processed (an error
    line is written for each); 2 on a bad dictionary or policy.
    """
    from mageguard.redact import jsonl as redact_jsonl
    from mageguard.redact.dictionary import Dictionary
    from mageguard.redact.engine import Redactor
    from mageguard.redact.policy import Policy

    try:
        redactor = Redactor(
            dictionary=Dictionary.load(dictionary, _cache_dir("dictionaries"))
            if dictionary
            else None,
            policy=Policy.load(policy),
        )
        if jsonl is None:
            text = sys.stdin.buffer.read().decode("utf-8", "replace")
            result = redactor.redact(text, surface=surface)
            if result.blocked:
                _fail(f"blocked by policy: {', '.join(result.blocked)}")
            output.write(result.text)
            return
        errors = redact_jsonl.run(redactor, jsonl, output, surface=surface)
    except MageguardError as exc:
        _fail(str(exc))
    sys.exit(1 if errors else 0)


@app.command("guard", context_settings=CONTEXT)
@click.option(
    "--jsonl",
    "jsonl",
    type=click.File("rb"),
    required=True,
    metavar="IN.jsonl",
    help='Rows {"id", "text"}; writes {"id", "score", "verdict"} per row '
    "(score in [0, 1], higher = more likely an attack). '-' reads standard input.",
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Where to write (default: standard output).",
)
@click.option(
    "--dictionary",
    envvar="MAGEGUARD_DICTIONARY",
    metavar="CSV|DSN",
    help='The tenant\'s dictionary: each row also gets "terms", the number of '
    "proprietary terms its text carries.",
)
@click.option(
    "--policy",
    envvar="MAGEGUARD_POLICY",
    type=_path(dir_okay=False),
    help="Policy YAML; its guard.threshold overrides the model's 1%-FPR threshold.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add the rule ids and segment offsets behind each score (never the text).",
)
def guard_command(
    jsonl: Any, output: Any, dictionary: str | None, policy: Path | None, explain: bool
) -> None:
    """Score prompts for prompt injection: direct, indirect (reviews, e-mails, product data
    placed into prompts), jailbreaks and prompt extraction.

    Streams in constant memory. Exit 0; 1 when some rows could not be scored.
    """
    from mageguard.guard.injection import InjectionGuard, default_guard
    from mageguard.guard.jsonl import stream_jsonl
    from mageguard.redact.dictionary import Dictionary
    from mageguard.redact.policy import Policy

    try:
        guard = default_guard()
        threshold = Policy.load(policy).guard_threshold if policy else None
        if threshold is not None:
            guard = InjectionGuard(guard.rules, guard.model, threshold)
        terms = Dictionary.load(dictionary, _cache_dir("dictionaries")) if dictionary else None
    except MageguardError as exc:
        _fail(str(exc))
    extra = None
    if terms is not None:

        def extra(text: str) -> dict[str, Any]:
            return {"terms": len(terms.find(text))}

    stats = stream_jsonl(jsonl, output, guard=guard, explain=explain, extra=extra)
    sys.exit(1 if stats.errors else 0)


@app.group("logs", context_settings=CONTEXT)
def logs_group() -> None:
    """Find and scrub prompts, responses, personal data and secrets in Magento's logs.

    \b
    PATH is a Magento root (var/log/*.log and rotations, var/report, var/debug/db.log),
    a directory of logs, or a file; gzip is read (and written) transparently.
    """


def _logs_redaction_options(fn: Any) -> Any:
    fn = click.option(
        "--policy",
        envvar="MAGEGUARD_POLICY",
        type=_path(dir_okay=False),
        help="Redaction policy YAML; its 'logging' surface applies.",
    )(fn)
    return click.option(
        "--dictionary",
        envvar="MAGEGUARD_DICTIONARY",
        metavar="CSV|DSN",
        help="The tenant's proprietary dictionary (catalogue CSV or mysql://...): SKUs, "
        "products, suppliers, costs, customers.",
    )(fn)


def _logs_internal_error(exc: Exception) -> NoReturn:
    if os.environ.get("MAGEGUARD_DEBUG"):
        traceback.print_exc()
    _fail(f"internal error: {type(exc).__name__}: {exc} (set MAGEGUARD_DEBUG=1 for a traceback)")


@logs_group.command("scan", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=_path())
@click.option(
    "--format",
    "-f",
    "fmt",
    envvar="MAGEGUARD_LOGS_FORMAT",
    type=click.Choice(["table", "json"], case_sensitive=False),
    default="table",
    help="table (default) or json (stable, for machines).",
)
@click.option(
    "--output",
    "-o",
    envvar="MAGEGUARD_LOGS_OUTPUT",
    type=_path(dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@_logs_redaction_options
def logs_scan_command(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    dictionary: str | None,
    policy: Path | None,
) -> None:
    """Report what Magento's logs hold: counts per entity and kind, first and last line,
    masked examples. The report quotes no value: safe to paste into a ticket.

    \b
    Exit codes: 0 clean; 1 findings; 2 a file could not be read, or usage error.
    """
    from mageguard.logs import plan
    from mageguard.logs.formats import LogFormat, render
    from mageguard.logs.redaction import build_redactor
    from mageguard.logs.scan import scan_logs

    try:
        redactor = build_redactor(dictionary, policy, _cache_dir("dictionaries"))
        result = scan_logs(list(paths), redactor)
        text = render(result, LogFormat(fmt.lower()))
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise MageguardError(f"cannot write {output}: {exc.strerror}") from None
    except MageguardError as exc:
        _fail(str(exc))
    except Exception as exc:  # the tool broke: exit 2, never 1
        _logs_internal_error(exc)
    sys.exit(plan.scan_exit_code(result))


@logs_group.command("scrub", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=_path())
@click.option(
    "--confirm",
    is_flag=True,
    help="Replace each original by its redacted copy, only if unchanged since scrub. "
    "Deliberately no environment variable: confirm on the command line.",
)
@click.option(
    "--backup-dir",
    envvar="MAGEGUARD_LOGS_BACKUP_DIR",
    type=_path(file_okay=False),
    help="Keep each original here (mirroring its absolute path) before replacing it. "
    "Required with --confirm unless --no-backup.",
)
@click.option(
    "--no-backup",
    is_flag=True,
    help="With --confirm: replace originals without keeping them. Not recoverable.",
)
@click.option(
    "--ai-lines",
    envvar="MAGEGUARD_LOGS_AI_LINES",
    type=click.Choice(["redact", "remove"], case_sensitive=False),
    default="redact",
    help="Lines that log prompts or model responses: redact the data in them (default), "
    "or remove their whole message, keeping Magento's timestamp, channel and level.",
)
@_logs_redaction_options
def logs_scrub_command(
    paths: tuple[Path, ...],
    confirm: bool,
    backup_dir: Path | None,
    no_backup: bool,
    ai_lines: str,
    dictionary: str | None,
    policy: Path | None,
) -> None:
    """Write a redacted copy next to each log (<file>.mageguard-redacted) and say what
    --confirm would do; no original is changed. Values become typed tokens ([EMAIL],
    [CARD]) or masks (secrets: sk-p****), per the policy's 'logging' surface.

    \b
    Then, after review:
        mageguard logs scrub --confirm --backup-dir DIR PATH...
    replaces each original whose size, mtime and SHA-256 still match the copy's
    manifest; one that grew (still being written) or changed is skipped and reported.
    Exit codes: 0 done; 1 some file changed or grew, not handled (run again); 2 error.
    """
    from mageguard.logs import plan
    from mageguard.logs.confirm import confirm_logs
    from mageguard.logs.redaction import build_redactor
    from mageguard.logs.scrub import AiLines, ScrubOptions, scrub_logs

    if backup_dir is not None and no_backup:
        _fail("--backup-dir and --no-backup exclude each other")
    if confirm and backup_dir is None and not no_backup:
        _fail("--confirm needs --backup-dir DIR (or, to keep no original, --no-backup)")
    exclude = [backup_dir] if backup_dir is not None else []
    try:
        if confirm:
            confirmed = confirm_logs(list(paths), backup_dir)
            sys.stdout.write(plan.describe_confirm(confirmed))
            code = plan.confirm_exit_code(confirmed)
        else:
            redactor = build_redactor(dictionary, policy, _cache_dir("dictionaries"))
            options = ScrubOptions(ai_lines=AiLines(ai_lines.lower()))
            scrubbed = scrub_logs(list(paths), redactor, options, exclude)
            sys.stdout.write(plan.describe_scrub(scrubbed, backup_dir, no_backup))
            code = plan.scrub_exit_code(scrubbed)
    except MageguardError as exc:
        _fail(str(exc))
    except Exception as exc:  # the tool broke: exit 2, never 1
        _logs_internal_error(exc)
    sys.exit(code)


def _cache_dir(kind: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mageguard" / kind


def _options(cfg: dict[str, Any], **flags: Any) -> ScanOptions:
    def pick(flag: Any, key: str, default: Any = None) -> Any:
        return flag if flag not in (None, (), []) else cfg.get(key, default)

    baseline = pick(flags["baseline"], "baseline")
    cache_dir = pick(flags["cache_dir"], "cache_dir")
    key = cfg.get("fingerprint_key")
    return ScanOptions(
        db=pick(flags["db"], "db"),
        rules=tuple(pick(flags["rules"], "rules", ())),
        skip_rules=tuple(pick(flags["skip_rules"], "skip_rules", ())),
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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("Reading files", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return scan(path, replace(options, progress=progress))


def _emit(result: ScanResult, fmt: OutputFormat, output: Path | None) -> None:
    from mageguard.scan.formats import render

    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((160, 40)).columns if to_terminal else 160
    color = to_terminal and fmt == OutputFormat.TABLE and "NO_COLOR" not in os.environ
    text = render(result, fmt, FormatOptions(color=color, width=max(width, 80)))
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MageguardError(f"cannot write {output}: {exc.strerror}") from None


def _register() -> None:
    from mageguard.egress.command import egress_group
    from mageguard.fix.command import fix_command
    from mageguard.gateway.command import audit_group, gateway_command, intercept_group
    from mageguard.report.command import report_command

    app.add_command(gateway_command)
    app.add_command(audit_group)
    app.add_command(intercept_group)
    app.add_command(egress_group)
    app.add_command(fix_command)
    app.add_command(report_command)


_register()


def main() -> None:
    app(prog_name="mageguard")
