"""Which Tenant (Magento website code) a source host speaks for: a small YAML file,

    tenants:
      - website: base
        sources: [10.0.1.0/24, web-1.shop.internal]
      - website: b2b
        sources: [10.0.2.15]

A source matches an address, a network (CIDR) or a host name exactly. An Incident from a
source that no entry names affects tenant "unknown": the officer must find out whose
data it was.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from mageguard.catalog.loader import SafeLoader, validate
from mageguard.errors import CatalogError, InputError

UNKNOWN = "unknown"
TenantMap = list[tuple[str, str]]  # (website, source pattern)


def load(path: Path) -> TenantMap:
    try:
        raw = yaml.load(path.read_text("utf-8"), Loader=SafeLoader)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a YAML file: {exc}") from None
    schema = resources.files("mageguard.catalog").joinpath("schemas", "audit_tenants.schema.json")
    try:
        validate(raw, json.loads(schema.read_text("utf-8")), str(path))
    except CatalogError as exc:
        raise InputError(str(exc)) from None
    out: TenantMap = []
    for entry in raw["tenants"]:
        for source in entry["sources"]:
            _network(source, path)  # refuse a bad CIDR now, not at query time
            out.append((str(entry["website"]), str(source).lower()))
    return out


def _network(
    source: str, where: Path | str
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in source:
        return None
    try:
        return ipaddress.ip_network(source, strict=False)
    except ValueError:
        raise InputError(f"{where}: {source!r} is not a network") from None


def tenants_of(source: str, mapping: Iterable[tuple[str, str]]) -> list[str]:
    host = source.lower().removeprefix("tenant:")
    if source.startswith("tenant:"):
        return [host]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    found = set()
    for website, pattern in mapping:
        network = _network(pattern, "tenants") if "/" in pattern else None
        if pattern == host or (network is not None and ip is not None and ip in network):
            found.add(website)
    return sorted(found) or [UNKNOWN]
