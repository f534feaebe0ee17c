"""Rendering a log scan: `table` for people, `json` (stable, versioned) for machines.
Both show counts and masked examples only (see scan.py)."""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mageguard.logs.scan import FileReport, LogScanResult, kind_of, printable

JSON_VERSION = 1


class LogFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


def render(result: LogScanResult, fmt: LogFormat) -> str:
    return _json(result) if fmt is LogFormat.JSON else _table(result)


def summary(result: LogScanResult) -> dict[str, Any]:
    entities: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for f in result.files:
        entities.update(f.entities)
        kinds.update(f.kinds)
    return {
        "files": len(result.files),
        "with_findings": sum(1 for f in result.files if f.findings),
        "clean": sum(1 for f in result.files if _clean(f)),
        "skipped": sum(1 for f in result.files if f.skipped),
        "errors": len(result.errors),
        "findings": result.findings,
        "entities": dict(sorted(entities.items())),
        "kinds": dict(sorted(kinds.items())),
    }


def _clean(f: FileReport) -> bool:
    return not f.findings and f.skipped is None and f.error is None


def _file_json(f: FileReport) -> dict[str, Any]:
    return {
        "path": printable(str(f.path)),
        "kind": f.kind,
        "lines": f.lines,
        "bytes": f.size,
        "compressed": f.compressed,
        "findings": f.findings,
        "lines_with_findings": f.lines_with_findings,
        "first_line": f.first_line,
        "last_line": f.last_line,
        "entities": dict(f.entities),
        "kinds": dict(f.kinds),
        "examples": [
            {"line": e.line, "entity": e.entity, "kind": e.kind, "value": e.value}
            for e in f.examples
        ],
        "skipped": f.skipped,
        "error": f.error,
    }


def _json(result: LogScanResult) -> str:
    doc = {
        "version": JSON_VERSION,
        "files": [_file_json(f) for f in result.files],
        "summary": summary(result),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _table(result: LogScanResult) -> str:
    out: list[str] = []
    for f in result.files:
        head = f"{printable(str(f.path))}  [{f.kind}]"
        if f.error is not None:
            out.append(f"{head}  error: {f.error}")
            continue
        if f.skipped is not None:
            out.append(f"{head}  skipped: {f.skipped}")
            continue
        if not f.findings:
            out.append(f"{head}  {f.lines} line(s)  clean")
            continue
        out.append(
            f"{head}  {f.lines} line(s)  {f.findings} finding(s) on {f.lines_with_findings} "
            f"line(s), lines {f.first_line}-{f.last_line}"
        )
        by_kind: dict[str, dict[str, int]] = {}
        for entity, n in f.entities.items():
            by_kind.setdefault(kind_of(entity), {})[entity] = n
        for kind, n in f.kinds.items():
            out.append(f"    {kind:<14} {n:>6}  {_counts(by_kind.get(kind, {}))}")
        for e in f.examples:
            out.append(f"    e.g. line {e.line}: {e.entity} {e.value}")
    s = summary(result)
    out.append("")
    out.append(
        f"{s['files']} file(s): {s['with_findings']} with findings, {s['clean']} clean, "
        f"{s['skipped']} skipped, {s['errors']} error(s); {s['findings']} finding(s)"
        + (f": {_counts(s['kinds'])}" if s["kinds"] else "")
    )
    return "\n".join(out) + "\n"
