"""What the `audit ingest/watch/flows/incidents` options resolve to: the flow store's
path (default: beside the gateway's embedded defaults), the gateway's addresses and the
Policy's per-request limit, taken from the gateway configuration when one is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mageguard.audit import flowdb
from mageguard.errors import InputError


@dataclass(frozen=True)
class IngestOptions:
    db: Path
    gateways: tuple[str, ...]
    max_bytes: int | None


def resolve(config_file: Path | None, db: Path | None, gateways: Sequence[str]) -> IngestOptions:
    found = list(gateways)
    max_bytes = None
    if config_file is not None:
        from mageguard.gateway import config as gateway_config

        config = gateway_config.load(config_file, audit_only=True)
        max_bytes = config.max_body_bytes
        if config.egress.gateway is not None:
            found.append(config.egress.gateway.address)
    return IngestOptions(db or flowdb.default_path(), tuple(found), max_bytes)


def parse_now(value: str | None) -> float:
    """`--now` (ISO 8601; UTC when no zone is given), or the current time."""
    if value is None:
        return datetime.now(UTC).timestamp()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--now {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
