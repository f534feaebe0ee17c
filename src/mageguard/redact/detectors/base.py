"""The detector contract."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mageguard.redact.spans import Span


class Detector(Protocol):
    """Finds spans of some entities in text. Must be pure (no state between calls), fast
    on 2 KB prompts, linear in the input (no regex that can backtrack catastrophically),
    and safe on any str, including lone surrogates from invalid UTF-8."""

    @property
    def name(self) -> str: ...

    @property
    def entities(self) -> frozenset[str]: ...

    def detect(self, text: str) -> Iterable[Span]: ...
