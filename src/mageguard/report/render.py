"""From command-line inputs to finished files: read and check every input first, build the
one Report, render it, and only then write, all files or none."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mageguard.report.inputs import parse_time


@dataclass(frozen=True)
class Request:
    scan: Path
    audit: str | None = None  # a gateway config, an audit store, or "default"
    flows: Path | None = None
    plan: Path | None = None
    previous: Path | None = None
    fmt: str = "html"
    pdf: bool = False
    as_of: str | None = None


def produce(request: Request) -> list[str | bytes]:
    """The rendered report (HTML or JSON), then its PDF when asked for. Raises a
    MageguardError for any input that cannot be used, before anything is rendered."""
    from mageguard.report.audit import summarise_audit
    from mageguard.report.build import Sources, build_report, describe_inputs
    from mageguard.report.flows import load_flows
    from mageguard.report.inputs import load_plan, load_previous, load_scan

    now = dt.datetime.now(dt.UTC) if request.as_of is None else parse_time(request.as_of, "--as-of")
    audit = request.audit
    sources = Sources(
        scan=load_scan(request.scan),
        audit=summarise_audit(None if audit == "default" else audit) if audit else None,
        flows=load_flows(request.flows) if request.flows else None,
        plan=load_plan(request.plan) if request.plan else None,
        previous=load_previous(request.previous) if request.previous else None,
    )
    inputs = describe_inputs(request.scan, audit, request.flows, request.plan, request.previous)
    report = build_report(sources, inputs, now)
    if request.fmt == "json":
        from mageguard.report.json_format import to_json

        return [to_json(report)]
    from mageguard.report.html import render_html

    html = render_html(report)
    if not request.pdf:
        return [html]
    from mageguard.report.pdf import html_to_pdf

    return [html, html_to_pdf(html)]


def write_all(files: Sequence[tuple[Path, str | bytes]]) -> None:
    """Write each file beside its target, then rename them all over their targets: a
    failure half-way leaves no half-written report and the earlier one in place."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, content in files:
            data = content.encode("utf-8") if isinstance(content, str) else content
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).chmod(0o644)
        for tmp, path in staged:
            Path(tmp).replace(path)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
