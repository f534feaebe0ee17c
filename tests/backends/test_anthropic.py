"""Anthropic's Messages API as the gateway sees it, against the stub upstream over real
HTTP: the request reshaped to what the API accepts, its event stream read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from mageguard.backends.anthropic import AnthropicBackend, to_messages
from mageguard.backends.base import (
    BackendError,
    ChatMessage,
    ChatRequest,
    Locality,
    StreamDelta,
    Usage,
)
from mageguard.gateway.config import BackendSpec
from tests.helpers.stub_upstream import StubUpstream

T = TypeVar("T")
KEY_ENV = "STUB_ANTHROPIC_KEY"
ASKED = "Grüße ✓ 🎉 is [SKU_1] in stock?"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-ant-test")


def backend(url: str, **spec: Any) -> AnthropicBackend:
    fields: dict[str, Any] = {"api_key_env": KEY_ENV, **spec}
    return AnthropicBackend(
        BackendSpec(
            id="claude", kind="anthropic", locality=Locality.EXTERNAL, base_url=url, **fields
        )
    )


def request(model: str = "claude-test", **fields: Any) -> ChatRequest:
    messages = (ChatMessage("system", "You are a shop assistant."), ChatMessage("user", ASKED))
    return ChatRequest(model=model, messages=messages, **fields)


def run(b: AnthropicBackend, use: Callable[[AnthropicBackend], Awaitable[T]]) -> T:
    async def scenario() -> T:
        try:
            return await use(b)
        finally:
            await b.close()

    return asyncio.run(scenario())


async def collect(stream: AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    return [d async for d in stream]


def failure(b: AnthropicBackend, use: Callable[[AnthropicBackend], Awaitable[Any]]) -> BackendError:
    with pytest.raises(BackendError) as caught:
        run(b, use)
    return caught.value


# ------------------------------------------------------------------ the request


def test_system_messages_become_the_system_field_and_turns_alternate() -> None:
    system, turns = to_messages(
        [
            ChatMessage("system", "Be brief."),
            ChatMessage("user", "Hi."),
            ChatMessage("system", "Never quote prices."),
            ChatMessage("user", "Is it in stock?"),
            ChatMessage("assistant", "Which size?"),
            ChatMessage("assistant", "We have M and L."),
            ChatMessage("tool", '{"stock": 3}'),
        ]
    )
    assert system == "Be brief.\n\nNever quote prices."
    assert turns == [
        {"role": "user", "content": "Hi.\n\nIs it in stock?"},
        {"role": "assistant", "content": "Which size?\n\nWe have M and L."},
        {"role": "user", "content": '{"stock": 3}'},
    ]


def test_the_request_has_key_version_max_tokens_and_stop_sequences(
    stub_upstream: StubUpstream,
) -> None:
    asked = request(temperature=0.5, top_p=0.8, stop=("END",), extra={"top_k": 5, "user": "x"})
    run(backend(stub_upstream.url), lambda b: b.chat(asked, 5))
    [seen] = stub_upstream.recorded
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == "sk-ant-test"
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert stub_upstream.requests[-1] == {
        "model": "claude-test",
        "system": "You are a shop assistant.",
        "messages": [{"role": "user", "content": ASKED}],
        "max_tokens": 1024,
        "temperature": 0.5,
        "top_p": 0.8,
        "stop_sequences": ["END"],
        "top_k": 5,
    }


def test_a_missing_key_fails_before_anything_is_sent(
    stub_upstream: StubUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    error = failure(backend(stub_upstream.url), lambda b: b.chat(request(), 5))
    assert error.retryable and KEY_ENV in str(error)
    assert stub_upstream.requests == []


def test_has_no_embeddings_and_the_next_backend_is_not_tried(stub_upstream: StubUpstream) -> None:
    error = failure(backend(stub_upstream.url), lambda b: b.embed(["x"], "claude-test", 5))
    assert (error.status, error.retryable) == (400, False)


# ------------------------------------------------------------------ answers


def test_chat_answers_with_text_finish_reason_and_usage(stub_upstream: StubUpstream) -> None:
    result = run(backend(stub_upstream.url), lambda b: b.chat(request(), 5))
    assert result.text == "echo: " + ASKED
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=12, completion_tokens=8)


def test_max_tokens_stop_reason_is_length(stub_upstream: StubUpstream) -> None:
    result = run(backend(stub_upstream.url), lambda b: b.chat(request(max_tokens=2), 5))
    assert (result.text, result.finish_reason) == ("echo: Grüße ", "length")


def test_stream_yields_the_text_then_a_last_delta_with_finish_and_usage(
    stub_upstream: StubUpstream,
) -> None:
    deltas = run(backend(stub_upstream.url), lambda b: collect(b.stream(request(), 5)))
    *texts, last = deltas
    assert "".join(d.text for d in texts) == "echo: " + ASKED
    assert all(d.finish_reason is None for d in texts)
    assert (last.text, last.finish_reason) == ("", "stop")
    assert last.usage == Usage(prompt_tokens=12, completion_tokens=8)


@pytest.mark.parametrize("model", ["stub-split", "stub-crlf"])
def test_stream_split_into_single_bytes_or_crlf_lines_reads_the_same(
    stub_upstream: StubUpstream, model: str
) -> None:
    deltas = run(backend(stub_upstream.url), lambda b: collect(b.stream(request(model), 5)))
    assert "".join(d.text for d in deltas) == "echo: " + ASKED


def test_stream_cut_by_max_tokens_reports_length_and_the_final_count(
    stub_upstream: StubUpstream,
) -> None:
    deltas = run(backend(stub_upstream.url), lambda b: collect(b.stream(request(max_tokens=3), 5)))
    assert deltas[-1].finish_reason == "length"
    assert deltas[-1].usage == Usage(prompt_tokens=12, completion_tokens=3)


def test_the_system_prompt_reaches_the_model(stub_upstream: StubUpstream) -> None:
    result = run(backend(stub_upstream.url), lambda b: b.chat(request("stub-echo-system"), 5))
    assert result.text == "You are a shop assistant."


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("model", "status", "retryable"),
    [
        ("stub-error-500", 502, True),
        ("stub-error-529", 502, True),
        ("stub-error-429", 429, True),
        ("stub-error-400", 400, False),
        ("stub-error-401", 401, False),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_upstream_errors_become_backend_errors(
    stub_upstream: StubUpstream, model: str, status: int, retryable: bool, streamed: bool
) -> None:
    def use(b: AnthropicBackend) -> Awaitable[Any]:
        return collect(b.stream(request(model), 5)) if streamed else b.chat(request(model), 5)

    error = failure(backend(stub_upstream.url), use)
    assert (error.status, error.retryable) == (status, retryable)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_slow_upstream_times_out_as_retryable_504(
    stub_upstream: StubUpstream, streamed: bool
) -> None:
    def use(b: AnthropicBackend) -> Awaitable[Any]:
        asked = request("stub-slow")
        return collect(b.stream(asked, 0.3)) if streamed else b.chat(asked, 0.3)

    started = time.monotonic()
    error = failure(backend(stub_upstream.url), use)
    assert (error.status, error.retryable) == (504, True)
    assert time.monotonic() - started < 2


def test_a_stream_that_stalls_after_some_text_times_out(stub_upstream: StubUpstream) -> None:
    error = failure(
        backend(stub_upstream.url), lambda b: collect(b.stream(request("stub-stall"), 0.3))
    )
    assert (error.status, error.retryable) == (504, True)


@pytest.mark.parametrize("streamed", [False, True])
def test_malformed_json_is_a_retryable_error(stub_upstream: StubUpstream, streamed: bool) -> None:
    def use(b: AnthropicBackend) -> Awaitable[Any]:
        asked = request("stub-garbage")
        return collect(b.stream(asked, 5)) if streamed else b.chat(asked, 5)

    error = failure(backend(stub_upstream.url), use)
    assert (error.status, error.retryable) == (502, True)


def test_a_stream_cut_midway_is_a_retryable_error(stub_upstream: StubUpstream) -> None:
    error = failure(
        backend(stub_upstream.url), lambda b: collect(b.stream(request("stub-stream-cut"), 5))
    )
    assert (error.status, error.retryable) == (502, True)


def test_an_error_event_mid_stream_is_a_backend_error(stub_upstream: StubUpstream) -> None:
    seen: list[str] = []

    async def use(b: AnthropicBackend) -> None:
        async for delta in b.stream(request("stub-stream-error"), 5):
            seen.append(delta.text)

    error = failure(backend(stub_upstream.url), use)
    assert (error.status, error.retryable) == (502, True)
    assert "Overloaded" in str(error) and seen == ["echo: "]


def test_requests_streamed_or_not_reuse_one_kept_alive_connection(
    stub_upstream: StubUpstream,
) -> None:
    async def mixed(b: AnthropicBackend) -> None:
        for _ in range(2):
            await collect(b.stream(request(), 5))
            await b.chat(request(), 5)

    run(backend(stub_upstream.url), mixed)
    assert len({r.peer for r in stub_upstream.recorded}) == 1
