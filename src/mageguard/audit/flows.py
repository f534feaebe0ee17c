"""Flows: who sent what to which AI destination, seen in the ingested logs.

A Flow groups records by source, destination and whether they went through the gateway.
A record names its destination, or only an address; an address becomes an AI host when
a DNS answer in the ingested logs resolved an AI host to it within DNS_WINDOW before the
record (or DNS_SKEW after, for clocks that disagree). Zeek's conn and ssl logs describe
the same connection: a conn takes its ssl's SNI (same uid) and the ssl row is not
counted again. Records a proxy or firewall refused carried nothing and are not Flows.

Through the gateway means: the gateway's audit store recorded it; or it came from a
gateway address (`--gateway`), or went to one (an upstream or an address that is the
gateway: DNS or hosts entries sending an AI host to the gateway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

DNS_WINDOW = 24 * 3600.0
DNS_SKEW = 300.0
EVIDENCE = 5


@dataclass(frozen=True)
class Evidence:
    file: str
    line: int
    text: str


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    provider: str | None
    provider_kind: str | None
    first_seen: float
    last_seen: float
    requests: int
    bytes_out: int | None
    max_bytes_out: int | None
    via_gateway: bool
    formats: tuple[str, ...]
    evidence: tuple[Evidence, ...]


_SQL = """
WITH gw AS (SELECT host, port FROM gateways),
dns AS (
  SELECT r.host, r.provider, r.provider_kind, r.answer, r.ts, s.path, r.line, r.text
  FROM records r JOIN sources s ON s.id = r.source
  WHERE r.kind = 'dns' AND r.answer IS NOT NULL AND r.provider IS NOT NULL AND r.ts IS NOT NULL),
ssl AS (
  SELECT conn_id, any_value(host) AS host, any_value(provider) AS provider,
         any_value(provider_kind) AS provider_kind
  FROM records WHERE fmt = 'zeek-ssl' AND conn_id IS NOT NULL GROUP BY conn_id),
conns AS (SELECT DISTINCT conn_id FROM records WHERE fmt = 'zeek-conn' AND conn_id IS NOT NULL),
flow AS (
  SELECT r.source, r.line, r.fmt, r.ts, r.src, r.dst_ip, r.bytes_out, r.via_gateway,
         r.upstream_host, r.upstream_port, r.text, s.path,
         coalesce(r.host, ssl.host) AS host, coalesce(r.provider, ssl.provider) AS provider,
         coalesce(r.provider_kind, ssl.provider_kind) AS provider_kind,
         row_number() OVER () AS rid
  FROM records r JOIN sources s ON s.id = r.source
  LEFT JOIN ssl ON r.fmt = 'zeek-conn' AND r.conn_id = ssl.conn_id
  WHERE r.kind = 'flow' AND NOT r.blocked AND r.ts IS NOT NULL
    AND NOT (r.fmt = 'zeek-ssl' AND r.conn_id IN (SELECT conn_id FROM conns))),
resolved AS (
  SELECT f.rid, arg_max(d.host, d.ts) AS host, arg_max(d.provider, d.ts) AS provider,
         arg_max(d.provider_kind, d.ts) AS provider_kind, arg_max(d.path, d.ts) AS dns_path,
         arg_max(d.line, d.ts) AS dns_line, arg_max(d.text, d.ts) AS dns_text
  FROM flow f JOIN dns d ON f.host IS NULL AND d.answer = f.dst_ip
    AND d.ts BETWEEN f.ts - $window AND f.ts + $skew
  GROUP BY f.rid),
ai AS (
  SELECT f.*, coalesce(f.host, r.host, f.dst_ip) AS destination,
         coalesce(f.provider, r.provider) AS prov,
         coalesce(f.provider_kind, r.provider_kind) AS prov_kind,
         r.dns_path, r.dns_line, r.dns_text,
         coalesce(f.via_gateway
          OR f.src IN (SELECT host FROM gw)
          OR f.dst_ip IN (SELECT host FROM gw)
          OR EXISTS (SELECT 1 FROM gw WHERE gw.host = f.upstream_host
                     AND (gw.port IS NULL OR gw.port = f.upstream_port)), false) AS via
  FROM flow f LEFT JOIN resolved r USING (rid)
  WHERE coalesce(f.provider, r.provider) IS NOT NULL OR f.via_gateway)
SELECT src, destination, prov, any_value(prov_kind), min(ts), max(ts), count(*),
       sum(bytes_out), max(bytes_out), via, list(DISTINCT fmt ORDER BY fmt),
       list({'file': path, 'line': line, 'text': text} ORDER BY ts, path, line)[1:$evidence],
       arg_min({'file': dns_path, 'line': dns_line, 'text': dns_text}, ts)
         FILTER (WHERE dns_path IS NOT NULL)
FROM ai GROUP BY src, destination, prov, via
ORDER BY min(ts), src, destination
"""


def load_flows(con: duckdb.DuckDBPyConnection) -> list[Flow]:
    rows = con.execute(
        _SQL, {"window": DNS_WINDOW, "skew": DNS_SKEW, "evidence": EVIDENCE}
    ).fetchall()
    flows = []
    for src, dest, prov, kind, first, last, n, total, most, via, fmts, ev, dns_ev in rows:
        evidence = [Evidence(e["file"], int(e["line"]), e["text"]) for e in ev]
        if dns_ev is not None:
            evidence.append(Evidence(dns_ev["file"], int(dns_ev["line"]), dns_ev["text"]))
        flows.append(
            Flow(
                source=src,
                destination=dest,
                provider=prov,
                provider_kind=kind,
                first_seen=float(first),
                last_seen=float(last),
                requests=int(n),
                bytes_out=None if total is None else int(total),
                max_bytes_out=None if most is None else int(most),
                via_gateway=bool(via),
                formats=tuple(fmts),
                evidence=tuple(evidence),
            )
        )
    return flows


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
