"""nginx/Apache combined logs (the real elastic/examples log): a CONNECT, an absolute URL
and an upstream that is an AI host are flows; a referer or path that merely mentions an
AI host is not; an upstream that is the gateway makes the flow go through it."""

from __future__ import annotations

from pathlib import Path

from tests.audit.flowsupport import flow_lines, flows, inject, real, run

UA = '"-" "php-curl/8.2"'
T = "[17/May/2015:10:0{}:00 +0000]"
CONNECT = f'10.0.2.5 - - {T.format(6)} "CONNECT api.openai.com:443 HTTP/1.1" 200 4000 {UA}'
ABSOLUTE = (
    f"10.0.2.6 - - {T.format(7)} "
    f'"POST https://api.cohere.ai/v1/chat?email=jane@example.com HTTP/1.1" 200 90 {UA}'
)
UPSTREAM = (
    f'10.0.2.7 - - {T.format(8)} "POST /v1/messages HTTP/1.1" 200 1200 {UA} "api.anthropic.com:443"'
)
VIA_GATEWAY = (
    f'10.0.2.8 - - {T.format(9)} "POST /v1/messages HTTP/1.1" 200 1200 {UA} "10.0.9.9:8088"'
)
DECOY = (
    '83.149.9.216 - - [17/May/2015:10:10:00 +0000] "GET /blog/openai.com-review HTTP/1.1" 200 10 '
    '"https://openai.com/blog" "Mozilla/5.0"'
)


def test_egress_lines_in_a_real_apache_log_are_exactly_the_injected_flows(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    lines = inject(
        real("logs_apache_combined/apache_logs.log"),
        [(10, CONNECT), (2000, ABSOLUTE), (5000, UPSTREAM), (7000, DECOY)],
        log,
    )
    db = tmp_path / "flows.duckdb"
    result = run([log], db)
    assert result.sources[0].format == "nginx"
    assert result.sources[0].records == 10_004
    assert flows(db) == {
        ("10.0.2.5", "api.openai.com", "openai", False),
        ("10.0.2.6", "api.cohere.ai", "cohere", False),
        ("10.0.2.7", "api.anthropic.com", "anthropic", False),
    }
    assert flow_lines(db) == {
        ("api.openai.com", "access.log", lines[CONNECT]),
        ("api.cohere.ai", "access.log", lines[ABSOLUTE]),
        ("api.anthropic.com", "access.log", lines[UPSTREAM]),
    }


def test_a_request_for_an_ai_host_sent_to_the_gateway_went_through_it(tmp_path: Path) -> None:
    line = VIA_GATEWAY.replace("/v1/messages", "https://api.anthropic.com/v1/messages")
    log = tmp_path / "access.log"
    inject(real("logs_apache_combined/apache_logs.log")[:100], [(50, line)], log)
    db = tmp_path / "flows.duckdb"
    run([log], db, gateways=["10.0.9.9:8088"])
    assert flows(db) == {("10.0.2.8", "api.anthropic.com", "anthropic", True)}


def test_query_strings_never_reach_the_store(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    inject([], [(0, ABSOLUTE)], log)
    db = tmp_path / "flows.duckdb"
    run([log], db)
    from mageguard.audit import flowdb

    with flowdb.connect(db, read_only=True) as con:
        texts = [r[0] for r in con.execute("SELECT text FROM records").fetchall()]
    assert texts == [ABSOLUTE.replace("?email=jane@example.com", "")]
