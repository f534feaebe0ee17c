"""The official anthropic SDK works against the gateway unchanged but for the base URL."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest

from tests.helpers.gateway import RunningGateway

EMAIL = "jana.novak@example.org"


def client(gw: RunningGateway, key: str) -> anthropic.Anthropic:
    return gw.anthropic(key)  # type: ignore[no-any-return]


def test_messages_answer_with_text_blocks(
    gateway: RunningGateway, acme_key: str, stub_upstream: Any
) -> None:
    reply = client(gateway, acme_key).messages.create(
        model="local-model",
        max_tokens=64,
        system="You sell tents.",
        messages=[{"role": "user", "content": f"Mail {EMAIL} about tents"}],
    )
    assert reply.content[0].text == f"echo: Mail {EMAIL} about tents"  # type: ignore[union-attr]
    assert reply.stop_reason == "end_turn"
    assert EMAIL not in str(stub_upstream.requests)


def test_streaming_with_the_sdk_helper(gateway: RunningGateway, acme_key: str) -> None:
    with client(gateway, acme_key).messages.stream(
        model="local-model",
        max_tokens=64,
        messages=[{"role": "user", "content": [{"type": "text", "text": f"Mail {EMAIL}"}]}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"echo: Mail {EMAIL}"
    assert final.stop_reason == "end_turn"


def test_async_client(gateway: RunningGateway, acme_key: str) -> None:
    async def run() -> str:
        async with anthropic.AsyncAnthropic(
            base_url=gateway.url, api_key=acme_key, max_retries=0
        ) as aclient:
            reply = await aclient.messages.create(
                model="local-model", max_tokens=32, messages=[{"role": "user", "content": "hey"}]
            )
            return reply.content[0].text  # type: ignore[union-attr]

    assert asyncio.run(run()) == "echo: hey"


def test_errors_use_anthropics_format(gateway: RunningGateway, acme_key: str) -> None:
    with pytest.raises(anthropic.AuthenticationError) as denied:
        client(gateway, "nope").messages.create(
            model="local-model", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert denied.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(gateway, acme_key).messages.create(
            model="local-model",
            max_tokens=8,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "iVBORw0KGgo=",
                            },
                        }
                    ],
                }
            ],
        )
    assert bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
