"""The forward proxy: AI hosts and private destinations are refused with a 403 naming the
rule, allowed destinations are tunnelled (never decrypted), slow and excess clients are
cut off, and every decision is an audit event. Clients: curl, PHP's curl, httpx."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.debian import require
from tests.helpers.gateway import RunningGateway, audit_events, free_port, run_gateway, write_config

PAGE = b"hello from an allowed destination"


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate (curl -k)."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def http_site() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def proxied(tmp_path: Path, upstream: str, **egress: Any) -> Any:
    proxy_port = free_port()
    config = write_config(
        tmp_path,
        upstream,
        proxy={
            "listen": {"port": proxy_port},
            "header_timeout": 0.5,
            "max_connections": 4,
            "sources": [{"cidr": "127.0.0.0/8", "tenant": "acme"}],
        },
        egress=egress,
    )
    return run_gateway(config), proxy_port


@pytest.fixture
def proxy(tmp_path: Path, stub_upstream: Any) -> Iterator[tuple[RunningGateway, str]]:
    running, port = proxied(tmp_path, stub_upstream.url, allow_private=["127.0.0.1/32"])
    with running as gw:
        yield gw, f"http://127.0.0.1:{port}"


def proxy_events(gw: RunningGateway, which: Any, count: int) -> list[Any]:
    """The proxy records a connection's event when the connection has closed, which can
    be a moment after the client is done: wait for them."""
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in audit_events(gw, kind="proxy") if which(e)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def curl(proxy_url: str, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-sk", "-x", proxy_url, "-o", "-", "-w", "\n%{http_code}", *extra, url],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_ai_hosts_are_refused_with_the_rule_named(proxy: tuple[RunningGateway, str]) -> None:
    gw, url = proxy
    for target in (
        "https://api.openai.com/v1/models",
        "https://api.anthropic.com/v1/messages",
        "http://generativelanguage.googleapis.com/v1beta/models",
    ):
        result = curl(url, target, "--proxy-fail-on-code" if False else "-v")
        assert "403" in result.stderr + result.stdout
    r = httpx.get("http://api.openai.com/v1/models", proxy=url)
    assert r.status_code == 403
    assert r.headers["x-mageguard-rule"] == "ai_host:openai"
    assert "go through the mageguard gateway" in r.text
    events = proxy_events(gw, lambda e: True, 4)
    assert {e.detail["host"] for e in events} >= {"api.openai.com", "api.anthropic.com"}
    assert all(e.decision == "blocked" and e.tenant == "acme" for e in events)


def test_allowed_destinations_are_tunnelled_without_decryption(
    proxy: tuple[RunningGateway, str], https_site: int, http_site: int
) -> None:
    gw, url = proxy
    tls = curl(url, f"https://127.0.0.1:{https_site}/")
    assert tls.stdout.splitlines() == [PAGE.decode(), "200"]
    plain = curl(url, f"http://127.0.0.1:{http_site}/")
    assert plain.stdout.splitlines() == [PAGE.decode(), "200"]
    tunnel = curl(url, f"http://127.0.0.1:{http_site}/", "--proxytunnel")
    assert tunnel.stdout.splitlines() == [PAGE.decode(), "200"]
    with httpx.Client(proxy=url, verify=False) as client:
        assert client.get(f"https://127.0.0.1:{https_site}/").content == PAGE
    allowed = proxy_events(gw, lambda e: e.decision == "allowed", 4)
    assert all(e.bytes_in > 0 and e.bytes_out > len(PAGE) for e in allowed)
    assert {e.endpoint for e in allowed} == {"/proxy/connect", "/proxy/http"}


def test_php_curl_through_curlopt_proxy(proxy: tuple[RunningGateway, str], https_site: int) -> None:
    php = require("php", "php-cli", "php-curl")
    script = r"""
    foreach ([$argv[2], $argv[3]] as $target) {
        $ch = curl_init($target);
        curl_setopt_array($ch, [CURLOPT_PROXY => $argv[1], CURLOPT_RETURNTRANSFER => true,
            CURLOPT_SSL_VERIFYPEER => false, CURLOPT_SSL_VERIFYHOST => 0, CURLOPT_TIMEOUT => 10]);
        $body = curl_exec($ch);
        $out[] = ['ok' => $body !== false, 'code' => curl_getinfo($ch, CURLINFO_HTTP_CODE),
                  'connect' => curl_getinfo($ch, CURLINFO_HTTP_CONNECTCODE), 'body' => $body];
    }
    echo json_encode($out);
    """
    _gw, url = proxy
    result = subprocess.run(
        [
            php,
            "-r",
            script,
            url,
            "https://api.openai.com/v1/chat/completions",
            f"https://127.0.0.1:{https_site}/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    blocked, allowed = json.loads(result.stdout)
    assert blocked["ok"] is False and blocked["connect"] == 403
    assert allowed["body"] == PAGE.decode() and allowed["code"] == 200


def test_private_addresses_are_refused_unless_allowed(
    tmp_path: Path, stub_upstream: Any, http_site: int
) -> None:
    running, port = proxied(tmp_path, stub_upstream.url)
    with running:
        url = f"http://127.0.0.1:{port}"
        for target in (
            f"http://127.0.0.1:{http_site}/",
            f"http://localhost:{http_site}/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:80/",
        ):
            r = httpx.get(target, proxy=url)
            assert r.status_code == 403, target
            assert r.headers["x-mageguard-rule"] == "private_address"


def test_strict_mode_only_lets_the_allow_list_out(
    tmp_path: Path, stub_upstream: Any, http_site: int
) -> None:
    running, port = proxied(
        tmp_path,
        stub_upstream.url,
        mode="strict",
        allow=["127.0.0.1", "repo.magento.com"],
        allow_private=["127.0.0.1/32"],
    )
    with running:
        url = f"http://127.0.0.1:{port}"
        r = httpx.get("http://example.org/", proxy=url)
        assert (r.status_code, r.headers["x-mageguard-rule"]) == (403, "strict:not_allowed")
        assert httpx.get(f"http://127.0.0.1:{http_site}/", proxy=url).content == PAGE


def test_slow_and_excess_clients_are_cut_off(proxy: tuple[RunningGateway, str]) -> None:
    gw, url = proxy
    port = int(url.rsplit(":", 1)[1])
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"CONNECT api.example.com:443 HTTP/1.1\r\n")  # never finishes its headers
    slow.settimeout(5)
    started = time.monotonic()
    assert b"408" in slow.recv(200)
    assert time.monotonic() - started < 3
    slow.close()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    time.sleep(0.1)
    extra = socket.create_connection(("127.0.0.1", port))
    extra.settimeout(5)
    assert b"503" in extra.recv(200)
    for s in [*idle, extra]:
        s.close()
    time.sleep(0.7)  # the idle ones time out and free their slots
    assert httpx.get("http://api.openai.com/", proxy=url).status_code == 403
    proxy_events(gw, lambda e: e.reason == "ai_host:openai", 1)
    rules = {e.reason for e in audit_events(gw, kind="proxy")}
    assert {"bad_or_slow_request", "over_capacity", "ai_host:openai"} <= rules


def test_garbage_never_breaks_the_proxy(proxy: tuple[RunningGateway, str]) -> None:
    _gw, url = proxy
    port = int(url.rsplit(":", 1)[1])
    for junk in (
        b"\x00\xff\r\n\r\n",
        b"GET\r\n\r\n",
        b"CONNECT :\r\n\r\n",
        b"GET ftp://x/ HTTP/1.1\r\n\r\n",
        b"CONNECT " + b"a" * 300 + b":443 HTTP/1.1\r\n\r\n",
        b"X" * 20000,
    ):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.settimeout(5)
            s.sendall(junk)
            answer = s.recv(200)
            assert answer.startswith(b"HTTP/1.1 4"), junk[:30]
    assert httpx.get("http://api.openai.com/", proxy=url).status_code == 403


def test_clients_configured_only_by_https_proxy_in_their_environment(
    proxy: tuple[RunningGateway, str], https_site: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How PHP-FPM pools and CLI jobs are usually pointed at a proxy: the environment."""
    _gw, url = proxy
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": url, "HTTP_PROXY": url, "NO_PROXY": ""}
    refused = subprocess.run(
        [
            "curl",
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_connect}",
            "https://api.openai.com/v1/models",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert refused.stdout == "403"
    allowed = subprocess.run(
        ["curl", "-sk", f"https://127.0.0.1:{https_site}/"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert allowed.stdout == PAGE.decode()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with httpx.Client(verify=False, trust_env=True) as client:
        assert client.get(f"https://127.0.0.1:{https_site}/").content == PAGE
        with pytest.raises(httpx.ProxyError):
            client.get("https://api.anthropic.com/v1/messages")
