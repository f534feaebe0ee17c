"""Baselines: accept today's findings so CI fails only on new ones.

The file stores a count per fingerprint (rule + path + keyed hash of the matched text),
so one accepted finding cannot hide a second identical one added later, and moving code
up or down a file does not make accepted findings look new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from mageguard import __version__
from mageguard.errors import InputError
from mageguard.scan.finding import Finding

VERSION = 1


def write(path: Path, findings: Iterable[Finding]) -> int:
    counts: Counter[str] = Counter(f.fingerprint for f in findings)
    meta = {f.fingerprint: (f.rule_id, f.location.path) for f in findings}
    doc = {
        "version": VERSION,
        "generated_by": f"mageguard {__version__}",
        "fingerprints": {
            fp: {"rule": meta[fp][0], "path": meta[fp][1], "count": n}
            for fp, n in sorted(counts.items())
        },
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise InputError(f"cannot write baseline {path}: {exc.strerror}") from None
    return sum(counts.values())


def load(path: Path) -> Counter[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read baseline {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"baseline {path} is not valid JSON: {exc}") from None
    if (
        not isinstance(doc, dict)
        or doc.get("version") != VERSION
        or not isinstance(doc.get("fingerprints"), dict)
    ):
        raise InputError(f"baseline {path}: not a mageguard baseline (version {VERSION})")
    counts: Counter[str] = Counter()
    for fp, entry in doc["fingerprints"].items():
        n = entry.get("count", 1) if isinstance(entry, dict) else entry
        if not isinstance(n, int) or n < 0:
            raise InputError(f"baseline {path}: bad count for {fp}")
        counts[fp] = n
    return counts


def apply(findings: Iterable[Finding], accepted: Counter[str]) -> tuple[list[Finding], int]:
    """(new findings, number matched by the baseline)."""
    remaining = Counter(accepted)
    new: list[Finding] = []
    matched = 0
    for f in findings:
        if remaining[f.fingerprint] > 0:
            remaining[f.fingerprint] -= 1
            matched += 1
        else:
            new.append(f)
    return new, matched
