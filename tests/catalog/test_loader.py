"""The catalog loads, validates and answers the questions the scanner asks of it."""

from __future__ import annotations

import re

import pytest

from mageguard.catalog import load_catalog
from mageguard.catalog.loader import HostMatcher, host_of, validate
from mageguard.errors import CatalogError


def test_catalog_loads_with_every_cross_reference_resolved() -> None:
    catalog = load_catalog()
    assert {p.id for p in catalog.patterns} >= {
        "external_ai_call",
        "shared_embeddings",
        "training_data_export",
        "prompt_injection",
    }
    assert min(catalog.surfaces, key=lambda s: s.risk).id == "checkout_payment"
    assert {c.framework for c in catalog.controls} == {"GDPR", "NIS2", "NIST AI RMF", "PCI DSS"}


@pytest.mark.parametrize(
    ("url", "provider", "host"),
    [
        ("https://api.openai.com/v1/chat/completions", "openai", "api.openai.com"),
        ("api.openai.com/v1", "openai", "api.openai.com"),
        (
            "https://lumen-b2b.openai.azure.com/openai/deployments/gpt-4o",
            "azure_openai",
            "lumen-b2b.openai.azure.com",
        ),
        (
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/x/invoke",
            "aws_bedrock",
            "bedrock-runtime.eu-west-1.amazonaws.com",
        ),
        ("HTTPS://API.ANTHROPIC.COM/v1/messages", "anthropic", "api.anthropic.com"),
    ],
)
def test_ai_urls_resolve_to_their_provider(url: str, provider: str, host: str) -> None:
    found = load_catalog().provider_for_url(url)
    assert found is not None
    assert (found[0].id, found[1]) == (provider, host)


@pytest.mark.parametrize(
    "url",
    [
        "https://maps.googleapis.com/maps/api/geocode/json",
        "http://mageguard-gateway.internal:8080/v1/chat/completions",
        "https://s3.eu-west-1.amazonaws.com/bucket",
        "https://evil.com/?next=api.openai.com",
        "Model/Chat.php",
    ],
)
def test_non_ai_urls_do_not_resolve(url: str) -> None:
    assert load_catalog().provider_for_url(url) is None


def test_a_wildcard_needs_at_least_one_label() -> None:
    catalog = load_catalog()
    matcher = HostMatcher(catalog.providers)
    assert matcher.match(".openai.azure.com") is None
    assert matcher.match("openai.azure.com") is None
    assert matcher.match("a.b.openai.azure.com") is not None


def test_host_of_reads_scheme_less_base_uris_but_not_file_names() -> None:
    assert host_of("api.openai.com/v1") == "api.openai.com"
    assert host_of("https://user:pw@api.mistral.ai:443/v1") == "api.mistral.ai"
    assert host_of("image.png") is None
    assert host_of("var/log/ai.log") is None


def test_controls_follow_pattern_and_data_category() -> None:
    catalog = load_catalog()
    payment = catalog.controls_for("php-ai-http-call", "external_ai_call", ["payment"])
    catalog_only = catalog.controls_for("php-ai-http-call", "external_ai_call", ["catalog_content"])
    assert "PCI-12.8.1" in payment and "PCI-12.8.1" not in catalog_only
    assert "GDPR-28" in payment and "GDPR-28" not in catalog_only
    assert "AIRMF-MAP-4.1" in catalog_only


def test_gate_tokens_never_include_a_shared_cloud_suffix() -> None:
    tokens = load_catalog().ai_tokens()
    assert ".amazonaws.com" not in tokens and ".googleapis.com" not in tokens
    assert "api.openai.com" in tokens and "bedrock-runtime." in tokens


def test_key_patterns_are_anchored() -> None:
    openai = next(k for k in load_catalog().key_patterns if k.id == "openai-api-key")
    assert openai.regex.search("desk-" + "A1b2C3d4" * 6) is None
    assert openai.regex.search("task-" + "A1b2C3d4" * 6) is None
    assert openai.regex.search("'sk-proj-" + "A1b2C3d4" * 6 + "'") is not None


def test_schema_violations_name_the_file_and_field() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    with pytest.raises(CatalogError, match=re.escape("x.yaml: id: 3 is not of type 'string'")):
        validate({"id": 3}, schema, "x.yaml")
