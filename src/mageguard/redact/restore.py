"""Restoring placeholders in a streamed answer: a placeholder may arrive split across
chunks ("[EMA" + "IL_1]"), so the tail that could still become one is held back until the
next chunk decides it, and everything before it is restored and released at once."""

from __future__ import annotations

import re

from mageguard.redact.vault import OPENERS, Vault

_SUFFIX = re.compile(r"[ _\-]?\d{0,6}\s*\Z")


class StreamRestorer:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._buffer = ""
        self._prefixes = tuple(
            sorted({k.rpartition("_")[0] for k in vault.state() for k in [k.strip("[]")]}, key=len)
        )

    def feed(self, chunk: str) -> str:
        """Text that can be released now, placeholders restored."""
        self._buffer += chunk
        cut = self._hold_from(self._buffer)
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self.vault.restore(ready) if ready else ""

    def flush(self) -> str:
        rest, self._buffer = self._buffer, ""
        return self.vault.restore(rest)

    def _hold_from(self, text: str) -> int:
        if not self._prefixes:
            return len(text)
        window = self.vault.max_token_length
        start = max(0, len(text) - window)
        for i in range(start, len(text)):
            ch = text[i]
            at_word = ch.isalpha() and (i == 0 or not text[i - 1].isalnum())
            if (ch in OPENERS or at_word) and self._pending(text[i:]):
                return i
        return len(text)

    def _pending(self, tail: str) -> bool:
        """Whether `tail` could still grow into a placeholder this vault issued."""
        i = 1 if tail[:1] in OPENERS else 0
        while i < len(tail) and tail[i].isspace():
            i += 1
        rest = tail[i:].upper()
        if not rest:
            return True
        for prefix in self._prefixes:
            if prefix.startswith(rest):
                return True
            if rest.startswith(prefix) and _SUFFIX.match(rest, len(prefix)):
                return True
        return False
