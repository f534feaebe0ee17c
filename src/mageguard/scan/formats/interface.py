"""What every output format of `mageguard scan` is: a name, a file extension and a pure
`render(result) -> str`.

Formatters never print or write files; the CLI decides where the text goes. They get the
presentation knobs they honour (colour, width) once, at construction, so `render` stays a
function of the ScanResult alone and a snapshot test can pin it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from mageguard.errors import ConfigError
from mageguard.scan.result import ScanResult


class OutputFormat(enum.StrEnum):
    """The values of `--format`."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True)
class FormatOptions:
    """Presentation options from the CLI; a format ignores those it has no use for
    (only the table is coloured or wrapped)."""

    color: bool = False
    width: int = 120

    def __post_init__(self) -> None:
        if self.width < 40:
            raise ConfigError(f"output width must be at least 40 columns, got {self.width}")


class Formatter(Protocol):
    """One output format. Implementations take a FormatOptions in their constructor."""

    @property
    def name(self) -> str:
        """The `--format` value that selects this format."""
        ...

    @property
    def file_extension(self) -> str:
        """Extension (no dot) for files holding this format, e.g. snapshots or `--output`."""
        ...

    def render(self, result: ScanResult) -> str:
        """The whole document, ending with a newline."""
        ...
