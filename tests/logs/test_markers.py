"""AI traffic markers: logged prompts and responses, provider hosts. Positive and negative
lines, exact entity and matched text."""

from __future__ import annotations

import time

import pytest

from mageguard.logs.markers import AiTrafficDetector

detector = AiTrafficDetector()


def _found(text: str) -> list[tuple[str, str]]:
    return sorted((s.entity, text[s.start : s.end]) for s in detector.detect(text))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'ctx {"messages":[{"role":"user","content":"hi"}]}',
            [("AI_PROMPT", '"messages":'), ("AI_PROMPT", '"role":')],
        ),
        ('{"role":"assistant","content":"Sure"}', [("AI_RESPONSE", '"role":')]),
        ('{"choices":[{"text":"x"}]}', [("AI_RESPONSE", '"choices":')]),
        (
            'report ["{\\"prompt\\":\\"Describe\\"}"]',
            [("AI_PROMPT", '\\"prompt\\":'), ("AI_PROMPT", "prompt")],
        ),
        ('a:1:{s:8:"messages";a:0:{}}', [("AI_PROMPT", 's:8:"messages";')]),
        (
            "Array ( [completion] => Hello )",
            [("AI_RESPONSE", "[completion] =>"), ("AI_RESPONSE", "completion")],
        ),
        ("Response from OpenAI: 200", [("AI_RESPONSE", "Response from OpenAI")]),
        ("request to   Claude failed", [("AI_PROMPT", "request to   Claude")]),
        ("System prompt: you are a shop assistant", [("AI_PROMPT", "System prompt")]),
        ("POST https://api.anthropic.com/v1/messages", [("AI_PROVIDER", "api.anthropic.com")]),
        (
            "https://acme-prod.openai.azure.com/openai/deployments/gpt4",
            [("AI_PROVIDER", "acme-prod.openai.azure.com")],
        ),
        (
            "bedrock-runtime.eu-west-1.amazonaws.com timed out",
            [("AI_PROVIDER", "bedrock-runtime.eu-west-1.amazonaws.com")],
        ),
    ],
)
def test_ai_traffic_is_found(line: str, expected: list[tuple[str, str]]) -> None:
    assert _found(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "[2024-05-01] main.INFO: Cron Job sales_clean_quotes is run [] []",
        'Consumer "product_action_attribute.update" skipped, no messages in queue',
        '{"content":"<p>About us</p>","identifier":"about-us"}',  # a CMS page, no role
        '{"role":"admin"}',  # a role without content
        "Customer prompting support, completed order #100000123",
        "GET https://shop.example.com/static/frontend/Magento/luma/en_US/js/prompt.min.js",
        "requirejs: Magento_Ui/js/modal/prompt loaded",
        "s3.amazonaws.com upload finished",
        "Generated 12 product descriptions in 31 seconds",
    ],
)
def test_ordinary_magento_lines_are_not_ai_traffic(line: str) -> None:
    assert _found(line) == []


def test_text_that_changes_length_when_lower_cased_is_matched_without_the_gate() -> None:
    line = "İstanbul store: Prompt sent to OpenAI"
    assert _found(line) == [("AI_PROMPT", "Prompt"), ("AI_PROMPT", "sent to OpenAI")]


def test_a_5_mb_line_is_scanned_in_seconds() -> None:
    line = "#12 /var/www/html/vendor/magento/framework/App/Http.php(116): request " * 70_000
    start = time.perf_counter()
    assert _found(line + " api.openai.com") == [("AI_PROVIDER", "api.openai.com")]
    assert time.perf_counter() - start < 20
