"""Operators: how a detected span is transformed. Small and pure, chosen by policy."""

from __future__ import annotations

import enum
import hashlib
import hmac

from mageguard.redact.vault import Vault


class Operator(enum.StrEnum):
    PLACEHOLDER = "placeholder"  # [EMAIL_1], restored in the answer
    MASK = "mask"  # sk-p**** / ************1234: shape kept, value gone
    HASH = "hash"  # <EMAIL:3f2a9c1d>: keyed, stable across requests, not reversible
    DROP = "drop"  # removed
    KEEP = "keep"  # left as it is (the policy allows it)
    BLOCK = "block"  # the whole request is refused


def mask(entity: str, value: str) -> str:
    """Keep what helps a reader (card's last four, a key's prefix), hide the rest."""
    if entity == "CREDIT_CARD":
        digits = [c for c in value if c.isdigit()]
        return "*" * max(len(digits) - 4, 0) + "".join(digits[-4:])
    if entity == "SECRET":
        return value[: min(6, len(value) // 4)] + "****"
    if entity == "EMAIL" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return "*" * len(value)


def keyed_hash(entity: str, value: str, key: bytes) -> str:
    digest = hmac.new(
        key, f"{entity}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:12]
    return f"<{entity}:{digest}>"


def apply(operator: Operator, entity: str, value: str, vault: Vault, hash_key: bytes) -> str:
    if operator is Operator.PLACEHOLDER:
        return vault.placeholder(entity, value)
    if operator is Operator.MASK:
        return mask(entity, value)
    if operator is Operator.HASH:
        return keyed_hash(entity, value, hash_key)
    if operator is Operator.DROP:
        return ""
    return value  # KEEP (BLOCK is decided before any text is produced)
