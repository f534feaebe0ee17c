"""route: which backends, in which order, may answer this request.

The tenant's chain for the surface, then: only backends that can do the job (chat or
embeddings); external backends only when every data category the request carried is
one the tenant lets out; rollout flags put a sticky share of customers on local
backends first; a kill switch leaves only static answers; a backend whose circuit is
open is skipped. The last resort is the surface's static safe answer, never an external
provider that the policy excludes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from mageguard.backends.base import Locality
from mageguard.gateway.config import BackendSpec, FlagSpec, TenantSpec
from mageguard.gateway.errors import GatewayError

BREAKER_THRESHOLD = 5  # consecutive failures that open a backend's circuit
BREAKER_COOLDOWN = 30.0  # seconds before one trial request is let through


class Breaker:
    """Closed -> open after BREAKER_THRESHOLD consecutive failures -> half-open after the
    cooldown (one trial) -> closed on success."""

    def __init__(
        self, threshold: int = BREAKER_THRESHOLD, cooldown: float = BREAKER_COOLDOWN
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None

    def allow(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        if now - self.opened_at >= self.cooldown:
            self.opened_at = now  # half-open: this caller is the trial; others wait again
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now

    @property
    def state(self) -> str:
        return "closed" if self.opened_at is None else "open"


def bucket(tenant: str, surface: str, subject: str) -> float:
    """A stable number in [0, 100) per customer or session: the same customer stays on
    the same side of a rollout across requests, replicas and restarts."""
    digest = hashlib.sha256(f"{tenant}\0{surface}\0{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 / 100


@dataclass(frozen=True)
class Plan:
    backends: tuple[BackendSpec, ...]
    excluded_external: bool  # the policy kept external backends out of this request
    in_rollout: bool | None  # None: no rollout flag applies


class Router:
    def __init__(self, backends: Mapping[str, BackendSpec]) -> None:
        self.backends = backends
        self.breakers = {b: Breaker() for b in backends}
        self._models: dict[str, list[str]] = {}

    def known_models(self, tenant: TenantSpec) -> list[str]:
        """Every model the tenant's routes serve, in route order (what /v1/models lists and
        what a request may name); worked out once per tenant."""
        found = self._models.get(tenant.id)
        if found is None:
            seen = {
                m: None
                for ids in tenant.routes.values()
                for b in ids
                for m in self.backends[b].models
            }
            found = self._models[tenant.id] = list(seen)
        return found

    def default_model(self, tenant: TenantSpec, surface: str, *, embeddings: bool) -> str | None:
        """The model an intercepted request gets when it names the provider's model
        (gpt-4o-mini) that this tenant does not route: its chain's first one."""
        for b in tenant.chain(surface):
            spec = self.backends[b]
            if (spec.embeddings if embeddings else spec.chat) and spec.models:
                return spec.models[0]
        return None

    def plan(
        self,
        tenant: TenantSpec,
        surface: str,
        *,
        embeddings: bool,
        model: str,
        categories: Collection[str],
        subject: str,
        flag: FlagSpec | None,
        now: float | None = None,
    ) -> Plan:
        now = time.monotonic() if now is None else now
        chain = [self.backends[b] for b in tenant.chain(surface)]
        chain = [b for b in chain if (b.embeddings if embeddings else b.chat)]
        if model not in self.known_models(tenant):
            raise GatewayError(
                404,
                "model_not_found",
                f"the model {model[:80]!r} does not exist or is not routed for this tenant",
                param="model",
            )
        if flag is not None and flag.kill:
            chain = [b for b in chain if b.kind == "static"]
        external_ok = set(categories) <= tenant.external_categories
        excluded = False
        if not external_ok:
            kept = [b for b in chain if b.locality is Locality.LOCAL]
            excluded = len(kept) != len(chain)
            chain = kept
        in_rollout: bool | None = None
        if flag is not None and not flag.kill:
            # inside the rollout: local backends first; outside: the backends used before
            in_rollout = bucket(tenant.id, surface, subject) < flag.percent
            chain = sorted(chain, key=lambda b: (b.locality is Locality.LOCAL) != in_rollout)
        else:  # backends that serve the requested model by name go first
            chain = sorted(chain, key=lambda b: model not in b.models)
        chain = sorted(chain, key=lambda b: b.kind == "static")  # static answers last
        usable = tuple(b for b in chain if self.breakers[b.id].allow(now) or b.kind == "static")
        return Plan(usable, excluded, in_rollout)
