"""The last link of a fallback chain: a fixed, safe answer that cannot fail.

Checkout must keep working when every model is down or turned off (the kill switch);
this backend has no I/O, so it answers even then. It never sees the request's content
in any way that matters: the answer is the configured text, whatever was asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from mageguard.backends.base import (
    BackendError,
    ChatRequest,
    ChatResult,
    SpecBacked,
    StreamDelta,
    Usage,
)
from mageguard.errors import ConfigError

if TYPE_CHECKING:
    from mageguard.gateway.config import BackendSpec


class StaticBackend(SpecBacked):
    def __init__(self, spec: BackendSpec) -> None:
        if not spec.answer:
            raise ConfigError(f"backend {spec.id}: a static backend needs answer")
        self._spec = spec
        self._answer = spec.answer

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult:
        return ChatResult(text=self._answer, finish_reason="stop", usage=Usage())

    async def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]:
        yield StreamDelta(text=self._answer, finish_reason="stop", usage=Usage())

    async def embed(self, texts: Sequence[str], model: str, timeout: float) -> list[list[float]]:
        raise BackendError(
            f"{self.id}: a static answer has no embeddings", status=400, retryable=False
        )

    async def close(self) -> None:
        return None
