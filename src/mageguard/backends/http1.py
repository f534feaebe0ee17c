"""A kept-alive HTTP/1.1 client for what the backends send: a JSON POST, its answer read
whole or as it arrives (event streams).

Why not aiohttp: its client cost ~130-150 us of CPU per call on the gateway's hot path
(request and response objects, multidicts, URL handling, tracing hooks), against ~60 us
for asyncio streams and httptools' parser, measured side by side (bench/RESULTS.md, "The
upstream call"), and the gateway's target is a whole request in about 0.7 ms.

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
import contextlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httptools

MAX_BODY = 64 << 20  # an answer larger than this is not one we want in memory
_READ = 1 << 16

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpError(Exception):
    """The connection failed or the answer was not HTTP; the caller maps it."""


class _StaleError(Exception):
    """A reused connection that gave no byte back."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class Exchange:
    """One request on one connection: its status and headers once `start` returns, then
    its body, whole (`read`) or piece by piece (`chunk`). `finish` gives the connection
    back to the pool when the answer was read to its end, and closes it otherwise; call
    it whatever happened."""

    __slots__ = (
        "_client", "_complete", "_conn", "_finished", "_headers_done", "_keep", "_name",
        "_parser", "_parts", "_received", "_size", "headers", "status",
    )  # fmt: skip

    def __init__(self, client: Http1Client, conn: Conn) -> None:
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

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    async def start(self, request: bytes) -> None:
        try:
            self._conn[1].write(request)
        except (OSError, RuntimeError):  # the transport is already closed (uvloop raises)
            raise _StaleError from None
        while not self._headers_done:
            await self._more()

    async def chunk(self) -> bytes:
        """The next piece of the body as it arrives; b"" at its end."""
        while not self._parts and not self._complete:
            if not await self._more():
                break
        parts, self._parts = self._parts, []
        return b"".join(parts)

    async def read(self) -> bytes:
        while not self._complete:
            if not await self._more():
                break
        parts, self._parts = self._parts, []
        return b"".join(parts)

    async def _more(self) -> bool:
        """Feed the parser the next bytes; False when the body ended with the connection."""
        try:
            data = await self._conn[0].read(_READ)
        except ConnectionError:
            data = b""
        if not data:
            if not self._received:
                raise _StaleError
            if self._headers_done and not self._parser.should_keep_alive():
                self._complete = True  # neither sized nor chunked: it ends at close
                return False
            raise HttpError("the connection closed in the middle of the answer")
        self._received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, HttpError):  # raised by a callback (on_body)
                raise exc.__context__ from None
            raise HttpError("the answer is not HTTP/1.1") from None
        return True

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        keep = self._complete and self._keep and not self._parts
        self._client._release(self._conn, keep)

    def _discard(self) -> None:
        """Close the connection of an exchange `open` gives up on (its slot stays with
        `open`, which releases it once)."""
        self._finished = True
        self._conn[1].close()


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
        self._idle: list[Conn] = []
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
                if conn[1].is_closing() or conn[0].at_eof():  # the server said goodbye
                    conn[1].close()
                    continue
                exchange = Exchange(self, conn)
                try:
                    await exchange.start(request)
                    return exchange
                except _StaleError:
                    exchange._discard()  # closed while idle: the server never saw it
                except BaseException:
                    exchange._discard()
                    raise
            try:
                conn = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, limit=_READ
                )
            except OSError as exc:
                raise HttpError(f"cannot connect ({type(exc).__name__})") from None
            exchange = Exchange(self, conn)
            try:
                await exchange.start(request)
                return exchange
            except _StaleError:
                exchange._discard()
                raise HttpError("the server closed the connection without answering") from None
            except BaseException:
                exchange._discard()
                raise
        except BaseException:
            self._slots.release()
            raise

    def _release(self, conn: Conn, keep: bool) -> None:
        """A finished exchange gives back `conn` and the slot `open` took for it."""
        writer = conn[1]
        if keep and len(self._idle) < self._max_idle and not writer.is_closing():
            self._idle.append(conn)
        else:
            writer.close()
        self._slots.release()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
        for _, writer in idle:
            with contextlib.suppress(OSError):
                await writer.wait_closed()
