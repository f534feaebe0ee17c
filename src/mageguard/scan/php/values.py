"""Abstract values: what the interpreter knows about a PHP expression.

A Value over-approximates every runtime value an expression can take: the string shapes
it can have (to resolve hosts), the Magento data categories it carries, flags such as
user_input or bulk, the class types it can be, and array entries by key (to read Guzzle
options and OpenAI payloads). Joins only grow, so analysis terminates and stays sound
enough for a scanner: it may over-report data categories, never silently drop a call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A string shape: literal parts and None for "unknown here". ("https://api.openai.com/v1",
# None) is a URL whose host is known and whose path is not.
Template = tuple[str | None, ...]

MAX_TEMPLATES = 12
MAX_LABELS = 48
MAX_ORIGINS = 12
MAX_ENTRIES = 48


def _cap(items: frozenset[str], limit: int) -> frozenset[str]:
    return items if len(items) <= limit else frozenset(sorted(items)[:limit])


def _norm(template: Iterable[str | None]) -> Template:
    """Merge adjacent literals and adjacent unknowns so equal shapes compare equal."""
    out: list[str | None] = []
    for part in template:
        if part == "":
            continue
        if out and part is not None and out[-1] is not None:
            out[-1] = out[-1] + part
        elif out and part is None and out[-1] is None:
            continue
        else:
            out.append(part)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Value:
    strs: frozenset[Template] = frozenset()
    cats: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    item_types: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    entries: tuple[tuple[str | None, Value], ...] = ()

    @staticmethod
    def literal(text: str) -> Value:
        return Value(strs=frozenset({_norm((text,))}) if text else frozenset({()}))

    @property
    def is_empty(self) -> bool:
        return self == EMPTY

    def join(self, *others: Value) -> Value:
        result = self
        for other in others:
            result = _join2(result, other)
        return result

    def with_(
        self,
        *,
        cats: Iterable[str] = (),
        flags: Iterable[str] = (),
        types: Iterable[str] = (),
        origins: Iterable[str] = (),
        labels: Iterable[str] = (),
        handles: Iterable[str] = (),
    ) -> Value:
        return Value(
            strs=self.strs,
            cats=self.cats | frozenset(cats),
            flags=self.flags | frozenset(flags),
            types=self.types | frozenset(types),
            item_types=self.item_types,
            handles=self.handles | frozenset(handles),
            labels=_cap(self.labels | frozenset(labels), MAX_LABELS),
            origins=_cap(self.origins | frozenset(origins), MAX_ORIGINS),
            entries=self.entries,
        )

    def data_only(self) -> Value:
        """What flows through an opaque transformation (json_encode, a serializer): the data
        and its provenance, not its type, handle or exact string shape."""
        return Value(
            strs=frozenset({(None,)}) if self.strs or self.entries else frozenset(),
            cats=self.cats,
            flags=self.flags,
            labels=self.labels,
            origins=self.origins,
        )

    def without_flags(self, *flags: str) -> Value:
        return _replace(self, flags=self.flags - frozenset(flags))

    def with_types(self, types: Iterable[str]) -> Value:
        return _replace(self, types=frozenset(types))

    def entry(self, key: str) -> Value | None:
        found = [v for k, v in self.entries if k == key]
        if not found:
            return None
        return found[0].join(*found[1:])

    def all_entries(self) -> Value:
        return EMPTY.join(*(v for _, v in self.entries))

    def deep(self) -> Value:
        """Everything this value holds, entries included: what a request body sends."""
        out = _replace(self, entries=())
        for _, v in self.entries:
            out = out.join(v.deep())
        return out

    def entry_strings(self, key: str) -> frozenset[str]:
        """Fully known strings under `key` at any depth (a request's `model`, whether in
        the body or in Guzzle's `json` option)."""
        found: set[str] = set()
        for k, v in self.entries:
            if k == key:
                found |= {"".join(p or "" for p in t) for t in v.strs if None not in t}
            found |= v.entry_strings(key)
        return frozenset(found)

    def entry_keys(self) -> frozenset[str]:
        keys = {k for k, _ in self.entries if k is not None}
        for _, v in self.entries:
            keys |= v.entry_keys()
        return frozenset(keys)


EMPTY = Value()
UNKNOWN_STR = Value(strs=frozenset({(None,)}))


def _replace(v: Value, **changes: object) -> Value:
    fields = {name: getattr(v, name) for name in Value.__slots__}
    fields.update(changes)
    return Value(**fields)


def _merge_entries(
    a: tuple[tuple[str | None, Value], ...], b: tuple[tuple[str | None, Value], ...]
) -> tuple[tuple[str | None, Value], ...]:
    if not a:
        return b
    if not b:
        return a
    merged: dict[str | None, Value] = {}
    for k, v in (*a, *b):
        merged[k] = merged[k].join(v) if k in merged else v
    items = tuple(merged.items())
    return items[:MAX_ENTRIES]


def _join2(a: Value, b: Value) -> Value:
    if a is b or b == EMPTY:
        return a
    if a == EMPTY:
        return b
    strs = a.strs | b.strs
    if len(strs) > MAX_TEMPLATES:
        strs = frozenset(sorted(strs, key=lambda t: (len(t), str(t)))[:MAX_TEMPLATES])
    return Value(
        strs=strs,
        cats=a.cats | b.cats,
        flags=a.flags | b.flags,
        types=a.types | b.types,
        item_types=a.item_types | b.item_types,
        handles=a.handles | b.handles,
        labels=_cap(a.labels | b.labels, MAX_LABELS),
        origins=_cap(a.origins | b.origins, MAX_ORIGINS),
        entries=_merge_entries(a.entries, b.entries),
    )


def concat(*values: Value) -> Value:
    """String concatenation: shapes multiply (capped), data and provenance add up."""
    shapes: set[Template] = {()}
    for v in values:
        parts = v.strs or ({(None,)} if not v.is_empty else {()})
        if v.entries and not v.strs:
            parts = {(None,)}
        nxt = {_norm((*s, *p)) for s in shapes for p in parts}
        if len(nxt) > MAX_TEMPLATES:
            nxt = set(sorted(nxt, key=lambda t: (len(t), str(t)))[:MAX_TEMPLATES])
        shapes = nxt
    base = EMPTY.join(
        *(
            _replace(
                v,
                strs=frozenset(),
                entries=(),
                types=frozenset(),
                handles=frozenset(),
                item_types=frozenset(),
            )
            for v in values
        )
    )
    for v in values:
        for _, e in v.entries:
            base = base.join(e.deep().data_only())
    return _replace(base, strs=frozenset(shapes))


def render(template: Template, unknown: str = "…") -> str:
    return "".join(unknown if p is None else p for p in template)
