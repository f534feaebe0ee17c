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
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mageguard.errors import CatalogError
from mageguard.guard.features import F64, FeatureConfig, featurize, native_logits
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


def sigmoid(logit: float) -> float:
    """The logistic function on one float (0.0 far below zero, where exp overflows)."""
    return 1.0 / (1.0 + math.exp(-logit)) if logit > -700.0 else 0.0


@dataclass(frozen=True)
class UnitScores:
    units: tuple[Unit, ...]
    logits: F64

    @property
    def probs(self) -> F64:
        out: F64 = 1.0 / (1.0 + np.exp(-self.logits))
        return out

    @property
    def max(self) -> float:
        """The highest unit probability: the logistic function is monotone, so the one
        of the highest logit (the same float `LinearModel.max_prob` gives)."""
        return sigmoid(float(self.logits.max())) if len(self.logits) else 0.0


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
        fast = native_logits(texts, self.config, total, self.weights, self.bias)
        if fast is not None:
            return fast
        batch = featurize(texts, self.config, total)
        contrib = self.weights[batch.column] * batch.value
        sums = np.bincount(batch.unit, weights=contrib, minlength=batch.n_units)
        return np.asarray(sums + self.bias, dtype=np.float64)

    def probs(self, texts: Sequence[str], total: int = 0) -> F64:
        out: F64 = 1.0 / (1.0 + np.exp(-self.logits(texts, total)))
        return out

    def _groups(
        self, text: str, extra: Sequence[tuple[Span, str]]
    ) -> list[tuple[list[Span], Sequence[tuple[Span, str]]]]:
        """The batches of `text`'s segments, the `extra` units riding with the last one
        (alone when the text has no segments)."""
        groups: list[tuple[list[Span], Sequence[tuple[Span, str]]]] = [
            (group, ()) for group in batches(segments(text))
        ]
        if extra:
            if groups:
                groups[-1] = (groups[-1][0], extra)
            else:
                groups.append(([], extra))
        return groups

    def _group_logits(
        self, text: str, group: list[Span], extra: Sequence[tuple[Span, str]]
    ) -> tuple[F64, int]:
        texts = [text[s:e] for s, e in group]
        texts.extend(t for _, t in extra)
        total = len(group) if len(group) > 1 else 0
        return self.logits(texts, total), total

    def score_text(self, text: str, extra: Sequence[tuple[Span, str]] = ()) -> UnitScores:
        """Every segment of `text`, the document (when it has several segments; one per
        batch of ~BATCH_CHARS for a long text) and any `extra` units (text decoded from
        [start, end) of `text`)."""
        units: list[Unit] = []
        parts: list[F64] = []
        for group, ex in self._groups(text, extra):
            logits, total = self._group_logits(text, group, ex)
            parts.append(logits)
            units.extend(Unit(s, e, "segment") for s, e in group)
            units.extend(Unit(s, e, "decoded") for (s, e), _ in ex)
            if total:
                units.append(Unit(group[0][0], group[-1][1], "document"))
        if not parts:
            return UnitScores((), np.zeros(0))
        return UnitScores(tuple(units), np.concatenate(parts))

    def max_prob(self, text: str, extra: Sequence[tuple[Span, str]] = ()) -> float:
        """`score_text(text, extra).max` without naming the units: what the gateway asks
        on every request, where building the units cost a fifth of the model's time."""
        best: float | None = None
        for group, ex in self._groups(text, extra):
            logits, _ = self._group_logits(text, group, ex)
            if len(logits):
                top = float(logits.max())
                best = top if best is None or top > best else best
        return 0.0 if best is None else sigmoid(best)


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
