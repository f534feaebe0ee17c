"""Anthropic's Messages API, an external provider the policy may allow after redaction.

The Messages API is stricter than OpenAI's: the system prompt is a field, not a message;
roles must alternate; `max_tokens` is required. The conversion below makes any request
the gateway accepted valid here rather than letting the provider refuse it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from mageguard.backends._http import (
    Deadline,
    HttpUpstream,
    drain,
    loads,
    malformed,
    upstream_message,
    usage_of,
)
from mageguard.backends.base import (
    BackendError,
    ChatMessage,
    ChatRequest,
    ChatResult,
    SpecBacked,
    StreamDelta,
    Usage,
)

if TYPE_CHECKING:
    from mageguard.gateway.config import BackendSpec

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 1024  # the API has no default; the gateway caps it anyway
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
}
# Error `type`s of Anthropic's error events -> (status, retryable)
_ERRORS = {
    "invalid_request_error": (400, False),
    "authentication_error": (401, False),
    "permission_error": (403, False),
    "not_found_error": (404, False),
    "request_too_large": (413, False),
    "rate_limit_error": (429, True),
}


class AnthropicBackend(SpecBacked):
    """`spec.base_url` is the API root without `/v1` (default https://api.anthropic.com);
    the key is read from the environment variable `spec.api_key_env` when the backend
    is built, and a missing key fails each call (retryable: the next backend may do)."""

    def __init__(self, spec: BackendSpec, *, max_connections: int = 100) -> None:
        self._spec = spec
        self._key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        headers = {"anthropic-version": API_VERSION}
        if self._key:
            headers["x-api-key"] = self._key
        self._http = HttpUpstream(
            spec.id, spec.base_url or DEFAULT_BASE_URL, headers, max_connections=max_connections
        )

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult:
        payload = await self._http.post_json("/v1/messages", self._body(request), timeout)
        what = f"{self.id}: message"
        if not isinstance(payload, dict) or not isinstance(payload.get("content"), list):
            raise malformed(what)
        texts = []
        for block in payload["content"]:
            if not isinstance(block, dict):
                raise malformed(what)
            if block.get("type") == "text":
                if not isinstance(block.get("text"), str):
                    raise malformed(what)
                texts.append(block["text"])
        return ChatResult(
            text="".join(texts),
            finish_reason=FINISH.get(str(payload.get("stop_reason")), "stop"),
            usage=usage_of(payload.get("usage"), "input_tokens", "output_tokens") or Usage(),
        )

    async def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]:
        """Text as it comes; the last delta carries finish_reason and usage. `timeout`
        bounds the wait for the first piece of text and for each next one."""
        body = {**self._body(request), "stream": True}
        deadline = Deadline(timeout)
        what = f"{self.id}: message event"
        prompt_tokens = completion_tokens = 0
        finish = "stop"
        stopped = False
        events = self._http.post_events("/v1/messages", body, deadline)
        async with aclosing(events):
            async for event in events:
                data = loads(event.data, what)
                if not isinstance(data, dict):
                    raise malformed(what)
                kind = data.get("type") or event.event
                if kind == "message_start":
                    message = data.get("message")
                    usage = usage_of(
                        message.get("usage") if isinstance(message, dict) else None,
                        "input_tokens",
                        "output_tokens",
                    )
                    if usage is not None:
                        prompt_tokens = usage.prompt_tokens
                        completion_tokens = usage.completion_tokens
                elif kind == "content_block_delta":
                    delta = data.get("delta")
                    if not isinstance(delta, dict):
                        raise malformed(what)
                    if delta.get("type") == "text_delta":
                        text = delta.get("text")
                        if not isinstance(text, str):
                            raise malformed(what)
                        if text:
                            yield StreamDelta(text=text)
                            deadline.reset()
                elif kind == "message_delta":
                    delta = data.get("delta")
                    if isinstance(delta, dict) and delta.get("stop_reason"):
                        finish = FINISH.get(str(delta["stop_reason"]), "stop")
                    usage = data.get("usage")
                    if isinstance(usage, dict):  # cumulative, so the last one wins
                        if isinstance(usage.get("output_tokens"), int):
                            completion_tokens = usage["output_tokens"]
                        if isinstance(usage.get("input_tokens"), int):
                            prompt_tokens = usage["input_tokens"]
                elif kind == "message_stop":
                    stopped = True
                    await drain(events, deadline)
                    break
                elif kind == "error":
                    raise _event_error(self.id, data)
        if not stopped:
            raise BackendError(f"{self.id}: the stream ended before the answer did", status=502)
        yield StreamDelta(finish_reason=finish, usage=Usage(prompt_tokens, completion_tokens))

    async def embed(self, texts: Sequence[str], model: str, timeout: float) -> list[list[float]]:
        raise BackendError(f"{self.id}: Anthropic has no embeddings", status=400, retryable=False)

    async def close(self) -> None:
        await self._http.close()

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        if self._spec.api_key_env and not self._key:
            raise BackendError(f"{self.id}: {self._spec.api_key_env} is not set", status=502)
        models = self._spec.models
        system, messages = to_messages(request.messages)
        body: dict[str, Any] = {
            "model": request.model if not models or request.model in models else models[0],
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            body["system"] = system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        top_k = request.extra.get("top_k")
        if isinstance(top_k, int) and not isinstance(top_k, bool) and top_k > 0:
            body["top_k"] = top_k
        return body


def to_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """System messages joined into the `system` field; the rest with roles alternating
    (a tool result is the user's turn, consecutive turns of one role are merged)."""
    system: list[str] = []
    turns: list[dict[str, str]] = []
    for m in messages:
        if m.role == "system":
            system.append(m.content)
            continue
        role = "assistant" if m.role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + m.content
        else:
            turns.append({"role": role, "content": m.content})
    return "\n\n".join(system), turns


def _event_error(backend: str, data: Mapping[str, Any]) -> BackendError:
    error = data.get("error")
    kind = error.get("type") if isinstance(error, Mapping) else None
    status, retryable = _ERRORS.get(str(kind), (502, True))
    detail = upstream_message(data) or "error event"
    return BackendError(
        f"{backend}: upstream failed mid-stream: {detail}", status=status, retryable=retryable
    )
