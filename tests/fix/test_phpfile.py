"""env.php and config.php edits change the value and not one other byte."""

from __future__ import annotations

import pytest

from mageguard.errors import MageguardError
from mageguard.fix.phpfile import enable_module, php_string, replace_values

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
