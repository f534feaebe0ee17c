"""The audit store as evidence: verified with the store's own verify, events counted by
tenant and surface, local and external, and a tampered chain reported as such."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from mageguard.report.audit import Count, TrafficRow, summarise_audit


def test_a_store_written_by_the_gateway_writer_is_summarised(audit_dir: Path) -> None:
    summary = summarise_audit(str(audit_dir / "audit.db"))
    assert summary.chain_intact and not summary.problems
    assert summary.records == 14 and summary.checkpoints >= 1
    assert summary.requests == 12
    assert summary.traffic == (
        TrafficRow("b2b", "checkout_payment", 1, 0, 0, 1),
        TrafficRow("b2b", "content_generation", 3, 0, 3, 0),
        TrafficRow("base", "search_recommendations", 8, 8, 0, 0),
    )
    assert summary.decisions == (Count("allowed", 11), Count("refused", 1))
    assert summary.redacted_entities == (Count("SKU", 19), Count("EMAIL", 8))
    assert summary.redacted_categories == (Count("catalog_content", 19), Count("customer_pii", 8))
    assert summary.proxy_blocked_hosts == (Count("api.openai.com", 1),)
    assert summary.policy is None


def test_a_gateway_configuration_brings_its_tenants_policy(gateway_config: Path) -> None:
    summary = summarise_audit(str(gateway_config))
    assert summary.chain_intact and summary.requests == 12
    assert summary.policy == str(gateway_config)
    assert dict(summary.external_categories) == {"base": (), "b2b": ("catalog_content",)}


def test_a_changed_record_breaks_the_chain(audit_dir: Path) -> None:
    with closing(sqlite3.connect(audit_dir / "audit.db")) as db, db:
        db.execute("UPDATE audit_events SET body = replace(body, 'b2b', 'bbb') WHERE seq = 9")
    summary = summarise_audit(str(audit_dir / "audit.db"))
    assert not summary.chain_intact
    assert summary.first_bad_seq == 9
    assert summary.problems
