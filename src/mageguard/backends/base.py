"""The backend contract: what the gateway needs from a model, whatever serves it.

Requests reaching a backend are already redacted; a backend never sees a vault. Text
streams as plain deltas; protocol framing (SSE, Anthropic events) is the gateway's job.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mageguard.gateway.config import BackendSpec


class Locality(enum.StrEnum):
    LOCAL = "local"  # runs on infrastructure the merchant controls
    EXTERNAL = "external"  # a third party's service


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant | tool
    content: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class ChatResult:
    text: str
    finish_reason: str = "stop"  # stop | length | content_filter
    usage: Usage = Usage()


@dataclass(frozen=True)
class StreamDelta:
    """One piece of a streamed answer; the last one carries finish_reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


class BackendError(Exception):
    """The backend failed (connection, HTTP status, bad answer). `retryable` tells the
    router whether the next backend in the fallback chain may be tried."""

    def __init__(self, message: str, *, status: int = 502, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class SpecBacked:
    """What every backend takes from its configuration as is: its id, where it runs, the
    models it answers to."""

    _spec: BackendSpec

    @property
    def id(self) -> str:
        return self._spec.id

    @property
    def locality(self) -> Locality:
        return self._spec.locality

    @property
    def models(self) -> Sequence[str]:
        return self._spec.models


class Backend(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def locality(self) -> Locality: ...

    @property
    def models(self) -> Sequence[str]: ...

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult: ...

    def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]: ...

    async def embed(
        self, texts: Sequence[str], model: str, timeout: float
    ) -> list[list[float]]: ...

    async def close(self) -> None: ...
