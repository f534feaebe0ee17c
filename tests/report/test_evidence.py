"""The checks behind controls without `when`: evidence missing is never evidence met."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mageguard.catalog.loader import load_data_file
from mageguard.report.evidence import CHECKS, Evidence, run_check
from mageguard.report.flows import load_flows
from mageguard.report.model import Status
from tests.report.conftest import AS_OF, FLOWS

SCHEMA = Path(__file__).resolve().parents[2] / "src/mageguard/catalog/schemas/controls.schema.json"


def test_every_check_the_schema_allows_has_code_and_every_one_is_used() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    evidence = schema["properties"]["controls"]["items"]["properties"]["evidence"]
    assert set(evidence["items"]["properties"]["check"]["enum"]) == set(CHECKS)
    used = {
        e["check"] for c in load_data_file("controls")["controls"] for e in c.get("evidence", ())
    }
    assert used == set(CHECKS)


def test_controls_without_when_all_have_evidence_checks() -> None:
    for control in load_data_file("controls")["controls"]:
        assert control.get("when") or control.get("evidence"), control["id"]


def test_without_flows_incident_clocks_are_open_not_met() -> None:
    status, text = run_check(
        Evidence(None, None, AS_OF), {"check": "incident_clocks", "regime": "GDPR"}
    )
    assert status is Status.OPEN and "--flows" in text


@pytest.mark.parametrize(
    ("now", "regime", "status"),
    [
        (dt.datetime(2026, 11, 26, 13, tzinfo=dt.UTC), "NIS2", Status.PARTIAL),
        (AS_OF, "NIS2", Status.OPEN),  # the 24 h early warning was due the day before
        (AS_OF, "GDPR", Status.PARTIAL),  # the 72 h clock runs until 29 Nov, 12:00
        (dt.datetime(2026, 11, 30, tzinfo=dt.UTC), "GDPR", Status.OPEN),
    ],
)
def test_incident_clocks_are_judged_at_the_report_time(
    now: dt.datetime, regime: str, status: Status
) -> None:
    ev = Evidence(None, load_flows(FLOWS), now)
    assert run_check(ev, {"check": "incident_clocks", "regime": regime})[0] is status


def test_a_bypassing_flow_is_named_and_opens_the_check() -> None:
    status, text = run_check(Evidence(None, load_flows(FLOWS), AS_OF), {"check": "no_bypass_flows"})
    assert status is Status.OPEN
    assert text == "1 AI flow(s) bypassed the gateway: 10.0.1.21 -> api.openai.com"


def test_at_worst_caps_a_failing_check() -> None:
    ev = Evidence(None, None, AS_OF)
    assert run_check(ev, {"check": "flows_observed", "at_worst": "partial"})[0] is Status.PARTIAL


def test_a_check_missing_its_parameter_fails_the_catalog_schema() -> None:
    from mageguard.catalog.loader import validate
    from mageguard.errors import CatalogError

    schema = json.loads(SCHEMA.read_text("utf-8"))
    control = {"id": "X", "framework": "GDPR", "ref": "Art. 1", "title": "x"}
    for check in ("incident_clocks", "gateway_policy_local"):
        with pytest.raises(CatalogError):
            validate({"controls": [{**control, "evidence": [{"check": check}]}]}, schema, "t")


def test_evidence_categories_are_catalog_data_categories() -> None:
    from mageguard.catalog import load_catalog

    known = set(load_catalog().category_by_id)
    for control in load_data_file("controls")["controls"]:
        for check in control.get("evidence", ()):
            assert set(check.get("categories", ())) <= known, control["id"]
