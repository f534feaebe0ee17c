"""Squid's native log: CONNECT tunnels and absolute URLs to AI hosts in the real plaso
sample are found, a proxy-denied CONNECT and the background are not."""

from __future__ import annotations

from pathlib import Path

from tests.audit.flowsupport import flow_lines, flows, incidents, inject, real, run

OPENAI = (
    "1677971741.100  1234 10.0.1.5 TCP_TUNNEL/200 5120 CONNECT "
    "api.openai.com:443 - HIER_DIRECT/162.159.140.245 -"
)
DENIED = (
    "1677971742.200  12 10.0.1.6 TCP_DENIED/403 256 CONNECT api.anthropic.com:443 - HIER_NONE/- -"
)
MISTRAL = (
    "1677971743.300  80 10.0.1.7 TCP_MISS/200 900 POST "
    "http://api.mistral.ai/v1/chat/completions?key=x - "
    "HIER_DIRECT/51.159.1.1 application/json"
)
GATEWAY = (
    "1677971744.400  80 10.0.9.9 TCP_TUNNEL/200 900 CONNECT "
    "api.openai.com:443 - HIER_DIRECT/162.159.140.245 -"
)


def test_ai_tunnels_in_a_real_squid_log_are_exactly_the_injected_ones(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    lines = inject(
        real("logs_squid_sample/squid_access.log"),
        [(2, OPENAI), (5, DENIED), (6, MISTRAL), (8, GATEWAY)],
        log,
    )
    db = tmp_path / "flows.duckdb"
    result = run([log], db, gateways=["10.0.9.9"])
    assert result.sources[0].format == "squid"
    assert result.sources[0].records == 12
    assert flows(db) == {
        ("10.0.1.5", "api.openai.com", "openai", False),
        ("10.0.1.7", "api.mistral.ai", "mistral", False),
        ("10.0.9.9", "api.openai.com", "openai", True),
    }
    assert flow_lines(db) == {
        ("api.openai.com", "access.log", lines[OPENAI]),
        ("api.mistral.ai", "access.log", lines[MISTRAL]),
        ("api.openai.com", "access.log", lines[GATEWAY]),
    }
    assert incidents(db) == {
        ("bypass", "10.0.1.5", "api.openai.com", "critical"),
        ("bypass", "10.0.1.7", "api.mistral.ai", "critical"),
    }


def test_the_real_squid_sample_alone_has_no_ai_flow(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    inject(real("logs_squid_sample/squid_access.log"), [], log)
    run([log], tmp_path / "f.duckdb")
    assert flows(tmp_path / "f.duckdb") == set()
