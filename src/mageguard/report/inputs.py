"""Reading the JSON files the report is made from: one check per file, one error type.

Every input is checked against its schema in report/schemas before anything is built, so
a flows file of another version or a plan given as --scan is an InputError naming the
file and the field (exit 2), never a half-built report.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mageguard.catalog.loader import validate
from mageguard.errors import CatalogError, InputError
from mageguard.scan.finding import Finding
from mageguard.scan.formats.json_format import finding_from_dict


@functools.cache
def _schema(name: str) -> Mapping[str, Any]:
    text = resources.files("mageguard.report").joinpath("schemas", f"{name}.schema.json")
    doc: Mapping[str, Any] = json.loads(text.read_text("utf-8"))
    return doc


def read_json(path: Path, schema: str, what: str) -> Any:
    """`path` parsed and checked against `schemas/<schema>.schema.json`."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        validate(data, _schema(schema), f"{what} {path}")
    except CatalogError as exc:
        raise InputError(f"not a {what}: {exc}") from None
    return data


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time, in UTC; one without a zone is taken as UTC (what audit writes)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what}: not an ISO 8601 time: {text[:40]!r}") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class ScanInput:
    root: str
    tool_version: str
    findings: tuple[Finding, ...]
    tenants: tuple[str, ...]  # website codes, then store views as website/store


def load_scan(path: Path) -> ScanInput:
    data = read_json(path, "scan", "mageguard scan JSON")
    findings = []
    for index, raw in enumerate(data["findings"]):
        try:
            findings.append(finding_from_dict(raw))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"mageguard scan JSON {path}: finding {index}: bad {exc}") from None
    tenants = tuple(
        f"{t['website_code']}/{t['code']}" if t["website_code"] else str(t["code"])
        for t in sorted(data["tenants"], key=lambda t: (t["scope"] != "websites", t["scope_id"]))
    )
    return ScanInput(data["root"], data["tool"]["version"], tuple(findings), tenants)


@dataclass(frozen=True)
class PlanStep:
    order: int
    kind: str
    surface: str
    title: str
    where: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class PlanInput:
    steps: tuple[PlanStep, ...]
    explained: tuple[tuple[str, str, str], ...]  # (fingerprint, rule_id, surface)


def load_plan(path: Path) -> PlanInput:
    data = read_json(path, "plan", "mageguard fix JSON plan")
    steps = tuple(
        PlanStep(s["order"], s["kind"], s["surface"], s["title"], s["where"], tuple(s["findings"]))
        for s in data["steps"]
    )
    explained = tuple((e["fingerprint"], e["rule_id"], e["surface"]) for e in data["explained"])
    return PlanInput(tuple(sorted(steps, key=lambda s: s.order)), explained)


@dataclass(frozen=True)
class PreviousReport:
    generated_at: str
    fingerprints: frozenset[str]
    controls: Mapping[str, str]


def load_previous(path: Path) -> PreviousReport:
    data = read_json(path, "report", "mageguard report JSON")
    return PreviousReport(
        data["generated_at"],
        frozenset(f["fingerprint"] for f in data["findings"]),
        {c["id"]: c["status"] for c in data["controls"]},
    )
