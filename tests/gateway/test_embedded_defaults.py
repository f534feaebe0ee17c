"""`mageguard gateway` with no configuration: one development tenant on the embedded
local model (SmolLM2-135M-Instruct through llama.cpp) and local embeddings, the audit
trail in SQLite in the data directory, the development key printed once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.helpers.gateway import started_cli as started

MODEL = "smollm2-135m-instruct"


def test_answers_from_the_embedded_local_model_with_a_key_printed_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with started(data) as (url, output):
        keys = re.findall(r"mg-dev-[A-Za-z0-9_-]{20,}", output)
        assert len(keys) == 1
        with openai.OpenAI(
            base_url=f"{url}/v1", api_key=keys[0], max_retries=0, timeout=60
        ) as client:
            reply = client.chat.completions.create(
                model=MODEL,
                max_tokens=40,
                messages=[{"role": "user", "content": "Name one thing hikers pack."}],
            )
            assert reply.model == MODEL, reply  # not the safe-answer fallback
            assert reply.choices[0].message.content
            assert reply.usage is not None and reply.usage.completion_tokens > 0
            streamed = "".join(
                c.choices[0].delta.content or ""
                for c in client.chat.completions.create(
                    model=MODEL,
                    max_tokens=20,
                    stream=True,
                    messages=[{"role": "user", "content": "Say hello to a customer."}],
                )
                if c.choices
            )
            assert streamed.strip()
            vectors = client.embeddings.create(model="all-minilm-l6-v2", input=["tent", "boots"])
            assert [len(d.embedding) for d in vectors.data] == [384, 384]
    assert (data / "audit.db").exists()
    assert keys[0] not in (data / "dev-key.sha256").read_text()

    with started(data) as (_, again):  # the same data directory: no new key
        assert "mg-dev-" not in again
    verify = subprocess.run(
        [sys.executable, "-m", "mageguard", "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAGEGUARD_DATA_DIR": str(data)},
    )
    assert verify.returncode == 0, verify.stderr


def test_the_development_key_can_come_from_the_environment(tmp_path: Path) -> None:
    key = "mg-dev-from-the-environment-123456"
    with started(tmp_path / "data", MAGEGUARD_DEV_KEY=key) as (url, output):
        assert "mg-dev-" not in output
        r = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"})
        assert MODEL in [m["id"] for m in r.json()["data"]]
