"""What mageguard knows, as data: providers, Magento data sources, sinks, surfaces,
patterns, data categories and controls.

The YAML files in `data/` are the single home of this knowledge; this package only
validates them against `schemas/` and turns them into typed, immutable values.
"""

from __future__ import annotations

from mageguard.catalog.loader import (
    Catalog,
    Control,
    DataCategory,
    Entity,
    KeyPattern,
    Pattern,
    Provider,
    Sdk,
    Surface,
    load_catalog,
)

__all__ = [
    "Catalog",
    "Control",
    "DataCategory",
    "Entity",
    "KeyPattern",
    "Pattern",
    "Provider",
    "Sdk",
    "Surface",
    "load_catalog",
]
