"""The token gate sorts files into AI, generic, key and suppression groups at read speed."""

from __future__ import annotations

from mageguard.catalog import load_catalog
from mageguard.scan.gate import AI, GENERIC, KEY, SUPPRESS, Gate, TokenSets

GATE = Gate(TokenSets.from_catalog(load_catalog()))


def test_an_ai_host_gates_and_matching_is_caseless() -> None:
    assert GATE.mask(b"$url = 'https://API.OpenAI.com/v1';") & AI


def test_generic_tokens_route_but_do_not_gate() -> None:
    mask = GATE.mask(b"$this->logger->info('x'); curl_init();")
    assert mask & GENERIC and not mask & AI


def test_key_tokens_are_case_sensitive() -> None:
    assert GATE.mask(b"'sk-proj-abc'") & KEY
    assert not GATE.mask(b"'SK-PROJ-ABC'") & KEY


def test_a_file_hitting_every_group_stops_early_without_error() -> None:
    data = b"api.openai.com logger sk-proj- mageguard:ignore x" * 100
    assert GATE.mask(data) == AI | GENERIC | KEY | SUPPRESS


def test_an_empty_file_has_no_mask() -> None:
    assert GATE.mask(b"") == 0


def test_the_token_digest_changes_with_the_tokens() -> None:
    a = TokenSets(ai=("x",), generic=(), key=())
    b = TokenSets(ai=("y",), generic=(), key=())
    assert a.digest() != b.digest()
