"""A stand-in for the model servers behind the gateway: OpenAI protocol
(`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) and Anthropic's
(`/v1/messages`), streamed and not.

It answers "echo: " + the last user message, so a test sees exactly what reached the
model (placeholders, not the customer's data) and what the gateway restored. It records
every request it received: the proof that nothing unredacted left the gateway.

The requested model name (or an `x-stub-mode` header) picks a misbehaviour:

    stub-error-<status>   answer that HTTP status with the protocol's error body
    stub-slow             sleep 60 s before answering (longer than any test timeout)
    stub-stall            stream: send the first piece of text, then nothing for 60 s
    stub-garbage          malformed JSON (non-streamed) or a malformed event (streamed)
    stub-stream-cut       close the connection half-way through the stream
    stub-stream-error     an error event half-way through the stream
    stub-echo-system      answer with the system prompt (canary leakage tests)
    stub-split            write the event stream one byte at a time
    stub-crlf             end the event stream's lines with CRLF

A fixed answer instead of the echo: the `x-stub-answer` header, or `StubUpstream.answer`.
`max_tokens` cuts the answer (one "token" per word) with finish reason length.

In tests: the `stub_upstream` fixture (tests/conftest.py). For benchmarks, as a process:
`python tests/helpers/stub_upstream.py --port 8001` (no recording, no access log).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import math
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

SLOW = 60.0
MODELS = ("stub-model", "stub-embeddings")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    peer: tuple[str, int] | None  # the client's address: same port, same kept-alive connection


@dataclass
class StubState:
    record: bool = True
    requests: list[Any] = field(default_factory=list)  # the decoded bodies of POSTs
    recorded: list[Recorded] = field(default_factory=list)  # everything, headers included
    answer: str | None = None
    # A pause before a stream's body ends, so that the end arrives in a packet of its own
    # as on a real network: a client that stops at the last event without reading on
    # then loses its kept-alive connection. Tests want it; benchmarks do not.
    eof_pause: float = 0.0


STATE = web.AppKey("state", StubState)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _words(text: str) -> list[str]:
    """The answer in streamable pieces: each word with the whitespace after it."""
    pieces: list[str] = []
    current = ""
    for ch in text:
        if current and not current[-1].isspace() and ch.isspace():
            current += ch
        elif current and current[-1].isspace() and not ch.isspace():
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def _vector(text: str, dims: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    raw = [b - 127.5 for b in digest[:dims]]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


class Exchange:
    """One chat request, whichever protocol: what to answer and how to misbehave."""

    def __init__(self, request: web.Request, body: dict[str, Any], state: StubState) -> None:
        self.model = str(body.get("model", ""))
        self.mode = request.headers.get("x-stub-mode") or self.model
        messages = body.get("messages") or []
        system = [_text(m.get("content")) for m in messages if m.get("role") == "system"]
        if "system" in body:
            system.insert(0, _text(body["system"]))
        users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
        if self.mode.startswith("stub-echo-system"):
            text = "\n".join(system)
        else:
            text = request.headers.get("x-stub-answer") or state.answer
            if text is None:
                text = "echo: " + (users[-1] if users else "")
        pieces = _words(text)
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        self.truncated = isinstance(limit, int) and 0 < limit < len(pieces)
        self.pieces = pieces[:limit] if self.truncated else pieces
        self.text = "".join(self.pieces)
        self.prompt_tokens = sum(len(_words(_text(m.get("content")))) for m in messages)
        self.prompt_tokens += len(_words(_text(body.get("system"))))
        self.eof_pause = state.eof_pause
        self.stream = bool(body.get("stream"))
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    @property
    def error_status(self) -> int | None:
        if self.mode.startswith("stub-error-"):
            return int(self.mode.removeprefix("stub-error-").split("-")[0])
        return None


async def _record(request: web.Request, state: StubState) -> bytes:
    raw = await request.read()
    if state.record:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        state.recorded.append(
            Recorded(request.method, request.path, dict(request.headers), raw, peer)
        )
        if raw:
            try:
                state.requests.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                state.requests.append(raw.decode("utf-8", "replace"))
    return raw


async def _send_events(
    request: web.Request, exchange: Exchange, events: list[bytes], first_text: int
) -> web.StreamResponse:
    """Write the events, misbehaving as asked; `first_text` is the index of the event
    carrying the first piece of text (stub-stall stops after it)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    payload = [e.replace(b"\n", b"\r\n") if "stub-crlf" in exchange.mode else e for e in events]
    try:
        if "stub-split" in exchange.mode:
            for chunk in payload:
                for i in range(len(chunk)):
                    await response.write(chunk[i : i + 1])
                    # Real pauses now and then, so that the client's reads end mid-line
                    # and mid-character rather than coalescing everything.
                    await asyncio.sleep(0.001 if i % 5 == 4 else 0)
        else:
            half = len(payload) // 2
            for i, chunk in enumerate(payload):
                if i == half and exchange.mode.startswith("stub-stream-cut"):
                    await response.write(chunk[: len(chunk) // 2])
                    if request.transport is not None:
                        request.transport.close()  # no last chunk: the client sees a cut
                    return response
                await response.write(chunk)
                if i == first_text and exchange.mode.startswith("stub-stall"):
                    await asyncio.sleep(SLOW)
        if exchange.eof_pause:
            await asyncio.sleep(exchange.eof_pause)
        await response.write_eof()
    except ConnectionResetError:  # the client stopped listening, as clients may
        pass
    return response


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    return head + b"data: " + body + b"\n\n"


# ------------------------------------------------------------------------- OpenAI


def _openai_error(status: int, message: str) -> web.Response:
    kind = (
        "rate_limit_error"
        if status == 429
        else ("server_error" if status >= 500 else "invalid_request_error")
    )
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status, dumps=lambda o: orjson.dumps(o).decode())


async def openai_chat(request: web.Request) -> web.StreamResponse:
    state: StubState = request.app[STATE]
    raw = await _record(request, state)
    body = orjson.loads(raw)
    exchange = Exchange(request, body, state)
    if exchange.error_status:
        return _openai_error(exchange.error_status, f"stub error {exchange.error_status}")
    if exchange.mode.startswith("stub-slow"):
        await asyncio.sleep(SLOW)
    finish = "length" if exchange.truncated else "stop"
    usage = {
        "prompt_tokens": exchange.prompt_tokens,
        "completion_tokens": len(exchange.pieces),
        "total_tokens": exchange.prompt_tokens + len(exchange.pieces),
    }
    base = {"id": "chatcmpl-stub", "created": 0, "model": exchange.model}
    if not exchange.stream:
        if exchange.mode.startswith("stub-garbage"):
            return web.Response(body=b'{"choices": [{"message": ', content_type="application/json")
        answer = {
            **base,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": exchange.text},
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return _sse({**base, "object": "chat.completion.chunk", "choices": [choice]})

    events = [b": stub keep-alive\n\n", chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in exchange.pieces]
    if exchange.mode.startswith("stub-garbage"):
        events.insert(3, b"data: {not json\n\n")
    if exchange.mode.startswith("stub-stream-error"):
        events.insert(3, _sse({"error": {"message": "stub failed mid-stream", "code": 500}}))
    events.append(chunk({}, finish))
    if exchange.include_usage:
        events.append(
            _sse({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        )
    events.append(b"data: [DONE]\n\n")
    return await _send_events(request, exchange, events, first_text=2)


async def openai_embeddings(request: web.Request) -> web.Response:
    state: StubState = request.app[STATE]
    body = orjson.loads(await _record(request, state))
    model = str(body.get("model", ""))
    mode = request.headers.get("x-stub-mode") or model
    if mode.startswith("stub-error-"):
        status = int(mode.removeprefix("stub-error-").split("-")[0])
        return _openai_error(status, f"stub error {status}")
    if mode.startswith("stub-slow"):
        await asyncio.sleep(SLOW)
    if mode.startswith("stub-garbage"):
        return web.Response(body=b'{"data": [', content_type="application/json")
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(texts):
        vector: Any = _vector(str(text))
        if as_base64:
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    tokens = sum(len(_words(str(t))) for t in texts)
    answer = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def openai_models(request: web.Request) -> web.Response:
    await _record(request, request.app[STATE])
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in MODELS]
    return web.Response(
        body=orjson.dumps({"object": "list", "data": data}), content_type="application/json"
    )


# ---------------------------------------------------------------------- Anthropic


def _anthropic_error(status: int, message: str) -> web.Response:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


async def anthropic_messages(request: web.Request) -> web.StreamResponse:
    state: StubState = request.app[STATE]
    raw = await _record(request, state)
    body = orjson.loads(raw)
    exchange = Exchange(request, body, state)
    if exchange.error_status:
        return _anthropic_error(exchange.error_status, f"stub error {exchange.error_status}")
    if exchange.mode.startswith("stub-slow"):
        await asyncio.sleep(SLOW)
    stop_reason = "max_tokens" if exchange.truncated else "end_turn"
    usage = {"input_tokens": exchange.prompt_tokens, "output_tokens": len(exchange.pieces)}
    message = {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": exchange.model,
        "stop_sequence": None,
    }
    if not exchange.stream:
        if exchange.mode.startswith("stub-garbage"):
            return web.Response(body=b'{"content": [{"type": ', content_type="application/json")
        answer = {
            **message,
            "content": [{"type": "text", "text": exchange.text}],
            "stop_reason": stop_reason,
            "usage": usage,
        }
        return web.Response(body=orjson.dumps(answer), content_type="application/json")
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": exchange.prompt_tokens, "output_tokens": 1},
    }
    events = [
        _sse({"type": "message_start", "message": start}, "message_start"),
        _sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
        _sse({"type": "ping"}, "ping"),
    ]
    for piece in exchange.pieces:
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": piece},
        }
        events.append(_sse(delta, "content_block_delta"))
    if exchange.mode.startswith("stub-garbage"):
        events.insert(4, b"event: content_block_delta\ndata: {not json\n\n")
    if exchange.mode.startswith("stub-stream-error"):
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        events.insert(4, _sse(error, "error"))
    events += [
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": len(exchange.pieces)},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return await _send_events(request, exchange, events, first_text=3)


def make_app(state: StubState | None = None) -> web.Application:
    app = web.Application(client_max_size=64 << 20)
    app[STATE] = state if state is not None else StubState()
    app.router.add_post("/v1/chat/completions", openai_chat)
    app.router.add_post("/v1/embeddings", openai_embeddings)
    app.router.add_get("/v1/models", openai_models)
    app.router.add_post("/v1/messages", anthropic_messages)
    return app


# ------------------------------------------------------------------ in-process use


class StubUpstream:
    """The stub on 127.0.0.1, on a free port, served by its own thread and event loop
    (so synchronous tests and SDK clients can use it as well as async ones)."""

    def __init__(self) -> None:
        self.state = StubState(eof_pause=0.01)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="stub-upstream", daemon=True
        )

    @property
    def url(self) -> str:
        """The server's root; OpenAI clients want `url + "/v1"`, Anthropic ones `url`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Any]:
        """The body of every POST received, decoded, oldest first."""
        return self.state.requests

    @property
    def recorded(self) -> list[Recorded]:
        """Every request received with its method, path and headers."""
        return self.state.recorded

    @property
    def answer(self) -> str | None:
        return self.state.answer

    @answer.setter
    def answer(self, text: str | None) -> None:
        self.state.answer = text

    def clear(self) -> None:
        self.state.requests.clear()
        self.state.recorded.clear()
        self.state.answer = None

    def start(self) -> StubUpstream:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        # handler_cancellation: a client that gives up ends a stub-slow handler at once,
        # so no sleeping handler outlives its test.
        self._runner = web.AppRunner(
            make_app(self.state), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()


def running_stub() -> Iterator[StubUpstream]:
    stub = StubUpstream().start()
    try:
        yield stub
    finally:
        stub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--record", action="store_true", help="keep request bodies (memory!)")
    args = parser.parse_args()
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    app = make_app(StubState(record=args.record))
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
