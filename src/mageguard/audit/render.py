"""`audit flows` and `audit incidents` output: `json` for machines (the flows document is
the contract the evidence report reads: keep its keys), `table` for people.

Evidence lines pass through mageguard's log redaction (the `logging` surface's policy:
e-mails, cards, keys, names... become typed tokens) after the query strings were already
dropped at ingestion: no customer data leaves in a report. A line the redactor cannot
handle is replaced, never shown raw (fail closed).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from mageguard.audit.flows import Evidence, Flow, iso, load_flows
from mageguard.audit.incidents import Incident, load_incidents

VERSION = 1
UNREDACTABLE = "[unredactable evidence line]"


@functools.cache
def _redactor() -> Any:
    from mageguard.logs.redaction import build_redactor

    return build_redactor()


# What an evidence line must keep to be evidence: the addresses (the Incident names them
# anyway) and a log's own numbers (an epoch timestamp, a byte count, an HTTP status and
# byte count), which the phone detector would otherwise take for phone numbers.
_KEEP_ENTITIES = frozenset({"IP_ADDRESS"})
_NUMBER = re.compile(r"(?:[1-5]\d\d )?\d+(?:\.\d+)?\Z")


def redacted(text: str) -> str:
    from mageguard.logs.redaction import analyze, redact_line

    try:
        redactor = _redactor()
        spans = [
            s
            for s in analyze(redactor, text)
            if s.entity not in _KEEP_ENTITIES and not _NUMBER.match(text[s.start : s.end])
        ]
        return str(redact_line(redactor, text, spans)[0])
    except Exception:  # fail closed: whatever broke, the raw line is not shown
        return UNREDACTABLE


def _evidence(items: Sequence[Evidence]) -> list[dict[str, Any]]:
    return [{"file": e.file, "line": e.line, "text": redacted(e.text)} for e in items]


def flow_doc(flow: Flow) -> dict[str, Any]:
    return {
        "source": flow.source,
        "destination": flow.destination,
        "provider": flow.provider,
        "first_seen": iso(flow.first_seen),
        "last_seen": iso(flow.last_seen),
        "requests": flow.requests,
        "bytes_out": flow.bytes_out,
        "via_gateway": flow.via_gateway,
        "formats": list(flow.formats),
    }


def incident_doc(incident: Incident, now: float | None = None) -> dict[str, Any]:
    flow = incident.flow
    deadlines = []
    for d in incident.deadlines:
        item: dict[str, Any] = {
            "regime": d.regime,
            "article": d.article,
            "obligation": d.obligation,
            "due": iso(d.due),
        }
        if now is not None:
            item["overdue"] = d.overdue(now)
        deadlines.append(item)
    return {
        "id": incident.id,
        "severity": incident.severity,
        "kind": incident.kind,
        "source": flow.source,
        "destination": flow.destination,
        "provider": flow.provider,
        "tenants": list(incident.tenants),
        "aware_at": iso(incident.aware_at),
        "first_seen": iso(flow.first_seen),
        "last_seen": iso(flow.last_seen),
        "evidence": _evidence(flow.evidence),
        "deadlines": deadlines,
    }


def flows_document(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    sources = con.execute("SELECT path, format, records FROM sources ORDER BY id").fetchall()
    return {
        "kind": "mageguard.flows",
        "version": VERSION,
        "generated_at": iso(time.time()),
        "sources": [{"path": p, "format": f, "records": int(n)} for p, f, n in sources],
        "flows": [flow_doc(f) for f in load_flows(con)],
        "incidents": [incident_doc(i) for i in load_incidents(con)],
    }


def incidents_document(con: duckdb.DuckDBPyConnection, now: float) -> dict[str, Any]:
    return {
        "kind": "mageguard.incidents",
        "version": VERSION,
        "generated_at": iso(time.time()),
        "now": iso(now),
        "incidents": [incident_doc(i, now) for i in load_incidents(con, now)],
    }


def as_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def flows_table(doc: dict[str, Any]) -> str:
    out = [f"{len(doc['sources'])} source(s):"]
    out += [f"  {s['path']}  [{s['format']}]  {s['records']} record(s)" for s in doc["sources"]]
    out.append("")
    out.append(f"{len(doc['flows'])} AI flow(s):")
    for f in doc["flows"]:
        via = "via gateway" if f["via_gateway"] else "BYPASS"
        size = "?" if f["bytes_out"] is None else str(f["bytes_out"])
        out.append(
            f"  {f['source']} -> {f['destination']} ({f['provider'] or '-'})  {via}  "
            f"{f['requests']} request(s), {size} bytes out  "
            f"{f['first_seen']} .. {f['last_seen']}  [{', '.join(f['formats'])}]"
        )
    out.append(f"\n{len(doc['incidents'])} incident(s) (see `mageguard audit incidents`)")
    return "\n".join(out) + "\n"


def _remaining(due: str, now: float) -> str:
    from datetime import datetime

    seconds = datetime.fromisoformat(due.replace("Z", "+00:00")).timestamp() - now
    hours, minutes = divmod(int(abs(seconds)) // 60, 60)
    span = f"{hours // 24}d {hours % 24}h" if hours >= 48 else f"{hours}h {minutes:02d}m"
    return f"OVERDUE by {span}" if seconds < 0 else f"due in {span}"


def incidents_table(doc: dict[str, Any], now: float) -> str:
    out = []
    for i in doc["incidents"]:
        out.append(
            f"{i['id']}  {i['severity'].upper()}  {i['kind']}  {i['source']} -> "
            f"{i['destination']} ({i['provider'] or '-'})  tenants: {', '.join(i['tenants'])}"
        )
        out.append(f"  aware {i['aware_at']}; seen {i['first_seen']} .. {i['last_seen']}")
        for d in i["deadlines"]:
            out.append(
                f"  {d['regime']:<4} {d['article']:<14} {d['due']}  {_remaining(d['due'], now):<22}"
                f" {d['obligation']}"
            )
        for e in i["evidence"]:
            out.append(f"  evidence {e['file']}:{e['line']}: {e['text']}")
        out.append("")
    out.append(f"{len(doc['incidents'])} incident(s) at {doc['now']}")
    return "\n".join(out) + "\n"
