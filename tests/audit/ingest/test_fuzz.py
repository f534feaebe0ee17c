"""Garbage never crashes a parser and is never a Flow: random text, and real lines
mutated byte by byte, for every format."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mageguard.audit.ingest.formats import PARSERS, parser
from tests.audit.flowsupport import FIXTURES, flows, run

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [
    line
    for name in ("envoy_access.jsonl", "dnsmasq.log", "bind_query.log", "coredns.log")
    for line in (FIXTURES / name).read_text().splitlines()
] + [
    '10.0.2.5 - - [17/May/2015:10:06:00 +0000] "CONNECT api.openai.com:443 HTTP/1.1" 200 4 "-" "-"',
    (
        "1677971741.100  1234 10.0.1.5 TCP_TUNNEL/200 5120 CONNECT "
        "api.openai.com:443 - HIER_DIRECT/1.2.3.4 -"
    ),
    (
        "2 123456789010 eni-1 172.31.16.139 104.18.33.45 49152 443 6 20 8000 "
        "1418530100 1418530160 ACCEPT OK"
    ),
    "1521911800.1\tC1\t10.47.1.20\t51000\t160.79.104.10\t443\tTLSv13\tx\tx\tapi.anthropic.com\tF\t-\th2\tT\tC\t-\t-\t-\t-",
]
line_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r"), max_size=300
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    chars = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(["flip", "cut", "dup"]))
        if op == "flip":
            chars[i] = draw(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r"))
        elif op == "cut":
            del chars[i : i + draw(st.integers(1, 40))]
        else:
            chars[i:i] = chars[i : i + draw(st.integers(1, 40))]
    return "".join(chars)


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), st.one_of(line_text, mutated()))
def test_no_parser_raises_on_garbage(name: str, text: str) -> None:
    p = parser(name)
    p.prime(["#fields\tts\tuid\tid.orig_h"])
    for record in p.parse(text, 1):
        assert record.line == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PARSERS)), st.lists(line_text, min_size=1, max_size=20))
def test_random_text_is_never_a_flow(name: str, lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "garbage.log"
        log.write_text("\n".join(lines) + "\n", "utf-8")
        db = Path(tmp) / "flows.duckdb"
        run([log], db, fmt=name)
        assert flows(db) == set()
