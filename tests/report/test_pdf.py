"""`--pdf`: WeasyPrint lays the same HTML out as a PDF beside it (the `pdf` extra, with
Debian's pango installed through scripts/debian-packages)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from tests.helpers.debian import ROOT
from tests.helpers.services import unavailable

pytestmark = pytest.mark.slow

# harfbuzz-subset: without it WeasyPrint warns on import (an error under our warning filter)
PANGO = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")


def page_count(pdf: bytes) -> int:
    """The /Count of the page tree, which WeasyPrint may put in a compressed object stream."""
    text = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            text += zlib.decompress(stream)
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count (\d+)", text)]
    counts += [int(n) for n in re.findall(rb"/Count (\d+)[^>]*?/Type\s*/Pages\b", text)]
    return max(counts, default=0)


@pytest.fixture(scope="module")
def weasyprint() -> None:
    """WeasyPrint and the system's pango; skips without them (fails under CI=true)."""
    installed = subprocess.run(
        [str(ROOT / "scripts" / "debian-packages"), *PANGO],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    try:
        import weasyprint  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except (ImportError, OSError) as exc:
        unavailable(f"--pdf needs WeasyPrint and pango: {exc} {installed.stderr[-200:]}")


def test_pdf_is_written_beside_the_html_with_pages(
    weasyprint: None, scan_json: Path, tmp_path: Path
) -> None:
    out = tmp_path / "evidence.html"
    args = ["report", "--scan", str(scan_json), "--pdf", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = (tmp_path / "evidence.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert page_count(data) >= 7  # one page per section at least
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.html", "evidence.pdf"]


def test_without_weasyprint_the_error_says_how_to_get_it(
    scan_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    out = tmp_path / "evidence.html"
    result = CliRunner().invoke(app, ["report", "--scan", str(scan_json), "--pdf", "-o", str(out)])
    assert result.exit_code == 2
    assert "pip install 'mageguard[pdf]'" in result.output
    assert list(tmp_path.iterdir()) == []  # neither file: all or nothing
