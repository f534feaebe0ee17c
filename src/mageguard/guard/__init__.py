"""The guard: prompt-injection detection on the way in, output checks on the way out.

    from mageguard.guard import score, verdict, check_output

`injection` combines fast rules (`rules.yaml`, hyperscan) with a small hashed-n-gram
logistic regression (`model`, numpy only at run time) over the segments of a text;
`output` finds canaries, other tenants' dictionary terms, system-prompt leakage and
secrets in a model's answer; `jsonl` streams JSON Lines through the injection guard.
"""

from __future__ import annotations

from mageguard.guard.injection import (
    InjectionGuard,
    SegmentScore,
    Verdict,
    default_guard,
    score,
    verdict,
)
from mageguard.guard.output import (
    OutputFinding,
    check_output,
    find_canary,
    find_prompt_leak,
    find_secrets,
    find_tenant_terms,
    mint_canary,
)
from mageguard.guard.rules import RuleHit, load_rules

__all__ = [
    "InjectionGuard",
    "OutputFinding",
    "RuleHit",
    "SegmentScore",
    "Verdict",
    "check_output",
    "default_guard",
    "find_canary",
    "find_prompt_leak",
    "find_secrets",
    "find_tenant_terms",
    "load_rules",
    "mint_canary",
    "score",
    "verdict",
]
