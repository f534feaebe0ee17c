from __future__ import annotations

import pytest

from mageguard.errors import ConfigError
from mageguard.scan.formats import FORMATS, FormatOptions, OutputFormat, formatter, render
from mageguard.scan.result import ScanResult


def test_every_output_format_is_registered_once_under_its_own_name() -> None:
    assert set(FORMATS) == set(OutputFormat)
    for fmt in OutputFormat:
        assert formatter(fmt).name == fmt.value


def test_file_extensions_are_distinct() -> None:
    extensions = [formatter(fmt).file_extension for fmt in OutputFormat]
    assert len(set(extensions)) == len(extensions)


def test_render_accepts_the_format_name_as_a_string(result: ScanResult) -> None:
    assert render(result, "json") == render(result, OutputFormat.JSON)


def test_unknown_format_name_is_a_config_error(result: ScanResult) -> None:
    with pytest.raises(ConfigError, match="unknown output format 'xml'"):
        render(result, "xml")


def test_output_width_below_40_columns_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="at least 40"):
        FormatOptions(width=20)


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=str)
def test_every_format_renders_a_result_without_findings(fmt: OutputFormat) -> None:
    empty = ScanResult(root="/srv/magento", findings=(), rules=())
    text = render(empty, fmt)
    assert text.endswith("\n")


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=str)
def test_rendering_is_deterministic_whatever_the_input_order(
    result: ScanResult, fmt: OutputFormat
) -> None:
    from dataclasses import replace

    shuffled = replace(
        result, findings=tuple(reversed(result.findings)), tenants=tuple(reversed(result.tenants))
    )
    assert render(shuffled, fmt) == render(result, fmt)
