"""What an ingestion will read, checked before the flow store is touched: every path
exists and is readable (a gzip file decompresses), and its format is known, detected
from its first lines or named by `--format`. A database DSN, or a SQLite file, is the
gateway's audit store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mageguard.audit.ingest import formats, gateway, source
from mageguard.errors import InputError


@dataclass(frozen=True)
class Plan:
    """A file (or audit store) checked before anything is written."""

    location: str
    format: str
    log: source.LogFile | None  # None for a gateway audit store


def plan(paths: Sequence[str], fmt: str) -> list[Plan]:
    """InputError for the first path that cannot be read or whose format is unknown."""
    if fmt != "auto" and fmt not in formats.NAMES:
        formats.parser(fmt)  # raises with the list of names
    out = []
    for given in paths:
        if given.startswith(("postgresql://", "postgres://")):
            out.append(Plan(given, gateway_format(fmt, given), None))
            continue
        location = str(Path(given).absolute())
        log = source.identify(Path(location))
        if fmt == formats.GATEWAY_AUDIT or (
            fmt == "auto" and gateway.is_store(location, log.raw_head)
        ):
            if not gateway.is_store(location, log.raw_head):
                raise InputError(f"{location}: not a gateway audit store (SQLite)")
            out.append(Plan(location, formats.GATEWAY_AUDIT, None))
            continue
        name = formats.detect(log.head, location) if fmt == "auto" else fmt
        out.append(Plan(location, name, log))
    return out


def gateway_format(fmt: str, location: str) -> str:
    if fmt not in ("auto", formats.GATEWAY_AUDIT):
        raise InputError(f"{location}: a database DSN can only be a gateway audit store")
    return formats.GATEWAY_AUDIT
