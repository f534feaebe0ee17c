"""From Facts to Findings: apply rules, decide surface and severity, map controls, mask
evidence and fingerprint. The one place where policy meets observation."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping

from mageguard.catalog import Catalog
from mageguard.scan import surface as surfaces
from mageguard.scan.analyzers.secrets import mask, mask_text
from mageguard.scan.facts import Fact
from mageguard.scan.finding import (
    DEFAULT_FINGERPRINT_KEY,
    Finding,
    Location,
    Severity,
    fingerprint,
)
from mageguard.scan.ruleset import Rule
from mageguard.scan.wiring import Wiring

LineSource = Callable[[str, int], str]
MAX_EVIDENCE = 240


def module_name(unit: str) -> str | None:
    parts = unit.split("/")
    if len(parts) == 4 and parts[:2] == ["app", "code"]:
        return f"{parts[2]}_{parts[3]}"
    if len(parts) >= 3 and parts[0] == "vendor":
        return f"{parts[1]}/{parts[2]}"
    return unit or None


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _message(rule: Rule, fact: Fact, catalog: Catalog, categories: Iterable[str]) -> str:
    provider = catalog.provider_by_id.get(fact.provider or "")
    cats = ", ".join(sorted(categories)) or "no classified Magento data"
    fields = _Fields(
        {
            "provider": provider.name if provider else (fact.provider or "an unknown service"),
            "host": fact.host or "an unresolved host",
            "client": fact.client or "?",
            "categories": cats,
            "module": module_name(fact.unit) or fact.path,
            "tenant": fact.tenant or "default",
            "origins": ", ".join(fact.origins[:4]) or "-",
        }
    )
    fields.update({k: v for k, v in fact.detail})
    return string.Formatter().vformat(rule.message, (), fields)


def _severity(rule: Rule, categories: Iterable[str], catalog: Catalog) -> Severity:
    sev = rule.severity
    if rule.escalate == "categories":
        for c in categories:
            cat = catalog.category_by_id.get(c)
            if cat is not None:
                sev = max(sev, Severity.parse(cat.severity))
    return sev


def _evidence(fact: Fact, lines: LineSource) -> str:
    text = fact.get("evidence") if fact.language == "db" else lines(fact.path, fact.line).strip()
    if fact.secret:
        text = text.replace(fact.secret, mask(fact.secret))
    text = mask_text(text)
    return text if len(text) <= MAX_EVIDENCE else text[: MAX_EVIDENCE - 1] + "…"


def _extra(fact: Fact) -> tuple[tuple[str, str], ...]:
    """The fact's details, and the client that sends it: `fix` decides by the client
    whether its connector can reach the call."""
    detail = {k: v for k, v in fact.detail if k != "evidence"}
    if fact.client and "client" not in detail:
        detail["client"] = fact.client
    return tuple(sorted(detail.items()))


def build(
    facts: Iterable[Fact],
    rules: Iterable[Rule],
    catalog: Catalog,
    wiring: Wiring,
    lines: LineSource,
    key: bytes = DEFAULT_FINGERPRINT_KEY,
) -> list[Finding]:
    rules = tuple(rules)
    out: dict[tuple[str, str, int, int], Finding] = {}
    for fact in facts:
        for rule in rules:
            if not rule.applies(fact):
                continue
            categories = tuple(sorted(fact.categories))
            found = Finding(
                rule_id=rule.id,
                title=rule.title,
                message=_message(rule, fact, catalog, categories),
                severity=_severity(rule, categories, catalog),
                confidence=rule.confidence,
                surface=surfaces.infer(fact, catalog, wiring, rule.surface),
                pattern=rule.pattern,
                location=Location(
                    fact.path, fact.line, fact.column, fact.end_line or fact.line, fact.end_column
                ),
                fingerprint=fingerprint(rule.id, fact.path, fact.matched, key),
                evidence=_evidence(fact, lines),
                remediation=rule.remediation,
                data_categories=categories,
                provider=fact.provider,
                host=fact.host,
                controls=catalog.controls_for(rule.id, rule.pattern, categories),
                module=module_name(fact.unit),
                tenant=fact.tenant,
                audit=rule.audit,
                extra=_extra(fact),
            )
            out.setdefault((rule.id, fact.path, fact.line, fact.column), found)
    return sorted(out.values(), key=lambda f: f.sort_key)


def summary_by_surface(findings: Iterable[Finding]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.surface] = counts.get(f.surface, 0) + 1
    return counts
