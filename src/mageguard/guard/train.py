"""Train the injection model on ../shared/data/public/pi, reproducibly.

    python scripts/train_guard.py [--data DIR] [--out DIR]

Needs the `train` extra (scikit-learn); inference needs numpy only. The run is
deterministic: the split is a function of each row's text (sha256) or of BIPIA's own
split, the solver is liblinear with a fixed seed, the features are hashed with our own
hash; the weights file (`injection_model.npy`, float16) and its manifest
(`injection_model.json`) come out byte for byte the same for the same data, config and
library versions.

Splits (never report training-set numbers as results):
  - BIPIA keeps its own split: its `test` rows are the test split; its `train` rows are
    cut into train and validation by (task, row), so an injected document and its clean
    twin always land on the same side;
  - every other set is stratified by (dataset, label): distinct texts are ranked by their
    sha256 and the first TEST_FRACTION of each stratum is test, the next VAL_FRACTION
    validation, the rest train (exact duplicates always share a split).
The hyperparameter C is picked on validation (ROC AUC), the decision threshold at 1%
false-positive rate on validation; the test split is scored once, at the end.

Training units: what the guard scores at inference. A benign text gives its whole text
and each of its segments as negatives. An attack text of a set without span labels
gives its whole text. A BIPIA attack gives its injected instruction (`meta.attack`) and
the segments of the document that overlap it; the document's other segments are the
same as its clean twin's, so they add nothing. BIPIA's e-mail framing
("SUBJECT: ...|CONTENT: ...") and table layout occur in both classes; training on
segments keeps the model from keying on them (a test checks the framing does not move
an instruction's score).

The product is also judged on data that is not in this folder: these numbers are a
measurement on public sets, not a promise.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mageguard.guard.features import FeatureConfig, featurize
from mageguard.guard.injection import InjectionGuard
from mageguard.guard.model import MANIFEST_FILE, WEIGHTS_FILE, LinearModel, sha256_bytes
from mageguard.guard.rules import RuleSet, load_rules
from mageguard.guard.segment import segments

TARGET_FPR = 0.01
# The repository's sibling `shared/` (a checkout at /work/main reads /work/shared/...).
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "public" / "pi"


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    test_fraction: float = 0.25
    val_fraction: float = 0.15
    bipia_val_fraction: float = 0.15
    c_grid: tuple[float, ...] = (1.0, 4.0, 16.0)
    max_iter: int = 2000
    tol: float = 1e-4
    features: FeatureConfig = field(default_factory=FeatureConfig)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["c_grid"] = list(self.c_grid)
        d["features"] = self.features.to_dict()
        return d


@dataclass(frozen=True)
class Row:
    id: str
    dataset: str
    text: str
    label: int
    category: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class Trained:
    weights_npy: bytes
    manifest: dict[str, Any]
    guard: InjectionGuard


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def load_rows(data_dir: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every row of every `*.jsonl` in `data_dir` and a record of the files read."""
    rows: list[Row] = []
    files: list[dict[str, Any]] = []
    for path in sorted(data_dir.glob("*.jsonl")):
        data = path.read_bytes()
        n = 0
        for line in data.decode("utf-8").split("\n"):
            if not line.strip():
                continue
            r = json.loads(line)
            rows.append(
                Row(
                    id=str(r["id"]),
                    dataset=str(r["dataset"]),
                    text=str(r["text"]),
                    label=int(r["label"]),
                    category=str(r["category"]),
                    meta=dict(r.get("meta") or {}),
                )
            )
            n += 1
        files.append({"file": path.name, "sha256": sha256_bytes(data), "rows": n})
    if not rows:
        raise FileNotFoundError(f"no *.jsonl rows under {data_dir}")
    return rows, files


def _unit(key: str) -> float:
    """A stable number in [0, 1) from a string."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(1 << 48)


def assign_splits(rows: Sequence[Row], cfg: TrainConfig) -> dict[str, str]:
    """row id -> "train" | "val" | "test" (see the module doc)."""
    out: dict[str, str] = {}
    strata: dict[tuple[str, int], list[Row]] = defaultdict(list)
    for r in rows:
        if r.dataset == "pi_bipia" and "bipia_split" in r.meta:
            if r.meta["bipia_split"] == "test":
                out[r.id] = "test"
            else:
                key = f"bipia:{r.meta.get('task')}:{r.meta.get('row')}"
                out[r.id] = "val" if _unit(key) < cfg.bipia_val_fraction else "train"
        else:
            strata[(r.dataset, r.label)].append(r)
    for group in strata.values():
        keys = sorted({sha256_text(r.text) for r in group})
        rank = {k: i / len(keys) for i, k in enumerate(keys)}
        for r in group:
            q = rank[sha256_text(r.text)]
            if q < cfg.test_fraction:
                out[r.id] = "test"
            elif q < cfg.test_fraction + cfg.val_fraction:
                out[r.id] = "val"
            else:
                out[r.id] = "train"
    return out


@dataclass(frozen=True)
class Group:
    """Units featurised together: `texts`, plus their document row when `total` (see
    `features.featurize`). `labels` has one entry per row (-1 = not trained on)."""

    texts: tuple[str, ...]
    total: int
    labels: tuple[int, ...]
    weights: tuple[float, ...]


def training_groups(rows: Iterable[Row]) -> list[Group]:
    """The units the model learns from (see the module doc), as the guard scores them."""
    groups: list[Group] = []
    for r in rows:
        spans = segments(r.text)
        texts = tuple(r.text[s:e] for s, e in spans)
        n = len(texts)
        attack = r.meta.get("attack") if r.dataset == "pi_bipia" else None
        if r.label == 1 and isinstance(attack, str) and attack.strip():
            groups.append(Group((attack,), 0, (1,), (1.0,)))
            at = r.text.find(attack)
            over = tuple(r.text[s:e] for s, e in spans if s < at + len(attack) and at < e)
            if at >= 0 and over:
                groups.append(Group(over, 0, (1,) * len(over), (1.0 / len(over),) * len(over)))
            continue
        if n == 0:
            continue
        if n == 1:
            groups.append(Group(texts, 0, (r.label,), (1.0,)))
        elif r.label == 0:
            w = 1.0 / n**0.5
            groups.append(Group(texts, n, (0,) * n + (0,), (w,) * n + (1.0,)))
        else:  # an attack somewhere in the document: only the document row is labelled
            groups.append(Group(texts, n, (-1,) * n + (1,), (0.0,) * n + (1.0,)))
    return groups


def design_matrix(
    groups: Sequence[Group], features: FeatureConfig
) -> tuple[Any, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(X as scipy CSR, labels, weights) over the labelled rows of `groups`."""
    import scipy.sparse as sp  # type: ignore[import-untyped,import-not-found,unused-ignore]

    units: list[np.ndarray[Any, Any]] = []
    cols: list[np.ndarray[Any, Any]] = []
    vals: list[np.ndarray[Any, Any]] = []
    labels: list[int] = []
    weights: list[float] = []
    offset = 0
    for g in groups:
        b = featurize(g.texts, features, g.total)
        units.append(b.unit + offset)
        cols.append(b.column)
        vals.append(b.value)
        labels.extend(g.labels)
        weights.extend(g.weights)
        offset += b.n_units
    x = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(units), np.concatenate(cols))),
        shape=(offset, 1 << features.bits),
    )
    y = np.asarray(labels)
    keep = y >= 0
    return x[keep], y[keep], np.asarray(weights)[keep]


def fit(
    x: Any,
    y: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
    c: float,
    cfg: TrainConfig,
) -> tuple[np.ndarray[Any, np.dtype[np.float16]], float]:
    """L2 logistic regression (liblinear, balanced classes); float16 weights and a bias."""
    from sklearn.linear_model import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        LogisticRegression,
    )

    clf = LogisticRegression(
        C=c,
        class_weight="balanced",
        solver="liblinear",
        max_iter=cfg.max_iter,
        tol=cfg.tol,
        random_state=cfg.seed,
    )
    clf.fit(x, y, sample_weight=w)
    coef = np.asarray(clf.coef_[0], dtype=np.float16)
    bias = float(np.float32(clf.intercept_[0]))
    return coef, bias


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Mann-Whitney AUC with ties counted half (numpy only, so the bench needs no sklearn)."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    r_pos = ranks[y == 1].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def threshold_at_fpr(neg_scores: Sequence[float], fpr: float = TARGET_FPR) -> float:
    """The lowest threshold (score >= t is an attack) that flags at most `fpr` of
    `neg_scores`."""
    neg = np.sort(np.asarray(neg_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(fpr * len(neg)))
    if allowed >= len(neg):
        return 0.0
    return float(min(1.0, np.nextafter(neg[allowed], np.inf)))


def tpr_at_fpr(labels: Sequence[int], scores: Sequence[float], fpr: float = TARGET_FPR) -> float:
    """TPR at the threshold that gives at most `fpr` on these negatives (the ROC point)."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    t = threshold_at_fpr(s[y == 0], fpr)
    return float((s[y == 1] >= t).mean()) if (y == 1).any() else float("nan")


def rates(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    flagged = s >= threshold
    out: dict[str, Any] = {"n": len(y), "positives": int((y == 1).sum())}
    if (y == 1).any():
        out["tpr"] = round(float(flagged[y == 1].mean()), 4)
    if (y == 0).any():
        out["fpr"] = round(float(flagged[y == 0].mean()), 4)
    return out


def metrics(rows: Sequence[Row], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    labels = [r.label for r in rows]
    out: dict[str, Any] = {
        "roc_auc": round(roc_auc(labels, scores), 4),
        "tpr_at_1pct_fpr_roc": round(tpr_at_fpr(labels, scores), 4),
        "at_threshold": rates(labels, scores, threshold),
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[f"{r.dataset}/{r.category}"].append(i)
    out["by_subset"] = {
        k: rates([labels[i] for i in idx], [scores[i] for i in idx], threshold)
        for k, idx in sorted(groups.items())
    }
    return out


def npy_bytes(weights: np.ndarray[Any, Any]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, weights, allow_pickle=False)
    return buf.getvalue()


def train(
    rows: Sequence[Row],
    files: Sequence[dict[str, Any]],
    cfg: TrainConfig,
    rules: RuleSet | None = None,
    log: Any = None,
) -> Trained:
    """Split, pick C on validation, fit, choose the threshold, score the test split."""
    rules = rules if rules is not None else load_rules()
    split = assign_splits(rows, cfg)
    parts = {name: [r for r in rows if split[r.id] == name] for name in ("train", "val", "test")}
    x, y, w = design_matrix(training_groups(parts["train"]), cfg.features)

    def say(msg: str) -> None:
        if log is not None:
            print(msg, file=log)

    say(f"train units: {x.shape[0]} ({int(y.sum())} positive) from {len(parts['train'])} rows")
    grid: list[dict[str, Any]] = []
    best: tuple[float, float, Any, float] | None = None
    for c in cfg.c_grid:
        coef, bias = fit(x, y, w, c, cfg)
        guard = InjectionGuard(rules, LinearModel(cfg.features, coef, bias), 0.5)
        val_scores = [guard.score(r.text) for r in parts["val"]]
        auc = roc_auc([r.label for r in parts["val"]], val_scores)
        tpr = tpr_at_fpr([r.label for r in parts["val"]], val_scores)
        grid.append({"C": c, "val_roc_auc": round(auc, 4), "val_tpr_at_1pct_fpr": round(tpr, 4)})
        say(f"C={c}: val AUC {auc:.4f}, val TPR@1%FPR {tpr:.4f}")
        if best is None or (auc, tpr) > (best[0], best[1]):
            best = (auc, tpr, (coef, bias), c)
    assert best is not None
    (coef, bias), chosen_c = best[2], best[3]
    model = LinearModel(cfg.features, coef, bias)
    probe = InjectionGuard(rules, model, 0.5)
    val_scores = [probe.score(r.text) for r in parts["val"]]
    threshold = threshold_at_fpr(
        [s for r, s in zip(parts["val"], val_scores, strict=True) if r.label == 0]
    )
    guard = InjectionGuard(rules, model, threshold)
    test_scores = [guard.score(r.text) for r in parts["test"]]
    weights_npy = npy_bytes(coef)
    import sklearn  # type: ignore[import-untyped,import-not-found,unused-ignore]

    counts: Counter[tuple[str, int, str]] = Counter((r.dataset, r.label, split[r.id]) for r in rows)
    manifest: dict[str, Any] = {
        "model": "mageguard prompt-injection guard: hashed n-gram logistic regression",
        "data": {
            "files": list(files),
            "note": "public sets; the product is also judged on data not in this folder",
        },
        "split": {
            "method": (
                "BIPIA: own test split; its train rows cut into train/val by (task, row). "
                "Others: stratified by (dataset, label), distinct texts ranked by sha256: "
                f"first {cfg.test_fraction} test, next {cfg.val_fraction} val, rest train."
            ),
            "counts": {
                f"{d}/label={lab}": {s: counts[(d, lab, s)] for s in ("train", "val", "test")}
                for d, lab in sorted({(d, lab) for d, lab, _ in counts})
            },
        },
        "training": {
            **cfg.to_dict(),
            "chosen_C": chosen_c,
            "c_search": grid,
            "solver": "liblinear, L2, class_weight=balanced",
            "units": {"total": int(x.shape[0]), "positive": int(y.sum())},
            "versions": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
            },
        },
        "features": cfg.features.to_dict(),
        "weights": {
            "file": WEIGHTS_FILE,
            "dtype": "float16",
            "bytes": len(weights_npy),
            "sha256": sha256_bytes(weights_npy),
            "bias": bias,
        },
        "combination": "score = 1 - (1 - max unit probability) * (1 - noisy-OR of rule hits)",
        "threshold": threshold,
        "threshold_rule": f"lowest score with FPR <= {TARGET_FPR} on the validation split",
        "metrics": {
            "val": metrics(parts["val"], val_scores, threshold),
            "test": metrics(parts["test"], test_scores, threshold),
        },
    }
    return Trained(weights_npy, manifest, guard)


def write(trained: Trained, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / WEIGHTS_FILE).write_bytes(trained.weights_npy)
    text = json.dumps(trained.manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of pi_*.jsonl")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "data",
        help="where the weights and manifest are written (default: the package)",
    )
    args = parser.parse_args(argv)
    rows, files = load_rows(args.data.resolve())
    trained = train(rows, files, TrainConfig(), log=sys.stderr)
    write(trained, args.out)
    test = trained.manifest["metrics"]["test"]
    print(
        f"threshold {trained.manifest['threshold']:.4f}; test ROC AUC {test['roc_auc']}, "
        f"TPR {test['at_threshold'].get('tpr')} / FPR {test['at_threshold'].get('fpr')} "
        f"at the threshold; weights {trained.manifest['weights']['bytes']} bytes -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
