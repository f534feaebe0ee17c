"""Fixtures of the format tests; the data and helpers behind them live in helpers.py."""

from __future__ import annotations

import pytest

from mageguard.scan.result import ScanResult

from .helpers import build_result


@pytest.fixture
def result() -> ScanResult:
    return build_result()
