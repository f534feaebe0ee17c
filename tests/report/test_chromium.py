"""The evidence pack in a real browser: Debian's headless Chromium loads it from disk,
finds every section, the data-flow diagram and the charts, fetches nothing, and draws a
page that is not blank; printed, it breaks into pages."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app
from tests.helpers.debian import require
from tests.report.conftest import FLOWS

pytestmark = pytest.mark.slow

SECTIONS = ("summary", "inventory", "flows", "controls", "audit", "remediation", "findings")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed through scripts/debian-packages on first use (skips
    when that is impossible; fails under CI=true)."""
    return require("chromium", "chromium")


@pytest.fixture
def evidence(scan_json: Path, gateway_config: Path, tmp_path: Path) -> Path:
    out = tmp_path / "evidence.html"
    args = ["report", "--scan", str(scan_json), "--audit", str(gateway_config), "--flows",
            str(FLOWS), "-o", str(out), "--as-of", "2026-11-28T12:00:00Z"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def browse(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium headless with its own profile and no way to resolve any host name, so a
    page that tried to fetch something could not succeed silently either."""
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "xlink:href", "action", "poster", "data") and value:
                self.urls.append(value)


def test_the_browser_finds_every_section_and_fetches_nothing(
    chromium: str, evidence: Path, tmp_path: Path
) -> None:
    dom_text = browse(chromium, tmp_path, "--dump-dom", evidence.as_uri()).stdout
    dom = _Dom()
    dom.feed(dom_text)
    assert set(SECTIONS) <= dom.ids
    assert dom.tags.count("section") == len(SECTIONS)
    assert 'class="flow-diagram"' in dom_text  # the data-flow diagram, as inline SVG
    assert dom.tags.count("svg") == 5  # the diagram and four charts
    assert "edge-bypass" in dom_text
    assert [u for u in dom.urls if not u.startswith("#")] == []
    assert not re.search(r"url\((?!#)", dom_text)  # no CSS fetch either
    assert "<script" not in dom_text


def test_the_screenshot_is_a_drawn_page(chromium: str, evidence: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "evidence.png"
    browse(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", evidence.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        grey = image.convert("L")
        stddev = ImageStat.Stat(grey).stddev[0]
        assert stddev > 20, f"the page looks blank (pixel stddev {stddev:.1f})"
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 50  # text, tables, charts: not a flat page


def test_printed_it_breaks_into_pages(chromium: str, evidence: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "printed.pdf"
    browse(chromium, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", evidence.as_uri())
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages >= len(SECTIONS)  # every section starts a page
