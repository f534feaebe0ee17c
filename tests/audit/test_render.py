"""The flows document is the contract the evidence report reads: exactly its keys; and
evidence lines never carry customer data."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit import flowdb, render
from tests.audit.flowsupport import run

LINE = (
    '10.0.2.6 - jane.doe@example.com [17/May/2015:10:07:00 +0000] "POST '
    'https://api.cohere.ai/v1/chat?q=card+4111111111111111 HTTP/1.1" 200 90 "-" "php"'
)
FLOW_KEYS = {
    "source", "destination", "provider", "first_seen", "last_seen", "requests", "bytes_out",
    "via_gateway", "formats",
}  # fmt: skip
INCIDENT_KEYS = {
    "id", "severity", "kind", "source", "destination", "provider", "tenants", "aware_at",
    "first_seen", "last_seen", "evidence", "deadlines",
}  # fmt: skip


def test_the_flows_document_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n")
    db = tmp_path / "flows.duckdb"
    run([log], db, now=1_800_000_000.0)
    with flowdb.connect(db, read_only=True) as con:
        doc = render.flows_document(con)
    assert set(doc) == {"kind", "version", "generated_at", "sources", "flows", "incidents"}
    assert (doc["kind"], doc["version"]) == ("mageguard.flows", 1)
    assert doc["sources"] == [{"path": str(log), "format": "nginx", "records": 1}]
    assert doc["flows"] == [
        {
            "source": "10.0.2.6",
            "destination": "api.cohere.ai",
            "provider": "cohere",
            "first_seen": "2015-05-17T10:07:00Z",
            "last_seen": "2015-05-17T10:07:00Z",
            "requests": 1,
            "bytes_out": None,
            "via_gateway": False,
            "formats": ["nginx"],
        }
    ]
    (incident,) = doc["incidents"]
    assert set(incident) == INCIDENT_KEYS and set(doc["flows"][0]) == FLOW_KEYS
    assert incident["aware_at"] == "2027-01-15T08:00:00Z"
    assert {d["regime"] for d in incident["deadlines"]} == {"GDPR", "NIS2"}
    assert set(incident["deadlines"][0]) == {"regime", "article", "obligation", "due"}
    (evidence,) = incident["evidence"]
    assert evidence["file"] == str(log) and evidence["line"] == 1
    assert "jane.doe" not in evidence["text"] and "4111" not in evidence["text"]
    assert "10.0.2.6" in evidence["text"] and "api.cohere.ai/v1/chat " in evidence["text"]
