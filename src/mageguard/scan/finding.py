"""The Finding: what a scan reports, and the values it is made of.

Findings are frozen values so formatters, baselines and the report can share them without
defensive copies; everything a consumer needs to act on one travels with it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Ordered so `finding.severity >= fail_on` reads as the CI gate does."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


class Confidence(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @classmethod
    def parse(cls, text: str) -> Confidence:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown confidence {text!r}") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Location:
    """Where a Finding is. `path` is POSIX and relative to the scanned root; database rows
    use a `db://` URI (db://core_config_data/<config_id>) since they have no file."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    @property
    def is_file(self) -> bool:
        return not self.path.startswith("db://")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    message: str
    severity: Severity
    confidence: Confidence
    surface: str
    pattern: str
    location: Location
    fingerprint: str
    evidence: str
    remediation: str
    data_categories: tuple[str, ...] = ()
    provider: str | None = None
    host: str | None = None
    controls: tuple[str, ...] = ()
    module: str | None = None
    tenant: str | None = None
    audit: bool = False
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def sort_key(self) -> tuple[int, str, int, int, str]:
        return (
            -int(self.severity),
            self.location.path,
            self.location.line,
            self.location.column,
            self.rule_id,
        )


DEFAULT_FINGERPRINT_KEY = b"mageguard-fingerprint-v1"
_WS = re.compile(r"\s+")


def fingerprint(
    rule_id: str, path: str, matched_text: str, key: bytes = DEFAULT_FINGERPRINT_KEY
) -> str:
    """rule + path + keyed hash of the matched text, never the line number: findings keep
    their identity when code above them moves. The hash is keyed so that a baseline file
    cannot be used to brute-force the secrets it fingerprints."""
    normalized = _WS.sub(" ", matched_text.strip())
    digest = hmac.new(key, normalized.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return f"{rule_id}:{path}:{digest.hexdigest()[:24]}"
