"""Envoy JSON access logs: the authority names the destination, bytes_received is what
went out; an upstream that is the gateway means the call went through it; a request
that reached no upstream was refused (no flow)."""

from __future__ import annotations

from pathlib import Path

from tests.audit.flowsupport import FIXTURES, flows, incidents, run


def test_envoy_flows_are_exactly_the_ai_authorities(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    result = run([FIXTURES / "envoy_access.jsonl"], db, gateways=["10.0.9.9:8088"])
    assert result.sources[0].format == "envoy"
    assert flows(db) == {
        ("10.0.1.6", "api.openai.com", "openai", False),
        ("10.0.1.7", "api.anthropic.com", "anthropic", True),
        ("10.0.1.9", "api.mistral.ai", "mistral", True),
    }


def test_a_request_over_the_policy_limit_through_the_gateway_is_an_incident(
    tmp_path: Path,
) -> None:
    db = tmp_path / "flows.duckdb"
    run([FIXTURES / "envoy_access.jsonl"], db, gateways=["10.0.9.9:8088"], max_bytes=1 << 20)
    assert incidents(db) == {
        ("bypass", "10.0.1.6", "api.openai.com", "critical"),
        ("over_policy", "10.0.1.9", "api.mistral.ai", "high"),
    }


def test_a_gateway_on_another_port_is_not_this_upstream(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    run([FIXTURES / "envoy_access.jsonl"], db, gateways=["10.0.9.9:9000"])
    assert ("10.0.1.7", "api.anthropic.com", "anthropic", False) in flows(db)
