"""Two gateway processes sharing one PostgreSQL (audit) and one Redis (rate limits, flag
overrides, conversation vaults) behave as one gateway. Both are real `mageguard gateway`
processes started from the command line."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mageguard.audit.store import AuditStore
from mageguard.gateway import config as gateway_config
from tests.helpers.gateway import ADMIN_KEY, KEYS, free_port, write_config
from tests.helpers.services import require_postgres, require_redis

MAGEGUARD = [sys.executable, "-m", "mageguard"]
AUTH = {"Authorization": f"Bearer {KEYS['acme']}"}
EMAIL = "jana.novak@example.org"


@contextmanager
def gateway_process(config: Path, port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *MAGEGUARD,
                "gateway",
                "--config",
                str(config),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway not ready: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def replicas(tmp_path: Path, stub_upstream: Any) -> Iterator[tuple[str, str, Path]]:
    postgres = require_postgres()
    redis_url = require_redis()
    schema = f"mg_replicas_{secrets.token_hex(4)}"
    with postgres.connect() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    config = write_config(
        tmp_path,
        stub_upstream.url,
        audit={"store": postgres.dsn(schema=schema)},
        redis=redis_url,
    )
    raw = yaml.safe_load(config.read_text())
    raw["tenants"][0]["requests_per_minute"] = 6
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        with ExitStack() as stack:
            a = stack.enter_context(gateway_process(config, free_port(), tmp_path / "a.log"))
            b = stack.enter_context(gateway_process(config, free_port(), tmp_path / "b.log"))
            yield a, b, config
    finally:
        with postgres.connect() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def chat(url: str, content: str, **headers: str) -> httpx.Response:
    body = {"model": "local-model", "messages": [{"role": "user", "content": content}]}
    return httpx.post(
        f"{url}/v1/chat/completions", json=body, headers={**AUTH, **headers}, timeout=20
    )


def test_two_processes_share_quota_flags_vaults_and_one_audit_chain(
    replicas: tuple[str, str, Path], stub_upstream: Any
) -> None:
    a, b, config = replicas
    if time.time() % 60 > 45:  # quotas count per clock minute: start in a fresh one
        time.sleep(61 - time.time() % 60)
    conversation = {"X-Mageguard-Conversation": "ticket-9"}

    # a conversation started on one replica continues on the other with the same placeholders
    assert chat(a, f"Write to {EMAIL}", **conversation).status_code == 200
    assert chat(b, f"Write to {EMAIL} and ops@example.com", **conversation).status_code == 200
    first, second = (json.dumps(r["messages"]) for r in stub_upstream.requests[-2:])
    assert "[EMAIL_1]" in first and "[EMAIL_1]" in second and "[EMAIL_2]" in second

    # a kill switch set through one replica's admin API holds on the other within a second
    r = httpx.post(
        f"{a}/admin/flags",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        json={"tenant": "acme", "surface": "default", "kill": True},
    )
    assert r.status_code == 200
    time.sleep(1.2)
    killed = chat(b, "Anything new?")
    assert killed.json()["choices"][0]["message"]["content"] == "Sorry, the assistant is resting."

    # 6 requests a minute for acme, counted across both replicas
    statuses = [chat(url, "hi").status_code for url in (a, b, a, b)]
    assert statuses == [200, 200, 200, 429]

    # one chain, intact, holding every request and the flag change
    for url in (a, b):
        assert httpx.get(f"{url}/healthz").status_code == 200
    verify = subprocess.run(
        [*MAGEGUARD, "audit", "verify", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    cfg = gateway_config.load(config, audit_only=True)
    with AuditStore.open(
        cfg.audit_store, cfg.audit_key_file, cfg.witness_file, create=False
    ) as store:
        kinds = [e.kind for _, e in store.events(limit=1000)]
    assert kinds.count("request") == 7 and kinds.count("flag_change") == 1
