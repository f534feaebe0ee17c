"""Which surface a Fact belongs to, from the signals in surfaces.yaml.

The code's place and wiring decide: a plugin on a checkout class, an observer of a
payment event, an Adminhtml controller, a cron job, path words like "Search".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mageguard.catalog import Catalog, Surface, load_catalog
from mageguard.scan.facts import Fact
from mageguard.scan.wiring import Wiring

_PATH_AREAS = (
    (
        re.compile(r"/Controller/Adminhtml/|/Block/Adminhtml/|/view/adminhtml/|/etc/adminhtml/"),
        "adminhtml",
    ),
    (re.compile(r"/Cron/"), "crontab"),
    (re.compile(r"/Console/"), "console"),
    (re.compile(r"/view/frontend/|/etc/frontend/|/Controller/(?!Adminhtml)"), "frontend"),
)


def _areas(fact: Fact, wiring: Wiring) -> set[str]:
    areas: set[str] = set()
    for cls in fact.classes:
        areas |= wiring.areas.get(cls.lower(), set())
        path = "/" + cls.replace("\\", "/") + "/"
        for regex, area in _PATH_AREAS:
            if regex.search(path):
                areas.add(area)
    for regex, area in _PATH_AREAS:
        if regex.search("/" + fact.path):
            areas.add(area)
    return areas


def score(surface: Surface, fact: Fact, wiring: Wiring) -> int:
    total = 0
    for cls in fact.classes:
        targets = wiring.plugins.get(cls.lower(), set())
        if any(t.lower().startswith(p.lower()) for t in targets for p in surface.plugin_targets):
            total += 5
        events = wiring.observers.get(cls.lower(), set())
        if any(e.startswith(p) for e in events for p in surface.events):
            total += 5
    words = " ".join([fact.path, *fact.classes]).lower()
    total += 2 * sum(1 for tok in surface.path_tokens if tok.lower() in words)
    total += sum(1 for a in surface.areas if a in _areas(fact, wiring))
    total += sum(1 for c in surface.categories if c in fact.categories)
    if fact.kind in surface.facts:
        total += 4
    if fact.provider:
        provider = load_catalog().provider_by_id.get(fact.provider)
        if provider is not None and provider.surface == surface.id:
            total += 3
    return total


def infer(fact: Fact, catalog: Catalog, wiring: Wiring, fixed: str | None = None) -> str:
    """The rule's fixed surface wins, then the analyzer's, then the best-scoring signal;
    ties go to the riskier surface. With no signal at all: content generation."""
    if fixed:
        return fixed
    if fact.surface:
        return fact.surface
    best: tuple[int, int, str] | None = None
    for s in catalog.surfaces:
        sc = score(s, fact, wiring)
        key = (sc, -s.risk, s.id)
        if sc > 0 and (best is None or key > best):
            best = key
    return best[2] if best else "content_generation"


def risk_order(catalog: Catalog, surfaces: Iterable[str]) -> list[str]:
    rank = {s.id: s.risk for s in catalog.surfaces}
    return sorted(set(surfaces), key=lambda s: (rank.get(s, 99), s))
