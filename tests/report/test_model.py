"""The report model built from the sample store's scan (tests/fixtures/magento-store with
its database dump): control statuses, inventory rows and the remediation order an auditor
would reach by hand from the same findings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mageguard.catalog import load_catalog
from mageguard.fix.model import SURFACE_ORDER
from mageguard.report.audit import summarise_audit
from mageguard.report.build import Sources, build_report, describe_inputs
from mageguard.report.controls import decide_controls
from mageguard.report.evidence import Evidence
from mageguard.report.flows import load_flows
from mageguard.report.inputs import load_scan
from mageguard.report.model import FindingRef, ProcessingRecord, Report, Status
from tests.report.conftest import AS_OF, FLOWS


def build(scan_json: Path, **sources: object) -> Report:
    inputs = describe_inputs(scan_json, None, None, None, None)
    return build_report(Sources(scan=load_scan(scan_json), **sources), inputs, AS_OF)  # type: ignore[arg-type]


def statuses(report: Report) -> dict[str, Status]:
    return {c.id: c.status for c in report.controls}


def test_every_catalog_control_is_decided_once(scan_json: Path) -> None:
    report = build(scan_json)
    ids = [c.id for c in report.controls]
    assert len(ids) == len(set(ids)) == len(load_catalog().controls)
    assert {c.framework for c in report.controls} == {"GDPR", "NIS2", "NIST AI RMF", "PCI DSS"}
    assert all(c.evidence for c in report.controls)


def test_sample_store_controls_follow_its_findings(scan_json: Path) -> None:
    found = statuses(build(scan_json))
    # SEON fraud scoring receives payment data from checkout: a third party with account data.
    assert found["PCI-12.8.1"] is Status.OPEN
    # Keys in code, env.php and the storefront; prompts logged, injection, shared index.
    assert found["PCI-8.6.2"] is Status.OPEN
    assert found["PCI-6.2.4"] is Status.OPEN
    assert found["GDPR-32"] is Status.OPEN
    # No log of prompts that carry payment data, no training export of payment data.
    assert found["PCI-3.3.1"] is Status.MET
    assert found["PCI-3.5.1"] is Status.MET


def test_controls_without_findings_rules_are_open_when_their_evidence_is_missing(
    scan_json: Path,
) -> None:
    report = build(scan_json)
    found = {c.id: c for c in report.controls}
    for control_id in ("GDPR-33", "NIS2-23", "PCI-10.2.1"):
        assert found[control_id].status is Status.OPEN
        assert found[control_id].findings == ()
    assert found["GDPR-33"].evidence[0].startswith("no flow audit was given (--flows)")
    assert found["PCI-10.2.1"].evidence[0].startswith("no audit store was given (--audit)")


def test_flows_and_audit_decide_the_incident_and_logging_controls(
    scan_json: Path, gateway_config: Path
) -> None:
    report = build(scan_json, flows=load_flows(FLOWS), audit=summarise_audit(str(gateway_config)))
    found = {c.id: c for c in report.controls}
    assert found["GDPR-33"].status is Status.PARTIAL  # the 72 h clock still runs at AS_OF
    assert found["NIS2-23"].status is Status.OPEN  # the 24 h early warning is past due
    assert found["PCI-10.2.1"].status is Status.MET
    assert found["PCI-10.2.1"].evidence == (
        f"audit chain of {report.audit.location} verified intact: 14 records, "  # type: ignore[union-attr]
        f"{report.audit.checkpoints} checkpoints",  # type: ignore[union-attr]
        "12 gateway requests recorded for 2 tenant(s)",
    )
    assert found["GDPR-44"].evidence[-1] == (
        f"gateway policy {gateway_config} keeps customer_behaviour, customer_pii, payment off "
        "external backends for all 2 tenant(s)"
    )
    assert "1 AI flow(s) bypassed the gateway" in found["AIRMF-MANAGE-3.1"].evidence[-1]


def test_a_tampered_audit_chain_opens_the_audit_log_control(
    scan_json: Path, audit_dir: Path
) -> None:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(audit_dir / "audit.db")) as db, db:
        db.execute("DELETE FROM audit_events WHERE seq = 3")
    report = build(scan_json, audit=summarise_audit(str(audit_dir / "audit.db")))
    control = next(c for c in report.controls if c.id == "PCI-10.2.1")
    assert control.status is Status.OPEN
    assert "shows tampering" in control.evidence[0]


def _ref(rule: str, pattern: str, severity: str, controls: tuple[str, ...]) -> FindingRef:
    return FindingRef(
        f"{rule}:x:1",
        rule,
        rule,
        severity,
        "content_generation",
        pattern,
        "composer.lock",
        1,
        None,
        "openai",
        None,
        None,
        "openai-php/client",
        None,
        (),
        controls,
        False,
        "",
    )


def test_only_low_severity_findings_make_a_control_partial() -> None:
    low = _ref("composer-ai-package", "external_ai_call", "low", ("NIS2-21.2.d",))
    results = {c.id: c for c in decide_controls([low], Evidence(None, None, AS_OF))}
    assert results["NIS2-21.2.d"].status is Status.PARTIAL
    assert results["NIS2-21.2.d"].findings == ("composer-ai-package:x:1",)
    high = replace(low, severity="high")
    results = {c.id: c for c in decide_controls([high], Evidence(None, None, AS_OF))}
    assert results["NIS2-21.2.d"].status is Status.OPEN


def test_record_of_processing_names_tenants_features_and_recipients(scan_json: Path) -> None:
    rows = build(scan_json).processing
    assert {r.tenant for r in rows} == {"all tenants", "b2b", "base", "base/fr"}
    assert rows[0].tenant == "all tenants"  # code and the default scope come first
    assert (
        ProcessingRecord(
            tenant="all tenants",
            feature="Lumen_FraudShield",
            surface="checkout_payment",
            provider="seon",
            hosts=("api.seon.io",),
            data_categories=(
                "catalog_content",
                "customer_behaviour",
                "customer_pii",
                "inventory",
                "orders",
                "payment",
                "pricing",
            ),
            recipient="external",
            findings=3,  # the call, and the endpoint and toggle rows of the module's section
        )
        in rows
    )
    assert [r for r in rows if r.tenant != "all tenants"] == [
        ProcessingRecord(
            "b2b",
            "Lumen_AiDescriptions",
            "content_generation",
            "azure_openai",
            ("lumen-b2b.openai.azure.com",),
            (),
            "external",
            1,
        ),
        ProcessingRecord(
            "base", "Lumen_ShopAssistant", "content_generation", "-", (), (), "unknown", 1
        ),
        ProcessingRecord(
            "base", "Lumen_ShopAssistant", "content_generation", "openai", (), (), "external", 1
        ),
        ProcessingRecord(
            "base/fr", "Lumen_AiDescriptions", "content_generation", "openai", (), (), "external", 1
        ),
    ]


def test_third_parties_list_account_data_first_and_observed_bypasses(scan_json: Path) -> None:
    parties = build(scan_json, flows=load_flows(FLOWS)).third_parties
    assert [p.provider for p in parties] == [
        "seon",
        "adobe_commerce_saas",
        "anthropic",
        "azure_openai",
        "datarobot",
        "google_gemini",
        "openai",
        "pinecone",
    ]
    assert parties[0].account_data and not any(p.account_data for p in parties[1:])
    openai = next(p for p in parties if p.provider == "openai")
    assert openai.bypass_observed and openai.seen_in == ("flows", "scan")
    assert "base" in openai.tenants  # the incident's tenant
    anthropic = next(p for p in parties if p.provider == "anthropic")
    assert not anthropic.bypass_observed  # its observed flow went through the gateway


def test_remediation_starts_with_checkout_and_payment(scan_json: Path) -> None:
    remediation = build(scan_json).remediation
    surfaces = [i.surface for i in remediation.items]
    assert surfaces[0] == "checkout_payment"
    order = list(SURFACE_ORDER)
    assert sorted(surfaces, key=order.index) == surfaces
    assert remediation.total_hours == pytest.approx(sum(i.hours for i in remediation.items))
    assert remediation.items[-1].end_week == pytest.approx(remediation.total_hours / 16, abs=0.01)


def test_summary_counts_risk_by_surface_and_severity(scan_json: Path, scan_data: dict) -> None:
    summary = build(scan_json).summary
    assert summary.findings == scan_data["summary"]["findings"]
    assert dict(summary.by_severity) == scan_data["summary"]["by_severity"]
    assert {r.surface: r.total for r in summary.by_surface} == scan_data["summary"]["by_surface"]
    assert summary.by_surface[0].surface == "checkout_payment"


def test_no_key_and_no_log_line_reaches_the_report(scan_json: Path) -> None:
    from mageguard.report.json_format import to_json
    from mageguard.scan.analyzers.secrets import find_keys

    text = to_json(build(scan_json, flows=load_flows(FLOWS)))
    assert "sk-proj-kewEz4etFAKE" not in text  # the env.php key, masked by the scan
    assert list(find_keys(text)) == []
    assert "TCP_TUNNEL" not in text  # incidents' evidence lines are counted, never quoted
    assert '"evidence_lines": 2' in text


def test_the_timeline_builds_the_foundation_first_then_rolls_out_each_surface(
    scan_json: Path,
) -> None:
    remediation = build(scan_json).remediation
    assert [i.action for i in remediation.items[:2]] == ["gateway_config", "egress"]
    phases = {p.surface: p for p in remediation.phases}
    assert tuple(phases) == SURFACE_ORDER
    checkout = phases["checkout_payment"]
    assert checkout.start_week == 0
    assert checkout.rolled_out_week == pytest.approx(checkout.built_week + 8)  # effort.yaml
    assert remediation.weeks == pytest.approx(
        max(p.rolled_out_week for p in phases.values()), abs=0.05
    )
