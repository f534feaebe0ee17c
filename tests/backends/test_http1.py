"""The backends' HTTP/1.1 client against a raw socket server that answers exactly the
bytes each test gives it: framing, keep-alive, the stale-connection retry, failures."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mageguard.backends import http1
from mageguard.backends.http1 import Http1Client, HttpError

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'

# What the server does with one request: the bytes to answer, then whether to close.
Script = Callable[[int, bytes], Awaitable[tuple[bytes, bool]]]


@dataclass
class Server:
    script: Script
    requests: list[bytes] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)
    writers: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername"))
        self.writers.append((reader, writer))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":", 1)[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    )
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer, close = await self.script(len(self.requests), head + body)
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def serve(
    script: Script,
    test: Callable[[Server], Awaitable[None]],
    tls: ssl.SSLContext | None = None,
    loop: str = "asyncio",
) -> Server:
    server = Server(script)

    async def main() -> None:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        server.port = listener.sockets[0].getsockname()[1]
        try:
            await test(server)
        finally:
            listener.close()

    if loop == "uvloop":  # the loop `mageguard gateway` runs on
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
    return server


def answer(data: bytes, close: bool = False) -> Script:
    async def script(n: int, request: bytes) -> tuple[bytes, bool]:
        return data, close

    return script


def client(server: Server, **kw: object) -> Http1Client:
    return Http1Client(
        f"http://user:secret@127.0.0.1:{server.port}/v1",
        {"X-Key": "k"},
        **kw,  # type: ignore[arg-type]
    )


def test_a_sized_answer_is_read_whole_and_the_connection_kept_for_the_next() -> None:
    async def test(server: Server) -> None:
        c = client(server)
        for _ in range(3):
            response = await c.post("/chat/completions", b'{"a":1}')
            assert (response.status, response.body) == (200, b'{"ok":true}')
        await c.close()

    server = serve(answer(OK), test)
    assert len(server.peers) == 1 and len(server.requests) == 3
    head = server.requests[0].decode()
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in head and "X-Key: k\r\n" in head
    assert "Content-Length: 7\r\n" in head and head.endswith('{"a":1}')
    assert "secret" not in head  # credentials in the base URL are never sent


def test_a_chunked_answer_is_decoded() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"ok\r\n7\r\n":true}\r\n0\r\n\r\n'
    )

    async def test(server: Server) -> None:
        c = client(server)
        assert (await c.post("/x", b"{}")).body == b'{"ok":true}'
        assert (await c.post("/x", b"{}")).body == b'{"ok":true}'
        await c.close()

    assert len(serve(answer(chunked), test).peers) == 1


def test_an_answer_that_ends_at_close_is_whole_and_its_connection_not_reused() -> None:
    async def test(server: Server) -> None:
        c = client(server)
        for _ in range(2):
            response = await c.post("/x", b"{}")
            assert (response.status, response.body) == (200, b"everything")
        await c.close()

    server = serve(answer(b"HTTP/1.0 200 OK\r\n\r\neverything", close=True), test)
    assert len(server.peers) == 2


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("wait", [0.0, 0.05])
def test_a_kept_connection_the_server_closed_while_idle_is_retried_on_a_new_one(
    loop: str, wait: float
) -> None:
    async def script(n: int, request: bytes) -> tuple[bytes, bool]:
        return OK, n == 1  # the server drops the connection after the first answer

    async def test(server: Server) -> None:
        c = client(server)
        await c.post("/x", b"{}")
        await asyncio.sleep(wait)  # 0: the close may not have arrived yet
        assert (await c.post("/x", b"{}")).body == b'{"ok":true}'
        await c.close()

    server = serve(script, test, loop=loop)
    assert len(server.peers) == 2 and len(server.requests) == 2


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_kept_connection_reset_while_idle_is_retried_on_a_new_one(loop: str) -> None:
    """The server's side vanished with a reset (SO_LINGER 0), not a polite close."""
    import socket
    import struct

    async def test(server: Server) -> None:
        c = client(server)
        await c.post("/x", b"{}")
        for _, writer in server.writers:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        await asyncio.sleep(0.05)
        assert (await c.post("/x", b"{}")).body == b'{"ok":true}'
        await c.close()

    server = serve(answer(OK), test, loop=loop)
    assert len(server.peers) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cut', "in the middle"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not HTTP"),
        (b"", "without answering"),
    ],
)
def test_a_broken_answer_is_an_http_error(data: bytes, message: str) -> None:
    async def test(server: Server) -> None:
        c = client(server)
        with pytest.raises(HttpError, match=message):
            await c.post("/x", b"{}")
        await c.close()

    serve(answer(data, close=True), test)


def test_an_answer_larger_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "MAX_BODY", 8)

    async def test(server: Server) -> None:
        c = client(server)
        with pytest.raises(HttpError, match="larger than"):
            await c.post("/x", b"{}")
        await c.close()

    serve(answer(OK), test)


def test_nothing_listening_is_an_http_error() -> None:
    async def main() -> None:
        c = Http1Client("http://127.0.0.1:9/v1", {})
        with pytest.raises(HttpError, match="cannot connect"):
            await c.post("/x", b"{}")

    asyncio.run(main())


def test_a_cancelled_request_closes_its_connection_and_frees_its_slot() -> None:
    async def script(n: int, request: bytes) -> tuple[bytes, bool]:
        if n == 1:
            await asyncio.sleep(10)
        return OK, False

    async def test(server: Server) -> None:
        c = client(server, max_connections=1)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await c.post("/x", b"{}")
        assert (await c.post("/x", b"{}")).status == 200  # the one slot is free again
        await c.close()

    server = serve(script, test)
    assert len(server.peers) == 2  # the cancelled one was not put back in the pool


def test_the_pool_limit_makes_concurrent_requests_wait_for_a_connection() -> None:
    async def script(n: int, request: bytes) -> tuple[bytes, bool]:
        await asyncio.sleep(0.01)
        return OK, False

    async def test(server: Server) -> None:
        c = client(server, max_connections=1)
        results = await asyncio.gather(*(c.post("/x", b"{}") for _ in range(5)))
        assert [r.status for r in results] == [200] * 5
        await c.close()

    server = serve(script, test)
    assert len(server.peers) == 1 and len(server.requests) == 5


def test_the_body_can_be_read_as_it_arrives() -> None:
    async def test(server: Server) -> None:
        c = client(server)
        exchange = await c.open("/x", b"{}")
        assert (exchange.status, exchange.content_type) == (200, "text/event-stream")
        pieces = []
        while piece := await exchange.chunk():
            pieces.append(piece)
        exchange.finish()
        assert b"".join(pieces) == b"data: 1\n\ndata: 2\n\n"
        await c.close()

    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"
    )
    serve(answer(stream), test)


def test_only_http_urls_are_clients() -> None:
    with pytest.raises(ValueError, match="http"):
        Http1Client("ftp://example.com/v1", {})


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer k\r\nX-Evil: 1"}, {"X-A\nB": "v"}, {"A:B": "v"}, {"K": "a\0b"}],
)
def test_a_header_that_would_split_the_request_is_refused(headers: dict[str, str]) -> None:
    """A key read from the environment with a line break in it must not add headers."""
    with pytest.raises(ValueError, match="split"):
        Http1Client("http://127.0.0.1:9/v1", headers)


def test_a_sized_answer_with_connection_close_is_not_kept() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def test(server: Server) -> None:
        c = client(server)
        for _ in range(2):
            assert (await c.post("/x", b"{}")).body == b"ok"
        await c.close()

    assert len(serve(answer(closing, close=True), test).peers) == 2


def test_https_checks_the_certificate_and_keeps_the_connection(tmp_path: Path) -> None:
    from mageguard.egress import intercept

    files = intercept.init(tmp_path, ["localhost"])
    trusted = ssl.create_default_context(cafile=str(files.cert))

    async def test(server: Server) -> None:
        c = Http1Client(f"https://localhost:{server.port}/v1", {}, tls=trusted)
        for _ in range(2):
            assert (await c.post("/x", b"{}")).body == b'{"ok":true}'
        await c.close()
        stranger = Http1Client(f"https://localhost:{server.port}/v1", {})  # system CAs only
        with pytest.raises(HttpError, match="cannot connect"):
            await stranger.post("/x", b"{}")

    server = serve(answer(OK), test, tls=intercept.server_context(tmp_path))
    assert len(server.requests) == 2 and len(server.peers) == 1  # kept; the stranger never got in


def test_the_base_urls_query_follows_every_path_and_its_path_is_encoded() -> None:
    async def test(server: Server) -> None:
        base = f"http://127.0.0.1:{server.port}/openai/déploiement?api-version=2024-10"
        c = Http1Client(base, {})
        await c.post("/chat/completions", b"{}")
        await c.close()

    server = serve(answer(OK), test)
    assert server.requests[0].startswith(
        b"POST /openai/d%C3%A9ploiement/chat/completions?api-version=2024-10 HTTP/1.1\r\n"
    )
