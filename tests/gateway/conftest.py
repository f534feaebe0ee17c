"""A running gateway in front of the stub upstream, with two tenants (tests/helpers/gateway.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.gateway import KEYS, RunningGateway, run_gateway, write_config


@pytest.fixture
def gateway(tmp_path: Path, stub_upstream: Any) -> Iterator[RunningGateway]:
    with run_gateway(write_config(tmp_path, stub_upstream.url)) as running:
        yield running


@pytest.fixture
def acme_key() -> str:
    return KEYS["acme"]


@pytest.fixture
def globex_key() -> str:
    return KEYS["globex"]
