#!/usr/bin/env python3
"""The floor for a Python proxy: aiohttp (on uvloop) that forwards POST
/v1/chat/completions to the upstream with one pooled ClientSession and returns its body,
doing nothing else: no authentication, no parsing, no redaction, no audit.

    .venv/bin/python bench/passthrough_proxy.py --port 8102 --upstream http://127.0.0.1:8101

Used by bench/gateway_bench.py as the "bare pass-through" row.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

SESSION = web.AppKey("session", ClientSession)
UPSTREAM = web.AppKey("upstream", str)


async def forward(request: web.Request) -> web.Response:
    body = await request.read()
    headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
    async with request.app[SESSION].post(
        request.app[UPSTREAM] + request.path, data=body, headers=headers
    ) as upstream:
        payload = await upstream.read()
        return web.Response(
            body=payload,
            status=upstream.status,
            content_type=upstream.content_type,
        )


def make_app(upstream: str) -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app[UPSTREAM] = upstream.rstrip("/")

    async def session(app: web.Application) -> AsyncIterator[None]:
        # One pool for every request: keep-alive connections to the upstream.
        app[SESSION] = ClientSession(
            connector=TCPConnector(limit=256, ttl_dns_cache=None),
            timeout=ClientTimeout(total=60),
            skip_auto_headers=("User-Agent",),
        )
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session)
    app.router.add_post("/v1/chat/completions", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--upstream", default="http://127.0.0.1:8101")
    args = parser.parse_args()
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(
        make_app(args.upstream),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=loop,
    )


if __name__ == "__main__":
    main()
