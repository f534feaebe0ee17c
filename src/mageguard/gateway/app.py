"""The gateway as a plain ASGI application (no framework: a request costs what the
pipeline costs). It owns the transport: routes, bounded body reads, JSON parsing, SSE
sending, noticing a client that went away mid-stream; everything else is the pipeline's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from mageguard.gateway.config import FlagSpec, GatewayConfig
from mageguard.gateway.errors import GatewayError, bad_request
from mageguard.gateway.metrics import CONTENT_TYPE as METRICS_TYPE
from mageguard.gateway.pipeline import Gateway, Reply, StreamReply, api_key
from mageguard.gateway.protocols import anthropic, openai
from mageguard.gateway.protocols.base import Dialect

log = logging.getLogger("mageguard.gateway")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

BODY_READ_TIMEOUT = 30.0  # a client that trickles its body is cut off (slowloris)
CHAT: dict[str, Callable[[], Dialect]] = {
    "/v1/chat/completions": openai.ChatCompletions,
    "/v1/completions": openai.Completions,
    "/v1/responses": openai.Responses,
    "/v1/messages": anthropic.Messages,
}
_JSON = [(b"content-type", b"application/json")]
_SSE = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class App:
    def __init__(
        self,
        config: GatewayConfig,
        opener: Callable[[GatewayConfig], Awaitable[Gateway]] | None = None,
        closer: Callable[[Gateway], Awaitable[None]] | None = None,
        *,
        freeze: bool = False,
    ) -> None:
        from mageguard.gateway.server import close_gateway, open_gateway

        self.config = config
        self._open = opener or open_gateway
        self._close = closer or close_gateway
        self.gateway: Gateway | None = None
        self.freeze = freeze
        self.loop: asyncio.AbstractEventLoop | None = None  # the serving loop, for tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                try:
                    self.gateway = await self._open(self.config)
                except Exception as exc:  # the gateway does not start half-configured
                    log.error("gateway start-up failed: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                if self.freeze:
                    _freeze_startup_objects()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.gateway is not None:
                    await self._close(self.gateway)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        gateway = self.gateway
        if gateway is None:
            await _reply(send, Reply(503, b'{"status":"starting"}'))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        dialect_of = CHAT.get(path)
        try:
            if dialect_of is not None or path == "/v1/embeddings":
                if method != "POST":
                    raise GatewayError(405, "method_not_allowed", f"{path} takes POST")
                raw = await self._body(headers, receive, gateway.config.max_body_bytes)
                body = _json(raw)
                if path == "/v1/embeddings":
                    await _reply(send, await gateway.embeddings(headers, body, len(raw)))
                    return
                assert dialect_of is not None
                reply = await gateway.chat(path, dialect_of(), headers, body, len(raw))
                if isinstance(reply, StreamReply):
                    await _stream(send, receive, reply)
                else:
                    await _reply(send, reply)
                return
            if method != "GET" and path != "/admin/flags":
                raise GatewayError(405, "method_not_allowed", f"{path} takes GET")
            if path == "/healthz":
                await _reply(send, Reply(200, b'{"status":"ok"}'))
            elif path == "/readyz":
                ready = gateway.auditor.healthy and await gateway.state.ping()
                await _reply(
                    send,
                    Reply(
                        200 if ready else 503,
                        orjson.dumps({"status": "ready" if ready else "not_ready"}),
                    ),
                )
            elif path == "/metrics":
                await _reply(send, Reply(200, gateway.metrics.render(), METRICS_TYPE))
            elif path == "/v1/models":
                caller = gateway.tenants.authenticate(
                    api_key(headers), headers.get("x-mageguard-surface")
                )
                models = gateway.router.known_models(caller.tenant.spec)
                await _reply(
                    send, Reply(200, orjson.dumps(openai.models_response(models, gateway.started)))
                )
            elif path == "/admin/flags":
                await _reply(send, await self._flags(gateway, method, headers, receive))
            else:
                raise GatewayError(404, "not_found", f"unknown path {path[:100]}")
        except GatewayError as error:
            body_of = anthropic.error_body if path.startswith("/v1/messages") else openai.error_body
            await _reply(send, Reply(error.status, orjson.dumps(body_of(error))))

    async def _body(self, headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise GatewayError(413, "body_too_large", f"the request body exceeds {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(BODY_READ_TIMEOUT):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise GatewayError(400, "client_disconnected", "the client went away")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise GatewayError(
                            413, "body_too_large", f"the request body exceeds {limit} bytes"
                        )
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise GatewayError(
                408, "body_timeout", "the request body did not arrive in time"
            ) from None
        return b"".join(chunks)

    async def _flags(
        self, gateway: Gateway, method: str, headers: Mapping[str, str], receive: Receive
    ) -> Reply:
        admin = gateway.tenants.admin(api_key(headers))
        if method == "GET":
            flags = {
                **{(f.tenant, f.surface): f for f in gateway.config.flags},
                **await gateway.state.flags(),
            }
            return Reply(200, orjson.dumps({"flags": [_flag_dict(f) for f in flags.values()]}))
        if method != "POST":
            raise GatewayError(405, "method_not_allowed", "/admin/flags takes GET or POST")
        body = _json(await self._body(headers, receive, 64 * 1024))
        flag = _parse_flag(gateway, body)
        await gateway.set_flag(flag, admin)
        return Reply(200, orjson.dumps({"flag": _flag_dict(flag)}))


def _flag_dict(flag: FlagSpec) -> dict[str, Any]:
    return {
        "tenant": flag.tenant,
        "surface": flag.surface,
        "percent": flag.percent,
        "kill": flag.kill,
    }


def _parse_flag(gateway: Gateway, body: Mapping[str, Any]) -> FlagSpec:
    from mageguard.catalog import load_catalog

    tenant, surface = body.get("tenant"), body.get("surface")
    if tenant not in gateway.config.tenants:
        raise bad_request("tenant: unknown tenant", "tenant")
    if surface not in {s.id for s in load_catalog().surfaces} | {"default"}:
        raise bad_request("surface: unknown surface", "surface")
    percent = body.get("percent", 100.0)
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise bad_request("percent must be a number from 0 to 100", "percent")
    kill = body.get("kill", False)
    if not isinstance(kill, bool):
        raise bad_request("kill must be a boolean", "kill")
    unknown = set(body) - {"tenant", "surface", "percent", "kill"}
    if unknown:
        raise bad_request(f"unknown field {sorted(unknown)[0][:40]!r}")
    return FlagSpec(tenant=str(tenant), surface=str(surface), percent=float(percent), kill=kill)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        why = "not valid UTF-8" if "utf-8" in str(exc).lower() else "not valid JSON"
        raise GatewayError(400, "invalid_json", f"the request body is {why}") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def _freeze_startup_objects() -> None:
    """What start-up built (word lists, libphonenumber's metadata, the model, compiled
    patterns: ~110,000 objects) lives as long as the process; a full collection walked it
    all, a 20 ms pause every few thousand requests, the gateway's p99. Frozen, the
    collector skips it. The serving process only: a test process starts many apps."""
    gc.collect()
    gc.freeze()


async def _reply(send: Send, reply: Reply) -> None:
    content_type = reply.content_type.encode()
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(reply.body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


async def _stream(send: Send, receive: Receive, reply: StreamReply) -> None:
    """Send the chunks; if the client disconnects, stop the relay (which stops the
    backend's generation and records the request as disconnected)."""

    async def pump() -> None:
        await send({"type": "http.response.start", "status": reply.status, "headers": _SSE})
        async for chunk in reply.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            if not task.done():
                task.cancel()
        for task in (pumping, watching):
            with contextlib.suppress(asyncio.CancelledError, OSError, Exception):
                await task
        with contextlib.suppress(Exception):
            await reply.chunks.aclose()  # type: ignore[attr-defined]
