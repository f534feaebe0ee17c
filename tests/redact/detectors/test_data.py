"""Helpers for the detectors' data files."""

from __future__ import annotations

import random
import re

from mageguard.redact.detectors import data


def test_trie_alternation_matches_as_the_flat_list_does() -> None:
    rng = random.Random(3)
    alphabet = "abcé. "
    for _ in range(200):
        words = {
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))).strip() or "a"
            for _ in range(rng.randint(1, 12))
        }
        # a tail that makes the regex backtrack into shorter words
        flat = re.compile(rf"(?i)(?<!\w){data.alternation(words)}\.?\s+[0-9]")
        trie = re.compile(rf"(?i)(?<!\w){data.trie_alternation(words)}\.?\s+[0-9]")
        for _ in range(20):
            pieces = [*words, "1", " ", "x", "É", "\n"]
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
            assert [m.span() for m in trie.finditer(text)] == [
                m.span() for m in flat.finditer(text)
            ], (sorted(words), text)


def test_trie_alternation_is_factored() -> None:
    assert data.trie_alternation(["jan", "january", "june"]) == "(?:j(?:an(?:uary)?|une))"
    assert data.trie_alternation(["né le", "né"]) == r"(?:né(?:\s+le)?)"
