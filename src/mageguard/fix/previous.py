"""What an earlier `fix --apply` generated, read back so a re-run plans over it.

Applying the plan makes findings disappear: a patched endpoint no longer names its
provider, a routed call is no longer reported. Planned from the re-scan alone, the gateway
would drop that provider's backend and, worse, allow external backends the data
categories those calls carried. So a re-run never plans below what is installed: providers,
models, categories kept local and namespace surfaces only accumulate (a rollback removes
the files, and with them this memory).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from mageguard.errors import MageguardError
from mageguard.fix.connector import MODULE_DIR, read_settings
from mageguard.fix.gateway_plan import GATEWAY_CONFIG
from mageguard.fix.store import Store


@dataclass(frozen=True)
class Previous:
    surfaces: dict[str, str] = field(default_factory=dict)  # PHP namespace prefix -> surface
    providers: frozenset[str] = frozenset()  # external backends of the gateway config
    kept_local: frozenset[str] = frozenset()  # data categories no tenant sends externally
    models: dict[str, frozenset[str]] = field(default_factory=dict)  # provider -> models


def read_previous(store: Store, categories: Iterable[str]) -> Previous:
    """Unreadable or hand-broken files count as absent: the plan then regenerates them
    from the scan, which is what a first run does."""
    surfaces: dict[str, str] = {}
    try:
        data = (store.root / MODULE_DIR / "etc/config.xml").read_bytes()
        surfaces = dict(read_settings(data).surfaces)
    except (OSError, MageguardError):
        pass
    try:
        doc: Any = yaml.safe_load((store.root / GATEWAY_CONFIG).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        doc = None
    if not isinstance(doc, dict):
        return Previous(surfaces=surfaces)
    backends = [b for b in doc.get("backends") or () if isinstance(b, dict)]
    external = [b for b in backends if b.get("locality") == "external" and b.get("id")]
    tenants = [t for t in doc.get("tenants") or () if isinstance(t, dict)]
    allowed: set[str] = set()
    for t in tenants:
        allowed |= set(t.get("external_categories") or ())
    return Previous(
        surfaces=surfaces,
        providers=frozenset(str(b["id"]) for b in external),
        kept_local=frozenset(set(categories) - allowed) if tenants else frozenset(),
        models={str(b["id"]): frozenset(str(m) for m in b.get("models") or ()) for b in external},
    )
