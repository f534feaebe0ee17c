"""Transparent interception: a module that hard-codes https://api.openai.com, with DNS for
that host pointed at the gateway and the interception CA trusted, gets its answer from the
tenant's local model through the full pipeline; the provider key it sent goes nowhere and
the audit event records the interception."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509

from mageguard.cli import app
from mageguard.egress import intercept
from tests.helpers.debian import require
from tests.helpers.gateway import KEYS, audit_events, free_port, run_gateway, write_config
from tests.helpers.services import unavailable

PROVIDER_KEY = "sk-proj-" + "A1b2C3d4" * 6
PHP_MODULE = r"""
$ch = curl_init($argv[1] . '/v1/chat/completions');
$opts = [
    CURLOPT_POST => true, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60,
    CURLOPT_CAINFO => $argv[2],
    CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Authorization: Bearer ' . $argv[3]],
    CURLOPT_POSTFIELDS => json_encode(['model' => 'gpt-4.1', 'max_tokens' => 24, 'messages' => [
        ['role' => 'user', 'content' => 'Write to jana.novak@example.org about LMN-TRAIL-42']]]),
];
if ($argv[4] !== '') { $opts[CURLOPT_RESOLVE] = [$argv[4]]; }
curl_setopt_array($ch, $opts);
$body = curl_exec($ch);
echo json_encode(['error' => curl_error($ch), 'status' => curl_getinfo($ch, CURLINFO_HTTP_CODE),
                  'body' => json_decode((string) $body, true)]);
"""


def test_init_writes_a_ca_and_a_certificate_per_ai_host(tmp_path: Path) -> None:
    files = intercept.init(
        tmp_path / "ca", ["api.openai.com", "*.openai.azure.com", "bedrock-runtime.*.amazonaws.com"]
    )
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    ca = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf_pem, _ = files.leaf("api.openai.com")
    leaf = x509.load_pem_x509_certificate(leaf_pem.read_bytes())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["api.openai.com"]
    leaf.verify_directly_issued_by(ca)
    assert files.leaf("*.openai.azure.com")[0].exists()
    assert not any("bedrock" in p.name for p in (tmp_path / "ca" / "hosts").iterdir())
    again = intercept.init(tmp_path / "ca", ["api.openai.com"])  # the CA is kept
    assert again.cert.read_bytes() == files.cert.read_bytes()


def test_the_cli_renders_hosts_entries(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    result = CliRunner().invoke(
        app, ["intercept", "hosts", "--config", str(config), "--address", "10.0.0.2"]
    )
    assert result.exit_code == 0
    assert "10.0.0.2 api.openai.com" in result.output
    assert "# needs a DNS override: *.openai.azure.com" in result.output
    made = CliRunner().invoke(app, ["intercept", "init", "--config", str(config)])
    assert made.exit_code == 0 and (tmp_path / "data" / "intercept-ca" / "ca.pem").exists()


def _config(tmp_path: Path, upstream: str, host: str, port: int, **extra: Any) -> Path:
    ca_dir = tmp_path / "ca"
    intercept.init(ca_dir, ["api.openai.com", "api.anthropic.com"])
    return write_config(
        tmp_path,
        upstream,
        intercept={"listen": {"host": host, "port": port}, "ca_dir": str(ca_dir), "tenant": "acme"},
        **extra,
    )


def php_module(base: str, ca: Path, resolve: str = "", netns: str | None = None) -> dict[str, Any]:
    php = require("php", "php-cli", "php-curl")
    command = [php, "-r", PHP_MODULE, base, str(ca), PROVIDER_KEY, resolve]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return dict(json.loads(out.stdout))


def test_a_hard_coded_openai_call_is_answered_by_the_pipeline(
    tmp_path: Path, stub_upstream: Any
) -> None:
    port = free_port()
    with run_gateway(_config(tmp_path, stub_upstream.url, "127.0.0.1", port)) as gw:
        reply = php_module(
            f"https://api.openai.com:{port}",
            tmp_path / "ca" / "ca.pem",
            resolve=f"api.openai.com:{port}:127.0.0.1",
        )
        assert reply["status"] == 200, reply
        assert reply["body"]["choices"][0]["message"]["content"] == (
            "echo: Write to jana.novak@example.org about LMN-TRAIL-42"
        )
        (event,) = audit_events(gw)
    seen = json.dumps(stub_upstream.requests) + json.dumps(
        [r.headers for r in stub_upstream.recorded]
    )
    assert PROVIDER_KEY not in seen and "jana.novak" not in seen
    assert stub_upstream.requests[-1]["model"] == "local-model"
    assert (
        event.tenant,
        event.backend,
        event.detail["intercepted"],
        event.detail["asked_model"],
    ) == ("acme", "local", "api.openai.com", "gpt-4.1")


def test_the_interception_marker_cannot_be_forged(tmp_path: Path, stub_upstream: Any) -> None:
    import httpx

    port = free_port()
    with run_gateway(_config(tmp_path, stub_upstream.url, "127.0.0.1", port)) as gw:
        r = httpx.post(
            f"{gw.url}/v1/chat/completions",
            headers={"x-mageguard-intercept": "guess;tenant=acme;host=api.openai.com"},
            json={"model": "local-model", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert r.status_code == 401
        assert stub_upstream.requests == []
        key_still_works = gw.openai(KEYS["acme"]).models.list()
        assert key_still_works.data


@pytest.fixture
def magento_netns(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A "magento" network namespace joined to this one by a veth pair; its /etc/hosts
    sends api.openai.com to the gateway's address on the pair."""
    if os.geteuid() != 0:
        unavailable("network namespaces need root")
    require("ip", "iproute2")
    name = f"mgmag{secrets.token_hex(3)}"
    host_if, ns_if = f"{name}h", f"{name}n"
    third = 100 + secrets.randbelow(100)
    gateway_ip, magento_ip = f"10.213.{third}.1", f"10.213.{third}.2"
    hosts_dir = Path("/etc/netns") / name
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    try:
        run("ip", "netns", "add", name)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        run("ip", "link", "set", ns_if, "netns", name)
        run("ip", "addr", "add", f"{gateway_ip}/24", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        run("ip", "netns", "exec", name, "ip", "addr", "add", f"{magento_ip}/24", "dev", ns_if)
        run("ip", "netns", "exec", name, "ip", "link", "set", ns_if, "up")
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        hosts_dir.mkdir(parents=True, exist_ok=True)
        (hosts_dir / "hosts").write_text(
            "127.0.0.1 localhost\n" + intercept.hosts_lines(gateway_ip, ["api.openai.com"])
        )
        yield name, gateway_ip
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(hosts_dir, ignore_errors=True)


def test_php_in_a_magento_namespace_reaches_the_local_model_on_port_443(
    tmp_path: Path, magento_netns: tuple[str, str], stub_upstream: Any
) -> None:
    """The issue's end-to-end proof: nothing in the module changes but DNS and the CA
    bundle; the real embedded model answers."""
    netns, gateway_ip = magento_netns
    config = _config(
        tmp_path,
        stub_upstream.url,
        gateway_ip,
        443,
        backends=[{"id": "local", "kind": "llama", "models": ["smollm2-135m-instruct"]}],
        tenants=[
            {
                "id": "acme",
                "keys": [{"id": "web", "sha256": "0" * 64}],
                "routes": {"default": ["local"]},
            }
        ],
        admin_keys=[],
    )
    with run_gateway(config) as gw:
        reply = php_module("https://api.openai.com", tmp_path / "ca" / "ca.pem", netns=netns)
        assert reply["status"] == 200, reply
        assert reply["body"]["model"] == "smollm2-135m-instruct"
        assert reply["body"]["choices"][0]["message"]["content"].strip()
        (event,) = audit_events(gw)
    assert event.detail["intercepted"] == "api.openai.com" and event.locality == "local"
    assert event.entities == {"EMAIL": 1}
