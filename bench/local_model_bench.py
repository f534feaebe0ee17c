#!/usr/bin/env python3
"""The embedded local models' speed on this machine, measured through the backends the
gateway runs (mageguard.backends.llama and .embeddings), not through llama.cpp's own
tools: what a caller of the gateway waits for.

    .venv/bin/python bench/local_model_bench.py            # prints Markdown
    .venv/bin/python bench/local_model_bench.py --runs 9 --threads 2

Chat (SmolLM2-135M-Instruct, Q4_1): a few fixed e-commerce prompts, streamed at
temperature 0. Prompt processing = prompt tokens / time to the first piece of text;
generation = tokens after the first / time from the first piece to the last. Each run
starts its system prompt with a fresh number so that llama.cpp's prefix cache cannot
skip the prompt. Embeddings (all-MiniLM-L6-v2): sentences per second over a batch of
product and support sentences, and one sentence's latency. Median of `--runs` after one
warm-up run, with the best run in brackets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mageguard.backends.base import ChatMessage, ChatRequest, Locality
from mageguard.backends.embeddings import EmbeddingsBackend
from mageguard.backends.llama import LlamaBackend
from mageguard.gateway.config import LOCAL_EMBEDDINGS, LOCAL_MODEL, BackendSpec

CHAT = "SmolLM2-135M-Instruct Q4_1"
EMBEDDINGS = "all-MiniLM-L6-v2"
SYSTEM = (
    "You are the shopping assistant of Alpenrad, an online store for bicycles, parts and "
    "outdoor clothing. Answer in a friendly, concise tone. Never invent prices, stock "
    "levels or delivery dates; when you do not know, say so and suggest contacting "
    "customer service. Placeholders such as [ORDER_1] or [EMAIL_1] stand for customer "
    "data: keep them exactly as they are."
)
PROMPTS = {
    "product description": (
        "Write a product description of about 80 words for the product page. Product: "
        "Trail jacket 'Nordwand Pro'. Attributes: waterproof 20,000 mm, breathable "
        "15,000 g/m2/24h, taped seams, two chest pockets with water-resistant zips, "
        "adjustable hood that fits over a helmet, reflective details, weight 340 g, "
        "colours: glacier blue, moss green, black; sizes XS to XXL. Material: 100% "
        "recycled polyester with a PFC-free coating."
    ),
    "support reply": (
        "Customer message: 'Hello, I ordered a children's bike two weeks ago (order "
        "[ORDER_1]) and it still has not arrived. The tracking page has said "
        '"in transit" for nine days. My daughter\'s birthday is on Saturday. Can you '
        "tell me what is going on, and can I still get it in time or get a refund? "
        "Please reply to [EMAIL_1].' Write the reply to the customer."
    ),
    "review summary": (
        "Summarise these reviews of the 'CityLite 7' e-bike in three bullet points: "
        "1) 'Great range, I get 70 km on a charge, but the saddle is hard.' "
        "2) 'Motor is quiet and strong on hills. Display is hard to read in sunlight.' "
        "3) 'Assembly took ten minutes. Brakes squeaked at first, fine after a week.' "
        "4) 'Heavy to carry upstairs, 24 kg. Otherwise perfect for commuting.' "
        "5) 'Battery lock feels cheap. Customer service replaced it quickly.'"
    ),
}
SENTENCES = [
    f"{adjective} {item} in {colour}, size {size}"
    for adjective in ("Waterproof", "Lightweight", "Recycled", "Insulated")
    for item in ("trail jacket", "cycling jersey", "rain trousers", "merino socks")
    for colour in ("glacier blue", "moss green", "black", "signal orange")
    for size in ("S", "M", "L", "XL")
]  # 256 short catalogue lines, about a product search's worth


def spread(values: list[float], fmt: str, best: Callable[[list[float]], float] = max) -> str:
    """Median, then the best run in brackets: on a shared machine the median says what a
    caller gets, the best what the hardware can do."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(best(values))})"


@dataclass
class ChatRun:
    prompt_tokens: int
    completion_tokens: int
    first: float  # seconds to the first piece of text
    rest: float  # seconds from the first piece to the last


async def chat_once(backend: LlamaBackend, prompt: str, nonce: int, max_tokens: int) -> ChatRun:
    request = ChatRequest(
        model=LOCAL_MODEL,
        messages=(ChatMessage("system", f"Session {nonce}. {SYSTEM}"), ChatMessage("user", prompt)),
        max_tokens=max_tokens,
        temperature=0.0,
    )
    started = time.perf_counter()
    first = last = 0.0
    usage = None
    async for delta in backend.stream(request, timeout=120):
        now = time.perf_counter()
        if delta.text:
            first = first or now
            last = now
        if delta.usage is not None:
            usage = delta.usage
    if usage is None or not first:
        raise SystemExit("the model gave no text")
    return ChatRun(usage.prompt_tokens, usage.completion_tokens, first - started, last - first)


async def bench_chat(threads: int | None, runs: int, max_tokens: int) -> list[list[str]]:
    spec = BackendSpec(id="local", kind="llama", locality=Locality.LOCAL, threads=threads)
    backend = LlamaBackend(spec)
    rows = []
    try:
        started = time.perf_counter()
        await backend.load()
        rows.append([CHAT, "model load", f"{time.perf_counter() - started:.2f} s", ""])
        nonce = 1000
        for name, prompt in PROMPTS.items():
            results = []
            for i in range(runs + 1):
                nonce += 1
                result = await chat_once(backend, prompt, nonce, max_tokens)
                if i:  # the first run warms caches and the allocator
                    results.append(result)
            pp = [r.prompt_tokens / r.first for r in results]
            tg = [(r.completion_tokens - 1) / r.rest for r in results if r.completion_tokens > 1]
            ttft = [r.first * 1000 for r in results]
            tokens = statistics.median(r.completion_tokens for r in results)
            rows.append(
                [
                    CHAT,
                    f"{name} ({results[0].prompt_tokens} prompt tok, {tokens:.0f} generated)",
                    f"pp {spread(pp, '{:,.0f}')} tok/s; tg {spread(tg, '{:,.1f}')} tok/s",
                    f"first text after {spread(ttft, '{:.0f}', best=min)} ms",
                ]
            )
    finally:
        await backend.close()
    return rows


async def bench_embeddings(threads: int | None, runs: int) -> list[list[str]]:
    spec = BackendSpec(id="emb", kind="embeddings", locality=Locality.LOCAL, threads=threads)
    backend = EmbeddingsBackend(spec)
    rows = []
    try:
        started = time.perf_counter()
        await backend.load()
        rows.append([EMBEDDINGS, "model load", f"{time.perf_counter() - started:.2f} s", ""])
        batch, single = [], []
        for i in range(runs + 1):
            started = time.perf_counter()
            await backend.embed(SENTENCES, LOCAL_EMBEDDINGS, timeout=120)
            batch_time = time.perf_counter() - started
            started = time.perf_counter()
            await backend.embed([SENTENCES[i]], LOCAL_EMBEDDINGS, timeout=120)
            single_time = time.perf_counter() - started
            if i:
                batch.append(len(SENTENCES) / batch_time)
                single.append(single_time * 1000)
        rows.append(
            [
                EMBEDDINGS,
                f"{len(SENTENCES)} catalogue lines, batches of 32",
                f"{spread(batch, '{:,.0f}')} sentences/s",
                f"one sentence: {spread(single, '{:.1f}', best=min)} ms",
            ]
        )
    finally:
        await backend.close()
    return rows


def cpu_name() -> str:
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per case (median)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="both thread counts (default: the backend's own choice)",
    )
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--skip-embeddings", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(bench_chat(args.threads, args.runs, args.max_tokens))
    if not args.skip_embeddings:
        rows += asyncio.run(bench_embeddings(args.threads, args.runs))
    command = " ".join(["bench/local_model_bench.py", *sys.argv[1:]])
    threads = f"{args.threads} threads" if args.threads else "the backend's default threads"
    print(f"### Local models, {threads}, median (best) of {args.runs} runs\n")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at the end {load} (other work on the machine slows every figure)\n"
    )
    print("| model | case | speed | latency |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n`.venv/bin/python {command}`")


if __name__ == "__main__":
    main()
