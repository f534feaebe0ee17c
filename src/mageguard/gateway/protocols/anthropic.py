"""Anthropic's Messages API: `/v1/messages`, answers and the event stream in the shapes
the official SDK parses, errors as `{"type": "error", "error": {...}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mageguard.backends.base import ChatMessage, ChatRequest
from mageguard.gateway.errors import GatewayError, bad_request
from mageguard.gateway.protocols.base import (
    Answer,
    Parsed,
    message,
    model_of,
    opt_bool,
    opt_number,
    opt_stop,
    opt_tokens,
    refuse_tools,
    sse,
    subject_of,
    text_of,
)

PARTS = frozenset({"text"})
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}


def error_body(error: GatewayError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error.anthropic_type, "message": error.message}}


class Messages:
    name = "anthropic.messages"

    def parse(self, body: Mapping[str, Any], max_output_tokens: int) -> Parsed:
        model = model_of(body)
        refuse_tools(body, ("tools",))
        if "max_tokens" not in body:
            raise bad_request("max_tokens: field required", "max_tokens")
        messages: list[ChatMessage] = []
        system = body.get("system")
        if system is not None:
            messages.append(ChatMessage("system", text_of(system, "system", PARTS)))
        raw = body.get("messages")
        if not isinstance(raw, list) or not raw:
            raise bad_request("messages must be a non-empty list", "messages")
        for i, m in enumerate(raw):
            if not isinstance(m, dict):
                raise bad_request(f"messages.{i} must be an object", f"messages.{i}")
            if m.get("role") not in ("user", "assistant"):
                raise bad_request(
                    f"messages.{i}.role must be user or assistant", f"messages.{i}.role"
                )
            messages.append(message(m["role"], m.get("content"), f"messages.{i}", PARTS))
        return Parsed(
            request=ChatRequest(
                model=model,
                messages=tuple(messages),
                max_tokens=opt_tokens(body, ("max_tokens",), max_output_tokens),
                temperature=opt_number(body, "temperature", 0, 1),
                top_p=opt_number(body, "top_p", 0, 1),
                stop=opt_stop(body, "stop_sequences"),
            ),
            stream=opt_bool(body, "stream"),
            subject=subject_of(body),
        )

    def _message(
        self, answer: Answer, content: list[dict[str, Any]], stop: str | None, output_tokens: int
    ) -> dict[str, Any]:
        return {
            "id": answer.id,
            "type": "message",
            "role": "assistant",
            "model": answer.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": answer.usage.prompt_tokens, "output_tokens": output_tokens},
        }

    def response(self, answer: Answer) -> dict[str, Any]:
        return self._message(
            answer,
            [{"type": "text", "text": answer.text}],
            STOP_REASONS.get(answer.finish_reason, "end_turn"),
            answer.usage.completion_tokens,
        )

    def stream_start(self, answer: Answer) -> bytes:
        start = {"type": "message_start", "message": self._message(answer, [], None, 0)}
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        return (
            sse(start, "message_start")
            + sse(block, "content_block_start")
            + sse({"type": "ping"}, "ping")
        )

    def stream_delta(self, answer: Answer, text: str) -> bytes:
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return sse(delta, "content_block_delta")

    def stream_end(self, answer: Answer, include_usage: bool) -> bytes:
        delta = {
            "type": "message_delta",
            "delta": {
                "stop_reason": STOP_REASONS.get(answer.finish_reason, "end_turn"),
                "stop_sequence": None,
            },
            "usage": {"output_tokens": answer.usage.completion_tokens},
        }
        return (
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            + sse(delta, "message_delta")
            + sse({"type": "message_stop"}, "message_stop")
        )

    def stream_error(self, error: GatewayError) -> bytes:
        return sse(error_body(error), "error")

    def error(self, error: GatewayError) -> dict[str, Any]:
        return error_body(error)
