"""The stable machine format: every field of every Finding, plus what a consumer needs to
trust the result (notices, tenants, stats).

Its shape is a contract. Keys keep the order written here, enums are lowercase strings,
and lists are sorted, so the same scan always yields the same bytes. Add keys freely;
renaming or removing one needs `version` bumped. `finding_from_dict` reads a finding back,
for baselines and tools that post-process the output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from mageguard.scan.finding import Confidence, Finding, Location, Severity
from mageguard.scan.formats.common import (
    TOOL_NAME,
    group_by_surface,
    ordered_findings,
    ordered_notices,
    ordered_tenants,
    severity_counts,
    tool_version,
)
from mageguard.scan.formats.interface import FormatOptions
from mageguard.scan.result import Notice, ScanResult, Tenant

SCHEMA_VERSION = 1


class JsonFormat:
    name = "json"
    file_extension = "json"

    def __init__(self, options: FormatOptions | None = None) -> None:
        self.options = options or FormatOptions()

    def render(self, result: ScanResult) -> str:
        return json.dumps(result_to_dict(result), indent=2) + "\n"


def result_to_dict(result: ScanResult) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version(result)},
        "root": result.root,
        "is_magento": result.is_magento,
        "summary": _summary(result),
        "findings": [finding_to_dict(f) for f in ordered_findings(result.findings)],
        "notices": [_notice(n) for n in ordered_notices(result.notices)],
        "tenants": [_tenant(t) for t in ordered_tenants(result.tenants)],
        "stats": asdict(result.stats),
    }


def _summary(result: ScanResult) -> dict[str, Any]:
    return {
        "findings": len(result.findings),
        "by_severity": {str(s): n for s, n in severity_counts(result.findings).items()},
        "by_surface": {g.id: len(g.findings) for g in group_by_surface(result.findings)},
        "audit": sum(1 for f in result.findings if f.audit),
        "suppressed": result.suppressed,
        "baselined": result.baselined,
        "routed": len(result.routed),
        "notices": len(result.notices),
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    return {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "message": finding.message,
        "severity": str(finding.severity),
        "confidence": str(finding.confidence),
        "surface": finding.surface,
        "pattern": finding.pattern,
        "location": {
            "path": loc.path,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
        },
        "fingerprint": finding.fingerprint,
        "evidence": finding.evidence,
        "remediation": finding.remediation,
        "data_categories": list(finding.data_categories),
        "provider": finding.provider,
        "host": finding.host,
        "controls": list(finding.controls),
        "module": finding.module,
        "tenant": finding.tenant,
        "audit": finding.audit,
        # An object reads better than pairs; analyzers never repeat a key in `extra`.
        "extra": dict(finding.extra),
    }


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    """The inverse of `finding_to_dict`; raises KeyError/ValueError on a malformed entry."""
    loc = data["location"]
    return Finding(
        rule_id=data["rule_id"],
        title=data["title"],
        message=data["message"],
        severity=Severity.parse(data["severity"]),
        confidence=Confidence.parse(data["confidence"]),
        surface=data["surface"],
        pattern=data["pattern"],
        location=Location(
            path=loc["path"],
            line=loc["line"],
            column=loc["column"],
            end_line=loc["end_line"],
            end_column=loc["end_column"],
        ),
        fingerprint=data["fingerprint"],
        evidence=data["evidence"],
        remediation=data["remediation"],
        data_categories=tuple(data["data_categories"]),
        provider=data["provider"],
        host=data["host"],
        controls=tuple(data["controls"]),
        module=data["module"],
        tenant=data["tenant"],
        audit=bool(data["audit"]),
        extra=tuple((str(k), str(v)) for k, v in data["extra"].items()),
    )


def _notice(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind,
        "message": notice.message,
        "path": notice.path,
        "line": notice.line,
    }


def _tenant(tenant: Tenant) -> dict[str, Any]:
    return {
        "scope": tenant.scope,
        "scope_id": tenant.scope_id,
        "code": tenant.code,
        "name": tenant.name,
        "website_code": tenant.website_code,
    }
