"""The plan `mageguard fix` shows and `--apply` carries out.

A plan is data, not code: every change is an exact before/after (a core_config_data row, a
file's bytes), so the dry run shows precisely what apply will do, apply can check that the
store has not moved since the plan was made, and rollback restores the "before" exactly.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field

# Risk order of the issue and the seed: a leak from checkout/payment costs most.
SURFACE_ORDER = (
    "checkout_payment",
    "logging",
    "search_recommendations",
    "multi_tenant_models",
    "admin_analytics",
    "content_generation",
)


def surface_rank(surface: str) -> int:
    return SURFACE_ORDER.index(surface) if surface in SURFACE_ORDER else len(SURFACE_ORDER)


class Kind(enum.StrEnum):
    GATEWAY = "gateway_config"
    CONNECTOR = "connector"
    STORE_CONFIG = "store_config"
    PATCH = "patch"
    LOG_HYGIENE = "log_hygiene"
    EGRESS = "egress"


@dataclass(frozen=True)
class RowChange:
    """One core_config_data row. `old` None: the row is inserted; `new` None: deleted."""

    scope: str
    scope_id: int
    path: str
    old: str | None
    new: str | None
    secret: bool = False

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.scope, self.scope_id, self.path)


@dataclass(frozen=True)
class FileChange:
    """One file under the store root. `old` None: created; `new` None: removed."""

    path: str
    old: bytes | None
    new: bytes | None

    @property
    def old_sha256(self) -> str | None:
        return hashlib.sha256(self.old).hexdigest() if self.old is not None else None

    @property
    def new_sha256(self) -> str | None:
        return hashlib.sha256(self.new).hexdigest() if self.new is not None else None


@dataclass(frozen=True)
class Step:
    id: str
    kind: Kind
    surface: str
    title: str  # what will change
    where: str
    undo: str  # how it is undone
    findings: tuple[str, ...] = ()  # fingerprints this step resolves
    rows: tuple[RowChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    notes: tuple[str, ...] = ()  # what the operator must do that no tool can

    @property
    def changes(self) -> int:
        return len(self.rows) + len(self.files)


@dataclass(frozen=True)
class Explanation:
    """A finding `fix` leaves, and why: the operator's decision, or not an AI leak path a
    configuration change can close."""

    fingerprint: str
    rule_id: str
    surface: str
    location: str
    reason: str
    action: str  # what the operator should decide or do


@dataclass(frozen=True)
class TenantKeys:
    """The gateway keys of one tenant (a website), by surface. Never rendered."""

    tenant: str
    keys: tuple[tuple[str, str], ...]  # (surface, key)


@dataclass(frozen=True)
class Plan:
    root: str
    database: str | None  # the DSN as shown (password masked)
    gateway_url: str
    steps: tuple[Step, ...]
    explained: tuple[Explanation, ...] = ()
    tenants: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()  # what to run after apply (gateway, egress render)
    keys: tuple[TenantKeys, ...] = field(default=(), repr=False)

    @property
    def rows(self) -> tuple[RowChange, ...]:
        return tuple(r for s in self.steps for r in s.rows)

    @property
    def files(self) -> tuple[FileChange, ...]:
        return tuple(f for s in self.steps for f in s.files)

    @property
    def is_noop(self) -> bool:
        return not self.rows and not self.files

    @property
    def resolved(self) -> frozenset[str]:
        return frozenset(fp for s in self.steps for fp in s.findings)
