"""Any server that speaks the OpenAI protocol: vLLM, Ollama, llama-server, TGI, OpenAI.

One backend class covers them all because the gateway only uses what they share:
`/chat/completions` (streamed or not) and `/embeddings`. Only a short list of sampling
options passes through; anything naming or describing the caller (`user`, `metadata`)
stays in the gateway.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from mageguard.backends._http import Deadline, HttpUpstream, drain, loads, malformed, usage_of
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

FINISH = {"stop": "stop", "length": "length", "content_filter": "content_filter"}
_NUMBERS = ("presence_penalty", "frequency_penalty")


class OpenAIBackend(SpecBacked):
    """`spec.base_url` ends with `/v1`, as the OpenAI SDK's does; the key, if any, is
    read from the environment variable `spec.api_key_env` when the backend is built."""

    def __init__(self, spec: BackendSpec, *, max_connections: int = 100) -> None:
        if not spec.base_url:
            raise ConfigError(f"backend {spec.id}: an openai backend needs base_url")
        self._spec = spec
        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = HttpUpstream(spec.id, spec.base_url, headers, max_connections=max_connections)

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult:
        payload = await self._http.post_json("/chat/completions", self._body(request), timeout)
        what = f"{self.id}: chat completion"
        if not isinstance(payload, dict):
            raise malformed(what)
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise malformed(what)
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise malformed(what)
        text = message.get("content")
        if text is not None and not isinstance(text, str):
            raise malformed(what)
        return ChatResult(
            text=text or "",
            finish_reason=FINISH.get(str(choices[0].get("finish_reason")), "stop"),
            usage=usage_of(payload.get("usage"), "prompt_tokens", "completion_tokens") or Usage(),
        )

    async def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]:
        """Text as it comes; the last delta carries finish_reason and usage. `timeout`
        bounds the wait for the first piece of text and for each next one."""
        body = {**self._body(request), "stream": True, "stream_options": {"include_usage": True}}
        deadline = Deadline(timeout)
        what = f"{self.id}: chat completion chunk"
        finish: str | None = None
        usage: Usage | None = None
        done = False
        events = self._http.post_events("/chat/completions", body, deadline)
        async with aclosing(events):
            async for event in events:
                if event.data == "[DONE]":
                    done = True
                    await drain(events, deadline)
                    break
                chunk = loads(event.data, what)
                if not isinstance(chunk, dict):
                    raise malformed(what)
                if "error" in chunk:  # how vLLM and others report a failure mid-stream
                    raise _stream_error(self.id, chunk["error"])
                usage = usage_of(chunk.get("usage"), "prompt_tokens", "completion_tokens") or usage
                choices = chunk.get("choices") or []
                if not isinstance(choices, list):
                    raise malformed(what)
                for choice in choices[:1]:
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    if not isinstance(delta, dict):
                        raise malformed(what)
                    text = delta.get("content")
                    if text:
                        if not isinstance(text, str):
                            raise malformed(what)
                        yield StreamDelta(text=text)
                        deadline.reset()
                    if choice.get("finish_reason"):
                        finish = FINISH.get(str(choice["finish_reason"]), "stop")
        if not done and finish is None:
            raise BackendError(f"{self.id}: the stream ended before the answer did", status=502)
        yield StreamDelta(finish_reason=finish or "stop", usage=usage or Usage())

    async def embed(self, texts: Sequence[str], model: str, timeout: float) -> list[list[float]]:
        if not texts:
            return []
        body = {"model": self._model(model), "input": list(texts), "encoding_format": "float"}
        payload = await self._http.post_json("/embeddings", body, timeout)
        what = f"{self.id}: embeddings"
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != len(texts):
            raise malformed(what)
        vectors: list[list[float] | None] = [None] * len(texts)
        for position, item in enumerate(data):
            if not isinstance(item, dict):
                raise malformed(what)
            index = item.get("index", position)
            vector = item.get("embedding")
            if (
                not isinstance(index, int)
                or not 0 <= index < len(texts)
                or vectors[index] is not None
                or not isinstance(vector, list)
                or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector)
            ):
                raise malformed(what)
            vectors[index] = [float(x) for x in vector]
        return [v for v in vectors if v is not None]

    async def close(self) -> None:
        await self._http.close()

    def _model(self, requested: str) -> str:
        """A backend only ever asks its upstream for a model it declares: the first one
        when the caller's name is not among them (no declared models: pass through)."""
        models = self._spec.models
        return requested if not models or requested in models else models[0]

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model(request.model),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop"] = list(request.stop)
        body.update(safe_extra(request.extra))
        return body


def safe_extra(extra: Mapping[str, object]) -> dict[str, object]:
    """The options that only steer sampling or output shape, and only as plain values:
    anything else could carry data past redaction (`user`, `metadata`, tool payloads)."""
    out: dict[str, object] = {}
    seed = extra.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        out["seed"] = seed
    for key in _NUMBERS:
        value = extra.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[key] = value
    response_format = extra.get("response_format")
    if _plain(response_format) and isinstance(response_format, Mapping):
        out["response_format"] = response_format
    return out


def _plain(value: object, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _stream_error(backend: str, error: object) -> BackendError:
    message = ""
    status = 502
    if isinstance(error, Mapping):
        message = str(error.get("message") or error.get("type") or "")[:200]
        code = error.get("code")
        if isinstance(code, int) and 400 <= code < 500 and code not in (408, 429):
            return BackendError(f"{backend}: {message}", status=code, retryable=False)
    elif isinstance(error, str):
        message = error[:200]
    return BackendError(f"{backend}: upstream failed mid-stream: {message}", status=status)
