"""What a scan returns: findings plus everything an operator needs to trust them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mageguard.scan.finding import Finding
from mageguard.scan.ruleset import Rule


@dataclass(frozen=True)
class Notice:
    """Something the scan could not do fully (unreadable file, parse error, DSN down, an
    unused suppression). Notices never stop the scan; they are shown and kept in JSON."""

    kind: str
    message: str
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ScanStats:
    files_seen: int = 0
    bytes_seen: int = 0
    units: int = 0
    ai_units: int = 0
    files_parsed: int = 0
    cache_hits: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Tenant:
    """A Magento website or store view, as read from the database or env.php."""

    scope: str
    scope_id: int
    code: str
    name: str = ""
    website_code: str | None = None
    is_default: bool = False  # the website Magento serves when no other matches


@dataclass(frozen=True)
class ScanResult:
    root: str
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    notices: tuple[Notice, ...] = ()
    stats: ScanStats = field(default_factory=ScanStats)
    tenants: tuple[Tenant, ...] = ()
    suppressed: int = 0
    baselined: int = 0
    # Calls the installed Mageguard_Connector already sends to the gateway: shut, so not
    # findings, but kept for `mageguard fix` (whose plan must stay the same) and the report.
    routed: tuple[Finding, ...] = ()
    is_magento: bool = True
    tool_version: str = ""
