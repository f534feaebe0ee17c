"""Format detection from a file's first lines, one case per format; `--format` wins;
a file no format reads is an error naming the choices."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from mageguard.audit.ingest.plan import plan
from mageguard.audit.store import AuditStore
from mageguard.errors import InputError
from tests.audit.flowsupport import FIXTURES, real
from tests.helpers.data import shared_data

SHARED = {
    "logs_apache_combined/apache_logs.log": "nginx",
    "logs_squid_sample/squid_access.log": "squid",
    "logs_zeek_wrccdc/ssl.log.gz": "zeek-ssl",
    "logs_zeek_wrccdc/dns.log.gz": "zeek-dns",
    "logs_zeek_wrccdc/conn_sample.log": "zeek-conn",
    "logs_vpc_flow_examples/vpc_flow_examples.txt": "vpc-flow",
}
OWN = {
    "envoy_access.jsonl": "envoy",
    "dnsmasq.log": "dnsmasq",
    "bind_query.log": "bind",
    "coredns.log": "coredns",
}


@pytest.mark.parametrize(("relative", "expected"), sorted(SHARED.items()))
def test_real_logs_are_detected(relative: str, expected: str) -> None:
    assert plan([str(shared_data() / relative)], "auto")[0].format == expected


@pytest.mark.parametrize(("name", "expected"), sorted(OWN.items()))
def test_fixture_logs_are_detected(name: str, expected: str) -> None:
    assert plan([str(FIXTURES / name)], "auto")[0].format == expected


def test_vpc_v5_with_its_header_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "v5.log"
    log.write_text("\n".join(real("logs_vpc_flow_examples/vpc_flow_examples.txt")[22:]) + "\n")
    assert plan([str(log)], "auto")[0].format == "vpc-flow"


def test_a_common_log_format_line_is_detected_as_nginx(tmp_path: Path) -> None:
    log = tmp_path / "common.log"
    log.write_text(
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326\n'
    )
    assert plan([str(log)], "auto")[0].format == "nginx"


def test_zeek_json_logs_are_detected_by_their_fields(tmp_path: Path) -> None:
    log = tmp_path / "conn.json"
    log.write_text('{"ts": 1.5, "uid": "C1", "id.orig_h": "10.0.0.1", "conn_state": "SF"}\n')
    assert plan([str(log)], "auto")[0].format == "zeek-conn"


def test_a_gateway_audit_store_is_detected_by_its_magic(tmp_path: Path) -> None:
    with AuditStore.open(str(tmp_path / "a.db"), tmp_path / "k", tmp_path / "w"):
        pass
    assert plan([str(tmp_path / "a.db")], "auto")[0].format == "gateway-audit"


def test_gzip_is_recognised_by_its_magic_not_its_name(tmp_path: Path) -> None:
    log = tmp_path / "access.log"  # no .gz
    log.write_bytes(gzip.compress((FIXTURES / "coredns.log").read_bytes()))
    item = plan([str(log)], "auto")[0]
    assert (item.format, item.log is not None and item.log.compressed) == ("coredns", True)


def test_format_option_overrides_detection() -> None:
    assert plan([str(FIXTURES / "coredns.log")], "squid")[0].format == "squid"


def test_unknown_format_name_and_unreadable_content_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format 'iis'"):
        plan([str(FIXTURES / "coredns.log")], "iis")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="unknown log format"):
        plan([str(garbage)], "auto")
