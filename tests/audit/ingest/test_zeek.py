"""Zeek ssl, dns and conn logs, TSV (the real WRCCDC 2018 logs) and JSON: an SNI names
the AI host; a conn names an address that a DNS answer makes an AI host, or shares its
uid with an ssl row (one connection, counted once)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.flowsupport import flow_lines, flows, incidents, inject, real, run

T = "\t"
SSL = T.join(
    ["1521911800.100000", "CAIanth0001", "10.47.1.20", "51000", "160.79.104.10", "443",
     "TLSv13", "TLS_AES_128_GCM_SHA256", "x25519", "api.anthropic.com", "F", "-", "h2", "T",
     "CsxknGIti", "(empty)", "(empty)", "-", "-"]
)  # fmt: skip
DNS = T.join(
    ["1521911900.000000", "CdnsAI0001", "10.47.1.30", "53001", "10.0.0.100", "53", "udp",
     "4242", "0.010000", "api.openai.com", "1", "C_INTERNET", "1", "A", "0", "NOERROR", "F",
     "F", "T", "T", "0", "api.openai.com.cdn.cloudflare.net,162.159.140.245", "60.0,60.0", "F"]
)  # fmt: skip


def conn(ts: str, uid: str, src: str, dst: str, sent: str, state: str = "SF") -> str:
    return T.join(
        [ts, uid, src, "53002", dst, "443", "tcp", "ssl", "1.5", sent, "9000", state, "-", "-",
         "0", "ShADadFf", "10", "4500", "10", "9500", "-"]
    )  # fmt: skip


CONN_DNS = conn("1521911905.000000", "CconnAI001", "10.47.1.30", "162.159.140.245", "4096")
CONN_EARLY = conn("1521911000.000000", "CconnAI002", "10.47.1.31", "162.159.140.245", "10")
CONN_SSL = conn("1521911801.000000", "CAIanth0001", "10.47.1.20", "160.79.104.10", "2048")
CONN_REFUSED = conn("1521911906.0", "CconnAI003", "10.47.1.32", "162.159.140.245", "0", "REJ")


def test_sni_dns_and_conn_in_real_zeek_logs_give_exactly_the_injected_flows(
    tmp_path: Path,
) -> None:
    ssl, dns, conn_log = tmp_path / "ssl.log", tmp_path / "dns.log", tmp_path / "conn.log"
    ssl_lines = inject(real("logs_zeek_wrccdc/ssl.log.gz"), [(5000, SSL)], ssl)
    dns_lines = inject(real("logs_zeek_wrccdc/dns.log.gz"), [(9000, DNS)], dns)
    conn_lines = inject(
        real("logs_zeek_wrccdc/conn_sample.log"),
        [(20, CONN_DNS), (30, CONN_EARLY), (40, CONN_SSL), (50, CONN_REFUSED)],
        conn_log,
    )
    db = tmp_path / "flows.duckdb"
    result = run([ssl, dns, conn_log], db)
    assert [s.format for s in result.sources] == ["zeek-ssl", "zeek-dns", "zeek-conn"]
    assert flows(db) == {
        ("10.47.1.20", "api.anthropic.com", "anthropic", False),
        ("10.47.1.30", "api.openai.com", "openai", False),
    }
    assert flow_lines(db) == {
        ("api.anthropic.com", "conn.log", conn_lines[CONN_SSL]),
        ("api.openai.com", "conn.log", conn_lines[CONN_DNS]),
        ("api.openai.com", "dns.log", dns_lines[DNS]),  # why the address is openai's
    }
    assert ssl_lines[SSL] == 5001
    assert incidents(db) == {
        ("bypass", "10.47.1.20", "api.anthropic.com", "critical"),
        ("bypass", "10.47.1.30", "api.openai.com", "critical"),
    }


def test_an_sni_alone_is_a_flow_without_bytes(tmp_path: Path) -> None:
    ssl = tmp_path / "ssl.log"
    inject(real("logs_zeek_wrccdc/ssl.log.gz"), [(100, SSL)], ssl)
    db = tmp_path / "flows.duckdb"
    run([ssl], db)
    assert flows(db) == {("10.47.1.20", "api.anthropic.com", "anthropic", False)}


def test_zeek_json_lines_are_read_like_tsv(tmp_path: Path) -> None:
    ssl = tmp_path / "ssl.json"
    dns = tmp_path / "dns.json"
    conn_log = tmp_path / "conn.json"
    ssl.write_text(
        json.dumps({"ts": "2024-05-01T10:00:00.000Z", "uid": "Cj1", "id.orig_h": "10.1.1.1",
                    "id.orig_p": 4000, "id.resp_h": "160.79.104.10", "id.resp_p": 443,
                    "server_name": "api.anthropic.com", "established": True}) + "\n"
        + json.dumps({"ts": 1714557600.5, "uid": "Cj2", "id.orig_h": "10.1.1.2",
                      "id.orig_p": 4001, "id.resp_h": "93.184.216.34", "id.resp_p": 443,
                      "server_name": "example.com"}) + "\n"
    )  # fmt: skip
    dns.write_text(
        json.dumps({"ts": 1714557000.0, "uid": "Cd1", "id.orig_h": "10.1.1.3", "id.orig_p": 5,
                    "id.resp_h": "10.0.0.2", "id.resp_p": 53, "query": "api.mistral.ai",
                    "qtype_name": "A", "answers": ["51.159.1.1"], "TTLs": [60.0]}) + "\n"
    )  # fmt: skip
    conn_log.write_text(
        json.dumps({"ts": 1714557010.0, "uid": "Cc1", "id.orig_h": "10.1.1.3", "id.orig_p": 6,
                    "id.resp_h": "51.159.1.1", "id.resp_p": 443, "proto": "tcp",
                    "orig_bytes": 777, "conn_state": "SF"}) + "\n"
    )  # fmt: skip
    db = tmp_path / "flows.duckdb"
    result = run([ssl, dns, conn_log], db)
    assert [s.format for s in result.sources] == ["zeek-ssl", "zeek-dns", "zeek-conn"]
    assert flows(db) == {
        ("10.1.1.1", "api.anthropic.com", "anthropic", False),
        ("10.1.1.3", "api.mistral.ai", "mistral", False),
    }
