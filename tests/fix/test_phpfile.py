"""PHP edits (env.php and config.php values, hard-coded endpoints and keys in module code)
change the literal and not one other byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.errors import MageguardError
from mageguard.fix.phpfile import (
    enable_module,
    gateway_endpoints,
    key_literal,
    php_string,
    replace_values,
)

ENV = b"""<?php
return [
    'crypt' => ['key' => 'abc'],
    'system' => [
        'default' => [
            'lumen_ai' => ['openai' => ['endpoint' => "https://api.openai.com/v1", 'm' => 'x']],
        ],
    ],
];
"""


def test_a_value_is_replaced_in_place_and_the_rest_is_untouched() -> None:
    new = replace_values(ENV, {"system/default/lumen_ai/openai/endpoint": "http://gw:8088/v1"})
    assert new == ENV.replace(b'"https://api.openai.com/v1"', b"'http://gw:8088/v1'")


def test_quotes_and_backslashes_are_escaped_for_php() -> None:
    assert php_string("it's a\\b") == "'it\\'s a\\\\b'"


def test_a_missing_key_is_an_error_not_a_silent_skip() -> None:
    with pytest.raises(MageguardError):
        replace_values(ENV, {"system/default/nope": "x"})


CONFIG = b"""<?php
return [
    'modules' => [
        'Magento_Store' => 1,
        'Lumen_Ai' => 1
    ]
];
"""


def test_a_module_is_enabled_after_the_last_one_in_its_indentation() -> None:
    new = enable_module(CONFIG, "Mageguard_Connector")
    assert new == CONFIG.replace(
        b"'Lumen_Ai' => 1\n", b"'Lumen_Ai' => 1,\n        'Mageguard_Connector' => 1,\n"
    )
    assert enable_module(new, "Mageguard_Connector") == new


def test_a_disabled_module_is_switched_on_in_place() -> None:
    off = CONFIG.replace(b"'Lumen_Ai' => 1", b"'Lumen_Ai' => 0")
    assert enable_module(off, "Lumen_Ai") == CONFIG


RERANKER = b"""<?php
/** Sends the shopper's query to Claude (an apostrophe in a comment must not matter). */
class Reranker
{
    private const API_BASE = 'https://api.anthropic.com/v1';
    private const KEY = 'sk-ant-api03-abc';
    private const DOCS = "see https://api.anthropic.com.example/v1 and https://docs.anthropic.com";
    public function url(): string { return self::API_BASE . '/messages'; }
}
"""


def test_a_hard_coded_endpoint_points_at_the_gateway_keeping_its_api_path() -> None:
    new = gateway_endpoints(RERANKER, "api.anthropic.com", "http://127.0.0.1:8088/")
    assert new == RERANKER.replace(b"'https://api.anthropic.com/v1'", b"'http://127.0.0.1:8088/v1'")


@pytest.mark.parametrize(
    "literal",
    [
        b"'https://api.openai.com.evil.example/v1'",  # a look-alike host
        b"'https://xapi.openai.com/v1'",
        b"'https://api.openai.com/openai/deployments/x'",  # a path the gateway does not serve
        b'"https://api.openai.com/v1/{$path}"',  # interpolated: not a plain literal
    ],
)
def test_literals_that_are_not_exactly_the_providers_api_are_left_alone(literal: bytes) -> None:
    assert gateway_endpoints(b"<?php $u = " + literal + b";", "api.openai.com", "http://gw") is None


def test_the_key_literal_at_a_findings_column_is_replaced() -> None:
    new = key_literal(RERANKER, 6, 30, "mg-gateway-key")
    assert new == RERANKER.replace(b"'sk-ant-api03-abc'", b"'mg-gateway-key'")


def test_no_literal_at_the_column_means_no_edit() -> None:
    assert key_literal(RERANKER, 6, 5, "mg-gateway-key") is None
    assert key_literal(RERANKER, 99, 1, "mg-gateway-key") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(0, 20), st.integers(0, 80))
def test_any_php_is_either_left_alone_or_changed_only_inside_literals(
    text: str, line: int, column: int
) -> None:
    source = ("<?php\n$a = 'https://api.openai.com/v1'; " + text).encode("utf-8", "surrogatepass")
    new = gateway_endpoints(source, "api.openai.com", "http://gw:8088")
    assert new is not None and b"http://gw:8088/v1" in new  # the planted literal, whatever follows
    swapped = key_literal(source, line, column, "mg-key")
    assert swapped is None or b"'mg-key'" in swapped
