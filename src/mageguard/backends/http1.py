"""A kept-alive HTTP/1.1 client for what the backends send: a JSON POST, its answer read
whole or as it arrives (event streams).

Why not aiohttp: its client cost ~130-150 us of CPU per call on the gateway's hot path
(request and response objects, multidicts, URL handling, tracing hooks), against ~60 us
for asyncio streams and httptools' parser, measured side by side (bench/RESULTS.md, "The
upstream call"), and the gateway's target is a whole request in about 0.7 ms. It sits on
an asyncio.Protocol rather than streams: the bytes go straight from the transport into
the parser, without StreamReader's buffer and a future per read (80 -> 56 us a call).

What it does: HTTP/1.1 over TCP or TLS (the system's CAs), keep-alive with a bounded
pool, Content-Length, chunked bodies (httptools decodes them) and bodies that end at
close. What it does not: redirects, proxies, compression (it asks for identity), cookies;
the backends need none of them. A kept-alive connection the server closed while it sat
idle is the one failure retried (once per idle connection, then on a new one, and only
when not one byte of an answer came back), as HTTP clients do: the request never reached
the server.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httptools

MAX_BODY = 64 << 20  # an answer larger than this is not one we want in memory


class HttpError(Exception):
    """The connection failed or the answer was not HTTP; the caller maps it."""


class _StaleError(Exception):
    """A reused connection that gave no byte back."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP or TLS connection: what arrives goes to the exchange using it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:  # bytes nobody asked for: the connection is unusable
            self.close()
            return
        self.exchange._feed(data)

    def eof_received(self) -> bool | None:
        return None  # close: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.exchange is not None:
            self.exchange._closed()

    @property
    def usable(self) -> bool:
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class Exchange:
    """One request on one connection: its status and headers once `start` returns, then
    its body, whole (`read`) or piece by piece (`chunk`). `finish` gives the connection
    back to the pool when the answer was read to its end, and closes it otherwise; call
    it whatever happened."""

    __slots__ = (
        "_client", "_complete", "_conn", "_error", "_finished", "_headers_done", "_keep",
        "_name", "_parser", "_parts", "_received", "_size", "_waiter", "headers", "status",
    )  # fmt: skip

    def __init__(self, client: Http1Client, conn: _Connection) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self._client = client
        self._conn = conn
        self._parser = httptools.HttpResponseParser(self)
        self._parts: list[bytes] = []
        self._size = 0
        self._name = b""
        self._headers_done = False
        self._complete = False
        self._keep = False
        self._received = 0
        self._finished = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        conn.exchange = self

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name:
            self._name = name
        key = self._name.decode("latin-1").lower()
        self.headers[key] = self.headers.get(key, "") + value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self.status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_BODY:
            raise HttpError(f"the answer is larger than {MAX_BODY >> 20} MB")
        self._parts.append(body)

    def on_message_complete(self) -> None:
        self._complete = True
        # asked now: once the message is complete the parser has reset and says False
        self._keep = self._parser.should_keep_alive()

    # the connection's events
    def _feed(self, data: bytes) -> None:
        self._received += len(data)
        if self._error is None:
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserError as exc:
                cause = exc.__context__  # raised by a callback (on_body)
                not_http = HttpError("the answer is not HTTP/1.1")
                self._error = cause if isinstance(cause, HttpError) else not_http
        self._wake()

    def _closed(self) -> None:
        if not self._complete and self._error is None:
            if not self._received:
                self._error = _StaleError()
            elif self._headers_done and not self._parser.should_keep_alive():
                self._complete = True  # neither sized nor chunked: it ends at close
            else:
                self._error = HttpError("the connection closed in the middle of the answer")
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        """Until the connection has news (bytes, the end, a failure); raises a failure."""
        if self._error is None:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._error is not None:
            raise self._error

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    async def start(self, request: bytes) -> None:
        conn = self._conn
        if not conn.usable or conn.transport is None:
            raise _StaleError
        try:
            conn.transport.write(request)
        except (OSError, RuntimeError):  # the transport is already closed (uvloop raises)
            raise _StaleError from None
        while not self._headers_done:
            await self._wait()

    async def chunk(self) -> bytes:
        """The next piece of the body as it arrives; b"" at its end."""
        while not self._parts and not self._complete:
            await self._wait()
        parts, self._parts = self._parts, []
        return b"".join(parts)

    async def read(self) -> bytes:
        while not self._complete:
            await self._wait()
        parts, self._parts = self._parts, []
        return b"".join(parts)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._conn.exchange = None
        keep = self._complete and self._keep and not self._parts and self._error is None
        self._client._release(self._conn, keep)

    def _discard(self) -> None:
        """Close the connection of an exchange `open` gives up on (its slot stays with
        `open`, which releases it once)."""
        self._finished = True
        self._conn.exchange = None
        self._conn.close()


class Http1Client:
    """One origin (scheme, host, port) with its pool of idle connections."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        max_connections: int = 100,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: the context for an https URL (default: the system's CAs, hostname
        checked)."""
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path = quote(url.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~")
        # a query in the base URL (Azure's ?api-version=) goes after every path
        self.query = f"?{url.query}" if url.query else ""
        self._ssl = (tls or ssl.create_default_context()) if url.scheme == "https" else None
        netloc = url.netloc.rpartition("@")[2]  # never send credentials from the URL
        fixed = {"Host": netloc, "Accept-Encoding": "identity", **headers}
        for name, value in fixed.items():
            if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
                raise ValueError(f"header {name!r}: a name or value that would split the request")
        self._head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_connections

    async def post(self, path: str, body: bytes) -> Response:
        """POST `body` (JSON) to the base path + `path`: the whole answer. Cancelling it
        (a deadline) closes the connection it was using."""
        exchange = await self.open(path, body)
        try:
            data = await exchange.read()
            return Response(exchange.status, data)
        finally:
            exchange.finish()

    async def open(self, path: str, body: bytes) -> Exchange:
        """POST and wait for the answer's status and headers; the caller reads the body
        and must call `finish`."""
        request = (
            b"POST %s HTTP/1.1\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % ((self.path + path + self.query).encode("ascii"), self._head, len(body))
        ) + body
        await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if not conn.usable:  # the server said goodbye while it sat idle
                    conn.close()
                    continue
                exchange = await self._start(conn, request)
                if exchange is not None:
                    return exchange  # else closed while idle: the server never saw it
            try:
                _, conn = await asyncio.get_running_loop().create_connection(
                    _Connection, self.host, self.port, ssl=self._ssl
                )
            except OSError as exc:
                raise HttpError(f"cannot connect ({type(exc).__name__})") from None
            exchange = await self._start(conn, request)
            if exchange is None:
                raise HttpError("the server closed the connection without answering")
            return exchange
        except BaseException:
            self._slots.release()
            raise

    async def _start(self, conn: _Connection, request: bytes) -> Exchange | None:
        """The exchange with its status and headers read, or None when the connection
        gave no byte back (closed before the request reached the server)."""
        exchange = Exchange(self, conn)
        try:
            await exchange.start(request)
        except _StaleError:
            exchange._discard()
            return None
        except BaseException:
            exchange._discard()
            raise
        return exchange

    def _release(self, conn: _Connection, keep: bool) -> None:
        """A finished exchange gives back `conn` and the slot `open` took for it."""
        if keep and len(self._idle) < self._max_idle and conn.usable:
            self._idle.append(conn)
        else:
            conn.close()
        self._slots.release()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        await asyncio.sleep(0)  # let the transports finish closing
