"""OpenAI's API: chat completions, legacy completions, the Responses API, embeddings and
the model list, answers and SSE streams in the shapes the official SDKs parse."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
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

CHAT_PARTS = frozenset({"text"})
RESPONSES_PARTS = frozenset({"input_text", "output_text", "text"})
_PASS_THROUGH = ("seed", "presence_penalty", "frequency_penalty")
DONE = b"data: [DONE]\n\n"


def _usage(answer: Answer) -> dict[str, int]:
    u = answer.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
    }


def _extra(body: Mapping[str, Any]) -> dict[str, object]:
    extra: dict[str, object] = {}
    for key in _PASS_THROUGH:
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            extra[key] = value
    return extra


def error_body(error: GatewayError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": error.openai_type,
            "param": error.param,
            "code": error.code,
        }
    }


class _OpenAIErrors:
    def error(self, error: GatewayError) -> dict[str, Any]:
        return error_body(error)

    def stream_error(self, error: GatewayError) -> bytes:
        return sse(error_body(error))


class ChatCompletions(_OpenAIErrors):
    name = "openai.chat"

    def parse(self, body: Mapping[str, Any], max_output_tokens: int) -> Parsed:
        model = model_of(body)
        raw = body.get("messages")
        if not isinstance(raw, list) or not raw:
            raise bad_request("messages must be a non-empty list", "messages")
        messages = []
        for i, m in enumerate(raw):
            if not isinstance(m, dict):
                raise bad_request(f"messages[{i}] must be an object", f"messages[{i}]")
            if m.get("tool_calls") or m.get("function_call"):
                refuse_tools(m, ("tool_calls", "function_call"))
            messages.append(message(m.get("role"), m.get("content"), f"messages[{i}]", CHAT_PARTS))
        refuse_tools(body, ("tools", "functions"))
        n = body.get("n", 1)
        if n not in (1, None):
            raise bad_request("n must be 1", "n")
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return Parsed(
            request=ChatRequest(
                model=model,
                messages=tuple(messages),
                max_tokens=opt_tokens(
                    body, ("max_completion_tokens", "max_tokens"), max_output_tokens
                )
                or max_output_tokens,
                temperature=opt_number(body, "temperature", 0, 2),
                top_p=opt_number(body, "top_p", 0, 1),
                stop=opt_stop(body, "stop"),
                extra=_extra(body),
            ),
            stream=opt_bool(body, "stream"),
            include_usage=include_usage,
            subject=subject_of(body),
        )

    def response(self, answer: Answer) -> dict[str, Any]:
        return {
            "id": answer.id,
            "object": "chat.completion",
            "created": answer.created,
            "model": answer.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": answer.finish_reason,
                }
            ],
            "usage": _usage(answer),
        }

    def _chunk(self, answer: Answer, delta: dict[str, Any], finish: str | None) -> bytes:
        return sse(
            {
                "id": answer.id,
                "object": "chat.completion.chunk",
                "created": answer.created,
                "model": answer.model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
        )

    def stream_start(self, answer: Answer) -> bytes:
        return self._chunk(answer, {"role": "assistant", "content": ""}, None)

    def stream_delta(self, answer: Answer, text: str) -> bytes:
        return self._chunk(answer, {"content": text}, None)

    def stream_end(self, answer: Answer, include_usage: bool) -> bytes:
        out = self._chunk(answer, {}, answer.finish_reason)
        if include_usage:
            out += sse(
                {
                    "id": answer.id,
                    "object": "chat.completion.chunk",
                    "created": answer.created,
                    "model": answer.model,
                    "choices": [],
                    "usage": _usage(answer),
                }
            )
        return out + DONE


class Completions(_OpenAIErrors):
    """The legacy endpoint older Magento modules still call: one prompt, one text."""

    name = "openai.completions"

    def parse(self, body: Mapping[str, Any], max_output_tokens: int) -> Parsed:
        model = model_of(body)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise bad_request(
                "prompt must be a string (token arrays and batches are not supported)", "prompt"
            )
        if body.get("n", 1) not in (1, None) or body.get("best_of", 1) not in (1, None):
            raise bad_request("n and best_of must be 1", "n")
        if body.get("echo"):
            raise bad_request("echo is not supported", "echo")
        options = body.get("stream_options")
        return Parsed(
            request=ChatRequest(
                model=model,
                messages=(ChatMessage("user", prompt),),
                max_tokens=opt_tokens(body, ("max_tokens",), max_output_tokens)
                or min(16 * 8, max_output_tokens),
                temperature=opt_number(body, "temperature", 0, 2),
                top_p=opt_number(body, "top_p", 0, 1),
                stop=opt_stop(body, "stop"),
                extra=_extra(body),
            ),
            stream=opt_bool(body, "stream"),
            include_usage=isinstance(options, dict) and options.get("include_usage") is True,
            subject=subject_of(body),
        )

    def _body(self, answer: Answer, text: str, finish: str | None) -> dict[str, Any]:
        return {
            "id": answer.id,
            "object": "text_completion",
            "created": answer.created,
            "model": answer.model,
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    def response(self, answer: Answer) -> dict[str, Any]:
        return {**self._body(answer, answer.text, answer.finish_reason), "usage": _usage(answer)}

    def stream_start(self, answer: Answer) -> bytes:
        return b""

    def stream_delta(self, answer: Answer, text: str) -> bytes:
        return sse(self._body(answer, text, None))

    def stream_end(self, answer: Answer, include_usage: bool) -> bytes:
        last = self._body(answer, "", answer.finish_reason)
        if include_usage:
            last["usage"] = _usage(answer)
        return sse(last) + DONE


class Responses(_OpenAIErrors):
    """The Responses API (`client.responses.create`): `input` and `instructions` in, an
    output message out; streamed as typed events with sequence numbers."""

    name = "openai.responses"

    def __init__(self) -> None:
        self._seq: int = 0  # a dialect instance serves one request (see gateway.app)

    def parse(self, body: Mapping[str, Any], max_output_tokens: int) -> Parsed:
        model = model_of(body)
        refuse_tools(body, ("tools",))
        if body.get("previous_response_id"):
            raise bad_request(
                "previous_response_id is not supported: the gateway keeps no conversation content",
                "previous_response_id",
            )
        messages: list[ChatMessage] = []
        instructions = body.get("instructions")
        if instructions is not None:
            if not isinstance(instructions, str):
                raise bad_request("instructions must be a string", "instructions")
            messages.append(ChatMessage("system", instructions))
        raw = body.get("input")
        if isinstance(raw, str):
            messages.append(ChatMessage("user", raw))
        elif isinstance(raw, list) and raw:
            for i, item in enumerate(raw):
                if not isinstance(item, dict):
                    raise bad_request(f"input[{i}] must be an object", f"input[{i}]")
                if item.get("type", "message") != "message":
                    raise GatewayError(
                        400,
                        "unsupported_content",
                        f"input[{i}]: items of type {str(item.get('type'))[:40]!r} "
                        "are not supported (messages only)",
                        param=f"input[{i}].type",
                    )
                messages.append(
                    message(item.get("role"), item.get("content"), f"input[{i}]", RESPONSES_PARTS)
                )
        else:
            raise bad_request("input must be a string or a non-empty list of messages", "input")
        return Parsed(
            request=ChatRequest(
                model=model,
                messages=tuple(messages),
                max_tokens=opt_tokens(body, ("max_output_tokens",), max_output_tokens)
                or max_output_tokens,
                temperature=opt_number(body, "temperature", 0, 2),
                top_p=opt_number(body, "top_p", 0, 1),
            ),
            stream=opt_bool(body, "stream"),
            subject=subject_of(body),
        )

    def _object(self, answer: Answer, status: str, text: str | None) -> dict[str, Any]:
        output = []
        if text is not None:
            output.append(self._item(answer, text, "completed"))
        u = answer.usage
        return {
            "id": answer.id,
            "object": "response",
            "created_at": answer.created,
            "status": status,
            "error": None,
            "incomplete_details": (
                {"reason": "max_output_tokens"}
                if answer.finish_reason == "length" and status != "in_progress"
                else None
            ),
            "instructions": None,
            "max_output_tokens": None,
            "model": answer.model,
            "output": output,
            "parallel_tool_calls": False,
            "temperature": None,
            "tool_choice": "auto",
            "tools": [],
            "top_p": None,
            "usage": {
                "input_tokens": u.prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": u.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": u.prompt_tokens + u.completion_tokens,
            },
        }

    def _item(self, answer: Answer, text: str, status: str) -> dict[str, Any]:
        return {
            "type": "message",
            "id": "msg_" + answer.id.removeprefix("resp_"),
            "status": status,
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }

    def response(self, answer: Answer) -> dict[str, Any]:
        status = "incomplete" if answer.finish_reason == "length" else "completed"
        return self._object(answer, status, answer.text)

    def _event(self, kind: str, answer: Answer, **fields: Any) -> bytes:
        seq, self._seq = self._seq, self._seq + 1
        return sse({"type": kind, "sequence_number": seq, **fields}, event=kind)

    def stream_start(self, answer: Answer) -> bytes:
        item = {**self._item(answer, "", "in_progress"), "content": []}
        part = {"type": "output_text", "text": "", "annotations": []}
        created = self._object(answer, "in_progress", None)
        return (
            self._event("response.created", answer, response=created)
            + self._event("response.in_progress", answer, response=created)
            + self._event("response.output_item.added", answer, output_index=0, item=item)
            + self._event(
                "response.content_part.added",
                answer,
                item_id=item["id"],
                output_index=0,
                content_index=0,
                part=part,
            )
        )

    def stream_delta(self, answer: Answer, text: str) -> bytes:
        return self._event(
            "response.output_text.delta",
            answer,
            item_id=self._item(answer, "", "")["id"],
            output_index=0,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def stream_end(self, answer: Answer, include_usage: bool) -> bytes:
        item = self._item(answer, answer.text, "completed")
        part = item["content"][0]
        final = self.response(answer)
        out = (
            self._event(
                "response.output_text.done",
                answer,
                item_id=item["id"],
                output_index=0,
                content_index=0,
                text=answer.text,
                logprobs=[],
            )
            + self._event(
                "response.content_part.done",
                answer,
                item_id=item["id"],
                output_index=0,
                content_index=0,
                part=part,
            )
            + self._event("response.output_item.done", answer, output_index=0, item=item)
            + self._event(
                "response.completed" if final["status"] == "completed" else "response.incomplete",
                answer,
                response=final,
            )
        )
        return out

    def stream_error(self, error: GatewayError) -> bytes:
        return sse(
            {
                "type": "error",
                "code": error.code,
                "message": error.message,
                "param": error.param,
                "sequence_number": self._seq,
            },
            event="error",
        )


# ------------------------------------------------------------------ embeddings, models


def parse_embeddings(body: Mapping[str, Any], max_inputs: int) -> Parsed:
    model = model_of(body)
    raw = body.get("input")
    if isinstance(raw, str):
        inputs: Sequence[Any] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = raw
    else:
        raise bad_request(
            "input must be a string or a non-empty list of strings "
            "(token arrays are not supported)",
            "input",
        )
    if len(inputs) > max_inputs:
        raise bad_request(f"input holds more than {max_inputs} texts", "input")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):  # the SDK asks for base64 (packed float32) by default
        raise bad_request("encoding_format must be 'float' or 'base64'", "encoding_format")
    if body.get("dimensions") is not None:
        raise bad_request("dimensions is not supported", "dimensions")
    return Parsed(
        request=ChatRequest(model=model, messages=()),
        inputs=tuple(inputs),
        subject=subject_of(body),
    )


def embeddings_response(
    model: str, vectors: Sequence[Sequence[float]], tokens: int, encoding: str = "float"
) -> dict[str, Any]:
    def encoded(v: Sequence[float]) -> list[float] | str:
        if encoding == "base64":
            return base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode("ascii")
        return list(v)

    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encoded(v)}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def models_response(models: Sequence[str], created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "created": created, "owned_by": "mageguard"}
            for m in models
        ],
    }


def text_content(content: Any, where: str) -> str:
    return text_of(content, where, CHAT_PARTS)
