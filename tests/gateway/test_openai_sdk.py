"""The official openai SDK works against the gateway unchanged but for the base URL:
sync, async and streaming, on every OpenAI endpoint the gateway serves."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from tests.helpers.gateway import RunningGateway


def client(gw: RunningGateway, key: str) -> openai.OpenAI:
    return gw.openai(key)  # type: ignore[no-any-return]


def test_chat_completion_answers_through_the_local_backend(
    gateway: RunningGateway, acme_key: str, stub_upstream: Any
) -> None:
    reply = client(gateway, acme_key).chat.completions.create(
        model="local-model", messages=[{"role": "user", "content": "Which tent for two?"}]
    )
    assert reply.choices[0].message.content == "echo: Which tent for two?"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "local-model"
    assert stub_upstream.requests[-1]["model"] == "local-model"


def test_streamed_chat_arrives_in_pieces_and_ends_with_usage(
    gateway: RunningGateway, acme_key: str
) -> None:
    stream = client(gateway, acme_key).chat.completions.create(
        model="local-model",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me about the " + "warm sleeping bag " * 20}],
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: Tell me about the " + "warm sleeping bag " * 20
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None


def test_async_client_streams_too(gateway: RunningGateway, acme_key: str) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(
            base_url=f"{gateway.url}/v1", api_key=acme_key, max_retries=0
        ) as aclient:
            plain = await aclient.chat.completions.create(
                model="local-model", messages=[{"role": "user", "content": "hello"}]
            )
            assert plain.choices[0].message.content == "echo: hello"
            stream = await aclient.chat.completions.create(
                model="local-model", stream=True, messages=[{"role": "user", "content": "hi there"}]
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "echo: hi there"


def test_legacy_completions(gateway: RunningGateway, acme_key: str) -> None:
    c = client(gateway, acme_key)
    reply = c.completions.create(model="local-model", prompt="Write a tagline")
    assert reply.choices[0].text == "echo: Write a tagline"
    streamed = "".join(
        x.choices[0].text
        for x in c.completions.create(model="local-model", prompt="Write a tagline", stream=True)
        if x.choices
    )
    assert streamed == "echo: Write a tagline"


def test_responses_api_plain_and_streamed(gateway: RunningGateway, acme_key: str) -> None:
    c = client(gateway, acme_key)
    reply = c.responses.create(model="local-model", instructions="Be brief.", input="Hello shop")
    assert reply.output_text == "echo: Hello shop"
    assert reply.status == "completed"
    events = list(c.responses.create(model="local-model", input="Hello again", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "echo: Hello again"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_models_lists_what_the_tenant_is_routed_to(gateway: RunningGateway, acme_key: str) -> None:
    ids = [m.id for m in client(gateway, acme_key).models.list()]
    assert ids == ["local-model", "gpt-4o-mini", "stub-echo-system", "safe-answer"]


def test_embeddings_are_vectors_per_input(
    gateway: RunningGateway, acme_key: str, stub_upstream: Any
) -> None:
    gw_config = gateway.gateway.config
    assert "local" in gw_config.backends
    reply = client(gateway, acme_key).embeddings.create(
        model="local-model", input=["red tent", "blue tent"]
    )
    assert [d.index for d in reply.data] == [0, 1]
    assert all(len(d.embedding) > 0 for d in reply.data)


@pytest.mark.parametrize(
    ("key", "kwargs", "error"),
    [
        ("wrong-key", {"model": "local-model"}, openai.AuthenticationError),
        (None, {"model": "no-such-model"}, openai.NotFoundError),
        (None, {"model": "local-model", "n": 3}, openai.BadRequestError),
        (None, {"model": "local-model", "temperature": 7}, openai.BadRequestError),
    ],
)
def test_errors_arrive_as_the_sdk_expects(
    gateway: RunningGateway,
    acme_key: str,
    key: str | None,
    kwargs: dict[str, Any],
    error: type[Exception],
) -> None:
    with pytest.raises(error) as raised:
        client(gateway, key or acme_key).chat.completions.create(
            messages=[{"role": "user", "content": "hi"}], **kwargs
        )
    body = raised.value.body  # type: ignore[attr-defined]
    assert isinstance(body, dict) and body["message"] and body["code"]
