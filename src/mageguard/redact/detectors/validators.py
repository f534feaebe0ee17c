"""Tiny pure false-positive filters: a candidate that a regex found is kept only if its
checksum, range or structure holds. Each takes the matched text and returns a bool.

Checksums of national numbers come from python-stdnum (`stdnum_check("de.idnr")`), which
maintains them per country; this module only adds what stdnum does not cover (card brands,
UK NINO prefixes, JWT structure, secret-looking character mixes).
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib
import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Validator = Callable[[str], bool]

_SEPARATORS = re.compile(r"[\s.\-/]")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_CARD_SEPARATORS = re.compile(r"[ -]")
# the digit a Luhn "doubled" position contributes, by its character
_DOUBLED = {str(d): d * 2 - 9 if d > 4 else d * 2 for d in range(10)}


def digits_of(value: str) -> str:
    return _NOT_DIGIT.sub("", value)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of ASCII digits."""
    if not digits or not digits.isdigit() or not digits.isascii():
        return False
    doubled = _DOUBLED
    total = sum(map(int, digits[-1::-2])) + sum(doubled[c] for c in digits[-2::-2])
    return total % 10 == 0


@dataclass(frozen=True)
class CardBrand:
    """A card scheme: its IIN ranges (inclusive, compared on the first len(low) digits)
    and the lengths its numbers have."""

    name: str
    ranges: tuple[tuple[str, str], ...]
    lengths: frozenset[int]

    def issued(self, digits: str) -> bool:
        if len(digits) not in self.lengths:
            return False
        return any(lo <= digits[: len(lo)] <= hi for lo, hi in self.ranges)


# Group layouts a human writes a card number in; anything else with separators (a phone
# number, a date run) is not taken for a card even if its digits pass Luhn.
_CARD_GROUPINGS = frozenset(
    {
        (4, 4, 4, 4),
        (4, 6, 5),
        (4, 6, 4),
        (4, 4, 4, 4, 3),
        (4, 4, 4, 4, 2),
        (4, 4, 4, 1),
        (4, 4, 5),
        (4, 4, 4, 3),
    }
)


def card_number(value: str, brands: Sequence[CardBrand]) -> bool:
    digits = digits_of(value)
    if not 12 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    groups = tuple(len(g) for g in _CARD_SEPARATORS.split(value) if g)
    if len(groups) > 1 and groups not in _CARD_GROUPINGS:
        return False
    return luhn(digits) and any(b.issued(digits) for b in brands)


# IBAN check digits: letters count as 10..35
_IBAN_BASE36 = {ord(c): str(i) for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_IBAN_STRUCTURE = re.compile(r"([1-9][0-9]*)!([nac])")
_IBAN_CLASSES = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}


@functools.cache
def _iban_country(cc: str) -> tuple[re.Pattern[str] | None, Any]:
    """A country's BBAN layout from stdnum's IBAN registry, as `stdnum.iban.validate`
    reads it (the registry is keyed by country code only), and stdnum's national IBAN
    check for that country, if any."""
    from stdnum import numdb
    from stdnum.util import get_cc_module

    info = numdb.get("iban").info(cc)
    props = info[0][1] if info else {}
    if not props:
        return None, None
    layout = _IBAN_STRUCTURE.sub(
        lambda m: f"{_IBAN_CLASSES[m.group(2)]}{{{m.group(1)}}}", props.get("bban", "")
    )
    return re.compile(f"^{layout}$"), get_cc_module(cc.lower(), "iban")


def iban(value: str) -> bool:
    """stdnum's IBAN check (mod 97, the registry's BBAN layout for the country, then the
    country's own check where stdnum has one), done here for plain ASCII values: stdnum
    walks its registry and re-cleans the number for each step, ~25 us a valid IBAN."""
    from stdnum import iban as std_iban

    # stdnum's compact of an ASCII value: drop ' ', '-', '.', strip, upper case
    compact = value.replace(" ", "").replace("-", "").replace(".", "").strip().upper()
    if not (value.isascii() and compact.isalnum()):
        return bool(std_iban.is_valid(value))
    if int((compact[4:] + compact[:4]).translate(_IBAN_BASE36)) % 97 != 1:
        return False
    layout, national = _iban_country(compact[:2])
    if layout is None or not layout.match(compact[4:]):
        return False
    return national is None or bool(national.is_valid(compact))


# Countries whose number may start with a letter after the prefix (AT U..., ES X...,
# FR's two-character key, GB/XI GD... and HA..., and CHE, whose "E" is still prefix).
# Every other country's stdnum module refuses a number whose first character is not a
# digit, so that is decided here: "SKU" (SK, Slovakia) opens every other line of a shop's
# prompt and its trimmed candidates cost ~5 us each in stdnum.
_LETTER_FIRST = ("AT", "ES", "FR", "GB", "XI", "CH")


def vat(value: str) -> bool:
    """EU VAT numbers (with their country prefix) and the UK, Swiss and Norwegian ones."""
    compact = _SEPARATORS.sub("", value).upper()
    if not compact[2:3].isdigit() and not compact.startswith(_LETTER_FIRST):
        return False
    return _stdnum_vat(compact)


def _stdnum_vat(compact: str) -> bool:
    from stdnum.eu import vat as eu_vat

    if compact.startswith(("GB", "XI")):
        from stdnum.gb import vat as gb_vat

        return bool(gb_vat.is_valid(compact[2:]))
    if compact.startswith("CHE"):
        from stdnum.ch import vat as ch_vat

        return bool(ch_vat.is_valid(compact))
    if compact.startswith("NO"):
        from stdnum.no import mva

        return bool(mva.is_valid(compact))
    return bool(eu_vat.is_valid(compact))


@functools.cache
def stdnum_check(module: str) -> Validator:
    """`is_valid` of `stdnum.<module>` (e.g. "de.idnr", "it.codicefiscale")."""
    mod = importlib.import_module(f"stdnum.{module}")
    is_valid = mod.is_valid

    def check(value: str) -> bool:
        return bool(is_valid(value))

    check.__name__ = f"stdnum_{module.replace('.', '_')}"
    return check


def ipv4(value: str) -> bool:
    """Four decimal octets (no leading zeros, as ipaddress requires); 0.0.0.0 and
    broadcast carry no one's identity."""
    parts = value.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3:
            return False
        if (len(part) > 1 and part[0] == "0") or int(part) > 255:
            return False
    return value not in ("0.0.0.0", "255.255.255.255")


def ipv6(value: str) -> bool:
    if value.count(":") < 2 or len(value) < 6:
        return False
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return not (addr.is_unspecified or addr.is_loopback)


def _b64url_json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def jwt(value: str) -> bool:
    """Three base64url segments whose header decodes to a JSON object naming `alg`."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    header = _b64url_json(parts[0])
    return isinstance(header, dict) and "alg" in header


_PLACEHOLDER = re.compile(
    r"(x{4,}|\*{3,}|\.{3}|<|>|\{|\}|your|example|changeme|placeholder|redacted|dummy)", re.I
)


def mixed_secret(value: str) -> bool:
    """Upper case, lower case and digits, many distinct characters, no placeholder."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
        and len(set(value)) >= 10
        and not _PLACEHOLDER.search(value)
    )


def token_like(value: str) -> bool:
    """A random-looking token (Magento integration/OAuth tokens are 32 [a-z0-9]): letters
    and digits, many distinct characters, no placeholder."""
    return (
        any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and len(set(value)) >= 10
        and not _PLACEHOLDER.search(value)
    )


def password_like(value: str) -> bool:
    """What follows "password:" is a password unless it reads like a word or a stand-in."""
    if _PLACEHOLDER.search(value) or len(set(value)) < 3:
        return False
    return not value.isalpha() or (value.lower() != value and value.upper() != value)


_NUMERIC_DATE = re.compile(r"^(\d{1,4})[./\-\s](\d{1,2})[./\-\s](\d{1,4})$")


def birth_date(value: str) -> bool:
    """A calendar date in a plausible birth range; textual dates ("24 Dec 1950") are
    checked by the regex, numeric ones here (day <= 31, month <= 12, 1900-2099)."""
    m = _NUMERIC_DATE.match(value.strip())
    if not m:
        return True
    a, b, c = (int(x) for x in m.groups())
    if len(m.group(1)) == 4:  # year-month-day
        year, month, day = a, b, c
        return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    if len(m.group(3)) not in (2, 4):
        return False
    year_ok = len(m.group(3)) == 2 or 1900 <= c <= 2099
    # day-month or month-day: either reading must be a date
    return year_ok and ((1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31))


def card_expiry(value: str) -> bool:
    m = re.match(r"^(\d{1,2})\s*[/\-.]\s*(\d{2}|\d{4})$", value.strip())
    if not m:
        return True
    month, year = int(m.group(1)), m.group(2)
    return 1 <= month <= 12 and (len(year) == 2 or 1990 <= int(year) <= 2099)


def us_ssn(value: str) -> bool:
    """SSA rules (no 000/666/9xx area, no 00 group, no 0000 serial, not an advertised
    number), by stdnum; all-same digits are never real."""
    digits = digits_of(value)
    return len(set(digits)) > 1 and stdnum_check("us.ssn")(digits)


NAMED: dict[str, Validator] = {
    "iban": iban,
    "vat": vat,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "jwt": jwt,
    "mixed_secret": mixed_secret,
    "token_like": token_like,
    "password_like": password_like,
    "birth_date": birth_date,
    "card_expiry": card_expiry,
    "us_ssn": us_ssn,
}


def resolve(name: str, brands: Sequence[CardBrand] = ()) -> Validator:
    """A validator by its name in the data file: one of NAMED, `card` (with the brands of
    the data file) or `stdnum:<module>`."""
    if name == "card":
        brands_t = tuple(brands)
        return lambda value: card_number(value, brands_t)
    if name.startswith("stdnum:"):
        return stdnum_check(name.split(":", 1)[1])
    try:
        return NAMED[name]
    except KeyError:
        raise KeyError(f"unknown validator {name!r}") from None
