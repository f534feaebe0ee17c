"""The generated gateway configuration listens where the store is pointed and lets the
egress rules reach the gateway by address; a name that does not resolve leaves the rules
out rather than shutting the gateway out."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from mageguard.catalog import load_catalog
from mageguard.fix.egress_plan import EGRESS_DIR, egress_files
from mageguard.fix.gateway_plan import PROXY_PORT, gateway_config


def _config(url: str) -> tuple[str, dict[str, Any]]:
    text = gateway_config(
        tenants=[("base", "Main Website")],
        keys={"base": {"default": "mg-test-key-0123456789abcdef"}},
        providers=[],
        found_categories=["pricing"],
        catalog=load_catalog(),
        gateway_url=url,
    )
    return text, yaml.safe_load(text)


@pytest.mark.parametrize(
    ("url", "listen", "gateway"),
    [
        ("http://127.0.0.1:8088", ("127.0.0.1", 8088), "127.0.0.1"),
        ("https://localhost", ("127.0.0.1", 443), "127.0.0.1"),
        ("http://10.0.9.9:9000/mageguard", ("0.0.0.0", 9000), "10.0.9.9"),
    ],
)
def test_the_gateway_listens_and_is_reachable_where_the_store_points(
    url: str, listen: tuple[str, int], gateway: str
) -> None:
    _, doc = _config(url)
    assert (doc["listen"]["host"], doc["listen"]["port"]) == listen
    assert doc["egress"]["gateway"] == {
        "address": gateway,
        "port": listen[1],
        "proxy_port": PROXY_PORT,
    }


def test_a_gateway_name_is_resolved_for_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, *args: object, **kwargs: object) -> list[Any]:
        assert host == "gw.shop.internal"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    _, doc = _config("http://gw.shop.internal:8088")
    assert doc["egress"]["gateway"]["address"] == "10.1.2.3"


def test_a_gateway_name_that_does_not_resolve_renders_no_rules(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def fail(*args: object, **kwargs: object) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    text, doc = _config("http://gw.shop.internal:8088")
    assert "gateway" not in doc["egress"]
    assert egress_files(text, tmp_path) == {}


def test_rules_for_a_gateway_address_open_its_api_and_proxy(tmp_path: Path) -> None:
    text, _ = _config("http://10.0.9.9:8088")
    nft = egress_files(text, tmp_path)[f"{EGRESS_DIR}/nftables.nft"].decode()
    assert "ip daddr 10.0.9.9 tcp dport 8088" in nft
    assert f"ip daddr 10.0.9.9 tcp dport {PROXY_PORT}" in nft
