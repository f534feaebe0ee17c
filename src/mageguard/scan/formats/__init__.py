"""Output formats of `mageguard scan`: one module per format, all listed once in FORMATS.

    text = render(result, OutputFormat.SARIF)

JSON and SARIF are the stable machine formats; table, Markdown and HTML are for people.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType

from mageguard.errors import ConfigError
from mageguard.scan.formats.interface import FormatOptions, Formatter, OutputFormat
from mageguard.scan.result import ScanResult

#: The built-in formats: the one place a new format is registered, as module and class.
#: Modules load on first use, so a scan that prints JSON never imports Rich's table.
_BUILTINS: Mapping[OutputFormat, tuple[str, str]] = {
    OutputFormat.TABLE: ("table", "TableFormat"),
    OutputFormat.JSON: ("json_format", "JsonFormat"),
    OutputFormat.SARIF: ("sarif", "SarifFormat"),
    OutputFormat.MARKDOWN: ("markdown", "MarkdownFormat"),
    OutputFormat.HTML: ("html", "HtmlFormat"),
}


def _loader(module: str, cls: str) -> Callable[[FormatOptions | None], Formatter]:
    def load(options: FormatOptions | None) -> Formatter:
        mod = importlib.import_module(f"mageguard.scan.formats.{module}")
        made: Formatter = getattr(mod, cls)(options)
        return made

    return load


FORMATS: Mapping[OutputFormat, Callable[[FormatOptions | None], Formatter]] = MappingProxyType(
    {fmt: _loader(*where) for fmt, where in _BUILTINS.items()}
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
