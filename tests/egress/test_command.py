"""`mageguard egress render`: the gateway configuration's `egress` section in, a target's
text on standard output (or --output), warnings on standard error, exit 2 for a bad
configuration or option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mageguard.cli import app
from tests.egress.conftest import POLICY
from tests.helpers.gateway import write_config

EGRESS = {k: v for k, v in POLICY.items() if k != "resolvers"}  # not in the schema yet


def config(tmp_path: Path, **egress: Any) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:9", egress={**EGRESS, **egress})


def render(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["egress", "render", *args], env=env)


def test_nftables_from_the_gateway_configuration(tmp_path: Path) -> None:
    result = render("--target", "nftables", "--config", str(config(tmp_path)), "--no-resolve")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("#!/usr/sbin/nft -f\n")
    assert 'ip daddr 10.0.0.5 tcp dport 3128 counter accept comment "mageguard:gateway-proxy"' in (
        result.stdout
    )
    assert "warning: *.paypal.com: a wildcard has no addresses" in result.stderr


def test_the_refresh_target_prints_set_commands(tmp_path: Path) -> None:
    result = render("--target", "nftables-sets", "--config", str(config(tmp_path, allow=[])))
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if not line.startswith("#")] == [
        "flush set inet mageguard allowed_v4",
        "flush set inet mageguard allowed_v6",
    ]


def test_kubernetes_to_a_file_with_selector_and_namespace(tmp_path: Path) -> None:
    out = tmp_path / "netpol.yaml"
    args = ["--target", "kubernetes", "--config", str(config(tmp_path)), "--no-resolve"]
    result = render(*args, "--selector", "app=shop", "--namespace", "web", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    doc = yaml.safe_load(out.read_text())
    assert doc["metadata"]["namespace"] == "web"
    assert doc["spec"]["podSelector"] == {"matchLabels": {"app": "shop"}}


def test_options_come_from_the_environment_too(tmp_path: Path) -> None:
    env = {
        "MAGEGUARD_EGRESS_TARGET": "cilium",
        "MAGEGUARD_GATEWAY_CONFIG": str(config(tmp_path)),
        "MAGEGUARD_EGRESS_NAMESPACE": "web",
    }
    result = render(env=env)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["kind"] == "CiliumNetworkPolicy"


def test_without_a_configuration_the_default_policy_is_rendered_with_a_warning() -> None:
    result = render("--target", "squid")
    assert result.exit_code == 0, result.output
    assert "ssl_bump peek step1" in result.stdout
    assert "egress.gateway is not set" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "iptables"], "'iptables' is not one of"),
        (["--target", "kubernetes", "--selector", "app"], "--selector: 'app'"),
        (["--target", "nftables", "--hook", "forward", "--no-resolve"], "magento_hosts"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = render(*args, "--config", str(config(tmp_path, magento_hosts=[])))
    assert result.exit_code == 2
    assert message in result.output


def test_a_bad_egress_section_exits_2_naming_it(tmp_path: Path) -> None:
    path = config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["egress"]["gateway"] = {"port": 8088}
    path.write_text(yaml.safe_dump(raw))
    result = render("--target", "nftables", "--config", str(path))
    assert result.exit_code == 2
    assert "address" in result.output
