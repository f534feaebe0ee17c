"""AWS VPC flow logs v2 (positional) and v3/v5 (header line), the AWS guide's real
examples as background: a record to an address that a DNS answer (dnsmasq) resolved an AI
host to is an AI flow; REJECT records and records before the answer's window are not."""

from __future__ import annotations

from pathlib import Path

from tests.audit.flowsupport import flow_lines, flows, incidents, inject, real, run

# v2 default: version account eni src dst sport dport proto packets bytes start end action status
V2_AI = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 104.18.33.45 49152 "
    "443 6 20 8000 1418530100 1418530160 ACCEPT OK"
)
V2_REJECT = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.140 104.18.33.45 49153 "
    "443 6 2 120 1418530100 1418530160 REJECT OK"
)
V2_BEFORE = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.141 104.18.33.45 49154 "
    "443 6 2 120 1418400000 1418400060 ACCEPT OK"
)
# after the examples' own v5 header line
V5_AI = (
    "5 10.0.0.71 160.79.104.10 34211 443 6 1616729292 1616729349 IPv4 7 2500 "
    "123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
    "i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - "
    "ACCEPT 3 10.0.0.71 160.79.104.10 - - 8 egress OK"
)

DNSMASQ = [
    "Dec 14 04:08:00 gw dnsmasq[311]: query[A] api.openai.com from 172.31.16.139",
    "Dec 14 04:08:00 gw dnsmasq[311]: forwarded api.openai.com to 1.1.1.1",
    "Dec 14 04:08:00 gw dnsmasq[311]: reply api.openai.com is <CNAME>",
    "Dec 14 04:08:00 gw dnsmasq[311]: reply api.openai.com.cdn.cloudflare.net is 104.18.33.45",
    "Dec 14 04:08:01 gw dnsmasq[311]: query[A] repo.magento.com from 172.31.16.139",
    "Dec 14 04:08:01 gw dnsmasq[311]: reply repo.magento.com is 151.101.1.1",
]


def test_vpc_records_to_an_address_resolved_from_an_ai_host_are_exactly_the_flows(
    tmp_path: Path,
) -> None:
    background = real("logs_vpc_flow_examples/vpc_flow_examples.txt")
    vpc = tmp_path / "vpc.log"
    lines = inject(background, [(1, V2_AI), (2, V2_REJECT), (3, V2_BEFORE), (23, V5_AI)], vpc)
    answers = tmp_path / "anthropic.json"
    answers.write_text(
        '{"ts": 1616729000.0, "uid": "C1", "id.orig_h": "10.0.0.71", "id.orig_p": 1, '
        '"id.resp_h": "10.0.0.2", "id.resp_p": 53, "query": "api.anthropic.com", '
        '"qtype_name": "A", "answers": ["160.79.104.10"]}\n'
    )
    db = tmp_path / "flows.duckdb"
    result = run([vpc, answers], db)
    assert [s.format for s in result.sources] == ["vpc-flow", "zeek-dns"]
    assert flows(db) == {("10.0.0.71", "api.anthropic.com", "anthropic", False)}
    assert ("api.anthropic.com", "vpc.log", lines[V5_AI]) in flow_lines(db)


def test_a_dnsmasq_cname_chain_resolves_a_v2_vpc_flow(tmp_path: Path) -> None:
    vpc = tmp_path / "vpc.log"
    background = real("logs_vpc_flow_examples/vpc_flow_examples.txt")[:7]
    lines = inject(background, [(1, V2_AI), (2, V2_REJECT), (3, V2_BEFORE)], vpc)
    dns = tmp_path / "dnsmasq.log"
    # the same answer, written with the ISO timestamps rsyslog uses
    dns.write_text(
        "\n".join(
            line.replace("Dec 14 04:08:00", "2014-12-14T04:08:00+00:00").replace(
                "Dec 14 04:08:01", "2014-12-14T04:08:01+00:00"
            )
            for line in DNSMASQ
        )
        + "\n"
    )
    db = tmp_path / "flows.duckdb"
    result = run([dns, vpc], db)
    assert [s.format for s in result.sources] == ["dnsmasq", "vpc-flow"]
    assert flows(db) == {("172.31.16.139", "api.openai.com", "openai", False)}
    assert flow_lines(db) == {
        ("api.openai.com", "vpc.log", lines[V2_AI]),
        ("api.openai.com", "dnsmasq.log", 4),
    }
    assert incidents(db) == {("bypass", "172.31.16.139", "api.openai.com", "critical")}
