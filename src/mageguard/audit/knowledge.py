"""The flow audit's data files (`audit/data/*.yaml`), each validated against its schema
in `catalog/schemas/audit_<name>.schema.json`, so a typo in a severity rule or a field
map fails at load instead of silently matching nothing."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from mageguard.catalog.loader import load_data_file
from mageguard.errors import CatalogError


@functools.cache
def load(name: str) -> Mapping[str, Any]:
    """`audit/data/<name>.yaml`, checked against `catalog/schemas/audit_<name>.schema.json`."""
    data = load_data_file(name, f"audit_{name}", package="mageguard.audit")
    if not isinstance(data, Mapping):
        raise CatalogError(f"audit/data/{name}.yaml: not a mapping")
    return data
