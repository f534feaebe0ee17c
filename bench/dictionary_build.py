#!/usr/bin/env python3
"""How long a tenant dictionary takes to load: the Aho-Corasick automaton (usable at once)
and the hyperscan database (compiled once per dictionary content, then cached).

    .venv/bin/python bench/dictionary_build.py [--terms 100000 1000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from mageguard.redact.dictionary import Dictionary


def rows(n: int) -> list[tuple[str, str]]:
    rng = random.Random(3)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        for _ in range(5000)
    ]
    out: list[tuple[str, str]] = []
    for i in range(n):
        if i % 2:
            out.append(("SKU", f"{rng.choice('ABCDEFGH')}{rng.choice('JKLMN')}-{i:07d}"))
        else:
            out.append(("PRODUCT", " ".join(rng.sample(words, rng.randint(2, 4)))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terms", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print("| terms | automaton build s | hyperscan compile s | cached load s | peak RSS MB |")
    print("|--:|--:|--:|--:|--:|")
    for n in args.terms:
        data = rows(n)
        started = time.perf_counter()
        d = Dictionary.from_rows(data)
        built = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            d.accelerate(Path(tmp))
            compiled = time.perf_counter() - started
            again = Dictionary.from_rows(data)
            started = time.perf_counter()
            again.accelerate(Path(tmp))
            loaded = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {n:,} | {built:.2f} | {compiled:.2f} | {loaded:.3f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
