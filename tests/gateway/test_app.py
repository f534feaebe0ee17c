"""The ASGI application's start-up: what `mageguard gateway` serves from is frozen out of
the garbage collector's way; an app a test starts leaves the collector alone."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from mageguard.gateway import config as gateway_config
from mageguard.gateway.app import App


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # what a test froze must not stay out of this process's collections


def start(app: App) -> list[dict[str, Any]]:
    """Run the lifespan start-up (and the shut-down once it completed); what the app sent
    back, with the freeze count when start-up completed."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            sent.append({"frozen": gc.get_freeze_count()})
            await incoming.put({"type": "lifespan.shutdown"})

    async def main() -> None:
        await incoming.put({"type": "lifespan.startup"})
        await app({"type": "lifespan"}, incoming.get, send)

    asyncio.run(main())
    return sent


async def _opened(config: Any) -> Any:
    return object()


async def _closed(gateway: Any) -> None:
    return None


def test_the_serving_app_freezes_what_start_up_built(unfrozen: None) -> None:
    config = gateway_config.load(None, audit_only=True)
    sent = start(App(config, _opened, _closed, freeze=True))
    assert sent[0] == {"type": "lifespan.startup.complete"}
    assert sent[1]["frozen"] > 1000  # the modules, the catalog, the app itself
    assert sent[2] == {"type": "lifespan.shutdown.complete"}


def test_an_app_started_by_default_leaves_the_collector_alone(unfrozen: None) -> None:
    sent = start(App(gateway_config.load(None, audit_only=True), _opened, _closed))
    assert sent[1] == {"frozen": 0}


def test_a_failed_start_freezes_nothing(unfrozen: None) -> None:
    async def broken(config: Any) -> Any:
        raise RuntimeError("the audit store cannot be opened")

    sent = start(App(gateway_config.load(None, audit_only=True), broken, _closed, freeze=True))
    assert sent == [
        {"type": "lifespan.startup.failed", "message": "the audit store cannot be opened"}
    ]
    assert gc.get_freeze_count() == 0
