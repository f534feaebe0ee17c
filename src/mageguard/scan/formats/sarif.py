"""SARIF 2.1.0, for GitHub code scanning and every other SARIF consumer.

Choices GitHub forces, learned from its upload errors:
- every result needs a physical location, or the WHOLE upload is rejected ("expected at
  least one location" / "expected artifact location"); a logical location alone is not
  enough;
- an absolute artifact URI whose scheme is not the checkout's (`file`) also rejects the
  whole upload, so a database row cannot go in as `db://...`.
A database finding therefore carries a scheme-less relative URI under its own base id
(`MAGENTO_DB`: `db://core_config_data/42` -> `core_config_data/42`, no region) and keeps
its exact `db://` name as a logical location beside it.
`security-severity` on each rule is what makes GitHub show critical/high/medium/low.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from mageguard.scan.finding import Confidence, Finding, Severity
from mageguard.scan.formats.common import (
    TOOL_NAME,
    ordered_findings,
    ordered_notices,
    tool_version,
)
from mageguard.scan.formats.interface import FormatOptions
from mageguard.scan.result import Notice, ScanResult
from mageguard.scan.ruleset import Rule

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# Where the tool's documentation lives; shown by SARIF viewers next to the tool name.
INFORMATION_URI = "https://github.com/mageguard/mageguard"
FINGERPRINT_KEY = "mageguardFingerprint/v1"
SRCROOT = "%SRCROOT%"
DB_ROOT = "MAGENTO_DB"
DB_SCHEME = "db://"

LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps these scores to its own bands (>= 9.0 critical, >= 7.0 high, >= 4.0 medium).
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
PRECISION: dict[Confidence, str] = {
    Confidence.HIGH: "high",
    Confidence.MEDIUM: "medium",
    Confidence.LOW: "low",
}


class SarifFormat:
    name = "sarif"
    file_extension = "sarif"

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def render(self, result: ScanResult) -> str:
        return json.dumps(sarif_log(result), indent=2) + "\n"


def sarif_log(result: ScanResult) -> dict[str, Any]:
    findings = ordered_findings(result.findings)
    descriptors = _descriptors(result.rules, findings)
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version(result),
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {
                        # Notices never stop a scan: reaching this point means the run completed.
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            _notification(n) for n in ordered_notices(result.notices)
                        ],
                    }
                ],
                "originalUriBaseIds": _base_ids(result.root),
                "results": [_result(f, index[f.rule_id]) for f in findings],
                "properties": {"suppressed": result.suppressed, "baselined": result.baselined},
            }
        ],
    }


def _descriptors(rules: tuple[Rule, ...], findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    """One reportingDescriptor per rule, by id. A finding whose rule is not in the set (a
    custom analyzer, a test) gets one made from the finding, so ruleIndex always resolves."""
    by_id = {
        r.id: _descriptor(
            r.id,
            r.title,
            r.message,
            r.remediation,
            r.severity,
            r.confidence,
            r.pattern,
            r.references,
        )
        for r in rules
    }
    for f in findings:
        if f.rule_id not in by_id:
            by_id[f.rule_id] = _descriptor(
                f.rule_id, f.title, f.title, f.remediation, f.severity, f.confidence, f.pattern, ()
            )
    return [by_id[k] for k in sorted(by_id)]


def _descriptor(
    rule_id: str,
    title: str,
    description: str,
    remediation: str,
    severity: Severity,
    confidence: Confidence,
    pattern: str,
    references: tuple[str, ...],
) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": _pascal(rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {"text": remediation, "markdown": _help_markdown(title, remediation, references)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": [pattern, "security"],
            "precision": PRECISION[confidence],
            "security-severity": SECURITY_SEVERITY[severity],
        },
    }
    if references:
        descriptor["helpUri"] = references[0]
    return descriptor


def _help_markdown(title: str, remediation: str, references: tuple[str, ...]) -> str:
    lines = [f"**{title}**", "", f"**Remediation:** {remediation}"]
    if references:
        lines += ["", "References:", *(f"- <{ref}>" for ref in references)]
    return "\n".join(lines)


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "surface": finding.surface,
        "pattern": finding.pattern,
        "confidence": str(finding.confidence),
        "dataCategories": list(finding.data_categories),
        "controls": list(finding.controls),
        "evidence": finding.evidence,
    }
    optional = {
        "provider": finding.provider,
        "host": finding.host,
        "tenant": finding.tenant,
        "module": finding.module,
    }
    properties.update({k: v for k, v in optional.items() if v is not None})
    if finding.audit:
        properties["audit"] = True
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def _location(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    if not loc.is_file:
        return _db_location(loc.path)
    region: dict[str, int] = {"startLine": loc.line, "startColumn": loc.column}
    if loc.end_line:
        region["endLine"] = loc.end_line
        if loc.end_column:
            region["endColumn"] = loc.end_column
    return {"physicalLocation": {"artifactLocation": _file_artifact(loc.path), "region": region}}


def _file_artifact(path: str) -> dict[str, str]:
    # Percent-encoding also turns a ':' in a first segment into %3A, so no path can be
    # mistaken for a URI with a scheme.
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _db_location(path: str) -> dict[str, Any]:
    row = path.removeprefix(DB_SCHEME)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(row, safe="/"), "uriBaseId": DB_ROOT}
        },
        "logicalLocations": [{"fullyQualifiedName": path, "kind": "resource"}],
    }


def _base_ids(root: str) -> dict[str, Any]:
    srcroot: dict[str, Any] = {"description": {"text": "The scanned Magento root."}}
    if PurePosixPath(root).is_absolute():
        srcroot["uri"] = PurePosixPath(root).as_uri().rstrip("/") + "/"
    return {
        SRCROOT: srcroot,
        DB_ROOT: {
            "description": {"text": "The Magento database scanned with --db: <table>/<row id>."}
        },
    }


def _notification(notice: Notice) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "warning",
        "message": {"text": notice.message},
        "descriptor": {"id": notice.kind},
    }
    if notice.path is not None:
        if notice.path.startswith(DB_SCHEME):
            location = _db_location(notice.path)
        else:
            physical: dict[str, Any] = {"artifactLocation": _file_artifact(notice.path)}
            if notice.line is not None and notice.line >= 1:
                physical["region"] = {"startLine": notice.line}
            location = {"physicalLocation": physical}
        notification["locations"] = [location]
    return notification
