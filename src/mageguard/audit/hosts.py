"""Which destinations are AI services: the providers catalog first (it names the API
hosts and their kind), then the v2fly community list (consumer AI apps, model hubs and
their CDNs, which the catalog does not try to follow).

v2fly's rule kinds keep their meaning: `domain:` matches the host and every subdomain,
`full:` that host only, `keyword:` a substring, `regexp:` a regular expression. Rules
marked `@ads` (telemetry and tracking endpoints) are not AI services and are skipped.
The same rules also give the literal gate that lets ingestion skip lines without
parsing them (see ingest/gate.py).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

from mageguard.catalog import load_catalog
from mageguard.errors import CatalogError

V2FLY_FILE = "ai_hosts_v2fly.csv"


@dataclass(frozen=True, slots=True)
class Destination:
    """An AI destination: `provider` is the catalog's id (or the v2fly list's name when
    only that list knows the host), `kind` the catalog's kind or `ai_service`."""

    provider: str
    kind: str
    source: str  # catalog | v2fly


@dataclass(frozen=True)
class V2flyRules:
    domain: dict[str, str]
    full: dict[str, str]
    keyword: tuple[tuple[str, str], ...]
    regexp: tuple[tuple[re.Pattern[str], str], ...]


@functools.cache
def v2fly_rules() -> V2flyRules:
    try:
        text = resources.files("mageguard.catalog").joinpath("data", V2FLY_FILE).read_text("utf-8")
    except OSError as exc:
        raise CatalogError(f"catalog file {V2FLY_FILE}: {exc}") from exc
    domain: dict[str, str] = {}
    full: dict[str, str] = {}
    keyword: list[tuple[str, str]] = []
    regexp: list[tuple[re.Pattern[str], str]] = []
    for row in csv.DictReader(io.StringIO(text)):
        value, kind, name = row["value"].strip().lower(), row["rule_type"], row["list"]
        if "@ads" in (row.get("attrs") or "") or not value:
            continue
        if kind == "domain":
            domain.setdefault(value, name)
        elif kind == "full":
            full.setdefault(value, name)
        elif kind == "keyword":
            keyword.append((value, name))
        elif kind == "regexp":
            try:
                regexp.append((re.compile(row["value"], re.I), name))
            except re.error as exc:
                raise CatalogError(f"{V2FLY_FILE}: bad regexp {value!r}: {exc}") from None
        else:
            raise CatalogError(f"{V2FLY_FILE}: unknown rule type {kind!r}")
    return V2flyRules(domain, full, tuple(keyword), tuple(regexp))


class HostClassifier:
    """host -> Destination or None; results are cached (logs repeat their hosts)."""

    def __init__(self) -> None:
        self._catalog = load_catalog()
        self._v2fly = v2fly_rules()
        self._cache: dict[str, Destination | None] = {}

    def classify(self, host: str) -> Destination | None:
        host = host.strip().lower().rstrip(".")
        try:
            return self._cache[host]
        except KeyError:
            pass
        found = self._lookup(host) if host else None
        if len(self._cache) < 200_000:
            self._cache[host] = found
        return found

    def _lookup(self, host: str) -> Destination | None:
        provider = self._catalog.hosts.match(host)
        if provider is not None:
            return Destination(provider.id, provider.kind, "catalog")
        rules = self._v2fly
        name = rules.full.get(host)
        if name is None:
            labels = host.split(".")
            for i in range(len(labels)):
                name = rules.domain.get(".".join(labels[i:]))
                if name is not None:
                    break
        if name is None:
            name = next((n for word, n in rules.keyword if word in host), None)
        if name is None:
            name = next((n for rx, n in rules.regexp if rx.search(host)), None)
        if name is None:
            return None
        known = self._catalog.provider_by_id.get(name)
        if known is not None:
            return Destination(known.id, known.kind, "v2fly")
        return Destination(name, "ai_service", "v2fly")


def gate_literals() -> tuple[str, ...]:
    """Literals at least one of which occurs in every line naming an AI host: catalog
    host names (a wildcard's longest literal part) and every v2fly value (a regexp rule's
    longest literal run)."""
    out: set[str] = set()
    for provider in load_catalog().providers:
        for host in provider.hosts:
            out.add(max(host.split("*"), key=len).strip("."))
    rules = v2fly_rules()
    out.update(rules.domain)
    out.update(rules.full)
    out.update(word for word, _ in rules.keyword)
    for rx, _ in rules.regexp:
        runs = re.findall(r"(?:[a-z0-9-]|\\\.)+", rx.pattern.lower())
        out.add(max(runs, key=len).replace("\\.", "."))
    return tuple(sorted(w for w in out if len(w) >= 3))
