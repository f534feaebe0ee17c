"""Observed flows and incidents, as `mageguard audit flows -f json` writes them (version 1).

The report reads that file rather than the logs: ingestion is `audit`'s job, and the
contract between the two is the schema in report/schemas/flows.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mageguard.report.inputs import parse_time, read_json


@dataclass(frozen=True)
class Deadline:
    regime: str
    article: str
    obligation: str
    due: str


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    provider: str | None
    first_seen: str
    last_seen: str
    requests: int
    bytes_out: int | None
    via_gateway: bool
    formats: tuple[str, ...]

    @property
    def is_ai(self) -> bool:
        return self.provider is not None

    @property
    def bypass(self) -> bool:
        return self.is_ai and not self.via_gateway


@dataclass(frozen=True)
class Incident:
    """An incident as `audit incidents` reports it. The report names the files of its
    evidence and counts the lines, but never quotes them: log lines can hold customer data."""

    id: str
    severity: str
    kind: str
    source: str
    destination: str
    provider: str | None
    tenants: tuple[str, ...]
    aware_at: str
    first_seen: str
    last_seen: str
    evidence_files: tuple[str, ...]
    evidence_lines: int
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True)
class FlowSource:
    path: str
    format: str
    records: int


@dataclass(frozen=True)
class FlowAudit:
    generated_at: str
    sources: tuple[FlowSource, ...]
    flows: tuple[Flow, ...]
    incidents: tuple[Incident, ...]

    @property
    def bypassing(self) -> tuple[Flow, ...]:
        return tuple(f for f in self.flows if f.bypass)


def load_flows(path: Path) -> FlowAudit:
    data = read_json(path, "flows", "mageguard flows JSON")
    flows = tuple(
        Flow(
            f["source"],
            f["destination"],
            f["provider"],
            f["first_seen"],
            f["last_seen"],
            f["requests"],
            f["bytes_out"],
            f["via_gateway"],
            tuple(f["formats"]),
        )
        for f in data["flows"]
    )
    incidents = tuple(
        Incident(
            i["id"],
            i["severity"],
            i["kind"],
            i["source"],
            i["destination"],
            i["provider"],
            tuple(i["tenants"]),
            i["aware_at"],
            i["first_seen"],
            i["last_seen"],
            tuple(sorted({e["file"] for e in i["evidence"]})),
            len(i["evidence"]),
            tuple(
                Deadline(d["regime"], d["article"], d["obligation"], d["due"])
                for d in i["deadlines"]
            ),
        )
        for i in data["incidents"]
    )
    for incident in incidents:  # the clocks are read later: a bad time fails here, named
        parse_time(incident.aware_at, f"{path}: incident {incident.id}: aware_at")
        for d in incident.deadlines:
            parse_time(d.due, f"{path}: incident {incident.id}: {d.regime} deadline")
    sources = tuple(FlowSource(s["path"], s["format"], s["records"]) for s in data["sources"])
    return FlowAudit(data["generated_at"], sources, flows, incidents)
