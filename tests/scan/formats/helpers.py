"""A small hand-built ScanResult that every format test renders, and the snapshot check.

The result covers what formats must handle: several surfaces out of risk order, a
database (`db://`) finding, an audit finding, a tenant-scoped finding, evidence with
characters that need escaping, one notice and two tenants.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mageguard.scan.finding import Confidence, Finding, Location, Severity, fingerprint
from mageguard.scan.result import Notice, ScanResult, ScanStats, Tenant
from mageguard.scan.ruleset import Match, Rule

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "MAGEGUARD_UPDATE_SNAPSHOTS"


def make_rule(
    rule_id: str, severity: Severity, pattern: str, surface: str | None, **kwargs: object
) -> Rule:
    defaults: dict[str, object] = {
        "title": f"Title of {rule_id}",
        "languages": ("php",),
        "match": (Match(fact="outbound_call"),),
        "confidence": Confidence.HIGH,
        "message": f"Message of {rule_id}.",
        "remediation": f"Remediation of {rule_id}: route the call through the gateway.",
    }
    defaults.update(kwargs)
    return Rule(id=rule_id, severity=severity, pattern=pattern, surface=surface, **defaults)  # type: ignore[arg-type]


RULES = (
    make_rule(
        "checkout-data-to-ai",
        Severity.CRITICAL,
        "external_ai_call",
        "checkout_payment",
        title="Checkout or payment data sent to an external AI provider",
        message="Order and payment data flows into a call to an external AI API.",
        remediation="Send the request through the mageguard gateway so card and "
        "customer fields are redacted, or use a local model.",
        references=("https://docs.example.test/rules/checkout-data-to-ai",),
    ),
    make_rule(
        "hardcoded-ai-key",
        Severity.HIGH,
        "external_ai_call",
        None,
        languages=("php", "deployment-config"),
        match=(Match(fact="secret"),),
        title="AI provider API key hard-coded in source",
        message="An AI provider API key is written into the code.",
        remediation="Move the key to an encrypted config field or the environment and rotate it.",
    ),
    make_rule(
        "prompt-logged-unredacted",
        Severity.MEDIUM,
        "prompt_logging",
        "logging",
        match=(Match(fact="log_write"),),
        confidence=Confidence.MEDIUM,
        title="Prompt or model response written to a log unredacted",
        message="A prompt built from customer data is passed to a logger.",
        remediation="Log metadata only (model, latency, token counts), never the "
        "prompt or completion text.",
    ),
    make_rule(
        "shared-vector-index",
        Severity.HIGH,
        "shared_embeddings",
        "multi_tenant_models",
        match=(Match(fact="outbound_call", destination=frozenset({"vector_db"})),),
        title="Vector index shared across tenants",
        message="Embeddings of several websites are written to one unscoped index.",
        remediation="Give every tenant its own namespace or filter every query by website id.",
    ),
    make_rule(
        "db-ai-key-plaintext",
        Severity.HIGH,
        "external_ai_call",
        None,
        languages=("db",),
        match=(Match(fact="config_value"),),
        title="AI key stored in core_config_data in plain text",
        message="An AI provider key is stored unencrypted in the database.",
        remediation="Store the key in an encrypted backend model field and rotate it.",
    ),
    make_rule(
        "ai-package-installed",
        Severity.INFO,
        "external_ai_call",
        None,
        languages=("composer",),
        match=(Match(fact="package"),),
        audit=True,
        confidence=Confidence.LOW,
        title="An AI SDK is installed",
        message="composer.lock installs an AI provider SDK.",
        remediation="Check which modules use the SDK and route them through the gateway.",
    ),
)


def make_finding(
    rule: Rule, path: str, line: int, matched: str, evidence: str, surface: str, **kwargs: object
) -> Finding:
    fields: dict[str, object] = {
        "rule_id": rule.id,
        "title": rule.title,
        "message": rule.message,
        "severity": rule.severity,
        "confidence": rule.confidence,
        "surface": surface,
        "pattern": rule.pattern,
        "location": Location(
            path=path, line=line, column=9, end_line=line, end_column=9 + len(matched)
        ),
        "fingerprint": fingerprint(rule.id, path, matched),
        "evidence": evidence,
        "remediation": rule.remediation,
        "audit": rule.audit,
    }
    fields.update(kwargs)
    return Finding(**fields)  # type: ignore[arg-type]


def build_result() -> ScanResult:
    r = {rule.id: rule for rule in RULES}
    findings = (
        # Listed out of order on purpose: formats must sort.
        make_finding(
            r["prompt-logged-unredacted"],
            "app/code/Acme/Chat/Model/Assistant.php",
            88,
            "$this->logger->info($prompt)",
            "$this->logger->info($prompt); // <b>x</b>",
            "logging",
            data_categories=("customer_pii",),
            controls=("GDPR-5.1.f", "PCI-10.2.1"),
            module="Acme_Chat",
        ),
        make_finding(
            r["db-ai-key-plaintext"],
            "db://core_config_data/42",
            1,
            "acme_ai/general/api_key",
            "acme_ai/general/api_key = sk-proj-****",
            "content_generation",
            provider="openai",
            controls=("GDPR-5.1.f",),
            tenant="b2b",
            location=Location(path="db://core_config_data/42"),
        ),
        make_finding(
            r["checkout-data-to-ai"],
            "app/code/Acme/Fraud/Observer/Score.php",
            41,
            "$client->chat()->create",
            "$client->chat()->create(['messages' => [$order->getPayment()|json]])",
            "checkout_payment",
            provider="openai",
            host="api.openai.com",
            data_categories=("orders", "payment"),
            controls=("GDPR-28", "PCI-12.8.1"),
            module="Acme_Fraud",
            extra=(("via", "sdk"), ("sdk", "openai-php/client")),
        ),
        make_finding(
            r["shared-vector-index"],
            "app/code/Acme/Search/Model/Indexer.php",
            120,
            "upsert",
            "$pinecone->upsert(['namespace' => 'catalog'])",
            "multi_tenant_models",
            provider="pinecone",
            host="acme.svc.pinecone.io",
            data_categories=("catalog_content", "pricing"),
            tenant="base",
            module="Acme_Search",
        ),
        make_finding(
            r["hardcoded-ai-key"],
            "app/code/Acme/Fraud/etc/config.xml",
            12,
            "sk-ant-api03-x",
            "<api_key>sk-ant-****</api_key>",
            "checkout_payment",
            provider="anthropic",
            module="Acme_Fraud",
        ),
        make_finding(
            r["ai-package-installed"],
            "composer.lock",
            2301,
            "openai-php/client",
            '"name": "openai-php/client"',
            "search_recommendations",
            provider="openai",
        ),
    )
    return ScanResult(
        root="/srv/magento",
        findings=findings,
        rules=RULES,
        notices=(
            Notice(
                kind="parse_error",
                message="tree-sitter could not parse the file; it was scanned with tokens only",
                path="app/code/Acme/Legacy/Model/Broken.php",
                line=17,
            ),
        ),
        stats=ScanStats(
            files_seen=1234,
            bytes_seen=5_678_901,
            units=42,
            ai_units=3,
            files_parsed=57,
            cache_hits=0,
            seconds=1.25,
        ),
        tenants=(
            Tenant(scope="website", scope_id=2, code="b2b", name="B2B Portal"),
            Tenant(scope="website", scope_id=1, code="base", name="Main Website"),
        ),
        suppressed=2,
        baselined=1,
        tool_version="0.1.0",
    )


def check_snapshot(name: str, actual: str) -> None:
    """Compare with snapshots/<name>; MAGEGUARD_UPDATE_SNAPSHOTS=1 rewrites it instead."""
    path = SNAPSHOTS / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with {UPDATE_ENV}=1 to write it")
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (
        f"{name} differs from its snapshot; if the change is intended, rerun with "
        f"{UPDATE_ENV}=1 and review the diff"
    )
