"""Classifying destinations: the catalog first, then the v2fly list with its rule kinds
(domain = host and subdomains, full = exact, regexp), @ads rules skipped."""

from __future__ import annotations

import pytest

from mageguard.audit.hosts import HostClassifier, gate_literals, v2fly_rules

CASES = {
    "api.openai.com": ("openai", "ai_provider", "catalog"),
    "API.OpenAI.com.": ("openai", "ai_provider", "catalog"),
    "myres.openai.azure.com": ("azure_openai", "ai_provider", "catalog"),
    "chatgpt.com": ("openai", "ai_provider", "v2fly"),  # domain: the host itself
    "cdn.oaistatic.com": ("openai", "ai_provider", "v2fly"),  # domain: a subdomain
    "console.anthropic.com": ("anthropic", "ai_provider", "v2fly"),
    "servd-anthropic-website.b-cdn.net": ("anthropic", "ai_provider", "v2fly"),  # full
    "chatgpt-async-webps-prod-eastus-12.webpubsub.azure.com": ("openai", "ai_provider", "v2fly"),
    "lptag.liveperson.net": ("liveperson", "ai_service", "v2fly"),
}
NOT_AI = [
    "example.com",
    "notopenai.com",  # domain rules match whole labels
    "x.servd-anthropic-website.b-cdn.net",  # full: that host only
    "b-cdn.net",
    "browser-intake-datadoghq.com",  # @ads in the list: telemetry, not AI
    "openai.qualtrics.com",
    "repo.magento.com",
    "",
]


@pytest.mark.parametrize(("host", "expected"), sorted(CASES.items()))
def test_ai_hosts_are_classified(host: str, expected: tuple[str, str, str]) -> None:
    found = HostClassifier().classify(host)
    assert found is not None
    assert (found.provider, found.kind, found.source) == expected


@pytest.mark.parametrize("host", NOT_AI)
def test_other_hosts_are_not_ai(host: str) -> None:
    assert HostClassifier().classify(host) is None


def test_every_v2fly_rule_is_loaded_except_the_ads_ones() -> None:
    rules = v2fly_rules()
    assert (len(rules.domain), len(rules.full), len(rules.keyword), len(rules.regexp)) == (
        262,
        25,
        0,
        1,
    )


def test_every_classified_host_passes_the_gate() -> None:
    literals = [w.lower() for w in gate_literals()]
    for host in CASES:
        assert any(w in host.lower() for w in literals), host
