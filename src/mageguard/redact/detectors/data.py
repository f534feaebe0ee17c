"""Loading the detectors' data files (`redact/data/*.yaml`), each validated against its
schema in `catalog/schemas/` so that a typo in a word list or a regex field fails at load,
not as a detector that silently finds nothing."""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from mageguard.catalog.loader import load_data_file
from mageguard.errors import CatalogError


@functools.cache
def load(name: str) -> Mapping[str, Any]:
    """`redact/data/<name>.yaml`, checked against `catalog/schemas/redact_<name>.schema.json`."""
    data = load_data_file(name, f"redact_{name}", package="mageguard.redact")
    if not isinstance(data, Mapping):  # the schemas require an object; this narrows the type
        raise CatalogError(f"redact/data/{name}.yaml: not a mapping")
    return data


def read_gzip_lines(name: str) -> list[str]:
    """The lines of a gzip-compressed word list shipped in `redact/data/`."""
    try:
        raw = resources.files("mageguard.redact").joinpath("data", name).read_bytes()
        return gzip.decompress(raw).decode("utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise CatalogError(f"redact data file {name}: {exc}") from exc


def alternation(words: Iterable[str], *, flexible_space: bool = True) -> str:
    """`(?:w1|w2|...)`: escaped, longest first (so `Str.` wins over `St`), spaces as `\\s+`.
    Output is valid in Python `re` and in hyperscan."""
    parts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        esc = re.escape(w)
        if flexible_space:
            esc = esc.replace(r"\ ", r"\s+")
        parts.append(esc)
    return "(?:" + "|".join(parts) + ")"


def trie_alternation(words: Iterable[str]) -> str:
    """The language of `alternation(words)`, factored by common prefixes (`j(?:an(?:uary)?
    |une)`). Python's `re` tries the branches of an alternation one by one at every
    position, so a flat list of 150 words costs ~150 failed branches per character; the
    trie costs a few. Longer words still win over their prefixes (each optional tail is
    greedy), so a match is the same as with the flat list. Valid in hyperscan too."""
    root: dict[str, dict[str, Any]] = {}
    for w in set(words):
        node = root
        for token in re.findall(r" |[^ ]", w):
            node = node.setdefault(r"\s+" if token == " " else re.escape(token), {})
        node[""] = {}

    def emit(node: dict[str, dict[str, Any]]) -> str:
        parts = [token + emit(child) for token, child in sorted(node.items()) if token]
        if not parts:
            return ""
        if "" in node:
            return "(?:" + "|".join(parts) + ")?"
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    return "(?:" + emit(root) + ")"


def expand(template: str, fragments: Mapping[str, str]) -> str:
    """Replace `<<NAME>>` by its fragment (fragments may use earlier fragments)."""

    def sub(m: re.Match[str]) -> str:
        try:
            return fragments[m.group(1)]
        except KeyError:
            raise CatalogError(f"unknown fragment <<{m.group(1)}>> in {template!r}") from None

    previous = None
    while previous != template:
        previous, template = template, re.sub(r"<<([A-Za-z_][A-Za-z0-9_]*)>>", sub, template)
    return template


def compile_regex(pattern: str, *, unicode: bool = False, where: str = "") -> re.Pattern[str]:
    """Python side of a pattern: ASCII classes unless the pattern needs letters beyond
    ASCII (names, street words), so `\\d` never matches Arabic-Indic digits by surprise."""
    try:
        return re.compile(pattern, 0 if unicode else re.ASCII)
    except re.error as exc:
        raise CatalogError(f"{where}: bad regex: {exc}") from exc


def _letters(upper: bool) -> str:
    """ASCII plus the Latin-1 and Latin Extended-A/B letters of one case, as the inside
    of a character class (names like Łukasz, Müller, Øster, Wesselényi)."""
    chars = [chr(c) for c in range(0xC0, 0x250) if chr(c).isalpha()]
    picked = "".join(c for c in chars if (c.isupper() if upper else c.islower()))
    return ("A-Z" if upper else "a-z") + picked


# Fragments shared by the address and person data files: <<U>> an upper-case letter,
# <<L>> a lower-case one.
LETTER_FRAGMENTS = {"U": f"[{_letters(True)}]", "L": f"[{_letters(False)}]"}
