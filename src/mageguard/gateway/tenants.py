"""authenticate: an API key names one tenant (and maybe one surface); each tenant gets
its own redactor (its dictionary, its policy), and the dictionaries of every *other*
tenant are what the output check looks for in its answers.

Keys are known only by their SHA-256: a leaked configuration file or database dump does
not hand out working keys. A key bound to a surface cannot speak for another one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mageguard.catalog import load_catalog
from mageguard.gateway.config import DEFAULT_ROUTE, GatewayConfig, TenantSpec
from mageguard.gateway.errors import GatewayError
from mageguard.redact.dictionary import Dictionary
from mageguard.redact.engine import Redactor
from mageguard.redact.policy import Policy
from mageguard.redact.spans import Span

SURFACE_HEADER = "x-mageguard-surface"


@dataclass
class Tenant:
    spec: TenantSpec
    redactor: Redactor
    dictionary: Dictionary | None
    others: tuple[OtherTerms, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Caller:
    tenant: Tenant
    surface: str
    key_id: str


class OtherTerms:
    """Another tenant's dictionary minus the terms this tenant also owns: two shops that
    both sell a "Trail Runner 2" must not block each other's answers."""

    def __init__(self, theirs: Dictionary, own: Dictionary | None) -> None:
        self.theirs = theirs
        self.own = own

    def find(self, text: str) -> Sequence[Span]:
        found = self.theirs.find(text)
        if not found or self.own is None:
            return found
        mine = {(s.start, s.end) for s in self.own.find(text)}
        return [s for s in found if (s.start, s.end) not in mine]


class Tenants:
    def __init__(self, config: GatewayConfig, cache_dir: Path | None = None) -> None:
        self._surfaces = {s.id for s in load_catalog().surfaces}
        default_policy = config.policy or Policy.load()
        dictionaries: dict[str, Dictionary | None] = {}
        for spec in config.tenants.values():
            dictionaries[spec.id] = (
                Dictionary.load(spec.dictionary, cache_dir) if spec.dictionary else None
            )
        self.by_id: dict[str, Tenant] = {}
        for spec in config.tenants.values():
            policy = spec.policy or default_policy
            own = dictionaries[spec.id]
            others = tuple(
                OtherTerms(d, own)
                for tid, d in dictionaries.items()
                if tid != spec.id and d is not None
            )
            self.by_id[spec.id] = Tenant(spec, Redactor(dictionary=own, policy=policy), own, others)
        self._keys: dict[str, tuple[Tenant, str, str | None]] = {}
        for tenant in self.by_id.values():
            for key in tenant.spec.keys:
                self._keys[key.sha256] = (tenant, key.id, key.surface)
        self._admin = {k.sha256: k.id for k in config.admin_keys}

    def authenticate(self, key: str | None, surface: str | None) -> Caller:
        if not key:
            raise GatewayError(
                401, "missing_api_key", "no API key: send Authorization: Bearer <key> or x-api-key"
            )
        found = self._keys.get(_digest(key))
        if found is None:
            raise GatewayError(401, "invalid_api_key", "the API key is not valid")
        tenant, key_id, bound = found
        if surface is not None and surface not in self._surfaces:
            raise GatewayError(
                400, "unknown_surface", f"unknown surface in {SURFACE_HEADER}", param=SURFACE_HEADER
            )
        if bound is not None and surface is not None and surface != bound:
            raise GatewayError(403, "surface_not_allowed", "this key is bound to another surface")
        return Caller(tenant, bound or surface or DEFAULT_ROUTE, key_id)

    def admin(self, key: str | None) -> str:
        key_id = self._admin.get(_digest(key)) if key else None
        if key_id is None:
            raise GatewayError(401, "invalid_api_key", "an admin key is required")
        return key_id


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
