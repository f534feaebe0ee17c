#!/usr/bin/env python3
"""The forward proxy's cost per tunnel, beside Squid doing the same splice, same machine,
same run.

    scripts/debian-packages squid            # once
    .venv/bin/python bench/proxy_bench.py    # prints Markdown; --results bench/RESULTS.md

Each tunnel: CONNECT 127.0.0.1:PORT, send 1 KB, read the 1 KB echo, close; the echo
server and the load generator share one core (taskset), the proxy under test has the
other. Reported: tunnels/s, setup+round-trip latency p50/p99, the proxy's CPU time per
tunnel (/proc utime+stime over the window) and its RSS. Also a CONNECT to an AI host,
refused, per second: the cost of saying no.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = b"x" * 1024
CLK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_mb(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    kb = lambda k: int(status[k].split()[0]) / 1024  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


# ------------------------------------------------------------------ the proxies


def start_mageguard(work: Path, proxy_port: int) -> subprocess.Popen[bytes]:
    import yaml

    config = {
        "data_dir": str(work / "mg-data"),
        "backends": [{"id": "safe", "kind": "static", "models": ["safe"], "answer": "ok"}],
        "tenants": [
            {
                "id": "bench",
                "keys": [{"id": "k", "sha256": "0" * 64}],
                "routes": {"default": ["safe"]},
            }
        ],
        "proxy": {"listen": {"port": proxy_port}, "max_connections": 4096},
        "egress": {"allow_private": ["127.0.0.1/32"]},
    }
    path = work / "proxy-bench.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            "1",
            str(ROOT / ".venv/bin/mageguard"),
            "gateway",
            "--config",
            str(path),
            "--port",
            str(free_port()),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(proxy_port)
    return proc


def start_squid(work: Path, proxy_port: int) -> subprocess.Popen[bytes]:
    conf = work / "squid.conf"
    conf.write_text(f"""
http_port 127.0.0.1:{proxy_port}
acl localnet src 127.0.0.0/8
acl ai dstdomain api.openai.com api.anthropic.com
acl CONNECT method CONNECT
http_access deny ai
http_access allow localnet
http_access deny all
cache deny all
cache_mem 8 MB
access_log none
cache_log {work}/squid-cache.log
pid_filename {work}/squid.pid
coredump_dir {work}
workers 1
shutdown_lifetime 1 seconds
""")
    proc = subprocess.Popen(
        ["taskset", "-c", "1", "squid", "-N", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(proxy_port)
    return proc


# ------------------------------------------------------------------ echo server and load


async def echo_server(port: int) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def one_tunnel(proxy_port: int, target: str) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        writer.close()
        raise RuntimeError(head[:80])
    writer.write(PAYLOAD)
    await writer.drain()
    got = 0
    while got < len(PAYLOAD):
        chunk = await reader.read(65536)
        if not chunk:
            raise RuntimeError("tunnel closed early")
        got += len(chunk)
    writer.close()
    await writer.wait_closed()
    return time.perf_counter() - started


async def one_refusal(proxy_port: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    assert b" 403 " in head.split(b"\r\n", 1)[0], head[:80]
    writer.close()
    return time.perf_counter() - started


async def load(
    proxy_port: int, echo_port: int, concurrency: int, seconds: float, refuse: bool = False
) -> list[float]:
    target = f"127.0.0.1:{echo_port}"
    deadline = time.monotonic() + seconds
    latencies: list[float] = []

    async def worker() -> None:
        while time.monotonic() < deadline:
            latencies.append(
                await (one_refusal(proxy_port) if refuse else one_tunnel(proxy_port, target))
            )

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def measure(
    name: str,
    proc: subprocess.Popen[bytes],
    proxy_port: int,
    echo_port: int,
    concurrency: int,
    seconds: float,
    refuse: bool = False,
) -> dict[str, float | str]:
    asyncio.run(load(proxy_port, echo_port, concurrency, 1.0, refuse))  # warm-up
    cpu0 = cpu_seconds(proc.pid)
    started = time.perf_counter()
    latencies = asyncio.run(load(proxy_port, echo_port, concurrency, seconds, refuse))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(proc.pid) - cpu0
    rss, hwm = rss_mb(proc.pid)
    latencies.sort()
    return {
        "proxy": name,
        "c": concurrency,
        "kind": "refused AI CONNECT" if refuse else "tunnel",
        "per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_us": cpu / len(latencies) * 1e6,
        "rss_mb": rss,
        "hwm_mb": hwm,
    }


def median_row(runs: list[dict[str, float | str]]) -> dict[str, float | str]:
    """The median of each figure over repeated windows: the machine is shared, and one
    busy window should not decide a ratio."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(float(r[key]) for r in runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3, help="windows per row (median)")
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    if shutil.which("squid") is None:
        print("squid is missing: scripts/debian-packages squid", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {0})  # the load generator and the echo server: core 0
    rows: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as tmp:
        work = Path(tmp)
        echo_port = free_port()
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(echo_server(echo_port))
        import threading

        threading.Thread(target=loop.run_forever, daemon=True).start()
        for name, start in (("mageguard", start_mageguard), ("squid 5", start_squid)):
            port = free_port()
            proc = start(work, port)
            try:
                for c, refuse in ((1, False), (16, False), (16, True)):
                    runs = [
                        measure(name, proc, port, echo_port, c, args.seconds, refuse)
                        for _ in range(args.repeats)
                    ]
                    rows.append(median_row(runs))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        loop.call_soon_threadsafe(server.close)
    lines = [
        f"## Forward proxy vs Squid ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"- Command: `.venv/bin/python bench/proxy_bench.py --seconds {args.seconds:g} "
        f"--repeats {args.repeats}` (each figure: the median of {args.repeats} windows)",
        f"- Machine: {os.cpu_count()} cores, {platform.python_version()}; load generator + echo "
        "server pinned to core 0, the proxy to core 1. Tunnel = CONNECT, 1 KB each way, close.",
        "",
        "| proxy | work | concurrency | per second | p50 ms | p99 ms | proxy CPU µs each "
        "| RSS MB |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['proxy']} | {r['kind']} | {r['c']} | {r['per_s']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us']:.0f} | "
            f"{r['rss_mb']:.0f} |"
        )
    by = {(r["proxy"], r["kind"], r["c"]): r for r in rows}
    mg, sq = by[("mageguard", "tunnel", 16)], by[("squid 5", "tunnel", 16)]
    lines += [
        "",
        f"Ratio at concurrency 16: mageguard {float(mg['per_s']) / float(sq['per_s']):.2f}x "
        f"Squid's tunnels/s, {float(mg['cpu_us']) / float(sq['cpu_us']):.2f}x its CPU per "
        "tunnel.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        with args.results.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
