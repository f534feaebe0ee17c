"""A minimal XML element tree that remembers line numbers.

xml.etree drops source positions and lxml is a large dependency for this; expat (in the
standard library) reports them and never resolves external entities unless asked, so a
hostile XML file cannot make the scanner read other files or the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from mageguard.errors import InputError


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        if tag is None or self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)

    def child_text(self, tag: str) -> str | None:
        c = self.find(tag)
        return c.text.strip() if c is not None else None


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def parse_xml(data: bytes, where: str = "") -> Element:
    """Parse XML; namespace prefixes are dropped from tags and attributes (xsi:type ->
    type) because Magento's files use them inconsistently."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = Element(
            _local(tag),
            {_local(k): v for k, v in attrs.items()},
            parser.CurrentLineNumber,
            parser.CurrentColumnNumber + 1,
        )
        if stack:
            stack[-1].children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    def no_entities(*_args: object) -> None:
        raise InputError(f"{where}: XML entity declarations are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = no_entities
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InputError(f"{where}: XML does not parse: {exc}") from None
    if not root:
        raise InputError(f"{where}: empty XML document")
    return root[0]
