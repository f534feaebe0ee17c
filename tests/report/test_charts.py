"""Charts come from matplotlib as inline SVG: self-contained, with ids that cannot clash
between charts on one page, and the same bytes on every run."""

from __future__ import annotations

import re
from pathlib import Path

from mageguard.report import charts
from tests.report.test_model import build


def test_each_chart_is_inline_svg_with_its_own_ids_and_nothing_to_fetch(
    scan_json: Path, gateway_config: Path
) -> None:
    from mageguard.report.audit import summarise_audit

    report = build(scan_json, audit=summarise_audit(str(gateway_config)))
    drawn = {
        "risk": charts.risk_chart(report),
        "controls": charts.controls_chart(report),
        "timeline": charts.timeline_chart(report),
        "traffic": charts.traffic_chart(report),
    }
    for prefix, svg in drawn.items():
        assert svg is not None and svg.startswith("<svg")
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(i.startswith(f"{prefix}-") for i in ids)
        assert not re.search(r'(href|src)="(?!#)', svg)  # nothing outside the page


def test_charts_are_the_same_bytes_on_every_run(scan_json: Path) -> None:
    report = build(scan_json)
    assert charts.risk_chart(report) == charts.risk_chart(report)


def test_no_audit_store_means_no_traffic_chart(scan_json: Path) -> None:
    assert charts.traffic_chart(build(scan_json)) is None
