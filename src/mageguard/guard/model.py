"""The learned part of the injection guard: logistic regression over hashed n-grams.

Inference is numpy only (no torch, no scikit-learn): featurise the segments of a text in
one batch (`features.featurize`), take a dot product with the weight vector per segment,
squash with the logistic function. The weights ship inside the package
(`data/injection_model.npy`, float16, 2**bits values) with a manifest
(`data/injection_model.json`) that records how they were built: training files and their
sha256, the split, hyperparameters, feature config, the threshold chosen on the validation
split and the held-out test metrics. `mageguard.guard.train` rebuilds both, byte for byte.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mageguard.errors import CatalogError
from mageguard.guard.features import F64, FeatureConfig, featurize
from mageguard.guard.segment import Span, segments

WEIGHTS_FILE = "injection_model.npy"
MANIFEST_FILE = "injection_model.json"
BATCH_CHARS = 32_768  # segments are featurised in batches of about this many characters


UnitKind = Literal["segment", "document", "decoded"]


@dataclass(frozen=True)
class Unit:
    """What the model scored: a segment, a document (the bag of its segments' n-grams,
    over [start, end)) or text decoded from [start, end)."""

    start: int
    end: int
    kind: UnitKind


@dataclass(frozen=True)
class UnitScores:
    units: tuple[Unit, ...]
    probs: F64

    @property
    def max(self) -> float:
        return float(self.probs.max()) if len(self.probs) else 0.0


def batches(spans: Sequence[Span], limit: int = BATCH_CHARS) -> list[list[Span]]:
    """Consecutive segments grouped into batches of about `limit` characters."""
    out: list[list[Span]] = []
    cur: list[Span] = []
    size = 0
    for sp in spans:
        n = sp[1] - sp[0]
        if cur and size + n > limit:
            out.append(cur)
            cur, size = [], 0
        cur.append(sp)
        size += n
    if cur:
        out.append(cur)
    return out


class LinearModel:
    """Weights (2**bits), a bias and the feature config they were trained with."""

    def __init__(self, config: FeatureConfig, weights: npt.NDArray[np.floating[Any]], bias: float):
        if weights.shape != (1 << config.bits,):
            raise ValueError(f"weights have shape {weights.shape}, want ({1 << config.bits},)")
        self.config = config
        # float32 in memory: half the cache footprint of float64 for the gathers below.
        self.weights: npt.NDArray[np.float32] = np.asarray(weights, dtype=np.float32)
        self.bias = float(bias)

    def logits(self, texts: Sequence[str], total: int = 0) -> F64:
        """One logit per text, each text scored alone (plus the `total` row, see
        `features.featurize`)."""
        batch = featurize(texts, self.config, total)
        contrib = self.weights[batch.column] * batch.value
        sums = np.bincount(batch.unit, weights=contrib, minlength=batch.n_units)
        return np.asarray(sums + self.bias, dtype=np.float64)

    def probs(self, texts: Sequence[str], total: int = 0) -> F64:
        out: F64 = 1.0 / (1.0 + np.exp(-self.logits(texts, total)))
        return out

    def score_text(self, text: str, extra: Sequence[tuple[Span, str]] = ()) -> UnitScores:
        """Every segment of `text`, the document (when it has several segments; one per
        batch of ~BATCH_CHARS for a long text) and any `extra` units (text decoded from
        [start, end) of `text`)."""
        units: list[Unit] = []
        parts: list[F64] = []
        groups = batches(segments(text))
        for i, group in enumerate(groups):
            texts = [text[s:e] for s, e in group]
            ex = extra if i == len(groups) - 1 else ()
            texts.extend(t for _, t in ex)
            total = len(group) if len(group) > 1 else 0
            parts.append(self.probs(texts, total))
            units.extend(Unit(s, e, "segment") for s, e in group)
            units.extend(Unit(s, e, "decoded") for (s, e), _ in ex)
            if total:
                units.append(Unit(group[0][0], group[-1][1], "document"))
        if not groups and extra:
            parts.append(self.probs([t for _, t in extra]))
            units.extend(Unit(s, e, "decoded") for (s, e), _ in extra)
        if not parts:
            return UnitScores((), np.zeros(0))
        return UnitScores(tuple(units), np.concatenate(parts))


def _data() -> Any:
    return resources.files("mageguard.guard").joinpath("data")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def load_manifest() -> dict[str, Any]:
    """The packaged model's manifest (see the module doc)."""
    try:
        raw: dict[str, Any] = json.loads(_data().joinpath(MANIFEST_FILE).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"guard model manifest: {exc}") from exc
    return raw


def model_from_bytes(manifest: dict[str, Any], data: bytes) -> LinearModel:
    """A model from a manifest and the bytes of its .npy file (checked against the
    manifest's sha256: weights that do not match what was measured are refused)."""
    import io

    want = manifest["weights"]["sha256"]
    if sha256_bytes(data) != want:
        raise CatalogError("guard model weights do not match the sha256 in their manifest")
    weights = np.load(io.BytesIO(data), allow_pickle=False)
    return LinearModel(
        FeatureConfig.from_dict(manifest["features"]), weights, manifest["weights"]["bias"]
    )


@functools.cache
def load_model() -> LinearModel:
    """The packaged model; loaded once per process (~1 ms)."""
    manifest = load_manifest()
    try:
        data = _data().joinpath(WEIGHTS_FILE).read_bytes()
    except OSError as exc:
        raise CatalogError(f"guard model weights: {exc}") from exc
    return model_from_bytes(manifest, data)
