"""What the HTTP backends share: one connection pool per backend (http1.py), deadlines,
a tolerant server-sent-events reader, and the mapping of every failure to `BackendError`.

Every way an upstream can fail ends as a `BackendError`, never as a socket, HTTP or JSON
exception: the router decides on `retryable` alone, so anything it does not recognise
would otherwise escape the fallback chain. Error messages carry the upstream's status
and error text, never the request: requests are redacted, but logs should not need to
reason about that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any, NamedTuple

import orjson

from mageguard.backends.base import BackendError, Usage
from mageguard.backends.http1 import Exchange, Http1Client, HttpError
from mageguard.errors import ConfigError

MAX_LINE = 1 << 20  # an SSE line longer than this is not an answer we want
DRAIN_SECONDS = 1.0
_USER_AGENT = "mageguard-gateway"


class SSEEvent(NamedTuple):
    event: str  # "" when the server named none (OpenAI); Anthropic names each one
    data: str


class SSEParser:
    """Incremental: bytes in whatever pieces the socket delivers, events out.

    Lines are decoded only once complete, so a UTF-8 character split across two reads
    is whole again; `\\r\\n` and `\\n` both end lines; comments (`: keep-alive`) and the
    fields we do not use (`id`, `retry`) are skipped.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buffer += chunk
        if b"\n" not in chunk:
            if len(self._buffer) > MAX_LINE:
                raise BackendError("upstream event stream: line too long", status=502)
            return []
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        events: list[SSEEvent] = []
        for raw in lines:
            event = self._line(raw)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """A last event the server did not end with a blank line still counts."""
        events = []
        if self._buffer:
            event = self._line(self._buffer)
            if event is not None:
                events.append(event)
            self._buffer.clear()
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes | bytearray) -> SSEEvent | None:
        try:
            line = raw.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            raise BackendError("upstream event stream is not UTF-8", status=502) from None
        if not line:
            if not self._data and not self._event:
                return None
            event = SSEEvent(self._event, "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None


class Deadline:
    """A point in time a caller may push back: streams reset it at each piece of text,
    so `timeout` bounds silence, not the length of an answer."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = 0.0
        self.reset()

    def reset(self) -> None:
        self.at = asyncio.get_running_loop().time() + self.seconds


async def drain(events: AsyncGenerator[SSEEvent, None], deadline: Deadline) -> None:
    """Read on past the protocol's last event to the end of the body, as the official
    SDKs do, so that the connection goes back to the pool: a new TLS handshake with an
    external provider costs more than the answer's last bytes. A server that does not
    end the body within DRAIN_SECONDS only loses its connection; the answer stands."""
    deadline.at = asyncio.get_running_loop().time() + DRAIN_SECONDS
    try:
        async for _ in events:
            pass
    except BackendError:
        pass


def loads(data: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise BackendError(f"{what}: malformed JSON from upstream", status=502) from None


def malformed(what: str) -> BackendError:
    return BackendError(f"{what}: unexpected answer shape from upstream", status=502)


def usage_of(raw: object, prompt_key: str, completion_key: str) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    prompt, completion = raw.get(prompt_key), raw.get(completion_key)
    return Usage(
        prompt_tokens=prompt if isinstance(prompt, int) else 0,
        completion_tokens=completion if isinstance(completion, int) else 0,
    )


def upstream_message(payload: object) -> str:
    """The error text OpenAI- and Anthropic-style bodies carry, shortened."""
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("type")
            if isinstance(message, str):
                return message[:200]
        if isinstance(error, str):
            return error[:200]
        message = payload.get("message") or payload.get("detail")
        if isinstance(message, str):
            return message[:200]
    return ""


def status_error(backend: str, status: int, body: bytes) -> BackendError:
    """429, 408 and 5xx may succeed elsewhere; any other 4xx is the request's fault (or
    our key's) and keeps its status. An upstream 5xx is our 502: the gateway is fine."""
    try:
        detail = upstream_message(orjson.loads(body)) if body else ""
    except orjson.JSONDecodeError:
        detail = ""
    message = f"{backend}: upstream answered {status}" + (f": {detail}" if detail else "")
    if status in (408, 429):
        return BackendError(message, status=status, retryable=True)
    if 400 <= status < 500:
        return BackendError(message, status=status, retryable=False)
    return BackendError(message, status=502, retryable=True)


class HttpUpstream:
    """One upstream base URL with its own pool of kept-alive connections
    (`http1.Http1Client`).

    Its connections belong to the event loop of the first call (which does not exist yet
    when the gateway builds its backends); a call on another loop gets a new pool.
    """

    def __init__(
        self,
        backend: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        max_connections: int = 100,
    ) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": _USER_AGENT, **headers}
        self._max_connections = max_connections
        try:  # a bad URL or header stops the gateway at start, not a request later
            self._client = self._new_client()
        except ValueError as exc:
            raise ConfigError(f"backend {backend}: {exc}") from None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop its connections use

    def _new_client(self) -> Http1Client:
        return Http1Client(self.base_url, self._headers, max_connections=self._max_connections)

    def _http(self) -> Http1Client:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:  # connections belong to their loop: a new pool
                self._client = self._new_client()
            self._loop = loop
        return self._client

    async def post_json(self, path: str, body: Mapping[str, Any], timeout: float) -> Any:
        """The decoded JSON answer of a POST, all of it within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                response = await self._http().post(path, orjson.dumps(body))
        except TimeoutError:
            raise self._timeout(timeout) from None
        except HttpError as exc:
            raise self._connection(exc) from None
        if response.status != 200:
            raise status_error(self.backend, response.status, response.body)
        return loads(response.body, self.backend)

    async def post_events(
        self, path: str, body: Mapping[str, Any], deadline: Deadline
    ) -> AsyncGenerator[SSEEvent, None]:
        """The events of a streamed POST. Each wait ends at `deadline.at`, which the
        caller pushes back as text arrives. Closing this generator before the end closes
        the connection (the upstream sees the disconnect and stops generating)."""
        exchange: Exchange | None = None
        try:
            async with asyncio.timeout_at(deadline.at):
                exchange = await self._http().open(path, orjson.dumps(body))
                if exchange.status != 200:
                    raise status_error(self.backend, exchange.status, await exchange.read())
                if exchange.content_type == "application/json":
                    # An upstream that ignored "stream" (or reports an error as 200).
                    payload = loads(await exchange.read(), self.backend)
                    detail = upstream_message(payload) or "a JSON body instead of events"
                    raise BackendError(f"{self.backend}: {detail}", status=502)
            parser = SSEParser()
            while True:
                async with asyncio.timeout_at(deadline.at):
                    chunk = await exchange.chunk()
                if not chunk:
                    break
                for event in parser.feed(chunk):
                    yield event
            for event in parser.close():
                yield event
        except TimeoutError:
            raise self._timeout(deadline.seconds) from None
        except HttpError as exc:
            raise self._connection(exc) from None
        finally:
            if exchange is not None:
                exchange.finish()  # kept alive only if the body was read to its end

    async def close(self) -> None:
        await self._client.close()

    def _timeout(self, seconds: float) -> BackendError:
        return BackendError(f"{self.backend}: no answer within {seconds:g} s", status=504)

    def _connection(self, exc: HttpError) -> BackendError:
        return BackendError(f"{self.backend}: upstream connection failed ({exc})", status=502)
