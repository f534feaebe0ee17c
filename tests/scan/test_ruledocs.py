"""docs/rules.md is generated from rule metadata and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from mageguard.scan.ruledocs import markdown
from mageguard.scan.ruleset import load_rules

DOCS = Path(__file__).parent.parent.parent / "docs" / "rules.md"


def test_the_committed_rule_docs_match_the_rules() -> None:
    assert DOCS.read_text("utf-8") == markdown(load_rules()), (
        "regenerate with: mageguard rules --format markdown > docs/rules.md"
    )


def test_every_rule_is_documented_with_its_remediation() -> None:
    text = markdown(load_rules())
    for rule in load_rules():
        assert f"## {rule.id}" in text
        assert rule.remediation in text
