"""Helpers for rule authors: prove a rule against its fixture, line by line.

A rule `rules/<id>.yaml` has a fixture beside it: `rules/<id>/` (a module directory, or a
whole Magento root when it contains `app/`), `rules/<id>.php|.phtml|.js` (placed in a
module), or `rules/<id>.sql` (a database dump scanned with --db). In the fixture, a line
holding `ruleid: <id>` says the next line must be a finding of the rule, `ok: <id>` that
it must not; findings anywhere else fail too. JSON has no comments: put the marker in a
string on the line before (`"_comment": "ruleid: composer-ai-package"`).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from mageguard.scan.engine import ScanOptions, scan
from mageguard.scan.ruleset import rules_dir

_MARKER = re.compile(r"\b(ruleid|ok):\s*([a-z0-9-]+)")
_PLACES = {".php": "Model", ".phtml": "view/frontend/templates", ".js": "view/frontend/web/js"}


@dataclass(frozen=True)
class FixtureCheck:
    rule_id: str
    expected: frozenset[tuple[str, int]]
    forbidden: frozenset[tuple[str, int]]
    actual: frozenset[tuple[str, int]]

    @property
    def missing(self) -> set[tuple[str, int]]:
        return set(self.expected - self.actual)

    @property
    def unexpected(self) -> set[tuple[str, int]]:
        return set(self.actual - self.expected)


def fixture_of(rule_id: str) -> Path | None:
    base = Path(str(rules_dir()))
    if (base / rule_id).is_dir():
        return base / rule_id
    for ext in (".php", ".phtml", ".js", ".sql"):
        if (base / f"{rule_id}{ext}").is_file():
            return base / f"{rule_id}{ext}"
    return None


def _camel(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def materialize(rule_id: str, workdir: Path) -> tuple[Path, Path | None]:
    """Lay the fixture out as a Magento tree under `workdir`: (root, SQL dump or None)."""
    fixture = fixture_of(rule_id)
    if fixture is None:
        raise FileNotFoundError(f"rule {rule_id} has no fixture")
    root = workdir / "store"
    (root / "app" / "etc").mkdir(parents=True, exist_ok=True)
    if fixture.suffix == ".sql":
        return root, fixture
    if fixture.is_dir() and (fixture / "app").is_dir():
        shutil.copytree(fixture, root, dirs_exist_ok=True)
        return root, None
    module = root / "app" / "code" / "Fixture" / _camel(rule_id)
    if fixture.is_dir():
        shutil.copytree(fixture, module)
    else:
        target = module / _PLACES[fixture.suffix] / fixture.name
        target.parent.mkdir(parents=True)
        shutil.copy(fixture, target)
    reg = module / "registration.php"
    if not reg.exists():
        reg.write_text(
            "<?php\n\\Magento\\Framework\\Component\\ComponentRegistrar::register("
            f"\\Magento\\Framework\\Component\\ComponentRegistrar::MODULE, "
            f"'Fixture_{_camel(rule_id)}', __DIR__);\n"
        )
    return root, None


def markers(
    root: Path, rule_id: str, files: list[Path]
) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    expected: set[tuple[str, int]] = set()
    forbidden: set[tuple[str, int]] = set()
    for path in files:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        lines = path.read_text("utf-8", "replace").splitlines()
        for i, line in enumerate(lines, 1):
            for kind, rid in _MARKER.findall(line):
                if rid != rule_id:
                    continue
                (expected if kind == "ruleid" else forbidden).add((rel, i + 1))
    return expected, forbidden


def check(rule_id: str, workdir: Path) -> FixtureCheck:
    """Scan the rule's fixture with only that rule and compare findings to the markers."""
    root, dump = materialize(rule_id, workdir)
    options = ScanOptions(rules=(rule_id,), use_cache=False, db=str(dump) if dump else None)
    result = scan(root, options)
    files = [dump] if dump else [p for p in root.rglob("*") if p.is_file()]
    expected, forbidden = markers(root, rule_id, files)
    actual = set()
    for f in result.findings:
        if f.rule_id != rule_id:
            continue
        path = f.location.path
        actual.add((path, f.location.line))
    return FixtureCheck(rule_id, frozenset(expected), frozenset(forbidden), frozenset(actual))
