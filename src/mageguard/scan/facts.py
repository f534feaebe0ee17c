"""Facts: what analyzers observe, before rules decide which are Findings.

Analyzers know code; rules know policy. A Fact carries everything a rule can test
(kind, via, destination, conditions) and everything a Finding reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fact:
    kind: str  # outbound_call | secret | log_write | log_handler | stored_prompt | ...
    path: str
    line: int
    column: int
    matched: str  # the text the fingerprint hashes (call source, key, element)
    language: str = "php"  # php | phtml | js | xml | composer | deployment-config | db
    end_line: int = 0
    end_column: int = 0
    via: str | None = None  # http | sdk | browser
    destination: str | None = None  # ai_provider | ai_saas | ml_platform | vector_db | ...
    provider: str | None = None
    host: str | None = None
    client: str | None = None
    categories: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()
    unit: str = ""
    classes: frozenset[str] = frozenset()  # classes on the call paths that reach it
    surface: str | None = None  # set when the analyzer knows better than the signals
    tenant: str | None = None
    origins: tuple[str, ...] = ()
    detail: tuple[tuple[str, str], ...] = ()
    secret: str | None = None  # a credential in `matched` to mask in evidence

    def get(self, key: str, default: str = "") -> str:
        return dict(self.detail).get(key, default)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = (
                sorted(v)
                if isinstance(v, frozenset)
                else (
                    [list(p) for p in v]
                    if name == "detail"
                    else list(v)
                    if isinstance(v, tuple)
                    else v
                )
            )
        return out

    @staticmethod
    def from_json(raw: dict[str, Any]) -> Fact:
        data = dict(raw)
        for name in ("categories", "conditions", "classes"):
            data[name] = frozenset(data.get(name, ()))
        data["origins"] = tuple(data.get("origins", ()))
        data["detail"] = tuple(tuple(p) for p in data.get("detail", ()))
        return Fact(**data)


@dataclass
class UnitFacts:
    """Everything one unit's analysis produced; cached by the unit's content hash."""

    facts: list[Fact] = field(default_factory=list)
    parse_errors: list[str] = field(default_factory=list)
