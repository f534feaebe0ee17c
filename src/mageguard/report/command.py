"""`mageguard report`: command only; the work is in report.build and its renderers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mageguard.errors import MageguardError
from mageguard.gateway.command import CONTEXT, fail

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("report", context_settings=CONTEXT)
@click.option(
    "--scan",
    "scan_file",
    type=_FILE,
    required=True,
    envvar="MAGEGUARD_REPORT_SCAN",
    help="The findings: the output of `mageguard scan PATH -f json`.",
)
@click.option(
    "--audit",
    envvar="MAGEGUARD_REPORT_AUDIT",
    metavar="CONFIG|STORE|default",
    help="The gateway's audit trail: its configuration file (the audit store and "
    "the tenants' policy), an audit store file (audit.key and audit.witness "
    "beside it), or 'default' for the embedded defaults' store. The chain is "
    "verified and its events counted.",
)
@click.option(
    "--flows",
    "flows_file",
    type=_FILE,
    envvar="MAGEGUARD_REPORT_FLOWS",
    help="Observed flows and incidents: `mageguard audit flows -f json`.",
)
@click.option(
    "--plan",
    "plan_file",
    type=_FILE,
    envvar="MAGEGUARD_REPORT_PLAN",
    help="The remediation plan: `mageguard fix PATH -f json`. Without it the plan "
    "is derived from the findings.",
)
@click.option(
    "--previous",
    "previous_file",
    type=_FILE,
    envvar="MAGEGUARD_REPORT_PREVIOUS",
    help="An earlier `mageguard report --format json`: show what changed since.",
)
@click.option(
    "-o",
    "--output",
    type=_FILE,
    envvar="MAGEGUARD_REPORT_OUTPUT",
    help="Write here (default: standard output). Written whole or not at all.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["html", "json"]),
    default="html",
    show_default=True,
    envvar="MAGEGUARD_REPORT_FORMAT",
    help="html: one self-contained page; json: the same content for machines.",
)
@click.option(
    "--pdf",
    is_flag=True,
    envvar="MAGEGUARD_REPORT_PDF",
    help="Also write a PDF beside the HTML output (same name, .pdf); needs the "
    "`pdf` extra (WeasyPrint).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="ISO8601",
    envvar="MAGEGUARD_REPORT_AS_OF",
    help="The report's time (default: now): incident clocks are judged at it.",
)
def report_command(
    scan_file: Path,
    audit: str | None,
    flows_file: Path | None,
    plan_file: Path | None,
    previous_file: Path | None,
    output: Path | None,
    fmt: str,
    pdf: bool,
    as_of: str | None,
) -> None:
    """Write the evidence pack: one self-contained HTML file (or JSON) with the risk by
    surface, the AI inventory per tenant (GDPR Art. 30, PCI DSS 12.8), the data-flow
    diagram, every GDPR, NIS2, NIST AI RMF and PCI DSS control met / partial / open with
    its evidence, and the remediation plan with its timeline.

    Exit codes: 0 written; 2 an input is missing or not what it should be (nothing is
    written then).
    """
    from mageguard.report.render import Request, produce, write_all

    if pdf and (fmt != "html" or output is None):
        fail("--pdf needs --format html and --output FILE (the PDF is written beside it)")
        return
    try:
        files = produce(
            Request(scan_file, audit, flows_file, plan_file, previous_file, fmt, pdf, as_of)
        )
    except MageguardError as exc:
        fail(str(exc))
        return
    except Exception as exc:  # the tool broke: exit 2, never 1 or a bare traceback
        fail(f"internal error: {type(exc).__name__}: {exc}")
        return
    if output is None:
        text = files[0]
        sys.stdout.write(text if isinstance(text, str) else text.decode())
        return
    targets = [output, output.with_suffix(".pdf")][: len(files)]
    try:
        write_all(list(zip(targets, files, strict=True)))
    except OSError as exc:
        fail(f"cannot write {exc.filename or output}: {exc.strerror}")
