"""`mageguard redact --jsonl`: one JSON line in, one out, in constant memory.

A row that is not valid JSON, or has no string "text", gives an error line for that row
and the stream goes on: one bad row must not lose a million good ones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from mageguard.redact.engine import Redactor
from mageguard.redact.vault import Vault


def rows(stream: IO[bytes]) -> Iterable[tuple[Any, str | None, str | None]]:
    """(id, text, error) per line; invalid UTF-8 is decoded with replacement, not fatal."""
    for number, raw in enumerate(stream, 1):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"line {number}: not JSON ({exc.msg})"
            continue
        if not isinstance(row, dict):
            yield number, None, f"line {number}: expected an object"
            continue
        text = row.get("text")
        if not isinstance(text, str):
            yield row.get("id", number), None, f'line {number}: "text" must be a string'
            continue
        yield row.get("id", number), text, None


def run(redactor: Redactor, source: IO[bytes], sink: IO[str], surface: str | None = None) -> int:
    """Returns the number of rows that could not be processed."""
    errors = 0
    for row_id, text, error in rows(source):
        if error is not None or text is None:
            errors += 1
            sink.write(json.dumps({"id": row_id, "error": error}) + "\n")
            continue
        result = redactor.redact(text, Vault(), surface=surface)
        out = {
            "id": row_id,
            "redacted": result.text,
            "spans": [
                {"start": s.start, "end": s.end, "entity": s.entity, "score": round(s.score, 4)}
                for s in result.spans
            ],
        }
        if result.blocked:
            out["blocked"] = list(result.blocked)
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
    return errors
