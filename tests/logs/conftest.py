"""Shared by the log tests: a fake Magento store and a redactor whose detectors are small,
exact stand-ins, so that expectations are exact lines and counts (the built-in detectors
are exercised in test_real_detectors.py)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mageguard.catalog import load_catalog
from mageguard.redact.dictionary import Dictionary
from mageguard.redact.engine import Redactor
from mageguard.redact.spans import Span

FIXTURES = Path(__file__).parent / "fixtures" / "magento"
KEY = "sk-proj-Fk3QFAKEfake0000TESTtest1111EXAMPLEexample2222zz"
# What each fixture file holds, for the stand-in detectors + DICTIONARY:
# entity counts, (first line, last line).
PLANTED: dict[str, tuple[dict[str, int], tuple[int, int] | None]] = {
    "var/log/acme_ai.log": (
        {
            "AI_PROMPT": 1,
            "AI_PROVIDER": 1,
            "AI_RESPONSE": 1,
            "COST": 1,
            "EMAIL": 1,
            "PRODUCT": 2,
            "SECRET": 1,
            "SKU": 1,
            "SUPPLIER": 1,
        },
        (1, 3),
    ),
    "var/log/cron.log": ({}, None),
    "var/log/debug.log": ({"AI_PROVIDER": 1, "SECRET": 1}, (2, 2)),
    "var/log/exception.log": ({"EMAIL": 1}, (1, 1)),
    "var/log/system.log": ({"CREDIT_CARD": 1, "EMAIL": 2, "IP_ADDRESS": 1}, (3, 5)),
    "var/report/1714550400123": ({"EMAIL": 1}, (1, 1)),
    "var/report/1714550400999": ({"AI_PROVIDER": 1}, (1, 1)),
    "var/debug/db.log": ({"EMAIL": 2}, (6, 20)),
}
# Every value planted in the fixtures: none may appear in a report.
RAW_VALUES = [
    "veronica.costello@example.com",
    "jane.roe@example.org",
    "roni_cost@example.com",
    "203.0.113.24",
    "4111 1111 1111 1111",
    KEY,
    "Litware",
    "24-MB01",
]


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class StandIns:
    """E-mails, Luhn-valid card numbers, IPv4 addresses and the catalog's AI key formats."""

    name = "stand-ins"
    entities = frozenset({"EMAIL", "CREDIT_CARD", "IP_ADDRESS", "SECRET"})
    _email = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    _card = re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){3}(?!\d)")
    _ip = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")

    def detect(self, text: str) -> Iterator[Span]:
        for m in self._email.finditer(text):
            yield Span(m.start(), m.end(), "EMAIL", 0.95, self.name)
        for m in self._card.finditer(text):
            if _luhn(re.sub(r"\D", "", m.group())):
                yield Span(m.start(), m.end(), "CREDIT_CARD", 0.9, self.name)
        for m in self._ip.finditer(text):
            if all(int(p) < 256 for p in m.group().split(".")):
                yield Span(m.start(), m.end(), "IP_ADDRESS", 0.8, self.name)
        for key in load_catalog().key_patterns:
            for m in key.regex.finditer(text):
                yield Span(m.start(), m.end(), "SECRET", 0.99, self.name)


DICTIONARY = Dictionary.from_rows(
    [("SKU", "24-MB01"), ("PRODUCT", "Joust Duffle Bag"), ("SUPPLIER", "Litware")],
    costs=["12.50"],
)


def stand_in_redactor(dictionary: Dictionary | None = DICTIONARY) -> Redactor:
    return Redactor(detectors=[StandIns()], dictionary=dictionary)


@pytest.fixture
def redactor() -> Redactor:
    return stand_in_redactor()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A private copy of the fake store (scrub writes next to the logs)."""
    root = tmp_path / "magento"
    shutil.copytree(FIXTURES, root)
    return root
