"""The README's walkthrough: the demo logs (real backgrounds, injected AI traffic; see
tests/fixtures/logs/README.md) give exactly these flows and incidents."""

from __future__ import annotations

from pathlib import Path

from tests.audit.flowsupport import FIXTURES, flow_lines, flows, incidents, run

DEMO = [*sorted((FIXTURES / "demo").iterdir()), FIXTURES / "envoy_access.jsonl"]


def test_the_demo_logs_show_exactly_the_injected_flows(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    run(DEMO, db, gateways=["10.0.9.9", "10.0.9.9:8088"], tenants_file=FIXTURES / "tenants.yaml")
    assert flows(db) == {
        ("10.0.1.5", "api.openai.com", "openai", False),
        ("10.0.1.8", "api.anthropic.com", "anthropic", False),
        ("10.47.1.20", "api.anthropic.com", "anthropic", False),
        ("10.47.1.30", "api.openai.com", "openai", False),
        ("10.47.1.40", "api.openai.com", "openai", False),
        ("10.0.1.6", "api.openai.com", "openai", False),
        ("10.0.9.9", "api.openai.com", "openai", True),
        ("10.0.1.7", "api.anthropic.com", "anthropic", True),
        ("10.0.1.9", "api.mistral.ai", "mistral", True),
    }
    assert {(f, n) for _, f, n in flow_lines(db)} == {
        ("apache_access.log", 121),
        ("apache_access.log", 251),
        ("squid_access.log", 4),
        ("squid_access.log", 11),
        ("zeek_ssl.log", 159),
        ("zeek_conn.log", 41),
        ("zeek_dns.log", 209),
        ("vpc_flow.log", 3),
        ("envoy_access.jsonl", 2),
        ("envoy_access.jsonl", 3),
        ("envoy_access.jsonl", 5),
    }
    assert {(kind, src) for kind, src, _, _ in incidents(db)} == {
        ("bypass", "10.0.1.5"),
        ("bypass", "10.0.1.8"),
        ("bypass", "10.47.1.20"),
        ("bypass", "10.47.1.30"),
        ("bypass", "10.47.1.40"),
        ("bypass", "10.0.1.6"),
        ("over_policy", "10.0.1.9"),
    }
