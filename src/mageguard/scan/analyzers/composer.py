"""composer.lock: packages known to call AI services (the catalog's package lists)."""

from __future__ import annotations

import json
import re

from mageguard.catalog import load_catalog
from mageguard.errors import InputError
from mageguard.scan.facts import Fact

_NAME_LINE = re.compile(r'"name"\s*:\s*"([^"]+)"')


def package_facts(source: bytes, rel: str) -> list[Fact]:
    catalog = load_catalog()
    try:
        lock = json.loads(source)
    except ValueError as exc:
        raise InputError(f"{rel}: composer.lock is not valid JSON: {exc}") from None
    packages = (
        [*(lock.get("packages") or []), *(lock.get("packages-dev") or [])]
        if isinstance(lock, dict)
        else []
    )
    wanted: dict[str, str] = {}
    for pkg in packages:
        name = pkg.get("name") if isinstance(pkg, dict) else None
        if isinstance(name, str) and catalog.provider_for_package(name) is not None:
            wanted[name.lower()] = str(pkg.get("version", ""))
    facts = []
    text = source.decode("utf-8", "replace")
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _NAME_LINE.search(line)
        if not m or m.group(1).lower() not in wanted or m.group(1).lower() in seen:
            continue
        name = m.group(1)
        seen.add(name.lower())
        provider = catalog.provider_for_package(name)
        if provider is None:
            continue
        facts.append(
            Fact(
                kind="package",
                path=rel,
                line=lineno,
                column=m.start() + 1,
                matched=name,
                language="composer",
                provider=provider.id,
                destination=provider.kind,
                categories=frozenset(provider.package_categories.get(name.lower(), ())),
                detail=(("package", name), ("version", wanted[name.lower()])),
            )
        )
    return facts
