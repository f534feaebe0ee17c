"""DNS servers' logs: dnsmasq answers (CNAME chains attributed to the name asked for);
BIND and CoreDNS log queries only, which resolve nothing and are never flows."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit import flowdb
from mageguard.audit.ingest.dns import BindParser, CorednsParser, DnsmasqParser
from tests.audit.flowsupport import FIXTURES, flows, run


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def test_dnsmasq_answers_follow_the_cname_chain_to_the_name_asked_for() -> None:
    parser = DnsmasqParser()
    answers = [
        (r.host, r.answer, r.src, r.line)
        for n, line in enumerate(_lines("dnsmasq.log"), 1)
        for r in parser.parse(line, n)
        if r.answer
    ]
    assert answers == [
        ("api.openai.com", "162.159.140.245", "10.0.1.6", 4),
        ("api.openai.com", "172.66.0.243", "10.0.1.6", 5),
        ("repo.magento.com", "2a04:4e42::645", "10.0.1.6", 7),
    ]


def test_bind_and_coredns_queries_are_parsed_without_answers() -> None:
    bind = [
        r for n, line in enumerate(_lines("bind_query.log"), 1) for r in BindParser().parse(line, n)
    ]
    core = [
        r for n, line in enumerate(_lines("coredns.log"), 1) for r in CorednsParser().parse(line, n)
    ]
    assert [(r.host, r.src, r.answer) for r in bind] == [
        ("api.openai.com", "10.0.1.6", None),
        ("repo.magento.com", "10.0.1.6", None),
    ]
    legacy = "14-Mar-2012 10:00:00.000 client 10.0.1.9#4096: query: api.groq.com IN A + (10.0.0.1)"
    assert [(r.host, r.src) for r in BindParser().parse(legacy, 1)] == [
        ("api.groq.com", "10.0.1.9")
    ]
    assert [(r.host, r.src, r.answer) for r in core] == [
        ("api.anthropic.com", "10.0.1.6", None),
        ("repo.magento.com", "10.0.1.6", None),
    ]


def test_dns_logs_alone_are_no_flows_and_keep_only_ai_answers(tmp_path: Path) -> None:
    db = tmp_path / "flows.duckdb"
    logs = [FIXTURES / n for n in ("dnsmasq.log", "bind_query.log", "coredns.log")]
    result = run(logs, db)
    assert [s.format for s in result.sources] == ["dnsmasq", "bind", "coredns"]
    assert flows(db) == set()
    with flowdb.connect(db, read_only=True) as con:
        kept = con.execute("SELECT host, answer FROM records ORDER BY answer").fetchall()
    assert kept == [("api.openai.com", "162.159.140.245"), ("api.openai.com", "172.66.0.243")]
