"""What the report tests share: the sample store's scan as JSON (scanned once per session,
with its database dump), the flows fixture, a real audit store written by the gateway's
own audit writer, and a fixed report time so incident clocks are reproducible."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mageguard.audit.events import AuditEvent
from mageguard.audit.store import AuditStore
from mageguard.audit.writer import AuditWriter

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "tests" / "fixtures" / "magento-store"
DUMP = ROOT / "tests" / "fixtures" / "magento-db.sql"
FLOWS = Path(__file__).parent / "fixtures" / "flows.json"
AS_OF = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)  # NIS2 early warning past, GDPR running


@pytest.fixture(scope="session")
def scan_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mageguard scan tests/fixtures/magento-store --db tests/fixtures/magento-db.sql -f json`."""
    from mageguard.scan.engine import ScanOptions, scan
    from mageguard.scan.formats.json_format import JsonFormat

    result = scan(STORE, ScanOptions(db=str(DUMP), use_cache=False))
    path = tmp_path_factory.mktemp("scan") / "scan.json"
    path.write_text(JsonFormat().render(result), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def scan_data(scan_json: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(scan_json.read_text("utf-8"))
    return data


@pytest.fixture
def flows_json() -> Path:
    return FLOWS


def request_event(n: int, **changes: Any) -> AuditEvent:
    """A gateway request's event: metadata only, as pipeline.record writes it."""
    fields: dict[str, Any] = {
        "ts": 1_764_150_000.0 + n,
        "request_id": f"rep-{n:05d}",
        "tenant": "base",
        "surface": "search_recommendations",
        "endpoint": "/v1/chat/completions",
        "model": "smollm2-135m-instruct",
        "backend": "local",
        "locality": "local",
        "decision": "allowed",
        "status": 200,
        "latency_ms": 40.0,
        "bytes_in": 900,
        "bytes_out": 400,
        "entities": {"EMAIL": 1, "SKU": 2},
        "categories": {"customer_pii": 1, "catalog_content": 2},
    }
    fields.update(changes)
    return AuditEvent(**fields)


def audit_events() -> list[AuditEvent]:
    """12 requests: base/search local (8), b2b/content external (3), one refused; plus a
    proxy refusal and a flag change, which are not requests."""
    events = [request_event(n) for n in range(8)]
    events += [
        request_event(
            10 + n,
            tenant="b2b",
            surface="content_generation",
            backend="openai",
            locality="external",
            entities={"SKU": 1},
            categories={"catalog_content": 1},
        )
        for n in range(3)
    ]
    events.append(
        request_event(
            20,
            tenant="b2b",
            surface="checkout_payment",
            decision="refused",
            reason="injection",
            status=400,
            locality="",
            backend="",
            entities={},
            categories={},
        )
    )
    events.append(
        AuditEvent(
            ts=1_764_150_100.0,
            request_id="rep-proxy",
            kind="proxy",
            tenant="base",
            endpoint="/proxy/connect",
            decision="blocked",
            reason="ai_host:openai",
            status=403,
            detail={"host": "api.openai.com", "port": "443", "source": "10.0.1.21"},
        )
    )
    events.append(
        AuditEvent(
            ts=1_764_150_200.0,
            request_id="rep-flag",
            kind="flag_change",
            tenant="base",
            surface="search_recommendations",
            endpoint="/admin/flags",
            decision="allowed",
            status=200,
            detail={"percent": "50", "kill": "false", "admin": "ops"},
        )
    )
    return events


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    """A gateway data directory whose audit.db was written through AuditWriter, the way the
    gateway records requests (batched, in its thread), then closed with a checkpoint."""
    directory = tmp_path / "gateway-data"
    directory.mkdir()

    async def record() -> None:
        with AuditStore.open(
            str(directory / "audit.db"), directory / "audit.key", directory / "audit.witness"
        ) as store:
            writer = AuditWriter(store, batch=4)
            await writer.start()
            for event in audit_events():
                writer.record(event)
            await writer.flush()
            await writer.aclose()

    asyncio.run(record())
    return directory


@pytest.fixture
def gateway_config(audit_dir: Path) -> Path:
    """A gateway configuration over that data directory: two tenants, b2b lets catalogue
    content (only) go to an external backend."""
    config = audit_dir / "gateway.yaml"
    config.write_text(
        f"""data_dir: {audit_dir}
backends:
  - {{id: local, kind: static, answer: "ok"}}
tenants:
  - id: base
    keys: [{{id: storefront, sha256: "{"a" * 64}"}}]
    routes: {{default: [local]}}
  - id: b2b
    keys: [{{id: storefront, sha256: "{"b" * 64}"}}]
    routes: {{default: [local]}}
    external_categories: [catalog_content]
""",
        encoding="utf-8",
    )
    return config
