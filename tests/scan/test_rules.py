"""Every rule is proved by its fixture, line by line; rules and fixtures come in pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mageguard.scan.ruleset import load_rules, rules_dir
from mageguard.scan.testing import check, fixture_of

RULE_IDS = [r.id for r in load_rules()]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_exactly_on_the_lines_its_fixture_marks(rule_id: str, tmp_path: Path) -> None:
    result = check(rule_id, tmp_path)
    assert result.expected, f"fixture of {rule_id} marks no `ruleid:` line"
    assert not result.missing, f"{rule_id} missed {sorted(result.missing)}"
    assert not result.unexpected, f"{rule_id} fired on unmarked lines {sorted(result.unexpected)}"
    assert not (result.forbidden & result.actual)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_a_fixture_with_a_negative_case(rule_id: str) -> None:
    fixture = fixture_of(rule_id)
    assert fixture is not None, f"rule {rule_id} has no fixture"
    files = [p for p in fixture.rglob("*") if p.is_file()] if fixture.is_dir() else [fixture]
    text = "\n".join(p.read_text("utf-8", "replace") for p in files)
    assert f"ok: {rule_id}" in text, f"fixture of {rule_id} has no `ok:` (negative) case"


def test_every_fixture_belongs_to_a_rule() -> None:
    ids = set(RULE_IDS)
    for entry in Path(str(rules_dir())).iterdir():
        stem = entry.name.split(".", 1)[0]
        assert stem in ids, f"{entry.name} in scan/rules has no rule {stem}.yaml"
