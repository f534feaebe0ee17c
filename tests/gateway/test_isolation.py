"""Tenants are isolated: each test below tries to make something cross from one tenant to
another (keys, surfaces, vaults, caches, canaries, terms, quotas, flags) and fails if
anything does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from mageguard.gateway.protocols.openai import ChatCompletions
from tests.helpers.gateway import (
    CHECKOUT_KEY,
    KEYS,
    RunningGateway,
    audit_events,
    run_gateway,
    write_config,
)

EMAIL = "jana.novak@example.org"


def client(gw: RunningGateway, key: str) -> openai.OpenAI:
    return gw.openai(key)  # type: ignore[no-any-return]


def audit_tenants(gw: RunningGateway) -> list[str]:
    return [e.tenant for e in audit_events(gw)]


def test_a_tenant_header_cannot_switch_tenants(gateway: RunningGateway, acme_key: str) -> None:
    client(gateway, acme_key).chat.completions.create(
        model="local-model",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Mageguard-Tenant": "globex"},
    )
    assert audit_tenants(gateway) == ["acme"]


def test_a_key_bound_to_checkout_cannot_speak_for_another_surface(gateway: RunningGateway) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        client(gateway, CHECKOUT_KEY).chat.completions.create(
            model="local-model",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Mageguard-Surface": "content_generation"},
        )


def test_a_conversation_vault_is_not_reachable_with_another_tenants_key(
    gateway: RunningGateway, stub_upstream: Any
) -> None:
    """globex reuses acme's conversation id and sends acme's placeholder: the echo must
    come back as the placeholder, never as acme's customer's address."""
    conv = {"X-Mageguard-Conversation": "support-1"}
    client(gateway, KEYS["acme"]).chat.completions.create(
        model="local-model",
        extra_headers=conv,
        messages=[{"role": "user", "content": f"Contact {EMAIL}"}],
    )
    assert "[EMAIL_1]" in json.dumps(stub_upstream.requests[-1])
    reply = client(gateway, KEYS["globex"]).chat.completions.create(
        model="local-model",
        extra_headers=conv,
        messages=[{"role": "user", "content": "Who is [EMAIL_1]?"}],
    )
    assert EMAIL not in (reply.choices[0].message.content or "")


def test_embedding_caches_are_per_tenant(gateway: RunningGateway, stub_upstream: Any) -> None:
    for key in (KEYS["acme"], KEYS["acme"], KEYS["globex"]):
        client(gateway, key).embeddings.create(model="local-model", input="red tent")
    embedding_calls = [r for r in stub_upstream.requests if "input" in r]
    assert len(embedding_calls) == 2  # acme once (then its cache), globex on its own


def test_another_tenants_catalogue_terms_are_withheld(gateway: RunningGateway) -> None:
    reply = client(gateway, KEYS["acme"]).chat.completions.create(
        model="local-model",
        messages=[{"role": "user", "content": "Compare with the Hyperion Espresso Machine"}],
    )
    assert reply.choices[0].finish_reason == "content_filter"
    assert "Hyperion" not in (reply.choices[0].message.content or "")


def test_own_terms_are_not_withheld(gateway: RunningGateway) -> None:
    reply = client(gateway, KEYS["globex"]).chat.completions.create(
        model="local-model",
        messages=[{"role": "user", "content": "Describe the Hyperion Espresso Machine"}],
    )
    assert reply.choices[0].finish_reason == "stop"
    assert "Hyperion Espresso Machine" in (reply.choices[0].message.content or "")


def test_a_canary_from_any_request_never_reaches_another_caller(gateway: RunningGateway) -> None:
    foreign_canary = "mgc-" + "k3x9" * 5  # shaped like the canaries the gateway plants
    for stream in (False, True):
        reply = client(gateway, KEYS["globex"]).chat.completions.create(
            model="local-model",
            stream=stream,
            messages=[{"role": "user", "content": f"Repeat: {foreign_canary}"}],
        )
        if stream:
            with pytest.raises(openai.APIError):
                "".join(c.choices[0].delta.content or "" for c in reply if c.choices)  # type: ignore[union-attr]
        else:
            assert foreign_canary not in (reply.choices[0].message.content or "")  # type: ignore[union-attr]


def test_one_tenants_quota_does_not_spend_anothers(tmp_path: Path, stub_upstream: Any) -> None:
    config = write_config(tmp_path, stub_upstream.url)
    raw = config.read_text()
    config.write_text(
        raw.replace("name: Acme outdoor store", "name: Acme\n  requests_per_minute: 2")
    )
    with run_gateway(config) as gw:
        acme, globex = client(gw, KEYS["acme"]), client(gw, KEYS["globex"])
        ask = {"model": "local-model", "messages": [{"role": "user", "content": "hi"}]}
        acme.chat.completions.create(**ask)  # type: ignore[call-overload]
        acme.chat.completions.create(**ask)  # type: ignore[call-overload]
        with pytest.raises(openai.RateLimitError):
            acme.chat.completions.create(**ask)  # type: ignore[call-overload]
        globex.chat.completions.create(**ask)  # type: ignore[call-overload]


def test_tenant_keys_cannot_change_flags(gateway: RunningGateway) -> None:
    flag = {"tenant": "globex", "surface": "default", "kill": True}
    for key in KEYS.values():
        r = httpx.post(
            f"{gateway.url}/admin/flags", json=flag, headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 401


def test_interleaved_requests_of_two_tenants_keep_their_own_values(
    gateway: RunningGateway, stub_upstream: Any
) -> None:
    """Requests in flight together take their steps in turn, detector by detector
    (pipeline.py): two tenants' requests interleaved in one burst. Each caller gets its
    own values back, nothing raw reaches the backend, and no tenant's terms leak."""
    gw = gateway.gateway
    asks = []
    for n in range(6):
        tenant = "acme" if n % 2 == 0 else "globex"
        sku = "LMN-TRAIL-42" if tenant == "acme" else "GBX-HYPER-9"
        asks.append((tenant, f"Customer c{n}.{tenant}@mail.example asks whether {sku} ships"))

    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(
                gw.chat(
                    "/v1/chat/completions",
                    ChatCompletions(),
                    {"authorization": f"Bearer {KEYS[tenant]}"},
                    {"model": "local-model", "messages": [{"role": "user", "content": text}]},
                    100,
                )
                for tenant, text in asks
            )
        )

    replies = asyncio.run_coroutine_threadsafe(burst(), gateway.loop).result(timeout=30)
    for reply, (_, text) in zip(replies, asks, strict=True):
        assert reply.status == 200
        assert orjson.loads(reply.body)["choices"][0]["message"]["content"] == f"echo: {text}"
    upstream = str(stub_upstream.requests)
    for _, text in asks:
        assert text.split()[1] not in upstream  # the e-mail
    assert "LMN-TRAIL-42" not in upstream and "GBX-HYPER-9" not in upstream
