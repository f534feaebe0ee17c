"""Incidents: id stable, aware_at fixed at first detection, severity from the data file,
tenants from --tenants (else unknown)."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit import flowdb
from mageguard.audit.incidents import load_incidents, severity
from mageguard.audit.knowledge import load
from tests.audit.flowsupport import FIXTURES, run

LINES = [
    (
        "1700000000.000  10 10.0.1.6 TCP_TUNNEL/200 99 CONNECT "
        "api.openai.com:443 - HIER_DIRECT/1.1.1.1 -"
    ),
    "1700000001.000  10 10.0.1.7 TCP_TUNNEL/200 99 CONNECT claude.ai:443 - HIER_DIRECT/1.1.1.2 -",
    (
        "1700000002.000  10 10.0.5.1 TCP_TUNNEL/200 99 CONNECT "
        "eu1.api.algolia.net:443 - HIER_DIRECT/1.1.1.3 -"
    ),
]


def _incidents(db: Path) -> list[tuple[str, str, str, tuple[str, ...], float]]:
    with flowdb.connect(db, read_only=True) as con:
        return [
            (i.id, i.severity, i.flow.destination, i.tenants, i.aware_at)
            for i in load_incidents(con)
        ]


def test_incidents_carry_severity_tenants_and_a_fixed_awareness(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINES[0] + "\n" + LINES[1] + "\n")
    db = tmp_path / "flows.duckdb"
    run([log], db, tenants_file=FIXTURES / "tenants.yaml", now=1_800_000_000.0)
    first = _incidents(db)
    assert [(s, d, t, a) for _, s, d, t, a in first] == [
        ("critical", "api.openai.com", ("base",), 1_800_000_000.0),
        ("critical", "claude.ai", ("b2b",), 1_800_000_000.0),  # v2fly knows it as anthropic
    ]
    with log.open("a") as f:
        f.write(LINES[2] + "\n")
    run([log], db, now=1_800_000_500.0)
    later = _incidents(db)
    assert later[:2] == first  # same ids, same awareness
    assert [(s, d, t, a) for _, s, d, t, a in later[2:]] == [
        ("high", "eu1.api.algolia.net", ("unknown",), 1_800_000_500.0),
    ]


def test_severity_rules_come_from_the_data_file() -> None:
    rules = load("incidents")["severity"]
    assert severity("bypass", "ai_provider", rules) == "critical"
    assert severity("bypass", "vector_db", rules) == "high"
    assert severity("over_policy", "ai_provider", rules) == "high"
    assert severity("bypass", None, rules) == "medium"
    assert severity("bypass", "something_else", rules) == "low"
