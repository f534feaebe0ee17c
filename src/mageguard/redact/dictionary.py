"""The tenant's proprietary dictionary: SKUs, product names, supplier names and accounts,
cost prices, and its own customers' names, e-mails and addresses, matched as whole words,
case-insensitively, at line rate.

Two matchers over the same terms: an Aho-Corasick automaton (pyahocorasick) that builds in
seconds even for a million terms and is used at once, and a hyperscan literal database
(~850 MB/s on 2 KB prompts) that takes longer to compile, so it is built once per
dictionary content and cached on disk. `Dictionary.accelerate()` switches to it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import ahocorasick
import hyperscan

from mageguard.errors import InputError
from mageguard.redact.spans import Span, make_span
from mageguard.redact.text import fold, folded_utf8, str_offsets

# Terms shorter than this, or single common-looking words, would match ordinary prose.
MIN_TERM_LENGTH = 3
_WORDCHAR = re.compile(r"\w")
# Columns of a CSV export (the shape of ../shared/data/ecom_dictionary) -> entity.
CSV_COLUMNS = {
    "sku": "SKU",
    "product_name": "PRODUCT",
    "name": "PRODUCT",
    "supplier_name": "SUPPLIER",
    "supplier": "SUPPLIER",
    "supplier_account": "SUPPLIER",
    "customer_name": "PERSON",
    "email": "EMAIL",
    "street": "ADDRESS",
}
COST_COLUMNS = ("standard_cost", "cost", "supplier_price", "last_receipt_cost", "purchase_price")


def money(value: str) -> str | None:
    """A cost as it is compared: '1,234.50' / '1234.5' / '1.234,50' -> '1234.50'."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if "," in text and "." in text:
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else text.replace(".", "").replace(",", ".")
        )
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = f"{head.replace(',', '')}.{tail}" if len(tail) == 2 else text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return f"{amount:.2f}" if amount > 0 else None


@dataclass(frozen=True)
class Term:
    text: str  # folded
    entity: str


@dataclass
class Dictionary:
    """Terms by entity plus the set of cost values. Build with `from_csv`, `from_rows` or
    `mageguard.redact.magento.load_dictionary` (the store's own database)."""

    terms: list[Term] = field(default_factory=list)
    costs: frozenset[str] = frozenset()
    name: str = "dictionary"
    _automaton: Any = None
    _hs: Any = None
    _scratch: Any = None
    _lengths: list[int] = field(default_factory=list)
    _entities: list[str] = field(default_factory=list)
    _scores: list[float] = field(default_factory=list)
    _name: str = ""

    # ------------------------------------------------------------------ building

    @staticmethod
    def from_rows(
        rows: Iterable[tuple[str, str]], costs: Iterable[str] = (), name: str = "dictionary"
    ) -> Dictionary:
        seen: dict[str, str] = {}
        for entity, raw in rows:
            text = fold(" ".join(raw.split()))
            if len(text) < MIN_TERM_LENGTH or not _WORDCHAR.search(text):
                continue
            if text.isdigit() and len(text) < 6:
                continue  # "29" or "1024" as a term would match every number
            seen.setdefault(text, entity)
            # Catalogue names keep their odd spacing when a module copies them into a
            # prompt ("Frankie  Sweatshirt"): the spacing as written is a term too.
            as_written = fold(raw.strip())
            if as_written != text:
                seen.setdefault(as_written, entity)
        cost_values = frozenset(v for c in costs if (v := money(c)) is not None)
        for value in cost_values:  # a cost is secret wherever it appears, with or without "cost"
            seen.setdefault(value, "COST")
        terms = [Term(t, e) for t, e in sorted(seen.items())]
        return Dictionary(terms=terms, costs=cost_values, name=name)._build()

    @staticmethod
    def from_csv(path: Path | str) -> Dictionary:
        """A catalogue export: columns named as in CSV_COLUMNS and COST_COLUMNS."""
        try:
            text = Path(path).read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"dictionary {path}: {exc}") from None
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not (
            {c.lower() for c in reader.fieldnames} & (set(CSV_COLUMNS) | set(COST_COLUMNS))
        ):
            raise InputError(
                f"dictionary {path}: no known column (expected some of "
                f"{', '.join(sorted(CSV_COLUMNS))}, {', '.join(COST_COLUMNS)})"
            )
        rows: list[tuple[str, str]] = []
        costs: list[str] = []
        for row in reader:
            for column, value in row.items():
                if column is None or not value:
                    continue
                key = column.strip().lower()
                if key in CSV_COLUMNS:
                    rows.append((CSV_COLUMNS[key], value))
                elif key in COST_COLUMNS:
                    costs.append(value)
        return Dictionary.from_rows(rows, costs, name=Path(path).name)

    @staticmethod
    def load(source: str, cache_dir: Path | None = None) -> Dictionary:
        """A CSV export or a Magento database DSN (mysql://...), accelerated with the
        hyperscan database cached in `cache_dir` when given."""
        from mageguard.magento_db import is_dsn

        if is_dsn(source):
            from mageguard.redact.magento import load_dictionary

            dictionary = load_dictionary(source)
        else:
            dictionary = Dictionary.from_csv(source)
        if cache_dir is not None:
            dictionary.accelerate(cache_dir)
        return dictionary

    def _build(self) -> Dictionary:
        # Per-term columns, read by index in find()'s loop.
        self._lengths = [len(t.text) for t in self.terms]
        self._entities = [t.entity for t in self.terms]
        # A known cost scores below the amount detector, whose span takes the currency sign
        # with it ("$12.50" rather than "$" + "12.50") where both fire.
        self._scores = [0.75 if t.entity == "COST" else 0.9 for t in self.terms]
        self._name = f"dictionary:{self.name}"
        automaton = ahocorasick.Automaton()
        for i, term in enumerate(self.terms):
            automaton.add_word(term.text, i)
        if self.terms:
            automaton.make_automaton()
        self._automaton = automaton
        return self

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for t in self.terms:
            h.update(f"{t.entity}\x00{t.text}\x01".encode())
        return h.hexdigest()[:24]

    def accelerate(self, cache_dir: Path | None = None) -> None:
        """Compile (or load from `cache_dir`) the hyperscan literal database: ~4 s per 100k
        terms the first time, milliseconds afterwards."""
        if not self.terms:
            return
        path = (cache_dir / f"dict-{self.digest}.hsdb") if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                self._hs = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
                self._scratch = hyperscan.Scratch(self._hs)
                return
            except (OSError, hyperscan.error):
                pass
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[t.text.encode("utf-8", "surrogatepass") for t in self.terms],
            ids=list(range(len(self.terms))),
            elements=len(self.terms),
            flags=0,
            literal=True,
        )  # text and terms are both folded
        self._hs, self._scratch = db, hyperscan.Scratch(db)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}")
                tmp.write_bytes(hyperscan.dumpb(db))
                tmp.replace(path)
            except OSError:
                pass  # an unwritable cache only costs the next compile

    # ------------------------------------------------------------------ matching

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, text: str) -> list[Span]:
        """Whole-word, case-insensitive matches, longest first where they overlap. This runs
        on every prompt of every request: it is written for few Python operations per hit
        (one pass over the hits, no sort unless two overlap, spans made in C and only for
        the hits kept)."""
        if not self.terms or not text:
            return []
        folded, data = folded_utf8(text)
        if self._hs is not None:
            hits = self._hits_hyperscan(folded, data)
        else:
            hits = [(end + 1, i) for end, i in self._automaton.iter(folded)]
        if not hits:
            return []
        lengths = self._lengths
        size = len(folded)
        kept: list[tuple[int, int, int]] = []  # (start, end, term): Spans only for the kept
        append = kept.append
        last_end = 0
        ordered = True  # each hit starts at or after the previous one's end
        for end, i in hits:
            start = end - lengths[i]
            if start > 0:
                before = folded[start - 1]
                if before.isalnum() or before == "_":
                    continue
            if end < size:
                after = folded[end]
                if after.isalnum() or after == "_":
                    continue
            if start < last_end:
                ordered = False
            last_end = end
            append((start, end, i))
        if not ordered:  # hits come by end offset: disjoint ones are already in order
            kept = _longest(kept)
        entities, scores, name = self._entities, self._scores, self._name
        return [make_span((start, end, entities[i], scores[i], name)) for start, end, i in kept]

    def _hits_hyperscan(self, folded: str, data: bytes) -> list[tuple[int, int]]:
        """(end, term index) per match, `end` a str offset into `folded`."""
        found: list[tuple[int, int]] = []
        self._hs.scan(data, match_event_handler=_collect, context=found, scratch=self._scratch)
        if not found or len(data) == len(folded):
            return found
        where = str_offsets(data, [end for end, _ in found])
        return [(where[end], i) for end, i in found]


def _collect(i: int, _start: int, end: int, _flags: int, found: list[tuple[int, int]]) -> None:
    found.append((end, i))


def _longest(hits: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, term) hits without overlaps: in start order, a hit overlapping the last
    one kept replaces it when it is longer and ends later, else it is dropped. Sorted
    as plain tuples (start, then end), so at one start the longest comes last and the
    shorter ones before it are skipped: they would lose to it anyway."""
    hits.sort()
    out: list[tuple[int, int, int]] = []
    last = len(hits) - 1
    for k, hit in enumerate(hits):
        start, end, _ = hit
        if k < last and hits[k + 1][0] == start:
            continue
        if out:
            kept_start, kept_end, _ = out[-1]
            if start < kept_end:
                if end - start > kept_end - kept_start and end > kept_end:
                    out[-1] = hit
                continue
        out.append(hit)
    return out
