"""The tiny false-positive filters."""

from __future__ import annotations

import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mageguard.redact.detectors import validators as v

VAT_COUNTRIES = [  # the VAT pattern's country codes
    "AT", "BE", "BG", "CHE", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GB",
    "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE",
    "SI", "SK", "XI",
]  # fmt: skip
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


def test_a_word_after_a_country_code_is_no_vat_number_and_costs_no_stdnum_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def called(compact: str) -> bool:
        raise AssertionError(f"stdnum asked about {compact}")

    monkeypatch.setattr(v, "_stdnum_vat", called)
    for value in ("SKU", "SKU FR-T98Y-54", "SKU WJ07-XL", "DEU", "PLN 1234567", "SE-XL"):
        assert not v.vat(value)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(VAT_COUNTRIES),
    st.text(alphabet="0123456789ABUXGDHMVW -.", max_size=16),
)
def test_the_shortcut_never_refuses_what_stdnum_accepts(country: str, rest: str) -> None:
    value = country + rest
    compact = re.sub(r"[\s.\-/]", "", value).upper()
    assert v.vat(value) == v._stdnum_vat(compact)


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


def _ipv4_reference(value: str) -> bool:
    """The validator as it was, on ipaddress."""
    import ipaddress

    try:
        addr = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return not (addr.is_unspecified or str(addr) == "255.255.255.255")


def test_ipv4_agrees_with_ipaddress() -> None:
    rng = random.Random(4)
    octets = ["0", "1", "9", "10", "99", "100", "199", "249", "250", "255", "256", "999", "1000"]
    odd = ["", "00", "01", "007", "x", " 1", "0x1", "+1", "\u0661", "1 "]
    values = ["0.0.0.0", "255.255.255.255", "1.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3"]
    for _ in range(5000):
        parts = [rng.choice(octets if rng.random() > 0.05 else odd) for _ in range(4)]
        values.append(".".join(parts[: rng.choice([3, 4, 4, 4])]))
    assert [v.ipv4(x) for x in values] == [_ipv4_reference(x) for x in values]


def _random_iban(rng: random.Random) -> str:
    """A registered country's IBAN with the right layout and check digits, then maybe
    spaced, damaged or cut short."""
    from stdnum import iban as std_iban
    from stdnum import numdb

    countries = ["DE", "FR", "GB", "ES", "IT", "NL", "BE", "NO", "ME", "PL", "CH", "IE", "ZZ"]
    cc = rng.choice(countries)
    info = numdb.get("iban").info(cc)[0][1]
    pools = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + "ABCXYZ"}
    bban = "".join(
        rng.choice(pools[kind])
        for count, kind in re.findall(r"([1-9][0-9]*)!([nac])", info.get("bban", "16!n"))
        for _ in range(int(count))
    )
    value = cc + (std_iban.calc_check_digits(f"{cc}00{bban}") if info else "00") + bban
    if rng.random() < 0.5:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    if rng.random() < 0.3:
        i = rng.randrange(len(value))
        value = value[:i] + rng.choice("07AZ -.\u00df`\u2013\ta") + value[i + 1 :]
    elif rng.random() < 0.1:
        value = value[: rng.randrange(len(value))]
    return value


def test_iban_agrees_with_stdnum() -> None:
    from stdnum import iban as std_iban

    rng = random.Random(9)
    values = [_random_iban(rng) for _ in range(3000)]
    values += ["", "D", "DE89", " DE89 3704 0044 0532 0130 00 ", "de89 3704 0044 0532 0130 00"]
    assert [v.iban(x) for x in values] == [std_iban.is_valid(x) for x in values]
    assert sum(v.iban(x) for x in values) > 1000  # the corpus holds valid ones too


def test_luhn_of_non_ascii_digits_is_false() -> None:
    assert not v.luhn("\u0664\u0661\u0661\u0661")


@pytest.mark.parametrize(
    "number",
    [  # stdnum's own examples, one or two per country
        "AT U13585627", "BE 428759497", "BG 175074752", "CY-10259033P", "DE136695976",
        "DK 13585628", "EE 100594102", "EL 094259216", "ES B64717838", "FI 20774740",
        "FR 23334175221", "HR 33392005961", "HU-12892312", "IT 00743110157", "LU 150 274 42",
        "LV 4000 3521 600", "MT 1167-9112", "NL 004495445B01", "PL 8567346215",
        "PT 501 964 843", "SE 123456789701", "SI 5022 3054", "SK 202 274 96 19",
        "GB 980 7806 84", "GBGD001", "CHE-107.787.577 IVA", "NO 995 525 828 MVA",
    ],
)  # fmt: skip
def test_valid_numbers_of_every_country_pass_the_shortcut(number: str) -> None:
    assert v.vat(number)
