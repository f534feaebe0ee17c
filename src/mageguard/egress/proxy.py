"""The forward proxy PHP-FPM's HTTPS_PROXY points at: HTTP CONNECT tunnels and plain HTTP
requests, each decided by the egress policy, each an audit event.

A refused destination gets a 403 whose body names the rule. An allowed tunnel is spliced
byte for byte, never decrypted. The host name is decided first (an AI host is refused
whatever it resolves to), then every address it resolves to (no private or loopback
address unless the policy allows it, so the proxy is no way into the internal network),
and the connection goes to the address that was checked, never to a second lookup (no DNS
rebinding between check and use). Slow clients are cut off after `header_timeout`, idle
tunnels after `idle_timeout`, and at most `max_connections` are served at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mageguard.audit.events import AuditEvent, new_request_id
from mageguard.egress.policy import Decision, EgressPolicy
from mageguard.gateway.config import ProxySpec

log = logging.getLogger("mageguard.proxy")

MAX_HEAD = 16 * 1024  # request line + headers
CHUNK = 64 * 1024
_HOP_BY_HOP = {
    "proxy-connection",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
}
Record = Callable[[AuditEvent], None]


@dataclass
class Exchange:
    """One proxied connection's audit record in the making."""

    source: str
    tenant: str
    method: str = ""
    host: str = ""
    port: int = 0
    decision: str = "blocked"
    rule: str = ""
    status: int = 0
    up: int = 0  # bytes client -> destination
    down: int = 0  # bytes destination -> client
    started: float = field(default_factory=time.perf_counter)


class ForwardProxy:
    def __init__(
        self,
        spec: ProxySpec,
        policy: EgressPolicy,
        record: Record,
        resolve: Callable[[str, int], asyncio.Future[list[str]]] | None = None,
    ) -> None:
        self.spec = spec
        self.policy = policy
        self.record = record
        self._resolve = resolve
        self._slots = asyncio.Semaphore(spec.max_connections)
        self._server: asyncio.Server | None = None
        self._sources = [
            (ipaddress.ip_network(s.network, strict=False), s.tenant) for s in spec.sources
        ]
        self.port = spec.port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.spec.host, self.spec.port, limit=MAX_HEAD, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # ------------------------------------------------------------------ one connection

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        ex = Exchange(source=str(peer[0]), tenant=self._tenant_of(str(peer[0])))
        if self._slots.locked():
            ex.rule, ex.status = "over_capacity", 503
            await _answer(writer, 503, "the proxy is at its connection limit", ex.rule)
            self._audit(ex)
            return
        async with self._slots:
            try:
                await self._handle(reader, writer, ex)
            except (
                ConnectionError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                TimeoutError,
                OSError,
            ) as exc:
                if not ex.status:
                    ex.rule, ex.status = f"client_error:{type(exc).__name__}", 400
            except Exception:
                log.exception("proxy connection failed")
                ex.rule, ex.status = "internal_error", 500
            finally:
                with contextlib.suppress(Exception):
                    writer.close()
                if ex.status or ex.method:
                    self._audit(ex)

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ex: Exchange
    ) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.spec.header_timeout)
        except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            ex.rule, ex.status = "bad_or_slow_request", 408
            with contextlib.suppress(Exception):
                await _answer(
                    writer, 408, "the request did not arrive in time or is too large", ex.rule
                )
            return
        try:
            line, *header_lines = head.decode("latin-1").split("\r\n")
            ex.method, target, _version = line.split(" ", 2)
        except ValueError:
            ex.rule, ex.status = "malformed_request", 400
            await _answer(writer, 400, "malformed request line", ex.rule)
            return
        if ex.method == "CONNECT":
            host, port = _split_authority(target, 443)
            await self._tunnel(reader, writer, ex, host, port)
        elif target.lower().startswith("http://"):
            await self._forward(reader, writer, ex, target, header_lines)
        else:
            ex.rule, ex.status = "unsupported_request", 400
            await _answer(writer, 400, "send CONNECT host:port or an absolute http:// URL", ex.rule)

    async def _connect(
        self, ex: Exchange, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | Decision:
        ex.host, ex.port = host.lower(), port
        decision = (
            self.policy.decide_host(host) if not _is_ip(host) else self.policy.decide_address(host)
        )
        if not decision.allowed:
            return decision
        try:
            addresses = [host] if _is_ip(host) else await self._lookup(host, port)
        except OSError:
            return Decision(False, "dns_failure", f"{host} does not resolve")
        for address in addresses:
            checked = self.policy.decide_address(address)
            if not checked.allowed:
                return checked  # one private answer is enough to refuse (rebinding games)
        try:
            conn = await asyncio.wait_for(asyncio.open_connection(addresses[0], port), 10)
        except (OSError, TimeoutError):
            return Decision(False, "connect_failed", f"{host}:{port} did not accept the connection")
        ex.rule = decision.rule
        return conn

    async def _lookup(self, host: str, port: int) -> list[str]:
        if self._resolve is not None:
            return await self._resolve(host, port)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def _tunnel(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ex: Exchange,
        host: str,
        port: int,
    ) -> None:
        found = await self._connect(ex, host, port)
        if isinstance(found, Decision):
            ex.rule, ex.status = found.rule, 403 if found.rule != "connect_failed" else 502
            await _answer(writer, ex.status, found.reason, found.rule)
            return
        up_reader, up_writer = found
        ex.decision, ex.status = "allowed", 200
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        await self._splice(reader, writer, up_reader, up_writer, ex)

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ex: Exchange,
        url: str,
        header_lines: list[str],
    ) -> None:
        rest = url[len("http://") :]
        authority, _, path = rest.partition("/")
        host, port = _split_authority(authority.rpartition("@")[2], 80)
        found = await self._connect(ex, host, port)
        if isinstance(found, Decision):
            ex.rule, ex.status = found.rule, 403 if found.rule != "connect_failed" else 502
            await _answer(writer, ex.status, found.reason, found.rule)
            return
        up_reader, up_writer = found
        ex.decision, ex.status = "allowed", 200
        headers = [
            h for h in header_lines if h and h.split(":", 1)[0].strip().lower() not in _HOP_BY_HOP
        ]
        # one request per connection: a second request on a kept-alive connection would
        # otherwise reach this destination without being decided
        head = "\r\n".join([f"{ex.method} /{path} HTTP/1.1", *headers, "Connection: close", "", ""])
        up_writer.write(head.encode("latin-1"))
        ex.up += len(head)
        await self._splice(reader, writer, up_reader, up_writer, ex)

    async def _splice(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        ex: Exchange,
    ) -> None:
        idle = self.spec.idle_timeout
        last = [time.monotonic()]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upward: bool) -> None:
            try:
                while True:
                    data = await src.read(CHUNK)
                    if not data:
                        break
                    last[0] = time.monotonic()
                    if upward:
                        ex.up += len(data)
                    else:
                        ex.down += len(data)
                    dst.write(data)
                    await dst.drain()
            finally:
                with contextlib.suppress(Exception):
                    if dst.can_write_eof():
                        dst.write_eof()

        up = asyncio.ensure_future(pump(reader, up_writer, True))
        down = asyncio.ensure_future(pump(up_reader, writer, False))
        try:
            pending = {up, down}
            while pending:
                done, pending = await asyncio.wait(pending, timeout=min(idle, 5.0))
                if not done and time.monotonic() - last[0] > idle:
                    ex.rule = ex.rule + "+idle_timeout"
                    break
                if down in done:  # the destination finished: nothing more is coming
                    break
        finally:
            for task in (up, down):
                task.cancel()
            for task in (up, down):
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                up_writer.close()

    # ------------------------------------------------------------------ helpers

    def _tenant_of(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return ""
        for network, tenant in self._sources:
            if ip in network:
                return tenant
        return ""

    def _audit(self, ex: Exchange) -> None:
        detail = {"host": ex.host[:128] or "-", "port": str(ex.port), "source": ex.source[:64]}
        event = AuditEvent(
            ts=time.time(),
            request_id=new_request_id(),
            kind="proxy",
            tenant=ex.tenant,
            endpoint="/proxy/connect" if ex.method == "CONNECT" else "/proxy/http",
            decision=ex.decision,
            reason=ex.rule[:128],
            status=ex.status,
            latency_ms=round((time.perf_counter() - ex.started) * 1000, 3),
            bytes_in=ex.up,
            bytes_out=ex.down,
            detail=detail,
        )
        try:
            self.record(event)
        except Exception as exc:
            log.error("proxy audit event lost: %s", exc)


def _split_authority(authority: str, default_port: int) -> tuple[str, int]:
    if authority.startswith("["):  # [v6]:port
        host, _, rest = authority[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = (
            authority.rpartition(":") if authority.count(":") == 1 else (authority, "", "")
        )
    if not host:
        host, port = authority, ""
    return host, int(port) if port.isdigit() and 0 < int(port) < 65536 else default_port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str, rule: str) -> None:
    phrase = {
        400: "Bad Request",
        403: "Forbidden",
        408: "Request Timeout",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, "Error")
    body = f"mageguard egress: {reason} (rule {rule})\n".encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nX-Mageguard-Rule: {rule}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    with contextlib.suppress(Exception):
        await writer.drain()
