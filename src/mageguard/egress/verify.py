"""`egress verify`: load the rendered nftables ruleset on a real kernel and prove, rule by
rule, that it does what the policy says.

The scenario (scenario.py) is built as hosts in network namespaces (netns.py) and every
path is probed twice: once without rules, where everything must connect (so a refusal
later is the rules' doing and not a missing listener), then with the ruleset loaded. A
rule passes when every probe meant for it ends as expected and its packet counter shows
that it, and not some other line, decided them.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mageguard.egress import netns
from mageguard.egress import plan as p
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.scenario import Probe, Scenario, scenario
from mageguard.egress.targets import nftables

_COMMENT = re.compile(r'comment "mageguard:([^"]+)"')


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    address: str
    baseline: bool  # connected without rules (the lab works)
    connected: bool  # connected with the ruleset loaded
    detail: str  # the error with rules, or the baseline's when the lab itself failed

    @property
    def ok(self) -> bool:
        return self.baseline and self.connected == self.probe.expect


@dataclass(frozen=True)
class RuleResult:
    rule: str
    packets: int
    outcomes: tuple[Outcome, ...]
    loaded: bool = True  # the loaded ruleset has a line with this rule's comment

    @property
    def ok(self) -> bool:
        """Every probe as expected, and the rule itself counted them."""
        if not self.outcomes:
            return True
        return self.loaded and all(o.ok for o in self.outcomes) and self.packets > 0

    @property
    def status(self) -> str:
        if not self.loaded:
            return "FAILED (not in the ruleset)"
        if not self.outcomes:
            return "not probed"
        return "ok" if self.ok else "FAILED"


@dataclass(frozen=True)
class Report:
    rules: tuple[RuleResult, ...]
    ruleset: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rules)


def verify(policy: EgressPolicy, *, source: str = "") -> Report:
    """Build the lab for `policy`, render its ruleset as `egress render` would, prove it."""
    sc = scenario(policy)
    return prove(sc, nftables.ruleset(p.build_plan(policy, sc.resolve), source=source))


def prove(sc: Scenario, ruleset: str) -> Report:
    """Probe the scenario's paths without and then with `ruleset` on the magento host.
    A rule a probe expects but the ruleset lacks is reported too, as failed."""
    netns.preflight()
    with netns.lab(sc.gateway_side, sc.internet_side) as the, tempfile.TemporaryDirectory() as tmp:
        for role, listen in sc.listeners().items():
            the.serve(role, listen)
        the.write_hosts(sc.names)
        baseline = _run_probes(the, sc.probes)
        path = Path(tmp) / "mageguard.nft"
        path.write_text(ruleset, "utf-8")
        the.load_ruleset(path)
        after = _run_probes(the, sc.probes)
        packets = the.counters()
    outcomes = [
        Outcome(probe, address, before[1], connected, detail if before[1] else before[2])
        for probe, before, (address, connected, detail) in zip(
            sc.probes, baseline, after, strict=True
        )
    ]
    named = [*_COMMENT.findall(ruleset), *(pr.rule for pr in sc.probes)]
    rules = []
    for rule in dict.fromkeys(named):
        mine = tuple(o for o in outcomes if o.probe.rule == rule)
        rules.append(RuleResult(rule, packets.get(rule, 0), mine, rule in packets))
    return Report(tuple(rules), ruleset)


def format_report(report: Report) -> str:
    """A line per rule (its packet counter, its verdict), then one per probe under it:
    what was tried, what was expected, what happened."""
    rows = [("rule", "probe", "expect", "got", "status")]
    for r in report.rules:
        rows.append((r.rule, "", "", f"{r.packets} packets", r.status))
        for o in r.outcomes:
            target = f"[{o.probe.target}]" if ":" in o.probe.target else o.probe.target
            where = f"{o.probe.protocol} {target}:{o.probe.port}"
            if o.address and o.address != o.probe.target:
                where += f" ({o.address})"
            if not o.baseline:
                got = f"lab broken: {o.detail}"
            else:
                got = "connects" if o.connected else f"refused: {o.detail}"
            expect = "connects" if o.probe.expect else "refused"
            rows.append(("", where, expect, got, "ok" if o.ok else "FAILED"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]
    failed = [r.rule for r in report.rules if not r.ok]
    lines.append("")
    lines.append("every rule holds" if not failed else f"FAILED: {', '.join(failed)}")
    return "\n".join(lines) + "\n"


def _run_probes(the: netns.Lab, probes: Sequence[Probe]) -> list[tuple[str, bool, str]]:
    """(address, connected, detail) per probe, in order."""
    results: list[tuple[str, bool, str]] = [("", False, "not run")] * len(probes)
    for origin in (netns.MAGENTO, netns.INTERNET):
        items = [
            {
                "id": n,
                "target": pr.target,
                "port": pr.port,
                "protocol": pr.protocol,
                "family": pr.family,
            }
            for n, pr in enumerate(probes)
            if pr.origin == origin
        ]
        for found in the.probe(origin, items):
            results[found["id"]] = (found["address"], found["connected"], found["detail"])
    return results
