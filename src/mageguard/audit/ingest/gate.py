"""The literal gate: which lines of a log name an AI host at all.

In real logs a fraction of a percent of lines does; hyperscan finds those at read speed
(hundreds of MB/s, like `grep -F`), and only they are decoded and parsed. Literals are
matched caseless and anywhere in the line, so the gate only ever lets too much through
(api.openai.com.evil.example, a referer naming openai.com): the parser and the
classifier decide, the gate only saves work.
"""

from __future__ import annotations

from collections.abc import Sequence

import hyperscan


class LineGate:
    def __init__(self, literals: Sequence[str]) -> None:
        flags = hyperscan.HS_FLAG_CASELESS
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[w.encode() for w in literals],
            ids=list(range(len(literals))),
            elements=len(literals),
            flags=[flags] * len(literals),
            literal=True,
        )
        self._scratch = hyperscan.Scratch(self._db)

    def lines(self, chunk: bytes) -> list[tuple[int, int]]:
        """(start, end) of every line of `chunk` with a match, in order; `end` excludes
        the newline."""
        found: list[tuple[int, int]] = []
        last_end = [-1]

        def on_match(_id: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            if to <= last_end[0]:
                return
            start = chunk.rfind(b"\n", 0, to) + 1
            end = chunk.find(b"\n", to)
            end = len(chunk) if end < 0 else end
            found.append((start, end))
            last_end[0] = end

        if chunk:
            self._db.scan(chunk, match_event_handler=on_match, scratch=self._scratch)
        return found
