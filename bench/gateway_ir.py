"""Instructions a gateway request executes, counted by callgrind: the one measure of the
gateway's CPU that a shared, noisy machine does not move.

On the machines this project is measured on, the same `gateway_stages.py` command gave
2,203 to 3,629 µs a request within 20 minutes; a 5% change cannot be seen in that.
Instruction counts are the same from run to run (valgrind's README in the tool library:
the same total twice, once with the other core loaded). They are blind to cache misses,
which are much of a request's time (bench/RESULTS.md, "the steps evict each other"), so
they judge a change to the Python or the C that runs, not to its memory.

    .venv/bin/python bench/gateway_ir.py [--requests 200] [--top 30] [--no-guard]

Runs the real `Gateway` (the bench's configuration, stub and bodies, as
gateway_stages.py) under `valgrind --tool=callgrind` twice, with 50 warm-up requests
and then 0 and --requests more, so start-up cancels out: (Ir of the longer run - Ir of
the shorter) / --requests is the count for one request. Then the functions with the
most instructions of their own in that difference. A run takes about 2 minutes.
Valgrind is a Debian package (`scripts/debian-packages valgrind`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import gateway_bench as gb  # noqa: E402  (the benchmark's bodies, config and stub)

WARM_UP = 50
_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$")


async def _serve(requests: int, stub_url: str, guard: bool) -> None:
    """The measured process: open the gateway, send warm-up + `requests` chats, close."""
    import orjson

    from mageguard.gateway.config import load
    from mageguard.gateway.protocols.openai import ChatCompletions
    from mageguard.gateway.server import close_gateway, open_gateway

    gb.WORK.mkdir(parents=True, exist_ok=True)
    config = gb.write_mageguard_config(stub_url, guard, gb.DICTIONARY_CSV)
    gateway = await open_gateway(load(config))
    templates = gb.chat_bodies(gb.catalogue())
    headers = {"authorization": f"Bearer {gb.MAGEGUARD_KEY}", "content-type": "application/json"}
    try:
        for n in range(WARM_UP + requests):
            raw = gb.fill(templates[n % len(templates)], n)
            body = orjson.loads(raw)
            reply = await gateway.chat(gb.PATH, ChatCompletions(), headers, body, len(raw))
            if reply.status != 200:
                raise SystemExit(f"request {n} answered {reply.status}")
    finally:
        await close_gateway(gateway)


def _counted(requests: int, stub_url: str, guard: bool, out: Path) -> dict[str, int]:
    """Self instructions per function of one run under callgrind."""
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        str(requests),
        stub_url,
        "guard" if guard else "noguard",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"valgrind failed:\n{run.stderr[-2000:]}")
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        found[m.group(2).strip()] = found.get(m.group(2).strip(), 0) + int(
            m.group(1).replace(",", "")
        )
    return found


def _short(name: str) -> str:
    """`file:function [object]` as callgrind names it, without directories; a function
    it has no name for keeps its object's name (`???:0x6250 [libffi.so.8]`: a ctypes
    call's callee, the guard's mg_logits)."""
    m = re.match(r"^(.*?):(\S+)(?:\s+\[(.*)\])?$", name)
    if m is None:
        return name
    file, func, obj = m.groups()
    short = f"{Path(file).name}:{func}"
    return f"{short} [{Path(obj).name}]" if obj and file == "???" else short


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        import uvloop  # the loop `mageguard gateway` runs on

        requests, url, mode = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        uvloop.run(_serve(requests, url, mode == "guard"))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument("--no-guard", action="store_true", help="the guard-off configuration")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: scripts/debian-packages valgrind")
    with gb.running_stub() as url, tempfile.TemporaryDirectory() as tmp:
        short = _counted(0, url, not args.no_guard, Path(tmp) / "short.out")
        long = _counted(args.requests, url, not args.no_guard, Path(tmp) / "long.out")
    total_key = "PROGRAM TOTALS"
    per_request = (long.pop(total_key) - short.pop(total_key)) / args.requests
    print(
        f"instructions per request ({'guard off' if args.no_guard else 'redaction + guard'}, "
        f"{args.requests} requests after {WARM_UP} warm-up): {per_request:,.0f}"
    )
    diff = {k: (v - short.get(k, 0)) / args.requests for k, v in long.items()}
    for name, ir in sorted(diff.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {ir:12,.0f}  {100 * ir / per_request:5.1f}%  {_short(name)[:100]}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the same dict and set layouts each run
    raise SystemExit(main())
