"""Where a gateway request's CPU goes, stage by stage, inside one process.

The wrk benchmark (gateway_bench.py) measures a whole request from outside, with ±15%
noise between runs on this VM; tuning a stage against it takes minutes a try. This runs
the real `Gateway` (built by `open_gateway` from the same configuration the benchmark
writes, with its tenant dictionary, audit store and guard) in a loop against the same
stub upstream process, with the benchmark's bodies (a new order number each request),
and times each pipeline step with the request thread's CPU clock. The HTTP server in
front (uvicorn) is left out: gateway_bench.py measures it.

    .venv/bin/python bench/gateway_stages.py [--requests 2000] [--no-guard] [--repeat 3]
        [--profile N]

Prints µs of CPU per request for each stage, the sum, the whole `chat` call and the page
faults per request (a table allocated per call and returned to the OS shows up there).
With --profile, CALLEES='regex' also prints what the matching functions call.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import gateway_bench as gb  # noqa: E402  (the benchmark's bodies, config and stub)

_clock = time.thread_time_ns


def _timed(totals: dict[str, int], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(fn):

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            t = _clock()
            try:
                return await fn(*args, **kwargs)
            finally:
                totals[name] += _clock() - t

        return wrapped_async

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        t = _clock()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[name] += _clock() - t

    return wrapped


async def run(args: argparse.Namespace, stub_url: str) -> None:
    import orjson

    from mageguard.gateway import pipeline
    from mageguard.gateway.config import load
    from mageguard.gateway.protocols.openai import ChatCompletions
    from mageguard.gateway.server import close_gateway, open_gateway
    from mageguard.guard.injection import InjectionGuard
    from mageguard.guard.model import LinearModel
    from mageguard.guard.rules import RuleSet
    from mageguard.redact.detectors import address, amounts, patterns, person, phone
    from mageguard.redact.detectors.scanner import Scanner
    from mageguard.redact.engine import DictionaryDetector, Redactor
    from mageguard.redact.vault import Vault

    parts = (
        (InjectionGuard, "score"),
        (RuleSet, "scan"),
        (LinearModel, "score_text"),
        (LinearModel, "max_prob"),
        (Redactor, "redact"),
        (Redactor, "analyze"),
        (Scanner, "scan"),
        (patterns.PatternDetector, "detect"),
        (phone.PhoneDetector, "detect"),
        (address.AddressDetector, "detect"),
        (person.PersonDetector, "detect"),
        (DictionaryDetector, "detect"),
        (amounts.AmountDetector, "detect"),
        (ChatCompletions, "parse"),
        (ChatCompletions, "response"),
    )

    gb.WORK.mkdir(parents=True, exist_ok=True)
    path = gb.write_mageguard_config(stub_url, not args.no_guard, gb.DICTIONARY_CSV)
    config = load(path)
    if args.guard_first:
        config = dataclasses.replace(config, guard_beside_local_call=False)
    gateway = await open_gateway(config)
    totals: dict[str, int] = defaultdict(int)
    for name in (
        "authenticate", "admit", "validate", "redact", "route", "_call", "record",
        "_vault", "_plant_canary",
    ):  # fmt: skip
        setattr(gateway, name, _timed(totals, name, getattr(gateway, name)))
    pipeline._OutputCheck.__call__ = _timed(  # type: ignore[method-assign]
        totals, "check_output", pipeline._OutputCheck.__call__
    )
    Vault.restore = _timed(totals, "restore", Vault.restore)  # type: ignore[method-assign]
    inner: dict[str, int] = defaultdict(int)  # parts of the stages above, shown apart
    for cls, name in parts:
        setattr(cls, name, _timed(inner, f"{cls.__name__}.{name}", getattr(cls, name)))
    templates = gb.chat_bodies(gb.catalogue())
    headers = {
        "authorization": f"Bearer {gb.MAGEGUARD_KEY}",
        "content-type": "application/json",
    }
    n = 0

    async def one() -> None:
        nonlocal n
        raw = gb.fill(templates[n % len(templates)], n)
        n += 1
        reply = await gateway.chat(gb.PATH, ChatCompletions(), headers, orjson.loads(raw), len(raw))
        assert reply.status == 200, getattr(reply, "body", b"")[:300]

    for _ in range(200):  # warm-up: caches, branch predictors, the audit writer
        await one()
    rows: list[dict[str, float]] = []
    for _ in range(args.repeat):
        totals.clear()
        inner.clear()
        gc.collect()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        p0, t0 = time.process_time_ns(), _clock()
        for _ in range(args.requests // args.concurrency):
            await asyncio.gather(*(one() for _ in range(args.concurrency)))
        whole = (_clock() - t0) / args.requests / 1000
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / args.requests
        process = (time.process_time_ns() - p0) / args.requests / 1000
        row = {k: v / args.requests / 1000 for k, v in totals.items()}
        row["(sum of stages)"] = sum(row.values())
        row["chat, request thread"] = whole
        row["chat, whole process"] = process
        row["page faults per request"] = faults
        row.update({f"  {k}": v / args.requests / 1000 for k, v in inner.items()})
        rows.append(row)
    if args.profile:  # where the time goes inside the steps (cProfile: ~2x slower, a guide)
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            await one()
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(args.profile)
        stats.print_callers(r"method 'scan' of|method 'sub' of|method 'finditer'")
        if os.environ.get("CALLEES"):
            stats.print_callees(os.environ["CALLEES"])
    await close_gateway(gateway)
    print(
        f"µs of CPU per request, {args.requests} requests x {args.repeat} "
        f"({'guard off' if args.no_guard else 'redaction + guard'}); median [min-max]"
    )
    for key in rows[0]:
        vals = [r[key] for r in rows]
        print(f"  {key:24} {statistics.median(vals):8.1f}  [{min(vals):.1f}-{max(vals):.1f}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-guard", action="store_true", help="the guard-off configuration")
    parser.add_argument(
        "--guard-first",
        action="store_true",
        help="guard.beside_local_call: false (the guard before the call, not beside it)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight at once (as wrk's connections): steps interleave at awaits",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="then print cProfile's top N"
    )
    args = parser.parse_args()
    with gb.running_stub() as url:
        os.sched_setaffinity(0, {1}) if hasattr(os, "sched_setaffinity") else None
        import uvloop  # the loop `mageguard gateway` runs on

        uvloop.run(run(args, url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
