"""The flow audit's data files (`audit/data/*.yaml`), each validated against its schema
in `catalog/schemas/audit_<name>.schema.json`, so a typo in a severity rule or a field
map fails at load instead of silently matching nothing."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

from mageguard.catalog.loader import SafeLoader, validate_once
from mageguard.errors import CatalogError


@functools.cache
def load(name: str) -> Mapping[str, Any]:
    try:
        text = resources.files("mageguard.audit").joinpath("data", f"{name}.yaml")
        text_s = text.read_text("utf-8")
        schema = resources.files("mageguard.catalog").joinpath(
            "schemas", f"audit_{name}.schema.json"
        )
        schema_s = schema.read_text("utf-8")
        data = yaml.load(text_s, Loader=SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"audit data file {name}: {exc}") from exc
    validate_once(data, text_s, schema_s, f"audit/data/{name}.yaml")
    if not isinstance(data, Mapping):
        raise CatalogError(f"audit/data/{name}.yaml: not a mapping")
    return data
