"""Load a detector's fixture file and compare a detector's spans with a case exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mageguard.redact.detectors.base import Detector

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def cases(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(key, case) for key, items in load(name).items() for case in items]


def expected_spans(case: dict[str, Any]) -> list[tuple[str, int, int]]:
    """[ENTITY, value] pairs -> (entity, start, end), each value at its next occurrence."""
    text, out, pos = case["text"], [], 0
    for entity, value in case["expect"]:
        start = text.index(str(value), pos)
        out.append((entity, start, start + len(str(value))))
        pos = start + 1
    return out


def found_spans(detector: Detector, text: str) -> list[tuple[str, int, int]]:
    return [(s.entity, s.start, s.end) for s in sorted(detector.detect(text))]
