"""What the report keeps of a scan Finding, and the two things it adds: the AI feature the
finding belongs to and the tenant it speaks for, as a record of processing names them.

The evidence is code from the store: masked again (the scan masks it already; a report
travels further than a scan) and cut short.
"""

from __future__ import annotations

from mageguard.report.model import FindingRef
from mageguard.scan.analyzers.secrets import mask_text
from mageguard.scan.finding import Finding

MAX_EVIDENCE = 160


def feature_of(f: Finding) -> str:
    """The unit a record of processing names: the module or package, or for a
    configuration row its section (`lumen_ai/openai/endpoint` belongs to `lumen_ai`)."""
    extra = dict(f.extra)
    if f.module:
        return f.module
    if "config_path" in extra:  # env.php nests it: system/<scope>[/<code>]/<section>/...
        parts = extra["config_path"].split("/")
        if parts[0] == "system" and len(parts) > 3:
            parts = parts[2:] if parts[1] == "default" else parts[3:]
        return parts[0]
    return extra.get("package") or f.location.path


def tenant_of(f: Finding, tenants: tuple[str, ...]) -> str | None:
    """A store view is named with its website (`base/fr`); the default scope, like code,
    speaks for every tenant (None)."""
    if f.tenant is None or dict(f.extra).get("scope") == "default":
        return None
    if dict(f.extra).get("scope") == "stores":
        return next((t for t in tenants if t.endswith(f"/{f.tenant}")), f.tenant)
    return f.tenant


def finding_ref(f: Finding, tenants: tuple[str, ...] = ()) -> FindingRef:
    evidence = mask_text(" ".join(f.evidence.split()))
    if len(evidence) > MAX_EVIDENCE:
        evidence = evidence[: MAX_EVIDENCE - 1] + "…"
    return FindingRef(
        fingerprint=f.fingerprint,
        rule_id=f.rule_id,
        title=f.title,
        severity=str(f.severity),
        surface=f.surface,
        pattern=f.pattern,
        path=f.location.path,
        line=f.location.line,
        setting=dict(f.extra).get("config_path"),
        provider=f.provider,
        host=f.host,
        module=f.module,
        feature=feature_of(f),
        tenant=tenant_of(f, tenants),
        data_categories=f.data_categories,
        controls=f.controls,
        audit=f.audit,
        evidence=evidence,
    )
