"""Postal addresses from patterns: a street-type word in one of eight languages wakes a
grammar (house number + street name + type, or type + name + number, or a name glued to
its type as in German and Dutch), which then takes in a unit, postcode, city and state
when they follow on the same line. "PO Box 123" and its translations too.

Word lists and grammars live in `redact/data/address.yaml`; this module only wires them
to the shared hyperscan scan and runs each grammar in a window around its trigger words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mageguard.redact.detectors import data as redact_data
from mageguard.redact.detectors.scanner import Scanner, Trigger, windows, word_trigger
from mageguard.redact.spans import Span

NAME = "address"
_DIGIT = re.compile("[0-9]")


@dataclass(frozen=True)
class AddressConfig:
    triggers: tuple[Trigger, ...]
    # trigger key -> grammars to run around its hits, and where (relative to the trigger's
    # end) a house number must be for them to have a chance
    grammars: dict[str, tuple[re.Pattern[str], ...]]
    number_near: dict[str, tuple[int, int]]
    window: tuple[int, int]
    score: float


def _words(by_language: dict[str, list[str]]) -> list[str]:
    return [w for words in by_language.values() for w in words]


def _list_fragment(name: str, words: list[str], sources: str) -> str:
    """A word list as the grammars use it: a trie (redact_data.trie_alternation), which
    `re` follows one branch at a time where a flat list of ~150 street types was tried
    word by word at every candidate position (the grammars ran 2x slower). A list that
    only ever appears inside `(?i:...)` is lower-cased first, so that no two branches
    match the same text and the longest word still wins, as in the flat list."""
    caseless = sources.count(f"<<{name}>>") == sources.count(f"(?i:<<{name}>>)")
    if caseless:
        lowered = {w.lower() for w in words}
        if all(len(w.lower()) == len(w) for w in words):
            return redact_data.trie_alternation(lowered)
        return redact_data.alternation(words)  # a lower() that changes length: keep flat
    return redact_data.trie_alternation(words)


@functools.cache
def load_config() -> AddressConfig:
    return build_config(redact_data.load("address"))


def build_config(doc: Mapping[str, Any], *, tries: bool = True) -> AddressConfig:
    """The detector's configuration from address.yaml's document; `tries=False` keeps
    the word lists flat (what the tries are tested against)."""
    suffix, prefix = _words(doc["suffix_types"]), _words(doc["prefix_types"])
    compound = _words(doc["compound_types"])
    lists = {
        "SUFFIX_TYPES": suffix,
        "PREFIX_TYPES": prefix,
        "COMPOUND_TYPES": compound,
        "PO_BOX": doc["po_box"],
        "PARTICLES": doc["particles"],
        "UNITS": doc["units"],
    }
    sources = " ".join([*doc["grammars"].values(), *doc["fragments"].values()])
    fragments = {
        **redact_data.LETTER_FRAGMENTS,
        **{
            k: _list_fragment(k, v, sources) if tries else redact_data.alternation(v)
            for k, v in lists.items()
        },
        **doc["fragments"],
    }

    def grammar(name: str) -> re.Pattern[str]:
        source = redact_data.expand(doc["grammars"][name], fragments)
        return redact_data.compile_regex(source, unicode=True, where=f"address grammar {name}")

    # German/Dutch types end a longer word ("Hauptstraße"): no word boundary before them
    glued = Trigger(
        "addr:compound", redact_data.alternation(compound) + r"(?![A-Za-z])", caseless=True
    )
    triggers = (
        word_trigger("addr:suffix", suffix),
        word_trigger("addr:prefix", prefix),
        glued,
        word_trigger("addr:po_box", doc["po_box"]),
    )
    grammars = {
        "addr:suffix": (grammar("suffix"),),
        "addr:prefix": (grammar("prefix_number_first"), grammar("prefix_name_first")),
        "addr:compound": (grammar("compound"),),
        "addr:po_box": (grammar("po_box"),),
    }
    number_near = {
        "addr:suffix": (-80, 0),
        "addr:prefix": (-16, 80),
        "addr:compound": (0, 12),
        "addr:po_box": (0, 16),
    }
    window = (doc["window"][0], doc["window"][1])
    return AddressConfig(triggers, grammars, number_near, window, doc["score"])


def triggers() -> list[Trigger]:
    return list(load_config().triggers)


class AddressDetector:
    def __init__(self, scanner: Scanner | None = None) -> None:
        self._cfg = load_config()
        self.scanner = scanner or Scanner(triggers())

    @property
    def name(self) -> str:
        return NAME

    @property
    def entities(self) -> frozenset[str]:
        return frozenset({"ADDRESS"})

    def detect(self, text: str) -> list[Span]:
        if not text:
            return []
        hits = self.scanner.scan(text)
        n = len(text)
        before, after = self._cfg.window
        found: list[tuple[int, int]] = []
        for key, grammars in self._cfg.grammars.items():
            back, ahead = self._cfg.number_near[key]
            # no digit where the house number (or box number) would be: no address
            ends = [e for _, e in hits.get(key) if _DIGIT.search(text, max(0, e + back), e + ahead)]
            if not ends:
                continue
            for lo, hi in windows(ends, before, after, n):
                for regex in grammars:
                    for m in regex.finditer(text, lo, hi):
                        start, end = m.span()
                        end = _rstrip(text, start, end)
                        if end > start and not (end == hi and hi < n):
                            found.append((start, end))
        return [Span(s, e, "ADDRESS", self._cfg.score, NAME) for s, e in _outermost(found)]


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " ,.\t":
        end -= 1
    # keep the dot of an abbreviation ("Main St.") but not a sentence's full stop
    if end < len(text) and text[end] == ".":
        last = text[start:end].split()[-1:]
        if last and len(last[0]) <= 4 and last[0].isalpha() and last[0].istitle():
            end += 1
    return end


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping candidates (two grammars, two windows) merge into one address."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out
