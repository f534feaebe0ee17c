"""Scan rules: YAML data with a fixture beside each, loaded and checked at start-up.

A rule names the fact an analyzer emits (`match.fact`) and the conditions that make that
fact a Finding; its metadata (severity, pattern, message, remediation) is what the user
reads. Rules live in `scan/rules/<id>.yaml`; `<id>.<ext>` or `<id>/` beside it is the
fixture whose `ruleid:` / `ok:` markers the generic test proves line by line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import yaml

from mageguard.catalog import load_catalog
from mageguard.catalog.loader import SafeLoader, validate_once
from mageguard.errors import CatalogError
from mageguard.scan.facts import Fact
from mageguard.scan.finding import Confidence, Severity


@dataclass(frozen=True)
class Match:
    fact: str
    via: frozenset[str] | None = None
    destination: frozenset[str] | None = None
    requires: frozenset[str] = frozenset()

    def holds(self, fact: Fact) -> bool:
        if self.fact != fact.kind:
            return False
        if self.via is not None and fact.via not in self.via:
            return False
        if self.destination is not None and fact.destination not in self.destination:
            return False
        return self.requires.issubset(fact.conditions)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    languages: tuple[str, ...]
    match: tuple[Match, ...]
    severity: Severity
    confidence: Confidence
    pattern: str
    message: str
    remediation: str
    escalate: str | None = None
    surface: str | None = None
    audit: bool = False
    references: tuple[str, ...] = ()

    def applies(self, fact: Fact) -> bool:
        """A rule matches a fact of one of its languages when any `match` alternative holds."""
        if fact.language not in self.languages:
            return False
        return any(m.holds(fact) for m in self.match)


def rules_dir() -> Traversable:
    return resources.files("mageguard.scan").joinpath("rules")


def _match(m: Mapping[str, Any]) -> Match:
    return Match(
        fact=m["fact"],
        via=frozenset(m["via"]) if "via" in m else None,
        destination=frozenset(m["destination"]) if "destination" in m else None,
        requires=frozenset(m.get("requires", ())),
    )


def _rule(raw: Mapping[str, Any], where: str) -> Rule:
    raw_match = raw["match"]
    match = tuple(_match(m) for m in (raw_match if isinstance(raw_match, list) else [raw_match]))
    catalog = load_catalog()
    if raw["pattern"] not in {p.id for p in catalog.patterns}:
        raise CatalogError(f"{where}: unknown pattern {raw['pattern']!r}")
    if raw.get("surface") and raw["surface"] not in catalog.surface_by_id:
        raise CatalogError(f"{where}: unknown surface {raw['surface']!r}")
    return Rule(
        id=raw["id"],
        title=raw["title"],
        languages=tuple(raw["languages"]),
        match=match,
        severity=Severity.parse(raw["severity"]),
        confidence=Confidence.parse(raw["confidence"]),
        pattern=raw["pattern"],
        message=raw["message"],
        remediation=" ".join(raw["remediation"].split()),
        escalate=raw.get("escalate"),
        surface=raw.get("surface"),
        audit=bool(raw.get("audit", False)),
        references=tuple(raw.get("references", ())),
    )


@functools.cache
def load_rules() -> tuple[Rule, ...]:
    """Every packaged rule, validated against the rule schema; ids must match file names."""
    schema_text = (
        resources.files("mageguard.catalog")
        .joinpath("schemas", "rule.schema.json")
        .read_text("utf-8")
    )
    rules = []
    for entry in sorted(rules_dir().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        where = f"scan/rules/{entry.name}"
        text = entry.read_text("utf-8")
        try:
            raw = yaml.load(text, Loader=SafeLoader)
        except yaml.YAMLError as exc:
            raise CatalogError(f"{where}: {exc}") from exc
        validate_once(raw, text, schema_text, where)
        if raw["id"] + ".yaml" != entry.name:
            raise CatalogError(f"{where}: id {raw['id']!r} does not match the file name")
        rules.append(_rule(raw, where))
    if not rules:
        raise CatalogError("no scan rules are packaged: scanning with zero rules is an error")
    return tuple(rules)


def select_rules(
    rules: Iterable[Rule], only: Iterable[str] = (), skip: Iterable[str] = ()
) -> tuple[Rule, ...]:
    """Narrow the rule set for --rule/--skip-rule; naming an unknown rule is an error, and
    so is ending up with none (a scan that cannot find anything must not pass CI)."""
    rules = tuple(rules)
    known = {r.id for r in rules}
    for rid in (*only, *skip):
        if rid not in known:
            raise CatalogError(f"unknown rule {rid!r}")
    only_set, skip_set = set(only), set(skip)
    chosen = tuple(r for r in rules if (not only_set or r.id in only_set) and r.id not in skip_set)
    if not chosen:
        raise CatalogError("no rules left to run after --rule/--skip-rule")
    return chosen
