"""Inline suppressions: `mageguard:ignore RULE reason` in a comment, on the finding's line
or the line above. They must name the rule (no blanket ignores), should give a reason,
and unused ones are reported so stale suppressions do not pile up."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mageguard.scan.finding import Finding

MARKER = "mageguard:ignore"
_SUPPRESS = re.compile(
    r"mageguard:ignore[ \t]+([a-z0-9-]+(?:[ \t]*,[ \t]*[a-z0-9-]+)*)"
    r"(?:[ \t]+(.*?))?[ \t]*(?:\*/|-->|\?>)?[ \t]*$",
    re.M,
)


@dataclass(frozen=True)
class Suppression:
    path: str
    line: int
    rules: tuple[str, ...]
    reason: str


def parse(path: str, text: str) -> list[Suppression]:
    out = []
    for m in _SUPPRESS.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        rules = tuple(r.strip() for r in m.group(1).split(","))
        out.append(Suppression(path, line, rules, (m.group(2) or "").strip()))
    return out


def apply(
    findings: Iterable[Finding], suppressions: Iterable[Suppression]
) -> tuple[list[Finding], int, list[Suppression]]:
    """(kept findings, number suppressed, unused suppressions)."""
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for s in suppressions:
        by_line.setdefault((s.path, s.line), []).append(s)
    used: set[Suppression] = set()
    kept: list[Finding] = []
    suppressed = 0
    for f in findings:
        hit = None
        for line in (f.location.line, f.location.line - 1):
            for s in by_line.get((f.location.path, line), ()):
                if f.rule_id in s.rules:
                    hit = s
                    break
            if hit:
                break
        if hit is None:
            kept.append(f)
        else:
            used.add(hit)
            suppressed += 1
    everything = [s for group in by_line.values() for s in group]
    unused = [s for s in everything if s not in used]
    return kept, suppressed, sorted(unused, key=lambda s: (s.path, s.line))
