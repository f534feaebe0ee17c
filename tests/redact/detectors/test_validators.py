"""The tiny false-positive filters."""

from __future__ import annotations

import pytest

from mageguard.redact.detectors import validators as v

BRANDS = [v.CardBrand("visa", (("4", "4"),), frozenset({13, 16, 19}))]


def test_luhn_accepts_published_test_numbers() -> None:
    assert v.luhn("4111111111111111") and v.luhn("378282246310005")
    assert not v.luhn("4111111111111112") and not v.luhn("") and not v.luhn("12a4")


def test_card_outside_every_issuer_range_is_refused() -> None:
    assert v.card_number("4111 1111 1111 1111", BRANDS)
    assert not v.card_number("5555 5555 5555 4444", BRANDS)  # valid Luhn, no Mastercard brand here


def test_card_in_an_unusual_grouping_is_refused() -> None:
    assert not v.card_number("41 1111 1111 1111 11", BRANDS)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("DE89 3704 0044 0532 0130 00", True), ("DE89 3704 0044 0532 0130 01", False)],
)
def test_iban_checksum(value: str, ok: bool) -> None:
    assert v.iban(value) is ok


def test_vat_by_country_prefix() -> None:
    assert v.vat("DE136695976") and v.vat("NL004495445B01")
    assert not v.vat("DE136695977")


def test_jwt_needs_a_header_naming_alg() -> None:
    assert v.jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
    assert not v.jwt("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.sig")  # {"typ":"JWT"}: no alg
    assert not v.jwt("not.a.jwt")


def test_ip_addresses() -> None:
    assert v.ipv4("203.0.113.42") and not v.ipv4("0.0.0.0") and not v.ipv4("256.1.1.1")
    assert v.ipv6("2001:db8::1") and not v.ipv6("::1") and not v.ipv6("10:30:00")


def test_us_ssn_rules() -> None:
    assert v.us_ssn("536-22-8726")
    assert (
        not v.us_ssn("666-22-8726") and not v.us_ssn("536-00-8726") and not v.us_ssn("111-11-1111")
    )


def test_placeholders_are_not_secrets() -> None:
    assert v.token_like("8k2m4p6r9t1v3x5z7b0d2f4h6j8l0n2q")
    assert not v.token_like("your_api_key_here_1234567890abcdef")
    assert not v.password_like("incorrect") and v.password_like("Summer2024!")


def test_birth_dates_must_be_calendar_dates() -> None:
    assert v.birth_date("28/02/1990") and v.birth_date("02/28/1990") and v.birth_date("1990-02-28")
    assert not v.birth_date("45/45/1990") and not v.birth_date("28/02/1800")


def test_stdnum_validator_by_module_name() -> None:
    assert v.resolve("stdnum:nl.bsn")("111222333")
    with pytest.raises(KeyError):
        v.resolve("no_such_validator")
