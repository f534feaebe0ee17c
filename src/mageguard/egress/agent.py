"""The two small programs `egress verify` runs inside its network namespaces, as
`python -m mageguard.egress.agent serve|probe` under `ip netns exec` (a process is in
one namespace for life, so the work there has to be a process of its own).

`serve '[["tcp", "0.0.0.0", 443], ["udp", "10.0.0.53", 53]]'` listens there and answers
each TCP connection with a banner and each datagram with an echo: a stand-in for the
gateway, a database or an AI provider. It prints `ready` once bound.

`probe` reads `[{"id", "target", "port", "protocol", "family"}]` on stdin, resolves each target as
the Magento host would (its /etc/hosts is the namespace's), tries every address, and
prints one JSON result per address: connected or the error that stopped it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

BANNER = b"mageguard-standin\n"
TIMEOUT = 2.0


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.transport.sendto(data, addr)


async def _greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(BANNER)
    try:
        await writer.drain()
    finally:
        writer.close()


async def serve(listen: list[tuple[str, str, int]]) -> None:
    """Bind every (protocol, address, port). UDP is bound per address, not on a
    wildcard: a wildcard socket answers from the interface's address, which the
    prober's connected socket would not accept as the reply."""
    loop = asyncio.get_running_loop()
    for protocol, host, port in listen:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(family, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        if protocol == "tcp":
            await asyncio.start_server(_greet, sock=sock)
        else:
            await loop.create_datagram_endpoint(_Echo, sock=sock)
    print("ready", flush=True)
    await asyncio.Event().wait()


def probe_one(item: dict[str, Any]) -> list[dict[str, Any]]:
    kind = socket.SOCK_STREAM if item["protocol"] == "tcp" else socket.SOCK_DGRAM
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(item.get("family", 0), 0)
    try:
        infos = socket.getaddrinfo(item["target"], item["port"], family=family, type=kind)
    except socket.gaierror as exc:
        return [{"id": item["id"], "address": "", "connected": False, "detail": str(exc)}]
    results = []
    for family, address in dict.fromkeys((i[0], i[4]) for i in infos):
        connected, detail = _try(family, kind, address)
        results.append(
            {"id": item["id"], "address": address[0], "connected": connected, "detail": detail}
        )
    return results


def _try(family: int, kind: int, address: Any) -> tuple[bool, str]:
    with socket.socket(family, kind) as sock:
        sock.settimeout(TIMEOUT)
        try:
            sock.connect(address)
            if kind == socket.SOCK_DGRAM:
                sock.send(b"mageguard-probe")
                return sock.recv(64) == b"mageguard-probe", "echoed"
            return True, sock.recv(64).decode(errors="replace").strip() or "connected"
        except TimeoutError:
            return False, "timed out"
        except OSError as exc:
            return False, exc.strerror or type(exc).__name__


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 2:
        listen = [(str(p), str(h), int(n)) for p, h, n in json.loads(argv[1])]
        asyncio.run(serve(listen))
        return 0
    if argv == ["probe"]:
        items = json.load(sys.stdin)
        # A refused IPv6 connect waits for one SYN retransmit (~1 s): run them side by side.
        with ThreadPoolExecutor(max_workers=64) as pool:
            found = [r for rs in pool.map(probe_one, items) for r in rs]
        json.dump(found, sys.stdout)
        return 0
    print("usage: python -m mageguard.egress.agent serve JSON | probe", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
