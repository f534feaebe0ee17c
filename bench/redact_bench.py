#!/usr/bin/env python3
"""Redaction benchmark: mageguard's detectors beside Presidio and a plain regex baseline,
on the same rows in the same run.

    bench/setup_presidio.sh                 # once: Presidio in bench/work/.venv-presidio
    .venv/bin/python bench/redact_bench.py  # prints Markdown; --results appends it

Quality: per entity type, precision / recall / F1 on ../shared/data/public/pii (exact span
and overlap matching). Speed: MB/s on one core over 2 KB e-commerce prompts, mageguard
with a 100k-term tenant dictionary.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
PII_FILES = sorted((DATA / "public" / "pii").glob("*.jsonl"))
DICTIONARY_CSV = DATA / "ecom_dictionary" / "proprietary_dictionary.csv"
PRESIDIO = ROOT / "bench" / "work" / ".venv-presidio" / "bin" / "python"
ENTITIES = [
    "PERSON",
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IBAN",
    "ADDRESS",
    "IP_ADDRESS",
    "DATE_OF_BIRTH",
    "US_SSN",
    "CVV",
    "CARD_EXPIRY",
]
PRESIDIO_NAMES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IBAN_CODE": "IBAN",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_SSN": "US_SSN",
    "PERSON": "PERSON",
    "LOCATION": "ADDRESS",
}
Spans = list[tuple[int, int, str]]


@dataclass
class Row:
    id: str
    text: str
    gold: Spans


def load_rows() -> list[Row]:
    rows = []
    for path in PII_FILES:
        for line in path.read_text("utf-8").splitlines():
            raw = json.loads(line)
            gold = [(s["start"], s["end"], s["norm_label"]) for s in raw["spans"]]
            rows.append(Row(raw["id"], raw["text"], gold))
    return rows


# ------------------------------------------------------------------------ systems

REGEX_BASELINE = {
    "EMAIL": r"[\w.+-]+@[\w-]+\.[\w.-]+",
    "PHONE": r"\+?\d[\d\s().-]{7,}\d",
    "CREDIT_CARD": r"\b(?:\d[ -]?){13,16}\b",
    "IBAN": r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b",
    "IP_ADDRESS": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
    "US_SSN": r"\b\d{3}-\d{2}-\d{4}\b",
}


def regex_baseline() -> Callable[[str], Spans]:
    compiled = [(e, re.compile(p)) for e, p in REGEX_BASELINE.items()]

    def detect(text: str) -> Spans:
        return [(m.start(), m.end(), e) for e, r in compiled for m in r.finditer(text)]

    return detect


def mageguard(dictionary: object | None = None, fast_path: bool = False) -> Callable[[str], Spans]:
    sys.path.insert(0, str(ROOT / "src"))
    from mageguard.redact.detectors.builtin import pattern_detectors
    from mageguard.redact.engine import Redactor

    redactor = Redactor(detectors=pattern_detectors() if fast_path else None, dictionary=dictionary)  # type: ignore[arg-type]

    def detect(text: str) -> Spans:
        return [(s.start, s.end, s.entity) for s in redactor.analyze(text)]

    return detect


def presidio(rows: list[Row]) -> tuple[dict[str, list[tuple[int, int, str, float]]], float]:
    """Presidio's spans per row id (all scores), and its total analysis seconds."""
    proc = subprocess.run(
        [str(PRESIDIO), str(ROOT / "bench" / "presidio_worker.py")],
        input="".join(json.dumps({"id": r.id, "text": r.text}) + "\n" for r in rows),
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, list[tuple[int, int, str, float]]] = {}
    seconds = 0.0
    for line in proc.stdout.splitlines():
        raw = json.loads(line)
        seconds += raw["seconds"]
        out[raw["id"]] = [
            (s["start"], s["end"], PRESIDIO_NAMES.get(s["entity"], s["entity"]), s["score"])
            for s in raw["spans"]
        ]
    return out, seconds


# ------------------------------------------------------------------------ metrics


def score(
    rows: list[Row], predicted: dict[str, Spans], overlap: bool
) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per entity."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        pred = [p for p in predicted.get(row.id, []) if p[2] in ENTITIES]
        gold = [g for g in row.gold if g[2] in ENTITIES]
        used: set[int] = set()
        for g in gold:
            match = next(
                (
                    i
                    for i, p in enumerate(pred)
                    if i not in used
                    and p[2] == g[2]
                    and (p[0] < g[1] and g[0] < p[1] if overlap else p[:2] == g[:2])
                ),
                None,
            )
            if match is None:
                counts[g[2]][2] += 1
            else:
                used.add(match)
                counts[g[2]][0] += 1
        for i, p in enumerate(pred):
            if i not in used:
                counts[p[2]][1] += 1
    return {e: (c[0], c[1], c[2]) for e, c in counts.items()}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# ------------------------------------------------------------------------ speed


def prompts(rows: list[Row], size: int = 2000, count: int = 2000) -> list[str]:
    random.seed(7)
    texts = [r.text for r in rows]
    out = []
    while len(out) < count:
        random.shuffle(texts)
        buf = ""
        for t in texts:
            buf += t + "\n"
            if len(buf) >= size:
                out.append(buf[:size])
                buf = ""
                if len(out) >= count:
                    break
    return out


def shop_prompts(count: int = 1000) -> list[str]:
    """2 KB prompts as a shop's AI features send them: catalogue copy and reviews, with one
    customer message (name, e-mail, order number) in each."""
    rng = random.Random(5)
    texts: list[str] = []
    for path in sorted((DATA / "ecom_magento_sample").rglob("*.csv")):
        try:
            with path.open(encoding="utf-8") as fh:
                for rec in csv.DictReader(fh):
                    texts += [v for v in rec.values() if isinstance(v, str) and len(v) > 80]
        except (UnicodeDecodeError, csv.Error):
            continue
    names = ["Ana Lima", "Jonas Weber", "Chloé Martin", "Piotr Nowak", "Sara Rossi"]
    out = []
    for i in range(count):
        message = (
            f"Customer {rng.choice(names)} <{rng.choice(['ana', 'jw', 'cm'])}{i}"
            f"@example.com> asks about order #{100000 + i}: "
        )
        body = ""
        while len(message) + len(body) < 2000:
            body += rng.choice(texts) + " "
        out.append((message + body)[:2000])
    return out


def big_dictionary(terms: int = 100_000) -> object:
    """The shared catalogue export plus synthetic SKUs and product names up to `terms`."""
    sys.path.insert(0, str(ROOT / "src"))
    from mageguard.redact.dictionary import Dictionary

    rows: list[tuple[str, str]] = []
    costs: list[str] = []
    with DICTIONARY_CSV.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            rows += [
                ("SKU", rec["sku"]),
                ("PRODUCT", rec["product_name"]),
                ("SUPPLIER", rec["supplier_name"]),
                ("SUPPLIER", rec["supplier_account"]),
            ]
            costs.append(rec["standard_cost"])
    rng = random.Random(11)
    adjectives = [
        "Alpine",
        "Trail",
        "Summit",
        "Harbor",
        "Ember",
        "Nimbus",
        "Cedar",
        "Quartz",
        "Aurora",
        "Granite",
        "Willow",
        "Falcon",
        "Tundra",
        "Cobalt",
        "Saffron",
    ]
    nouns = [
        "Jacket",
        "Backpack",
        "Tent",
        "Lantern",
        "Boot",
        "Glove",
        "Stove",
        "Bottle",
        "Hammock",
        "Poncho",
        "Helmet",
        "Compass",
        "Tarp",
        "Beanie",
        "Gaiter",
    ]
    while len(rows) < terms:
        rows.append(
            (
                "SKU",
                f"{rng.choice('ABCDEFGHJK')}{rng.choice('LMNPRSTW')}-"
                f"{rng.randrange(10**6):06d}-{rng.choice(['XS', 'S', 'M', 'L', 'XL'])}",
            )
        )
        rows.append(
            (
                "PRODUCT",
                f"{rng.choice(adjectives)} {rng.choice(adjectives)} "
                f"{rng.choice(nouns)} {rng.randrange(100, 999)}",
            )
        )
    return Dictionary.from_rows(rows[:terms], costs, name="bench-100k")


def throughput(detect: Callable[[str], object], texts: list[str], repeat: int = 3) -> float:
    best = 0.0
    total = sum(len(t.encode("utf-8")) for t in texts)
    for _ in range(repeat):
        started = time.perf_counter()
        for t in texts:
            detect(t)
        best = max(best, total / (time.perf_counter() - started) / 1e6)
    return best


# ------------------------------------------------------------------------ report


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, help="append the Markdown to this file")
    parser.add_argument("--skip-presidio", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)

    rows = load_rows()
    systems: dict[str, dict[str, Spans]] = {}
    ours = mageguard()
    systems["mageguard"] = {r.id: ours(r.text) for r in rows}
    base = regex_baseline()
    systems["regex baseline"] = {r.id: base(r.text) for r in rows}
    if not args.skip_presidio and PRESIDIO.exists():
        raw, _ = presidio(rows)
        best_f1, best = -1.0, 0.0
        for threshold in (0.0, 0.3, 0.5, 0.7):
            pred = {k: [(s, e, n) for s, e, n, sc in v if sc >= threshold] for k, v in raw.items()}
            res = score(rows, pred, overlap=True)
            macro = sum(prf(*c)[2] for c in res.values()) / max(len(res), 1)
            if macro > best_f1:
                best_f1, best = macro, threshold
        systems[f"Presidio (patterns, score >= {best})"] = {
            k: [(s, e, n) for s, e, n, sc in v if sc >= best] for k, v in raw.items()
        }

    lines = [
        f"## Redaction quality and speed ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"- Command: `.venv/bin/python bench/redact_bench.py"
        f"{' --results ' + str(args.results) if args.results else ''}`",
        f"- Machine: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}; one core, one process.",
        f"- Rows: {len(rows)} from {', '.join(p.name for p in PII_FILES)}. Gold labels "
        "outside the table (LOCATION, ORGANIZATION, DATE_TIME, TITLE...) are not scored.",
        "- Presidio: presidio-analyzer 2.2.366 with its predefined recognizers and no NLP "
        "model (none can be installed offline), at the score threshold that gives it its "
        "best macro F1.",
        "",
    ]
    for overlap in (True, False):
        lines += [
            f"### F1 per entity ({'overlap' if overlap else 'exact span'} match)",
            "",
            "| entity | gold | " + " | ".join(f"{n} P / R / F1" for n in systems) + " |",
            "|---|--:|" + "---|" * len(systems),
        ]
        results = {n: score(rows, pred, overlap) for n, pred in systems.items()}
        gold_counts = defaultdict(int)
        for r in rows:
            for g in r.gold:
                gold_counts[g[2]] += 1
        for entity in ENTITIES:
            cells = []
            for n in systems:
                tp, fp, fn = results[n].get(entity, (0, 0, gold_counts[entity]))
                p, rc, f = prf(tp, fp, fn)
                cells.append(f"{p:.2f} / {rc:.2f} / **{f:.2f}**" if tp + fp else "— / 0.00 / 0.00")
            lines.append(f"| {entity} | {gold_counts[entity]} | " + " | ".join(cells) + " |")
        lines.append("")

    texts = prompts(rows)
    dictionary = big_dictionary()
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    started = time.perf_counter()
    dictionary.accelerate(ROOT / "bench" / "work" / "dict-cache")  # type: ignore[attr-defined]
    compile_s = time.perf_counter() - started
    shop = shop_prompts()
    speed: dict[str, tuple[float, float]] = {
        "mageguard, regex + dictionary path (pattern detectors, 100k-term dictionary)": (
            throughput(mageguard(dictionary, fast_path=True), shop),
            throughput(mageguard(dictionary, fast_path=True), texts),
        ),
        "mageguard, all detectors + 100k-term dictionary": (
            throughput(mageguard(dictionary), shop),
            throughput(mageguard(dictionary), texts),
        ),
        "regex baseline (6 patterns)": (throughput(base, shop), throughput(base, texts)),
    }
    if not args.skip_presidio and PRESIDIO.exists():
        sample = [Row(f"p{i}", t, []) for i, t in enumerate(shop[:300])]
        dense = [Row(f"d{i}", t, []) for i, t in enumerate(texts[:300])]
        speed["Presidio (patterns only)"] = (
            sum(len(r.text.encode()) for r in sample) / presidio(sample)[1] / 1e6,
            sum(len(r.text.encode()) for r in dense) / presidio(dense)[1] / 1e6,
        )
    lines += [
        "### Speed on one core, 2 KB prompts",
        "",
        f"Shop prompts: {len(shop)} prompts built from the Luma catalogue's descriptions "
        "and reviews (ecom_magento_sample) with a customer message in each; PII-dense: "
        f"{len(texts)} prompts ({mb:.1f} MB) of the evaluation rows back to back, a "
        "personal-data item every ~100 bytes (worst case).",
        "",
        "| system | shop prompts MB/s | ms per prompt | PII-dense MB/s |",
        "|---|--:|--:|--:|",
    ]
    for name, (shop_mb, dense_mb) in speed.items():
        lines.append(f"| {name} | {shop_mb:.2f} | {2.0 / shop_mb:.3f} | {dense_mb:.2f} |")
    fast = mageguard(dictionary, fast_path=True)
    per_prompt = sum(len(fast(t)) for t in shop) / len(shop)
    lines += [
        "",
        f"Shop prompts carry {per_prompt:.1f} detected spans each on the regex + dictionary "
        "path (mostly catalogue product names and SKUs from the dictionary, and the "
        "customer's e-mail); every span costs Python work after the hyperscan scans.",
        "",
        f"Dictionary: {len(dictionary)} terms (the shared catalogue export plus "  # type: ignore[arg-type]
        "synthetic SKUs and product names); its hyperscan database compiled (or loaded from "
        f"bench/work/dict-cache) in {compile_s:.1f} s. Presidio runs on the first 300 "
        "prompts of each kind.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        with args.results.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
