"""A real gateway for tests: uvicorn serving the ASGI app on a free 127.0.0.1 port in a
background thread, on a configuration written as YAML (the same path the CLI takes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from mageguard.gateway import config as gateway_config
from mageguard.gateway.app import App
from mageguard.gateway.config import hash_key

KEYS = {
    # tenant -> its API key (the config only holds the hash)
    "acme": "mg-test-acme-0123456789abcdef",
    "globex": "mg-test-globex-0123456789abcdef",
}
CHECKOUT_KEY = "mg-test-acme-checkout-0123456789"
ADMIN_KEY = "mg-test-admin-0123456789abcdef"

ACME_CSV = """sku,name,supplier,cost
LMN-TRAIL-42,Lumen Trail Runner,Nordwand Textil GmbH,41.37
LMN-PACK-07,Summit Daypack Pro,Nordwand Textil GmbH,18.90
"""
GLOBEX_CSV = """sku,name,supplier,cost
GBX-HYPER-9,Hyperion Espresso Machine,Castellano Forniture SpA,212.44
GBX-GRIND-3,Globex Burr Grinder,Castellano Forniture SpA,58.10
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, upstream: str, **overrides: Any) -> Path:
    """Two tenants (acme, globex) with their own dictionaries; backends: a local
    OpenAI-protocol server (the stub), an external provider (the same stub under another
    model name), and a static safe answer."""
    (tmp / "acme.csv").write_text(ACME_CSV, "utf-8")
    (tmp / "globex.csv").write_text(GLOBEX_CSV, "utf-8")
    raw: dict[str, Any] = {
        "data_dir": str(tmp / "data"),
        "limits": {"max_body_bytes": 256 * 1024, "request_timeout": 5},
        "backends": [
            {
                "id": "local",
                "kind": "openai",
                "locality": "local",
                "base_url": f"{upstream}/v1",
                "models": ["local-model"],
                "timeout": 3,
            },
            {
                "id": "external",
                "kind": "openai",
                "locality": "external",
                "base_url": f"{upstream}/v1",
                "models": ["gpt-4o-mini"],
                "timeout": 3,
            },
            # an upstream that repeats its system prompt: what a prompt-leaking model does
            {
                "id": "leaky",
                "kind": "openai",
                "locality": "local",
                "base_url": f"{upstream}/v1",
                "models": ["stub-echo-system"],
                "timeout": 3,
            },
            {
                "id": "safe",
                "kind": "static",
                "models": ["safe-answer"],
                "answer": "Sorry, the assistant is resting.",
            },
        ],
        "tenants": [
            {
                "id": "acme",
                "name": "Acme outdoor store",
                "dictionary": "acme.csv",
                "keys": [
                    {"id": "web", "sha256": hash_key(KEYS["acme"])},
                    {
                        "id": "checkout",
                        "sha256": hash_key(CHECKOUT_KEY),
                        "surface": "checkout_payment",
                    },
                ],
                "routes": {
                    "default": ["local", "external", "leaky", "safe"],
                    "checkout_payment": ["local", "safe"],
                },
                "external_categories": ["catalog_content"],
            },
            {
                "id": "globex",
                "name": "Globex coffee store",
                "dictionary": "globex.csv",
                "keys": [{"id": "web", "sha256": hash_key(KEYS["globex"])}],
                "routes": {"default": ["local", "external", "leaky", "safe"]},
            },
        ],
        "admin_keys": [{"id": "ops", "sha256": hash_key(ADMIN_KEY)}],
    }
    _merge(raw, overrides)
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), "utf-8")
    return path


def _merge(raw: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(raw.get(key), dict):
            _merge(raw[key], value)
        else:
            raw[key] = value


class RunningGateway:
    def __init__(self, app: App, url: str, server: uvicorn.Server) -> None:
        self.app = app
        self.url = url
        self.server = server
        self.clients: list[Any] = []

    def openai(self, key: str) -> Any:
        """An official OpenAI SDK client on this gateway, closed when the gateway stops."""
        import openai

        client = openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=10)
        self.clients.append(client)
        return client

    def anthropic(self, key: str) -> Any:
        import anthropic

        client = anthropic.Anthropic(base_url=self.url, api_key=key, max_retries=0, timeout=10)
        self.clients.append(client)
        return client

    @property
    def loop(self) -> Any:
        return self.app.loop

    @property
    def gateway(self) -> Any:
        return self.app.gateway


@contextmanager
def run_gateway(config_path: Path | None, **env_free: Any) -> Iterator[RunningGateway]:
    config = gateway_config.load(config_path, port=free_port())
    app = App(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=config.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            loop="asyncio",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the gateway did not start (see the log above)")
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start in time")
        time.sleep(0.02)
    running = RunningGateway(app, f"http://127.0.0.1:{config.port}", server)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=30)


def audit_events(gw: RunningGateway, kind: str = "request") -> list[Any]:
    """The audit events written so far (the writer's queue drained first)."""
    import asyncio

    gateway = gw.gateway
    loop = gw.loop
    asyncio.run_coroutine_threadsafe(gateway.auditor.flush(), loop).result(timeout=10)
    store = gateway.auditor.store
    return [e for _, e in store.events(limit=100_000) if e.kind == kind]


@contextmanager
def started_cli(data_dir: Path, *args: str, **env: str) -> Iterator[tuple[str, str]]:
    """`mageguard gateway [args]` as a real process on a free port, until /readyz answers:
    (base URL, what it printed so far)."""
    port = free_port()
    log = data_dir.parent / f"gateway-{port}.log"
    environment = {**os.environ, "MAGEGUARD_DATA_DIR": str(data_dir), **env}
    environment.pop("MAGEGUARD_DEV_KEY", None) if "MAGEGUARD_DEV_KEY" not in env else None
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mageguard", "gateway", *args, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:])
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield url, log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
