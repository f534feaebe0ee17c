"""Hostile or broken input never crashes the scanner: analyzers either produce facts or
raise the documented InputError. Real fixture files are mutated to reach deep paths."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mageguard.errors import InputError
from mageguard.scan import suppress
from mageguard.scan.analyzers import composer, deployment, js
from mageguard.scan.analyzers.secrets import find_keys, mask_text
from mageguard.scan.config_sources import ConfigValues
from mageguard.scan.php.analyzer import PhpAnalyzer
from mageguard.scan.php.classindex import ClassIndex
from mageguard.scan.wiring import Wiring
from mageguard.scan.xmlfile import parse_xml

STORE = Path(__file__).parent.parent / "fixtures" / "magento-store"
PHP_SEEDS = sorted(p.read_bytes() for p in (STORE / "app/code/Lumen").rglob("*.php"))
XML_SEEDS = sorted(p.read_bytes() for p in (STORE / "app/code/Lumen").rglob("*.xml"))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "cut", "dup", "insert"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i : i + draw(st.integers(1, 200))]
        elif op == "dup":
            data[i:i] = data[i : i + draw(st.integers(1, 200))]
        else:
            data[i:i] = draw(
                st.sampled_from(
                    [
                        b"{",
                        b"}",
                        b"(",
                        b"$this->",
                        b"->post(",
                        b"'",
                        b'"',
                        b"<?php",
                        b"?>",
                        b"foreach ($a as $b) {",
                        b"function f() {",
                        b"\x00",
                        b"\xff\xfe",
                    ]
                )
            )
    return bytes(data)


def _analyze_php(source: bytes) -> None:
    index = ClassIndex(
        lambda rel: source if rel == "app/code/Fuzz/M/Model/X.php" else None,
        [("Fuzz\\M", "app/code/Fuzz/M")],
    )
    analyzer = PhpAnalyzer(index, Wiring(), ConfigValues())
    analyzer.run(["app/code/Fuzz/M/Model/X.php"], [])
    analyzer.facts("app/code/Fuzz/M", ai_unit=True)


@SETTINGS
@given(mutated(PHP_SEEDS))
def test_mutated_php_never_crashes_the_interpreter(source: bytes) -> None:
    _analyze_php(source)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_interpreter(source: bytes) -> None:
    _analyze_php(b"<?php " + source)


@SETTINGS
@given(mutated(XML_SEEDS))
def test_mutated_xml_parses_or_raises_input_error(source: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_xml(source, "fuzz.xml")


def test_xml_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    try:
        parse_xml(bomb, "bomb.xml")
    except InputError as exc:
        assert "entity" in str(exc).lower()
    else:
        raise AssertionError("entity declarations must be refused")


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_env_php_never_crashes(source: bytes) -> None:
    deployment.read(b"<?php return [" + source + b"];", "app/etc/env.php")


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_composer_lock_parses_or_raises_input_error(source: bytes) -> None:
    with contextlib.suppress(InputError):
        composer.package_facts(source, "composer.lock")


@SETTINGS
@given(st.text(max_size=3000))
def test_random_text_never_crashes_suppressions_keys_or_js(text: str) -> None:
    suppress.parse("x.php", text)
    list(find_keys(text))
    masked = mask_text(text)
    assert not list(find_keys(masked))
    js.js_facts(text.encode("utf-8", "replace"), "x.js", "", True)
