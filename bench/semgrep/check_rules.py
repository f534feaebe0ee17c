#!/usr/bin/env python3
"""Check bench/semgrep/rules.yaml against the annotated cases in bench/semgrep/cases/.

A comment `ruleid: a, b` says that rules a and b must report the next code line, and
`ok: a` that rule a must not; a rule that reports a line nobody annotated fails too.
The cases are scanned as a folder (not as explicit files, which `semgrep --test` does),
so that the rules' `paths:` filters apply as they do in the benchmark. This also
validates the rule file offline: `semgrep --validate` needs semgrep.dev for its lint pack.

    bench/semgrep/check_rules.py [--semgrep PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SEMGREP = HERE.parent / "work" / ".venv-semgrep" / "bin" / "semgrep"
ANNOTATION = re.compile(
    r"(?:^|[\s/#*!<-])(ruleid|ok):\s*([A-Za-z0-9_.\-]+(?:\s*,\s*[A-Za-z0-9_.\-]+)*)"
)

Key = tuple[str, int, str]  # (path relative to cases/, line, rule id)


def read_annotations(cases: Path) -> tuple[set[Key], set[Key]]:
    """(lines rules must report, lines rules must not report)."""
    want: set[Key] = set()
    forbid: set[Key] = set()
    for path in sorted(p for p in cases.rglob("*") if p.is_file()):
        rel = path.relative_to(cases).as_posix()
        pending: list[tuple[str, list[str]]] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = ANNOTATION.search(line)
            if m:
                pending.append((m.group(1), [r.strip() for r in m.group(2).split(",")]))
                continue
            for kind, rules in pending:
                for rule in rules:
                    (want if kind == "ruleid" else forbid).add((rel, n, rule))
            pending = []
    return want, forbid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--semgrep", type=Path, default=DEFAULT_SEMGREP)
    ap.add_argument("--rules", type=Path, default=HERE / "rules.yaml")
    ap.add_argument("--cases", type=Path, default=HERE / "cases")
    args = ap.parse_args(argv)
    cases = args.cases.resolve()
    cmd = [
        str(args.semgrep),
        "scan",
        "--config",
        str(args.rules.resolve()),
        "--metrics=off",
        "--json",
        "--no-git-ignore",
        "--x-ignore-semgrepignore-files",
        "--disable-version-check",
        "--quiet",
        ".",
    ]
    # Without network the version check waits minutes for semgrep.dev: keep it off.
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    proc = subprocess.run(cmd, cwd=cases, capture_output=True, text=True, check=False, env=env)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        print(proc.stderr, file=sys.stderr)
        print(f"semgrep failed with exit code {proc.returncode}", file=sys.stderr)
        return 2
    out = json.loads(proc.stdout)
    errors = [e for e in out.get("errors", []) if e.get("level") == "error"]
    for e in errors:
        print(f"ERROR {e.get('type')}: {e.get('message', '').strip()[:500]}", file=sys.stderr)

    got: set[Key] = set()
    for r in out["results"]:
        rule = str(r["check_id"]).rsplit(".", 1)[-1]
        got.add((Path(r["path"]).as_posix(), int(r["start"]["line"]), rule))
    want, forbid = read_annotations(cases)
    rules_seen = {k[2] for k in want}
    rules_all = {m.group(1) for m in re.finditer(r"^  - id: (\S+)", args.rules.read_text(), re.M)}

    failures: list[str] = []
    failures += [f"missed      {p}:{n} {r}" for p, n, r in sorted(want - got)]
    failures += [f"false alarm {p}:{n} {r} (annotated ok)" for p, n, r in sorted(got & forbid)]
    failures += [f"unexpected  {p}:{n} {r}" for p, n, r in sorted(got - want - forbid)]
    failures += [f"no ruleid case for rule {r}" for r in sorted(rules_all - rules_seen)]
    for f in failures:
        print(f)
    checks = len(want) + len(forbid) + len(rules_all)
    failed = len(failures) + len(errors)
    print(f"rules: {len(rules_all)}; cases: {len(want)} ruleid, {len(forbid)} ok")
    print(f"{checks - min(failed, checks)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
