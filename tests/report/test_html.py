"""The HTML pack: self-contained, every section present, and text from the store escaped
(paths, hosts and code come from the scanned tree and may hold markup)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mageguard.report.html import render_html
from tests.report.conftest import FLOWS
from tests.report.test_model import build


def test_every_section_is_there_and_nothing_is_fetched(scan_json: Path) -> None:
    from mageguard.report.flows import load_flows

    page = render_html(build(scan_json, flows=load_flows(FLOWS)))
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == ["summary", "inventory", "flows", "controls", "audit", "remediation", "findings"]
    assert "default-src 'none'" in page  # the CSP forbids any fetch
    assert not re.search(r'\b(src|href)="(?!#)', page)
    assert "@media print" in page and "break-before: page" in page
    assert page.count("<svg") == 4  # diagram, risk, controls, timeline (no audit: no traffic)


def test_markup_from_the_store_is_escaped(scan_data: dict[str, Any], tmp_path: Path) -> None:
    data = json.loads(json.dumps(scan_data))
    finding = data["findings"][0]
    finding["evidence"] = '<script>alert("x")</script>'
    finding["host"] = '"><img src=x onerror=alert(1)>'
    finding["module"] = "<b>Module</b>"
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps(data), encoding="utf-8")
    page = render_html(build(scan))
    assert "<script" not in page and "<img" not in page and "<b>Module" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_changes_since_the_previous_report_are_shown(scan_json: Path) -> None:
    from mageguard.report.inputs import PreviousReport

    first = build(scan_json)
    kept = frozenset(f.fingerprint for f in first.findings[1:]) | {"php-ai-http-call:gone:1"}
    previous = PreviousReport("2026-10-01T00:00:00Z", kept, {"PCI-3.3.1": "open"})
    page = render_html(build(scan_json, previous=previous))
    changes = page[page.index('<div id="changes">') :]
    assert "Changes since the last report (2026-10-01T00:00:00Z)" in changes
    assert "new findings: 1" in changes and "resolved findings: 1" in changes
    assert "<code>php-ai-http-call:gone:1</code>" in changes
    assert 'PCI-3.3.1</td><td><span class="badge open">open</span>' in changes
