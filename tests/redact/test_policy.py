"""The redaction policy: schema-checked, per entity and surface, defaults from the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from mageguard.errors import ConfigError
from mageguard.redact.operators import Operator, keyed_hash, mask
from mageguard.redact.policy import Policy


def test_the_embedded_default_blocks_card_data_at_checkout_only() -> None:
    policy = Policy.load()
    assert policy.operator("CREDIT_CARD") is Operator.PLACEHOLDER
    assert policy.operator("CREDIT_CARD", "checkout_payment") is Operator.BLOCK
    assert policy.operator("CVV") is Operator.DROP
    assert policy.operator("SECRET") is Operator.MASK


def test_an_unknown_entity_or_operator_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("operators:\n  EMAILS: mask\n")
    with pytest.raises(ConfigError, match="unknown entity 'EMAILS'"):
        Policy.load(bad)
    bad.write_text("operators:\n  EMAIL: shred\n")
    with pytest.raises(ConfigError, match="shred"):
        Policy.load(bad)


def test_a_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--policy"):
        Policy.load(tmp_path / "none.yaml")


@pytest.mark.parametrize(
    ("entity", "value", "masked"),
    [
        ("CREDIT_CARD", "4111 1111 1111 1234", "************1234"),
        ("EMAIL", "ana@example.com", "a***@example.com"),
        ("SECRET", "sk-proj-abcdefghijklmnop", "sk-pro****"),
        ("PHONE", "+44 20 7946 0448", "****************"),
    ],
)
def test_masks_keep_only_what_helps_a_reader(entity: str, value: str, masked: str) -> None:
    assert mask(entity, value) == masked


def test_keyed_hashes_are_stable_per_key_and_not_the_value() -> None:
    a = keyed_hash("EMAIL", "ana@example.com", b"k1")
    assert a == keyed_hash("EMAIL", "ana@example.com", b"k1")
    assert a != keyed_hash("EMAIL", "ana@example.com", b"k2")
    assert "ana" not in a and a.startswith("<EMAIL:")
