"""The gateway's own audit store as a log, read with the store's code: its proxy
decisions, intercepted calls and external backend calls are flows through the gateway;
refused ones and local ones are not flows; none of them is an incident."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit.store import AuditStore
from tests.audit.flowsupport import flows, incidents, run
from tests.audit.support import Target, event


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    proxy = {"kind": "proxy", "endpoint": "/proxy/connect", "model": "", "backend": ""}
    with AuditStore.open(str(path), tmp_path / "audit.key", tmp_path / "audit.witness") as store:
        store.append(
            [
                event(1),  # local model: no external flow
                event(2, **proxy,
                      detail={"host": "api.openai.com", "port": "443", "source": "10.0.1.5"}),
                event(3, **proxy, decision="blocked", reason="ai_host:anthropic",
                      detail={"host": "api.anthropic.com", "port": "443", "source": "10.0.1.6"}),
                event(4, detail={"intercepted": "api.openai.com"}),
                event(5, backend="openai", locality="external"),
            ]
        )  # fmt: skip
    return path


def test_gateway_audit_events_are_flows_through_the_gateway(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    result = run([_store(tmp_path)], db, gateways=["10.0.9.9"])
    assert [(s.format, s.new_records) for s in result.sources] == [("gateway-audit", 5)]
    assert flows(db) == {
        ("10.0.1.5", "api.openai.com", "openai", True),
        ("tenant:website_base", "api.openai.com", "openai", True),
        ("10.0.9.9", "openai", "openai", True),
    }
    assert incidents(db) == set()


def test_the_store_is_read_once_per_event(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    store = _store(tmp_path)
    run([store], db)
    again = run([store], db)
    assert [(s.new_records, s.records) for s in again.sources] == [(0, 5)]


def test_a_postgresql_audit_store_is_read_through_its_dsn(
    tmp_path: Path, postgres_target: Target
) -> None:
    with postgres_target.open() as store:
        store.append([event(1, backend="openai", locality="external")])
    sep = "&" if "?" in postgres_target.dsn else "?"
    dsn = f"{postgres_target.dsn}{sep}options=-csearch_path%3D{postgres_target.schema}"
    db = tmp_path / "flows.duckdb"
    result = run([dsn], db)
    assert [(s.format, s.new_records) for s in result.sources] == [("gateway-audit", 1)]
    assert flows(db) == {("gateway", "openai", "openai", True)}
