"""Regenerate src/mageguard/redact/data/names.txt.gz from Faker's person providers.

Faker (a dev dependency only) is the offline source of given and family names for the
Latin-script locales below; the person detector reads the extracted list, never Faker.
Common words of Faker's lorem lists are written too, so a name that is also an ordinary
word ("Will", "Rose", "Summer") needs a cue before it counts. Output is sorted and
gzip'ed without a timestamp: the same Faker version gives the same bytes.

    .venv/bin/python scripts/build_name_lexicon.py
"""

from __future__ import annotations

import gzip
import importlib
import io
from collections.abc import Iterable
from pathlib import Path

import faker

LOCALES = [
    "en_US",
    "en_GB",
    "en_IE",
    "en_CA",
    "en_AU",
    "en_NZ",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "fr_CH",
    "fr_CA",
    "it_IT",
    "es_ES",
    "es_MX",
    "nl_NL",
    "nl_BE",
    "pl_PL",
    "pt_PT",
    "pt_BR",
    "sv_SE",
    "da_DK",
    "no_NO",
    "fi_FI",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
]
# Lorem word lists that are ordinary words (cs_CZ's is literary text full of names).
LOREM_LOCALES = ["en_US", "de_DE", "fr_FR", "it_IT", "nl_NL", "pl_PL", "es_ES", "da_DK"]
OUT = Path(__file__).resolve().parent.parent / "src/mageguard/redact/data/names.txt.gz"


def _names(values: object) -> Iterable[str]:
    if isinstance(values, dict):
        values = values.keys()
    for v in values or ():  # type: ignore[union-attr]
        v = str(v).strip()
        # single words only (hyphenated and particle names are split by the detector)
        for part in v.replace("-", " ").split():
            if part[:1].isupper() and part.replace("'", "").isalpha() and len(part) > 1:
                yield part


def main() -> None:
    given: set[str] = set()
    family: set[str] = set()
    common: set[str] = set()
    for loc in LOCALES:
        try:
            mod = importlib.import_module(f"faker.providers.person.{loc}")
        except ImportError:
            continue
        p = mod.Provider
        for attr in (
            "first_names",
            "first_names_male",
            "first_names_female",
            "first_names_nonbinary",
        ):
            given.update(_names(getattr(p, attr, ())))
        for attr in (
            "last_names",
            "last_names_male",
            "last_names_female",
            "male_last_names",
            "female_last_names",
            "unisex_last_names",
        ):
            family.update(_names(getattr(p, attr, ())))
        if loc == "pl_PL":  # Faker derives the feminine forms at run time: Kowalski -> Kowalska
            family.update(n[:-1] + "a" for n in list(family) if n.endswith(("ski", "cki", "dzki")))
        if loc in LOREM_LOCALES:
            lorem = importlib.import_module(f"faker.providers.lorem.{loc}")
            words = getattr(lorem.Provider, "word_list", ())
            common.update(w.lower() for w in words if w.isalpha())
    source = f"Faker {faker.VERSION} person providers: {', '.join(LOCALES)}"
    lines = [f"# given and family names from {source}"]
    lines += [f"g {n}" for n in sorted(given)]
    lines += [f"f {n}" for n in sorted(family)]
    lines += [f"w {w}" for w in sorted(common)]
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    OUT.write_bytes(buf.getvalue())
    print(
        f"{OUT}: {len(given)} given, {len(family)} family, {len(common)} common words, "
        f"{len(buf.getvalue())} bytes"
    )


if __name__ == "__main__":
    main()
