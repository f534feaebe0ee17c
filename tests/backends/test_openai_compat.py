"""An OpenAI-protocol upstream (vLLM, Ollama, llama-server, TGI, OpenAI) as the gateway
sees it, against the stub upstream over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import pytest

from mageguard.backends.base import (
    BackendError,
    ChatMessage,
    ChatRequest,
    Locality,
    StreamDelta,
    Usage,
)
from mageguard.backends.openai_compat import OpenAIBackend
from mageguard.errors import ConfigError
from mageguard.gateway.config import BackendSpec
from tests.helpers.stub_upstream import StubUpstream

T = TypeVar("T")
ASKED = "Grüße ✓ 🎉 where is order [ORDER_1]?"


def backend(url: str, **spec: Any) -> OpenAIBackend:
    return OpenAIBackend(
        BackendSpec(id="up", kind="openai", locality=Locality.LOCAL, base_url=url, **spec)
    )


def request(model: str = "stub-model", **fields: Any) -> ChatRequest:
    messages = (ChatMessage("system", "You are a shop assistant."), ChatMessage("user", ASKED))
    return ChatRequest(model=model, messages=messages, **fields)


def run(b: OpenAIBackend, use: Callable[[OpenAIBackend], Awaitable[T]]) -> T:
    async def scenario() -> T:
        try:
            return await use(b)
        finally:
            await b.close()

    return asyncio.run(scenario())


async def collect(stream: AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    return [d async for d in stream]


def failure(b: OpenAIBackend, use: Callable[[OpenAIBackend], Awaitable[Any]]) -> BackendError:
    with pytest.raises(BackendError) as caught:
        run(b, use)
    return caught.value


# ------------------------------------------------------------------ answers


def test_chat_answers_with_text_finish_reason_and_usage(stub_upstream: StubUpstream) -> None:
    result = run(backend(stub_upstream.url + "/v1"), lambda b: b.chat(request(), 5))
    assert result.text == "echo: " + ASKED
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=12, completion_tokens=8)


def test_max_tokens_cut_reports_length(stub_upstream: StubUpstream) -> None:
    result = run(backend(stub_upstream.url + "/v1"), lambda b: b.chat(request(max_tokens=2), 5))
    assert (result.text, result.finish_reason) == ("echo: Grüße ", "length")


def test_sampling_options_and_only_plain_safe_extras_reach_the_upstream(
    stub_upstream: StubUpstream,
) -> None:
    extra = {
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.25,
        "response_format": {"type": "json_object"},
        "user": "customer-42@example.com",
        "metadata": {"order": "100000123"},
        "logit_bias": {"50256": -100},
    }
    asked = request(max_tokens=64, temperature=0.3, top_p=0.9, stop=("END",), extra=extra)
    run(backend(stub_upstream.url + "/v1"), lambda b: b.chat(asked, 5))
    sent = stub_upstream.requests[-1]
    assert sent == {
        "model": "stub-model",
        "messages": [
            {"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": ASKED},
        ],
        "max_tokens": 64,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.25,
        "response_format": {"type": "json_object"},
    }


def test_unset_options_are_left_to_the_upstream(stub_upstream: StubUpstream) -> None:
    run(backend(stub_upstream.url + "/v1"), lambda b: b.chat(request(), 5))
    assert set(stub_upstream.requests[-1]) == {"model", "messages"}


def test_extras_that_are_not_plain_values_are_dropped(stub_upstream: StubUpstream) -> None:
    extra = {"seed": True, "presence_penalty": float("nan"), "response_format": "json"}
    run(backend(stub_upstream.url + "/v1"), lambda b: b.chat(request(extra=extra), 5))
    assert set(stub_upstream.requests[-1]) == {"model", "messages"}


def test_a_model_the_backend_does_not_declare_becomes_its_first(
    stub_upstream: StubUpstream,
) -> None:
    b = backend(stub_upstream.url + "/v1", models=("qwen2.5-7b", "llama3"))
    run(b, lambda b: b.chat(request("gpt-4o"), 5))
    run(
        backend(stub_upstream.url + "/v1", models=("qwen2.5-7b", "llama3")),
        lambda b: b.chat(request("llama3"), 5),
    )
    assert [r["model"] for r in stub_upstream.requests] == ["qwen2.5-7b", "llama3"]


def test_the_api_key_from_the_environment_is_sent_as_bearer(
    stub_upstream: StubUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_UPSTREAM_KEY", "sk-test-123")
    run(
        backend(stub_upstream.url + "/v1", api_key_env="STUB_UPSTREAM_KEY"),
        lambda b: b.chat(request(), 5),
    )
    assert stub_upstream.recorded[-1].headers["Authorization"] == "Bearer sk-test-123"


def test_a_key_with_a_line_break_stops_the_backend_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUB_UPSTREAM_KEY", "sk-test-123\r\nX-Injected: yes")
    with pytest.raises(ConfigError, match="split the request"):
        backend("http://127.0.0.1:9/v1", api_key_env="STUB_UPSTREAM_KEY")


def test_no_authorization_header_when_the_key_variable_is_unset(
    stub_upstream: StubUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUB_UPSTREAM_KEY", raising=False)
    run(
        backend(stub_upstream.url + "/v1", api_key_env="STUB_UPSTREAM_KEY"),
        lambda b: b.chat(request(), 5),
    )
    assert "Authorization" not in stub_upstream.recorded[-1].headers


def test_requests_reuse_one_kept_alive_connection(stub_upstream: StubUpstream) -> None:
    async def three(b: OpenAIBackend) -> None:
        for _ in range(3):
            await b.chat(request(), 5)

    run(backend(stub_upstream.url + "/v1"), three)
    assert len({r.peer for r in stub_upstream.recorded}) == 1


def test_a_backend_without_base_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        OpenAIBackend(BackendSpec(id="up", kind="openai", locality=Locality.LOCAL))


# ------------------------------------------------------------------ streaming


def test_stream_yields_the_text_then_a_last_delta_with_finish_and_usage(
    stub_upstream: StubUpstream,
) -> None:
    deltas = run(backend(stub_upstream.url + "/v1"), lambda b: collect(b.stream(request(), 5)))
    *texts, last = deltas
    assert "".join(d.text for d in texts) == "echo: " + ASKED
    assert all(d.finish_reason is None and d.usage is None for d in texts)
    assert (last.text, last.finish_reason) == ("", "stop")
    assert last.usage == Usage(prompt_tokens=12, completion_tokens=8)
    assert stub_upstream.requests[-1]["stream"] is True
    assert stub_upstream.requests[-1]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("model", ["stub-split", "stub-crlf", "stub-split-crlf"])
def test_stream_split_into_single_bytes_or_crlf_lines_reads_the_same(
    stub_upstream: StubUpstream, model: str
) -> None:
    deltas = run(backend(stub_upstream.url + "/v1"), lambda b: collect(b.stream(request(model), 5)))
    assert "".join(d.text for d in deltas) == "echo: " + ASKED
    assert deltas[-1].finish_reason == "stop"


def test_stream_cut_by_max_tokens_reports_length(stub_upstream: StubUpstream) -> None:
    deltas = run(
        backend(stub_upstream.url + "/v1"), lambda b: collect(b.stream(request(max_tokens=3), 5))
    )
    assert deltas[-1].finish_reason == "length"
    assert deltas[-1].usage == Usage(prompt_tokens=12, completion_tokens=3)


def test_a_consumer_that_stops_early_leaves_the_backend_usable(
    stub_upstream: StubUpstream,
) -> None:
    async def first_then_again(b: OpenAIBackend) -> str:
        async with aclosing(b.stream(request("stub-stall"), 5)) as stream:
            async for _ in stream:
                break
        return (await b.chat(request(), 5)).text

    started = time.monotonic()
    assert run(backend(stub_upstream.url + "/v1"), first_then_again) == "echo: " + ASKED
    assert time.monotonic() - started < 3


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("model", "status", "retryable"),
    [
        ("stub-error-500", 502, True),
        ("stub-error-503", 502, True),
        ("stub-error-429", 429, True),
        ("stub-error-400", 400, False),
        ("stub-error-401", 401, False),
        ("stub-error-404", 404, False),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_upstream_errors_become_backend_errors(
    stub_upstream: StubUpstream, model: str, status: int, retryable: bool, streamed: bool
) -> None:
    def use(b: OpenAIBackend) -> Awaitable[Any]:
        return collect(b.stream(request(model), 5)) if streamed else b.chat(request(model), 5)

    error = failure(backend(stub_upstream.url + "/v1"), use)
    assert (error.status, error.retryable) == (status, retryable)
    assert f"stub error {model.removeprefix('stub-error-')}" in str(error)


def test_an_unreachable_upstream_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once the probe is closed
    error = failure(backend(f"http://127.0.0.1:{port}/v1"), lambda b: b.chat(request(), 5))
    assert (error.status, error.retryable) == (502, True)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_slow_upstream_times_out_as_retryable_504(
    stub_upstream: StubUpstream, streamed: bool
) -> None:
    def use(b: OpenAIBackend) -> Awaitable[Any]:
        asked = request("stub-slow")
        return collect(b.stream(asked, 0.3)) if streamed else b.chat(asked, 0.3)

    started = time.monotonic()
    error = failure(backend(stub_upstream.url + "/v1"), use)
    assert (error.status, error.retryable) == (504, True)
    assert time.monotonic() - started < 2


def test_a_stream_that_stalls_after_some_text_times_out(stub_upstream: StubUpstream) -> None:
    seen: list[str] = []

    async def use(b: OpenAIBackend) -> None:
        async for delta in b.stream(request("stub-stall"), 0.3):
            seen.append(delta.text)

    error = failure(backend(stub_upstream.url + "/v1"), use)
    assert (error.status, error.retryable, seen) == (504, True, ["echo: "])


@pytest.mark.parametrize("streamed", [False, True])
def test_malformed_json_is_a_retryable_error(stub_upstream: StubUpstream, streamed: bool) -> None:
    def use(b: OpenAIBackend) -> Awaitable[Any]:
        asked = request("stub-garbage")
        return collect(b.stream(asked, 5)) if streamed else b.chat(asked, 5)

    error = failure(backend(stub_upstream.url + "/v1"), use)
    assert (error.status, error.retryable) == (502, True)
    assert "malformed" in str(error)


def test_a_stream_cut_midway_fails_after_the_text_it_gave(stub_upstream: StubUpstream) -> None:
    seen: list[str] = []

    async def use(b: OpenAIBackend) -> None:
        async for delta in b.stream(request("stub-stream-cut"), 5):
            seen.append(delta.text)

    error = failure(backend(stub_upstream.url + "/v1"), use)
    assert (error.status, error.retryable) == (502, True)
    assert seen and "".join(seen) != "echo: " + ASKED


def test_an_error_reported_mid_stream_is_a_backend_error(stub_upstream: StubUpstream) -> None:
    error = failure(
        backend(stub_upstream.url + "/v1"),
        lambda b: collect(b.stream(request("stub-stream-error"), 5)),
    )
    assert (error.status, error.retryable) == (502, True)
    assert "stub failed mid-stream" in str(error)


# ------------------------------------------------------------------ embeddings


def test_embeddings_come_back_one_per_text_in_order(stub_upstream: StubUpstream) -> None:
    texts = ["blue cotton t-shirt", "red wool socks", "blue cotton t-shirt"]
    vectors = run(backend(stub_upstream.url + "/v1"), lambda b: b.embed(texts, "stub-emb", 5))
    assert len(vectors) == 3 and vectors[0] == vectors[2] != vectors[1]
    assert all(isinstance(x, float) for v in vectors for x in v)
    assert stub_upstream.requests[-1] == {
        "model": "stub-emb",
        "input": texts,
        "encoding_format": "float",
    }


@pytest.mark.parametrize(
    ("model", "status", "retryable"),
    [("stub-error-500", 502, True), ("stub-error-400", 400, False), ("stub-garbage", 502, True)],
)
def test_embedding_failures_become_backend_errors(
    stub_upstream: StubUpstream, model: str, status: int, retryable: bool
) -> None:
    error = failure(backend(stub_upstream.url + "/v1"), lambda b: b.embed(["x"], model, 5))
    assert (error.status, error.retryable) == (status, retryable)


def test_streamed_requests_also_reuse_the_kept_alive_connection(
    stub_upstream: StubUpstream,
) -> None:
    async def three(b: OpenAIBackend) -> None:
        for _ in range(3):
            await collect(b.stream(request(), 5))

    run(backend(stub_upstream.url + "/v1"), three)
    assert len({r.peer for r in stub_upstream.recorded}) == 1
