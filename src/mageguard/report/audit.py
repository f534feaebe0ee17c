"""The gateway's audit store as evidence: its chain verified, its events counted.

The chain is checked by the audit store's own verify (the code behind `mageguard audit
verify`); this module only adds up the events' metadata (requests per tenant and surface,
local or external, decisions, what was redacted), which is all an event holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mageguard.audit.errors import AuditError
from mageguard.audit.events import AuditEvent
from mageguard.audit.store import AuditStore
from mageguard.errors import InputError

_PAGE = 5000
_BLOCKED = frozenset({"blocked", "refused"})


@dataclass(frozen=True)
class Count:
    name: str
    count: int


@dataclass(frozen=True)
class TrafficRow:
    tenant: str
    surface: str
    requests: int
    local: int
    external: int
    blocked: int


@dataclass(frozen=True)
class AuditSummary:
    location: str
    chain_intact: bool
    records: int
    checkpoints: int
    problems: tuple[str, ...]
    first_bad_seq: int | None
    requests: int
    traffic: tuple[TrafficRow, ...]
    decisions: tuple[Count, ...]
    redacted_entities: tuple[Count, ...]
    redacted_categories: tuple[Count, ...]
    proxy_blocked_hosts: tuple[Count, ...]
    policy: str | None  # the gateway configuration whose policy was read, if any
    external_categories: tuple[tuple[str, tuple[str, ...]], ...]  # (tenant, categories)


def _counts(counter: Counter[str]) -> tuple[Count, ...]:
    return tuple(Count(k, v) for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarise_audit(target: str | None) -> AuditSummary:
    """`target`: a gateway configuration file (its audit section and tenants' policy), an
    audit store (SQLite file with audit.key and audit.witness beside it, as in the
    gateway's data directory), or None for the embedded defaults' store."""
    from mageguard.gateway import config as gateway_config

    policy: str | None = None
    external: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if target is None or target.endswith((".yaml", ".yml")):
        config = gateway_config.load(Path(target) if target else None, audit_only=True)
        dsn, key_file, witness_file = (
            config.audit_store,
            config.audit_key_file,
            config.witness_file,
        )
        policy = config.source
        external = tuple(
            (t.id, tuple(sorted(t.external_categories))) for t in config.tenants.values()
        )
    elif "://" in target and not target.startswith("sqlite://"):
        raise InputError(
            f"--audit {target.split('://')[0]}://...: a database store is read through its "
            "gateway configuration (--audit gateway.yaml), which names its key and witness"
        )
    else:
        base = Path(target.removeprefix("sqlite://")).parent
        dsn, key_file, witness_file = target, base / "audit.key", base / "audit.witness"
    with AuditStore.open(dsn, key_file, witness_file, create=False) as store:
        verdict = store.verify()
        problems = list(verdict.problems)
        tally = _Tally()
        try:
            after = 0
            while page := store.events(since_seq=after, limit=_PAGE):
                for seq, event in page:
                    tally.add(event)
                    after = seq
        except AuditError as exc:  # a tampered body: the chain check has named it already
            problems.append(f"events after seq {after} could not be read: {exc}")
        location = store.location
    return AuditSummary(
        location=location,
        chain_intact=verdict.ok and len(problems) == len(verdict.problems),
        records=verdict.records,
        checkpoints=verdict.checkpoints,
        problems=tuple(problems),
        first_bad_seq=verdict.first_bad_seq,
        requests=sum(tally.decisions.values()),
        traffic=tally.traffic(),
        decisions=_counts(tally.decisions),
        redacted_entities=_counts(tally.entities),
        redacted_categories=_counts(tally.categories),
        proxy_blocked_hosts=_counts(tally.proxy_blocked),
        policy=policy,
        external_categories=external,
    )


class _Tally:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[int]] = {}
        self.decisions: Counter[str] = Counter()
        self.entities: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.proxy_blocked: Counter[str] = Counter()

    def add(self, event: AuditEvent) -> None:
        if event.kind == "proxy":
            if event.decision != "allowed":
                self.proxy_blocked[event.detail.get("host", "-")] += 1
            return
        if event.kind != "request":
            return
        self.decisions[event.decision or "-"] += 1
        self.entities.update(event.entities)
        self.categories.update(event.categories)
        row = self.rows.setdefault((event.tenant or "-", event.surface or "-"), [0, 0, 0, 0])
        row[0] += 1
        row[1] += event.locality == "local"
        row[2] += event.locality == "external"
        row[3] += event.decision in _BLOCKED

    def traffic(self) -> tuple[TrafficRow, ...]:
        return tuple(TrafficRow(t, s, *v) for (t, s), v in sorted(self.rows.items()))
