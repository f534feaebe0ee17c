"""Output formats of `mageguard scan`: one module per format, all listed once in FORMATS.

    text = render(result, OutputFormat.SARIF)

JSON and SARIF are the stable machine formats; table, Markdown and HTML are for people.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType

from mageguard.errors import ConfigError
from mageguard.scan.formats.html import HtmlFormat
from mageguard.scan.formats.interface import FormatOptions, Formatter
from mageguard.scan.formats.json_format import JsonFormat
from mageguard.scan.formats.markdown import MarkdownFormat
from mageguard.scan.formats.sarif import SarifFormat
from mageguard.scan.formats.table import TableFormat
from mageguard.scan.result import ScanResult


class OutputFormat(enum.StrEnum):
    """The values of `--format`."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


#: The built-in formats: the one place a new format is registered.
FORMATS: Mapping[OutputFormat, Callable[[FormatOptions | None], Formatter]] = MappingProxyType(
    {
        OutputFormat.TABLE: TableFormat,
        OutputFormat.JSON: JsonFormat,
        OutputFormat.SARIF: SarifFormat,
        OutputFormat.MARKDOWN: MarkdownFormat,
        OutputFormat.HTML: HtmlFormat,
    }
)


def formatter(fmt: OutputFormat | str, options: FormatOptions | None = None) -> Formatter:
    """The formatter for `fmt`; an unknown name raises ConfigError."""
    return FORMATS[_parse(fmt)](options)


def render(
    result: ScanResult, fmt: OutputFormat | str, options: FormatOptions | None = None
) -> str:
    return formatter(fmt, options).render(result)


def _parse(fmt: OutputFormat | str) -> OutputFormat:
    try:
        return OutputFormat(fmt)
    except ValueError:
        names = ", ".join(f.value for f in OutputFormat)
        raise ConfigError(f"unknown output format {fmt!r} (expected one of: {names})") from None


__all__ = [
    "FORMATS",
    "FormatOptions",
    "Formatter",
    "OutputFormat",
    "formatter",
    "render",
]
