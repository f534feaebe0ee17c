"""Score JSON Lines with the injection guard, streaming (for `mageguard guard --jsonl`).

Input rows are `{"id": ..., "text": "..."}`, one per line; each gets one output line:

    {"id": ..., "score": 0.0123, "verdict": "benign"}
    {"id": ..., "error": "text is not a string"}

Memory stays constant: lines are read one at a time, at most `max_line_bytes` of a line
is held (a longer line is skipped to its end and reported as an error row). A bad row
(invalid JSON, not an object, missing or non-string text) becomes an error line and the
stream goes on; invalid UTF-8 is decoded with replacement characters, never a crash.
Blank lines are skipped.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from mageguard.guard.injection import InjectionGuard, default_guard

MAX_LINE_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 16


@dataclass(frozen=True)
class StreamStats:
    rows: int
    attacks: int
    errors: int


def _lines(stream: Any, max_line_bytes: int) -> Iterator[bytes | None]:
    """Lines of `stream` without their newline; None for a line longer than the limit
    (whose rest is read and dropped in chunks)."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
            continue
        if len(line) <= max_line_bytes:  # the last line, without a newline
            yield line
            return
        while True:  # too long: skip to the end of the line
            rest = stream.readline(_CHUNK)
            if not rest or rest.endswith(b"\n"):
                break
        yield None


class _TextAsBytes:
    """readline() of a text stream that has no binary buffer (io.StringIO), as bytes."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        return self._stream.readline(limit).encode("utf-8", "surrogateescape")


def _binary(stream: IO[Any]) -> Any:
    if isinstance(stream, (io.BufferedIOBase, io.RawIOBase)):
        return stream
    buf = getattr(stream, "buffer", None)
    if isinstance(stream, io.TextIOBase) and buf is not None:
        return buf
    if isinstance(stream, io.TextIOBase):
        return _TextAsBytes(stream)
    return stream  # something with a readline() returning bytes


def _id(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else None


def score_row(
    line: bytes | None,
    guard: InjectionGuard,
    explain: bool = False,
    extra: Callable[[str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The output object for one input line; `extra(text)` adds fields (the CLI's
    dictionary term count)."""
    result = _score_row(line, guard, explain)
    if extra is not None and "error" not in result and line is not None:
        result.update(extra(json.loads(line.decode("utf-8", "replace"))["text"]))
    return result


def _score_row(line: bytes | None, guard: InjectionGuard, explain: bool = False) -> dict[str, Any]:
    if line is None:
        return {"id": None, "error": "line too long"}
    text_line = line.decode("utf-8", "replace")
    try:
        row = json.loads(text_line)
    except (ValueError, RecursionError):
        return {"id": None, "error": "invalid JSON"}
    if not isinstance(row, dict):
        return {"id": None, "error": "row is not a JSON object"}
    rid = _id(row.get("id"))
    if "text" not in row:
        return {"id": rid, "error": "missing text"}
    text = row["text"]
    if not isinstance(text, str):
        return {"id": rid, "error": "text is not a string"}
    if not explain:
        s = guard.score(text)
        return {
            "id": rid,
            "score": round(s, 6),
            "verdict": "attack" if s >= guard.threshold else "benign",
        }
    v = guard.verdict(text)
    return {"id": rid, **v.to_dict()}


def stream_jsonl(
    inp: IO[Any],
    out: IO[Any],
    *,
    guard: InjectionGuard | None = None,
    explain: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
    extra: Callable[[str], dict[str, Any]] | None = None,
) -> StreamStats:
    """Read rows from `inp` (binary or text), write one JSON line per row to `out` (text
    or binary). `explain` adds the rule ids and segment offsets behind each score."""
    guard = guard if guard is not None else default_guard()
    binary_out = isinstance(out, (io.BufferedIOBase, io.RawIOBase))
    rows = attacks = errors = 0
    for line in _lines(_binary(inp), max_line_bytes):
        if line is not None and not line.strip():
            continue
        result = score_row(line, guard, explain, extra)
        rows += 1
        if "error" in result:
            errors += 1
        elif result["verdict"] == "attack":
            attacks += 1
        encoded = json.dumps(result, ensure_ascii=True, separators=(",", ":")) + "\n"
        if binary_out:
            out.write(encoded.encode("ascii"))
        else:
            out.write(encoded)
    return StreamStats(rows, attacks, errors)
