"""The token gate: which files are worth a parser's time.

Every file is read once and matched against three literal sets with hyperscan (at read
speed): AI tokens (hosts, SDKs, packages) gate a whole unit into analysis; generic tokens
(curl, logger, prompt...) route files inside a gated unit to the PHP analyzer; key tokens
send a file to the secret detectors. Python's `re` alternation would run at ~3 MB/s here.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import hyperscan

from mageguard.catalog import Catalog

AI = 1
GENERIC = 2
KEY = 4
SUPPRESS = 8
ALL = AI | GENERIC | KEY | SUPPRESS
SUPPRESS_TOKEN = "mageguard:ignore"


@dataclass(frozen=True)
class TokenSets:
    ai: tuple[str, ...]
    generic: tuple[str, ...]
    key: tuple[str, ...]

    @staticmethod
    def from_catalog(catalog: Catalog) -> TokenSets:
        return TokenSets(
            ai=catalog.ai_tokens(),
            generic=tuple(catalog.sinks["generic_tokens"]),
            key=catalog.key_tokens(),
        )

    def digest(self) -> str:
        h = hashlib.sha256()
        for group in (self.ai, self.generic, self.key):
            h.update("\x00".join(group).encode())
            h.update(b"\x01")
        h.update(SUPPRESS_TOKEN.encode())
        return h.hexdigest()[:16]


class Gate:
    """Compiled once per scan (a few ms for a few hundred literals)."""

    def __init__(self, tokens: TokenSets) -> None:
        exprs: list[bytes] = []
        groups: list[int] = []
        flags: list[int] = []
        caseless = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
        for group, words, f in (
            (AI, tokens.ai, caseless),
            (GENERIC, tokens.generic, caseless),
            (KEY, tokens.key, hyperscan.HS_FLAG_SINGLEMATCH),
            (SUPPRESS, (SUPPRESS_TOKEN,), hyperscan.HS_FLAG_SINGLEMATCH),
        ):
            for w in words:
                exprs.append(w.encode())
                groups.append(group)
                flags.append(f)
        self._groups = groups
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=exprs,
            ids=list(range(len(exprs))),
            elements=len(exprs),
            flags=flags,
            literal=True,
        )
        self._scratch = hyperscan.Scratch(self._db)

    def mask(self, data: bytes) -> int:
        found = [0]
        groups = self._groups

        def on_match(idx: int, _from: int, _to: int, _flags: int, _ctx: object) -> bool:
            found[0] |= groups[idx]
            return found[0] == ALL  # stop once every group is seen

        if data:
            # ScanTerminated is our own early stop once every group is seen.
            with contextlib.suppress(hyperscan.ScanTerminated):
                self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        return found[0]

    def masks(self, blobs: Sequence[bytes]) -> list[int]:
        return [self.mask(b) for b in blobs]


# ---------------------------------------------------------------------- reading and gating

PARALLEL_MIN_FILES = 4000
_CHUNK = 500
GateResult = tuple[int, str]  # (mask, sha256 of flagged files or "")
_worker_gate: Gate | None = None  # inherited by forked workers: compiled once, in the parent


def gate_bytes(data: bytes, kind: str, gate: Gate) -> GateResult:
    """Mask one file's bytes. A file that names AI only in comments does not gate."""
    from mageguard.scan.comments import without_comments

    mask = gate.mask(data)
    if mask & AI and not gate.mask(without_comments(data, kind)) & AI:
        mask &= ~AI
    return mask, (hashlib.sha256(data).hexdigest() if mask else "")


def _gate_path(root: str, rel: str, kind: str, gate: Gate) -> GateResult | str:
    try:
        # open() on a string: a Path per file costs more than the read on a 60k-file tree.
        with open(f"{root}/{rel}", "rb") as fh:  # noqa: PTH123
            data = fh.read()
    except OSError as exc:
        return exc.strerror or str(exc)
    return gate_bytes(data, kind, gate)


def _work(job: tuple[str, list[tuple[int, str, str]]]) -> list[tuple[int, GateResult | str]]:
    root, items = job
    if _worker_gate is None:
        raise RuntimeError("gate worker started without a gate")
    return [(i, _gate_path(root, rel, kind, _worker_gate)) for i, rel, kind in items]


def gate_in_parallel(
    root: str,
    items: Sequence[tuple[int, str, str]],
    gate: Gate,
    jobs: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, GateResult | str]]:
    """Read and gate files in `jobs` forked processes. Reading a cold 250 MB tree is bound
    by per-file work in Python, so a second core nearly halves it. Results come back as
    (index, (mask, sha)) or (index, error message)."""
    global _worker_gate
    _worker_gate = gate
    chunks = [(root, list(items[k : k + _CHUNK])) for k in range(0, len(items), _CHUNK)]
    done = 0
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for batch in pool.imap_unordered(_work, chunks):
            done += len(batch)
            if progress is not None:
                progress(done)
            yield from batch
    _worker_gate = None


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
