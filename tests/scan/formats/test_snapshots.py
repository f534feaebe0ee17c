"""One snapshot per format: the exact bytes `mageguard scan --format X` prints for the
sample result. Regenerate with MAGEGUARD_UPDATE_SNAPSHOTS=1 and review the diff."""

from __future__ import annotations

import pytest

from mageguard.scan.formats import FormatOptions, OutputFormat, formatter
from mageguard.scan.result import ScanResult

from .helpers import check_snapshot


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=str)
def test_output_matches_its_snapshot(result: ScanResult, fmt: OutputFormat) -> None:
    # The table is pinned without colour and at a fixed width, as a pipe or CI log sees it.
    f = formatter(fmt, FormatOptions(color=False, width=120))
    check_snapshot(f"{fmt.value}.{f.file_extension}", f.render(result))
