"""Prompt-injection detection: fast rules and a small learned model, combined.

    score(text) -> float in [0, 1]          higher = more likely an attack
    verdict(text) -> Verdict                score, decision and why (audit-safe)

The text is cut into segments (lines, sentences, windows; `segment.py`); the model scores
each segment, the whole text, and any text the rules decoded (base64 payloads), and
keeps the maximum: an indirect injection is one instruction inside benign content, and
its signal would drown in a whole-document score. The rules (`rules.yaml`) give evidence
per hit; distinct rules combine as a noisy-OR, and the result combines with the model the
same way: score = 1 - (1 - model) * (1 - rules).

The decision threshold is the one chosen at 1% false-positive rate on the validation
split when the model was trained (stored in its manifest, `data/injection_model.json`).
A `Verdict` explains itself with rule ids, segment offsets and scores; it never holds
any of the text, so it can be written to the audit log as it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mageguard.guard.model import LinearModel, UnitKind, load_manifest, load_model
from mageguard.guard.rules import RuleHit, RuleScan, RuleSet, load_rules

TOP_SEGMENTS = 3  # segments named in a verdict


@dataclass(frozen=True, slots=True)
class SegmentScore:
    """A scored unit of the text: a segment, the document ([start, end) of its segments)
    or text decoded from [start, end) ("decoded")."""

    start: int
    end: int
    score: float
    kind: UnitKind


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float
    attack: bool
    threshold: float
    model_score: float
    rule_score: float
    rules: tuple[RuleHit, ...]
    segments: tuple[SegmentScore, ...]  # the highest-scoring units, best first

    @property
    def label(self) -> Literal["attack", "benign"]:
        return "attack" if self.attack else "benign"

    def to_dict(self) -> dict[str, Any]:
        """Audit-safe: rule ids, offsets and scores only."""
        return {
            "score": round(self.score, 6),
            "verdict": self.label,
            "threshold": round(self.threshold, 6),
            "model_score": round(self.model_score, 6),
            "rule_score": round(self.rule_score, 6),
            "rules": [
                {"rule": h.rule, "start": h.start, "end": h.end, "score": h.score}
                for h in self.rules
            ],
            "segments": [
                {"start": s.start, "end": s.end, "score": round(s.score, 6), "kind": s.kind}
                for s in self.segments
            ],
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The parts of a score, for evaluation and baselines."""

    score: float
    model_score: float
    rule_score: float
    scan: RuleScan
    segments: tuple[SegmentScore, ...]


def combine(model_score: float, rule_score: float) -> float:
    return 1.0 - (1.0 - model_score) * (1.0 - rule_score)


class InjectionGuard:
    """Rules + model + threshold. Thread-safe; build once and share."""

    def __init__(self, rules: RuleSet, model: LinearModel, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold {threshold} outside [0, 1]")
        self.rules = rules
        self.model = model
        self.threshold = threshold

    def assess(self, text: str, *, top: int = TOP_SEGMENTS) -> Assessment:
        scan = self.rules.scan(text)
        scored = self.model.score_text(text, [((p.start, p.end), p.text) for p in scan.payloads])
        probs = scored.probs
        model_score = scored.max
        segs: list[SegmentScore] = []
        if len(probs) and top > 0:
            for i in np.argsort(-probs, kind="stable")[:top]:
                unit = scored.units[int(i)]
                segs.append(SegmentScore(unit.start, unit.end, float(probs[int(i)]), unit.kind))
        rule_score = scan.score
        score = min(1.0, max(0.0, combine(model_score, rule_score)))
        return Assessment(score, model_score, rule_score, scan, tuple(segs))

    def score(self, text: str) -> float:
        """`assess(text).score`, without the parts an explanation needs."""
        scan = self.rules.scan(text)
        model_score = self.model.max_prob(text, [((p.start, p.end), p.text) for p in scan.payloads])
        return min(1.0, max(0.0, combine(model_score, scan.score)))

    def verdict(self, text: str) -> Verdict:
        a = self.assess(text)
        return Verdict(
            score=a.score,
            attack=a.score >= self.threshold,
            threshold=self.threshold,
            model_score=a.model_score,
            rule_score=a.rule_score,
            rules=a.scan.hits,
            segments=a.segments,
        )


@functools.cache
def default_guard() -> InjectionGuard:
    """The packaged rules and model with the manifest's threshold; built once."""
    return InjectionGuard(load_rules(), load_model(), float(load_manifest()["threshold"]))


def score(text: str) -> float:
    """Injection score of `text` in [0, 1] (higher = more likely an attack)."""
    return default_guard().score(text)


def verdict(text: str) -> Verdict:
    """Score, decision at the packaged threshold, and the rules and segments behind it."""
    return default_guard().verdict(text)
