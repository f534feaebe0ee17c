"""Envoy's JSON access logs (the default format's keys written as `json_format`: start_time,
authority, upstream_host, bytes_received, downstream_remote_address...; which keys are read
is data: audit/data/fields.yaml). bytes_received is what the client sent, so it is what
went out towards the upstream. A request that reached no upstream (upstream_host `-` and
a 4xx/5xx answer) left nothing: blocked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mageguard.audit.ingest.base import Parser
from mageguard.audit.ingest.record import (
    FLOW,
    Record,
    as_int,
    destination,
    iso,
    split_hostport,
    strip_query,
)
from mageguard.audit.knowledge import load


def json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def first(doc: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = doc.get(key)
        if value not in (None, "", "-"):
            return value
    return None


class EnvoyParser(Parser):
    name = "envoy"

    def __init__(self) -> None:
        self._keys: Mapping[str, Sequence[str]] = load("fields")["envoy"]

    def sniff(self, text: str) -> bool:
        doc = json_object(text)
        return doc is not None and "authority" in doc and "start_time" in doc

    def parse(self, text: str, line: int) -> list[Record]:
        doc = json_object(text)
        if doc is None:
            return []
        keys = self._keys
        authority = first(doc, keys["host"])
        src = first(doc, keys["src"])
        if not isinstance(authority, str) or not isinstance(src, str):
            return []
        host, ip, port = destination(authority)
        if host is None and ip is None:
            return []
        upstream = first(doc, keys["upstream"])
        code = as_int(first(doc, keys["status"])) or 0
        ts = first(doc, keys["ts"])
        return [
            Record(
                FLOW,
                line,
                iso(ts) if isinstance(ts, str) else None,
                split_hostport(src.split(",")[0])[0],
                host=host,
                dst_ip=ip,
                dst_port=port,
                bytes_out=as_int(first(doc, keys["bytes_out"])),
                blocked=upstream is None and "upstream_host" in doc and code >= 400,
                upstream=upstream.lower() if isinstance(upstream, str) else None,
                text=strip_query(text),
            )
        ]
