"""Precision / recall / F1 of the built-in PII and secret detectors on the public PII sets,
and their throughput on 2 KB prompts.

    .venv/bin/python bench/redact_pii_eval.py [--data DIR] [--json OUT]

Scoring: the detectors' spans are resolved as the engine does (`resolve_overlaps`), then
matched per entity against the gold spans whose `norm_label` is one of our entities;
gold labels we do not produce (LOCATION, ORGANIZATION, DATE_TIME, ...) are ignored, and
predictions of entities the sets do not label (SECRET, NATIONAL_ID, VAT_ID) are counted
apart. "exact": same start and end; "overlap": the spans share a character (each gold span
matched at most once).

Caveat: the sets were generated with Faker and Presidio's generator, and the person
detector's name lexicon comes from Faker's person providers, so PERSON recall here is
optimistic for real traffic.

Throughput: every row's text once, shuffled with a fixed seed, joined into prompts of
~2 KB; one pass over them with all detectors on one core, after clearing the phone
verdict cache (the cache helps real chats, which re-send their history on every turn,
but would flatter a benchmark that loops). Also a pass over ~2 KB prompts built from the
Magento sample catalogue's product descriptions: the sparse, every-day case.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

from mageguard.redact.detectors import phone
from mageguard.redact.detectors.builtin import builtin_detectors
from mageguard.redact.spans import Span, resolve_overlaps

OURS = {
    "EMAIL",
    "PHONE",
    "PERSON",
    "ADDRESS",
    "ZIP_CODE",
    "DATE_OF_BIRTH",
    "IP_ADDRESS",
    "US_SSN",
    "NATIONAL_ID",
    "VAT_ID",
    "CREDIT_CARD",
    "CVV",
    "CARD_EXPIRY",
    "IBAN",
    "SECRET",
}
DEFAULT_DATA = Path(
    os.environ.get("MAGEGUARD_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared/data"
)


def detect(text: str) -> list[Span]:
    spans: list[Span] = []
    for d in builtin_detectors():
        spans.extend(d.detect(text))
    return resolve_overlaps(spans)


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(rows: list[dict]) -> dict[str, dict[str, float]]:
    gold_n: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    overlap: Counter[str] = Counter()
    unscored: Counter[str] = Counter()
    labelled = {s["norm_label"] for r in rows for s in r["spans"]} & OURS
    for row in rows:
        text = row["text"]
        gold = [
            (s["start"], s["end"], s["norm_label"])
            for s in row["spans"]
            if s["norm_label"] in labelled
        ]
        pred = [(s.start, s.end, s.entity) for s in detect(text)]
        for _, _, e in gold:
            gold_n[e] += 1
        used: set[int] = set()
        for ps, pe, ent in pred:
            if ent not in labelled:
                unscored[ent] += 1
                continue
            pred_n[ent] += 1
            if (ps, pe, ent) in gold:
                exact[ent] += 1
            for i, (gs, ge, gent) in enumerate(gold):
                if i not in used and gent == ent and gs < pe and ps < ge:
                    used.add(i)
                    overlap[ent] += 1
                    break
    out: dict[str, dict[str, float]] = {}
    for ent in sorted(labelled | set(pred_n)):
        ep, er, ef = prf(exact[ent], pred_n[ent], gold_n[ent])
        op, orr, of = prf(overlap[ent], pred_n[ent], gold_n[ent])
        out[ent] = {
            "gold": gold_n[ent],
            "pred": pred_n[ent],
            "exact_p": ep,
            "exact_r": er,
            "exact_f1": ef,
            "overlap_p": op,
            "overlap_r": orr,
            "overlap_f1": of,
        }
    tot = {k: sum(v[k] for v in out.values()) for k in ("gold", "pred")}
    te, to = sum(exact.values()), sum(overlap.values())
    out["ALL"] = dict(
        zip(("exact_p", "exact_r", "exact_f1"), prf(te, tot["pred"], tot["gold"]), strict=True)
    )
    out["ALL"].update(
        zip(
            ("overlap_p", "overlap_r", "overlap_f1"), prf(to, tot["pred"], tot["gold"]), strict=True
        )
    )
    out["ALL"].update(tot)
    out["_unscored_predictions"] = dict(unscored)  # type: ignore[assignment]
    return out


def prompts_of(texts: list[str], size: int = 2048) -> list[str]:
    out, cur, n = [], [], 0
    for t in texts:
        cur.append(t)
        n += len(t) + 1
        if n >= size:
            out.append("\n".join(cur))
            cur, n = [], 0
    return out


def throughput(prompts: list[str]) -> dict[str, float]:
    detectors = builtin_detectors()
    for p in prompts[:3]:  # warm up: loading data, the database, the lexicon
        for d in detectors:
            d.detect(p)
    phone.verdict.cache_clear()
    nbytes = sum(len(p.encode("utf-8")) for p in prompts)
    gc.collect()
    gc.disable()
    t0 = time.process_time()
    for p in prompts:
        for d in detectors:
            d.detect(p)
    dt = time.process_time() - t0
    gc.enable()
    return {
        "prompts": len(prompts),
        "mb_per_s": nbytes / dt / 1e6,
        "us_per_prompt": dt / len(prompts) * 1e6,
        "avg_bytes": nbytes / len(prompts),
    }


def catalogue_texts(data: Path) -> list[str]:
    """Product names and descriptions of the Magento sample catalogue, and the sample
    store's customer reviews: text a store's AI features really send."""
    texts = []
    for f in sorted((data / "ecom_magento_sample").rglob("products*.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                texts.extend(row[k] for k in ("name", "description") if row.get(k))
    reviews = data / "public/pi/pi_magento_reviews_benign.jsonl"
    if reviews.exists():
        texts.extend(
            json.loads(line)["text"] for line in reviews.read_text("utf-8").splitlines() if line
        )
    return texts


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    files = sorted((args.data / "public/pii").glob("*.jsonl"))
    if not files:
        print(f"no PII sets under {args.data}/public/pii", file=sys.stderr)
        return 2
    results: dict[str, object] = {}
    all_rows: list[dict] = []
    for f in files:
        rows = [json.loads(line) for line in f.read_text("utf-8").splitlines() if line.strip()]
        all_rows.extend(rows)
        results[f.stem] = score(rows)
    results["all_sets"] = score(all_rows)
    for name, res in results.items():
        print(f"\n== {name}")
        cols = ("P", "R", "F1", "P~", "R~", "F1~")
        print(f"{'entity':<14}{'gold':>6}{'pred':>6}  " + " ".join(f"{c:>5}" for c in cols))
        for ent, m in res.items():  # type: ignore[union-attr]
            if ent.startswith("_"):
                print(f"  predictions of unlabelled entities: {m}")
                continue
            keys = ("exact_p", "exact_r", "exact_f1", "overlap_p", "overlap_r", "overlap_f1")
            values = " ".join(f"{m[k]:5.2f}" for k in keys)
            print(f"{ent:<14}{int(m['gold']):>6}{int(m['pred']):>6}  {values}")
    print("\n(P R F1: exact span match;  P~ R~ F1~: overlap match)")
    texts = [r["text"] for r in all_rows]
    random.Random(7).shuffle(texts)
    dense = throughput(prompts_of(texts))
    sparse_texts = catalogue_texts(args.data)
    random.Random(7).shuffle(sparse_texts)
    sparse = throughput(prompts_of(sparse_texts))
    results["throughput_pii_rows"] = dense
    results["throughput_catalogue"] = sparse
    for name, t in (("PII rows (dense)", dense), ("catalogue and reviews (sparse)", sparse)):
        print(
            f"throughput, {name}: {t['mb_per_s']:.1f} MB/s, {t['us_per_prompt']:.0f} us per "
            f"{t['avg_bytes']:.0f}-byte prompt, {t['prompts']} prompts, one core"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
