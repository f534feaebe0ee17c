"""The static backend: the fallback chain's last link, which always answers the same."""

from __future__ import annotations

import asyncio

import pytest

from mageguard.backends.base import BackendError, ChatMessage, ChatRequest, Locality, Usage
from mageguard.backends.static import StaticBackend
from mageguard.errors import ConfigError
from mageguard.gateway.config import BackendSpec

ANSWER = "Our assistant is not available right now."
SPEC = BackendSpec(
    id="safe", kind="static", locality=Locality.LOCAL, models=("safe-answer",), answer=ANSWER
)
REQUEST = ChatRequest(model="anything", messages=(ChatMessage("user", "Where is my order?"),))


def test_answers_the_configured_text_whatever_was_asked() -> None:
    result = asyncio.run(StaticBackend(SPEC).chat(REQUEST, timeout=1))
    assert (result.text, result.finish_reason, result.usage) == (ANSWER, "stop", Usage())


def test_streams_the_answer_as_one_final_delta() -> None:
    async def deltas() -> list[object]:
        return [d async for d in StaticBackend(SPEC).stream(REQUEST, timeout=1)]

    [delta] = asyncio.run(deltas())
    assert (delta.text, delta.finish_reason, delta.usage) == (ANSWER, "stop", Usage())


def test_describes_itself_from_its_spec() -> None:
    backend = StaticBackend(SPEC)
    assert (backend.id, backend.locality, tuple(backend.models)) == (
        "safe",
        Locality.LOCAL,
        ("safe-answer",),
    )


def test_has_no_embeddings_and_the_next_backend_is_not_tried() -> None:
    with pytest.raises(BackendError) as caught:
        asyncio.run(StaticBackend(SPEC).embed(["x"], "safe-answer", timeout=1))
    assert (caught.value.status, caught.value.retryable) == (400, False)


def test_without_an_answer_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="needs answer"):
        StaticBackend(BackendSpec(id="safe", kind="static", locality=Locality.LOCAL))
