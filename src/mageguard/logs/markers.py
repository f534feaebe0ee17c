"""AI traffic in a log line: a logged prompt, a logged model response, or a call to an AI
provider's host. The vocabulary is data (`data/ai_markers.yaml`, the catalog's providers);
this module only compiles it. Markers are Spans like any detector's, with entities
AI_PROMPT, AI_RESPONSE and AI_PROVIDER, but they are reported, never redacted: the words
"prompt" or "api.openai.com" are not what leaks, the text logged beside them is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from mageguard.catalog import load_catalog
from mageguard.catalog.loader import SafeLoader
from mageguard.errors import CatalogError
from mageguard.redact.spans import Span

AI_ENTITIES = frozenset({"AI_PROMPT", "AI_RESPONSE", "AI_PROVIDER"})
# Host-like tokens; the catalog decides which are AI providers. The lookbehind keeps a
# match from starting inside a longer token, so the scan stays linear on long lines.
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}(?![\w-])", re.I)
_ASSISTANT = re.compile(r"""\\?["']?role\\?["']?\s*(?::|=>)\s*\\?["']assistant\b""", re.I)


def _phrase_regex(phrases: list[str], provider_group: str) -> str:
    """One alternation; `{provider}` becomes a nested group rather than one alternative per
    provider, which keeps Python's `re` fast."""
    parts = []
    for phrase in sorted({p.lower() for p in phrases}, key=len, reverse=True):
        words = [provider_group if w == "{provider}" else re.escape(w) for w in phrase.split()]
        parts.append(r"\s+".join(words))
    return "|".join(parts)


def _literal_words(phrases: list[str]) -> list[str]:
    return [" ".join(w for w in p.lower().split() if w != "{provider}") for p in phrases]


def _alternation(items: list[str]) -> str:
    parts = sorted({re.escape(i.lower()) for i in items}, key=len, reverse=True)
    return "|".join(parts)


def _keys(keys: str) -> str:
    # "key": / \"key\": (escaped JSON in a report) / s:8:"key"; (PHP) / [key] => (print_r)
    return rf"""(?:\\?"(?:{keys})\\?"\s*:|s:\d+:"(?:{keys})";|\[(?:{keys})\]\s*=>)"""


@dataclass(frozen=True)
class _Gated:
    """A case-insensitive pattern run only around occurrences of its gate tokens: Python's
    `re` runs a caseless alternation at ~1 MB/s, `str.find` on the lower-cased line at
    hundreds of MB/s, and most lines hold no token at all."""

    pattern: re.Pattern[str]
    tokens: tuple[str, ...]
    reach: int  # how far a match may extend either side of its token

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        if len(low) != len(text):  # lower() changed the length (e.g. "İ"): no gate
            yield from self.pattern.finditer(text)
            return
        size = len(text)
        hits = sorted((i, len(token)) for token in self.tokens for i in _positions(low, token))
        windows: list[list[int]] = []
        for i, n in hits:
            lo, hi = max(0, i - self.reach), min(size, i + n + self.reach)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], hi)
            else:
                windows.append([lo, hi])
        last_end = -1
        for lo, hi in windows:
            for m in self.pattern.finditer(text, lo, hi):
                if m.end() == hi < size:  # the window may have cut a longer word
                    m = self.pattern.match(text, m.start()) or m
                if m.start() >= last_end:
                    last_end = m.end()
                    yield m


def _positions(low: str, token: str) -> Iterator[int]:
    i = low.find(token)
    while i != -1:
        yield i
        i = low.find(token, i + 1)


def _gated(pattern: str, phrases: list[str]) -> _Gated:
    # One gate token per phrase, shared where possible: "system prompt" is found through
    # "prompt", "ai response" through "response".
    tokens: set[str] = set()
    for words in sorted((p.split() for p in phrases if p.strip()), key=len):
        if not tokens.intersection(words):
            tokens.add(max(words, key=len))
    # A token that contains another token is found through it already.
    tokens = {t for t in tokens if not any(o != t and o in t for o in tokens)}
    reach = max(len(p) for p in phrases) + 48  # + the longest provider word
    return _Gated(re.compile(pattern, re.I), tuple(sorted(tokens)), reach)


@functools.cache
def _compiled() -> tuple[_Gated, _Gated, _Gated, str]:
    try:
        data = resources.files("mageguard.logs").joinpath("data", "ai_markers.yaml")
        raw: Any = yaml.load(data.read_text("utf-8"), Loader=SafeLoader)
        provider_words = sorted(
            {w.lower() for p in load_catalog().providers for w in p.config_words}
            | {w.lower() for w in raw.get("provider_words", [])}
        )
        entities = ("AI_PROMPT", "AI_RESPONSE")
        keys = {e: [str(k).lower() for k in raw[e]["json_keys"]] for e in entities}
        words = {e: [str(w) for w in raw[e]["words"]] for e in entities}
        role, content = (str(k).lower() for k in raw["chat_message"]["keys"])
        chat_entity = str(raw["chat_message"]["entity"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise CatalogError(f"logs/data/ai_markers.yaml: {exc}") from exc
    key_re = _gated(
        "|".join(f"(?P<{e}>{_keys(_alternation(k))})" for e, k in keys.items()),
        [k for ks in keys.values() for k in ks],
    )
    providers = (
        "(?:" + "|".join(r"\s+".join(re.escape(x) for x in w.split()) for w in provider_words) + ")"
    )
    # Whole words, and not part of a path or file name (Magento_Ui/js/modal/prompt.js).
    word_re = _gated(
        r"(?<![\w/.\\-])(?:"
        + "|".join(f"(?P<{e}>{_phrase_regex(w, providers)})" for e, w in words.items())
        + r")(?![\w-]|[./\\]\w)",
        [w for ws in words.values() for w in _literal_words(ws)],
    )
    chat_re = _gated(
        rf"(?P<role>{_keys(re.escape(role))})|(?P<content>{_keys(re.escape(content))})",
        [role, content],
    )
    return key_re, word_re, chat_re, chat_entity


class AiTrafficDetector:
    """Finds AI traffic markers in a line. Same contract as a redaction Detector."""

    name = "ai-traffic"
    entities = AI_ENTITIES

    def __init__(self) -> None:
        self._keys, self._words, self._chat, self._chat_entity = _compiled()
        self._hosts = load_catalog().hosts

    def detect(self, text: str) -> Iterator[Span]:
        low = text.lower()
        for gated in (self._keys, self._words):
            for m in gated.finditer(text, low):
                yield Span(m.start(), m.end(), m.lastgroup or "AI_PROMPT", 1.0, self.name)
        yield from self._chat_message(text, low)
        if "." in text:
            for m in _HOST.finditer(text):
                provider = self._hosts.match(m.group(0))
                if provider is not None:
                    yield Span(m.start(), m.end(), "AI_PROVIDER", 1.0, f"{self.name}:{provider.id}")

    def _chat_message(self, text: str, low: str) -> Iterator[Span]:
        found: Mapping[str, re.Match[str]] = {}
        for m in self._chat.finditer(text, low):
            if m.lastgroup is not None and m.lastgroup not in found:
                found = {**found, m.lastgroup: m}
                if len(found) == 2:
                    break
        if len(found) == 2:
            role = found["role"]
            entity = "AI_RESPONSE" if _ASSISTANT.match(text, role.start()) else self._chat_entity
            yield Span(role.start(), role.end(), entity, 1.0, self.name)
