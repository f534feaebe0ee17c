"""What every dialect produces and consumes.

`Parsed` is a request after schema checks, before any guarding step: the backend
contract's `ChatRequest` (or embedding inputs) plus the few things the gateway itself
needs (streaming, the caller's stable subject for sticky rollouts). `Dialect` renders the
pipeline's outcome back: one answer, a stream of events, or an error."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mageguard.backends.base import ChatMessage, ChatRequest, Usage
from mageguard.gateway.errors import GatewayError, bad_request

ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
MAX_STOP = 4


@dataclass(frozen=True)
class Parsed:
    request: ChatRequest
    stream: bool = False
    include_usage: bool = False
    subject: str | None = None  # a customer or session id, for sticky rollouts
    inputs: tuple[str, ...] = ()  # embeddings only


@dataclass(frozen=True)
class Answer:
    """What the pipeline hands a dialect to render: restored text, checked."""

    id: str
    model: str
    created: int
    text: str
    finish_reason: str
    usage: Usage


class Dialect(Protocol):
    name: str

    def parse(self, body: Mapping[str, Any], max_output_tokens: int) -> Parsed: ...

    def response(self, answer: Answer) -> dict[str, Any]: ...

    def stream_start(self, answer: Answer) -> bytes: ...

    def stream_delta(self, answer: Answer, text: str) -> bytes: ...

    def stream_end(self, answer: Answer, include_usage: bool) -> bytes: ...

    def stream_error(self, error: GatewayError) -> bytes: ...

    def error(self, error: GatewayError) -> dict[str, Any]: ...


def sse(data: Mapping[str, Any] | str, event: str | None = None) -> bytes:
    import orjson

    payload = data if isinstance(data, str) else orjson.dumps(data).decode()
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


# ------------------------------------------------------------------ shared field checks


def text_of(content: Any, where: str, part_types: frozenset[str]) -> str:
    """A message's content as text: a string, or a list of text parts. Images, audio,
    files and tool calls are refused, not dropped: the gateway would otherwise pass on
    content it has not redacted, or silently change what the caller asked."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for i, part in enumerate(content):
            if not isinstance(part, dict):
                raise bad_request(f"{where}[{i}] must be an object", f"{where}[{i}]")
            kind = part.get("type")
            if not isinstance(kind, str) or kind not in part_types:
                raise GatewayError(
                    400,
                    "unsupported_content",
                    f"{where}[{i}]: content of type {str(kind)[:40]!r} is not supported by "
                    "the gateway (text only)",
                    param=f"{where}[{i}].type",
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise bad_request(f"{where}[{i}].text must be a string", f"{where}[{i}].text")
            texts.append(text)
        return "\n".join(texts)
    raise bad_request(f"{where} must be a string or a list of text parts", where)


def message(role: Any, content: Any, where: str, part_types: frozenset[str]) -> ChatMessage:
    if not isinstance(role, str) or role not in ROLES:
        raise bad_request(
            f"{where}.role must be one of {', '.join(sorted(ROLES))}", f"{where}.role"
        )
    return ChatMessage(role=ROLES[role], content=text_of(content, f"{where}.content", part_types))


def opt_number(body: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_request(f"{key} must be a number", key)
    if not low <= value <= high:
        raise bad_request(f"{key} must be between {low:g} and {high:g}", key)
    return float(value)


def opt_tokens(body: Mapping[str, Any], keys: Sequence[str], cap: int) -> int | None:
    for key in keys:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_request(f"{key} must be a positive integer", key)
        return min(value, cap)
    return None


def opt_bool(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"{key} must be a boolean", key)
    return value


def opt_stop(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if (
        isinstance(value, list)
        and all(isinstance(v, str) for v in value)
        and len(value) <= MAX_STOP
    ):
        return tuple(value)
    raise bad_request(f"{key} must be a string or a list of up to {MAX_STOP} strings", key)


def model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model or len(model) > 256:
        raise bad_request("model must be a non-empty string", "model")
    return model


def refuse_tools(body: Mapping[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if body.get(key):
            raise GatewayError(
                400,
                "unsupported_parameter",
                f"{key} is not supported by the gateway: tool calls would carry data it "
                "cannot redact",
                param=key,
            )


def subject_of(body: Mapping[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, str) and user:
        return user[:256]
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        uid = metadata.get("user_id")
        if isinstance(uid, str) and uid:
            return uid[:256]
    return None
