"""Which operator applies to which entity, per surface. One YAML file, schema-checked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mageguard.catalog import load_catalog
from mageguard.catalog.loader import SafeLoader, validate
from mageguard.errors import CatalogError, ConfigError
from mageguard.redact.operators import Operator


@dataclass(frozen=True)
class Policy:
    min_score: float = 0.5
    operators: Mapping[str, Operator] = field(default_factory=dict)
    surfaces: Mapping[str, Mapping[str, Operator]] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()
    guard_threshold: float | None = None  # None: the trained model's own threshold

    def operator(self, entity: str, surface: str | None = None) -> Operator:
        if surface is not None:
            found = self.surfaces.get(surface, {}).get(entity)
            if found is not None:
                return found
        found = self.operators.get(entity)
        if found is not None:
            return found
        default = load_catalog().entity_by_id.get(entity)
        return Operator(default.operator) if default is not None else Operator.PLACEHOLDER

    @staticmethod
    def from_mapping(raw: Mapping[str, Any], where: str = "policy") -> Policy:
        schema = json.loads(
            resources.files("mageguard.catalog")
            .joinpath("schemas", "redaction_policy.schema.json")
            .read_text("utf-8")
        )
        try:
            validate(raw, schema, where)
        except CatalogError as exc:
            raise ConfigError(str(exc)) from None
        known = set(load_catalog().entity_by_id)
        tables = [raw.get("operators") or {}, *(raw.get("surfaces") or {}).values()]
        for table in tables:
            for entity in table:
                if entity not in known:
                    raise ConfigError(
                        f"{where}: unknown entity {entity!r} (known: {', '.join(sorted(known))})"
                    )
        return Policy(
            min_score=float(raw.get("min_score", 0.5)),
            operators={e: Operator(o) for e, o in (raw.get("operators") or {}).items()},
            surfaces={
                s: {e: Operator(o) for e, o in ops.items()}
                for s, ops in (raw.get("surfaces") or {}).items()
            },
            disabled=frozenset(raw.get("disabled_entities") or ()),
            guard_threshold=(raw.get("guard") or {}).get("threshold"),
        )

    @staticmethod
    def load(path: Path | str | None = None) -> Policy:
        """The file at `path`, or the embedded default."""
        if path is None:
            text = (
                resources.files("mageguard.redact")
                .joinpath("data", "default_policy.yaml")
                .read_text("utf-8")
            )
            where = "default redaction policy"
        else:
            try:
                text = Path(path).read_text("utf-8")
            except OSError as exc:
                raise ConfigError(f"--policy {path}: {exc.strerror}") from None
            where = str(path)
        try:
            raw = yaml.load(text, Loader=SafeLoader) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where} does not parse: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping")
        return Policy.from_mapping(raw, where)
