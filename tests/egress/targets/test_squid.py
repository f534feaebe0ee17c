"""The Squid config: names decided twice (request and TLS SNI, peeked, never decrypted)
in the policy's own order, and a config the real Squid (OpenSSL build) parses."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mageguard.egress.plan import build_plan
from mageguard.egress.policy import EgressPolicy
from mageguard.egress.targets import squid
from mageguard.egress.targets.squid import SquidFiles, domains
from tests.egress.conftest import make_policy, require_root
from tests.helpers.debian import ROOT, require
from tests.helpers.services import unavailable


def render(policy: EgressPolicy, cert: str = "/etc/squid/mageguard-bump.pem") -> str:
    plan = build_plan(policy, None, allow_addresses=False)
    return squid.config(plan, files=SquidFiles(tls_cert=cert))


def directives(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + " ")]


def test_exact_names_stay_and_leading_wildcards_become_squid_domains() -> None:
    assert domains(["api.openai.com", "*.openai.azure.com"]) == (
        [".openai.azure.com", "api.openai.com"],
        [],
    )


def test_names_covered_by_a_listed_domain_are_dropped_squid_refuses_both() -> None:
    assert domains(["commerce.adobe.io", "*.commerce.adobe.io", "a.b.commerce.adobe.io"]) == (
        [".commerce.adobe.io"],
        [],
    )


def test_inner_wildcards_become_anchored_regexes_of_one_or_more_labels() -> None:
    plain, regexes = domains(["bedrock-runtime.*.amazonaws.com", "*-aiplatform.googleapis.com"])
    assert plain == []
    assert regexes == [
        r"^[a-z0-9-]+(\.[a-z0-9-]+)*-aiplatform\.googleapis\.com$",
        r"^bedrock-runtime\.[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$",
    ]


def test_access_follows_the_policys_order_deny_doh_allow_ai_then_the_mode(
    policy: EgressPolicy,
) -> None:
    assert directives(render(policy), "http_access")[4:] == [
        "http_access deny !magento",
        "http_access deny mageguard_deny",
        "http_access deny mageguard_doh",
        "http_access allow mageguard_allow",
        "http_access deny mageguard_ai",
        "http_access deny mageguard_ai_re",
        "http_access allow magento",
        "http_access deny all",
    ]


def test_tls_is_peeked_then_spliced_or_terminated_by_sni(policy: EgressPolicy) -> None:
    assert directives(render(policy), "ssl_bump") == [
        "ssl_bump peek step1",
        "ssl_bump terminate mageguard_deny_sni",
        "ssl_bump terminate mageguard_doh_sni",
        "ssl_bump splice mageguard_allow_sni",
        "ssl_bump terminate mageguard_ai_sni",
        "ssl_bump terminate mageguard_ai_sni_re",
        "ssl_bump splice all",
    ]


def test_strict_mode_refuses_what_the_allow_list_does_not_name() -> None:
    text = render(make_policy(mode="strict"))
    assert directives(text, "http_access")[-2:] == ["http_access deny all", "http_access deny all"]
    assert directives(text, "ssl_bump")[-1] == "ssl_bump terminate all"
    assert "http_access allow magento" not in text


def test_every_catalog_ai_host_is_refused_by_name_and_by_sni(policy: EgressPolicy) -> None:
    text = render(policy)
    for host in ("api.openai.com", ".openai.azure.com", "api.anthropic.com"):
        assert f"acl mageguard_ai dstdomain -n {host}" in text
        assert f"acl mageguard_ai_sni ssl::server_name {host}" in text
    assert "acl mageguard_deny dstdomain -n api.example-ai.com" in text


def test_doh_endpoints_come_from_the_data_file(policy: EgressPolicy) -> None:
    assert "dns.google" in squid.doh_hosts()
    assert "acl mageguard_doh_sni ssl::server_name dns.google" in render(policy)


def test_sources_resolvers_and_port_come_from_the_policy(policy: EgressPolicy) -> None:
    text = render(policy)
    assert directives(text, "acl magento") == ["acl magento src 10.0.1.0/24 fd00:1::/64"]
    assert directives(text, "dns_nameservers") == ["dns_nameservers 10.0.0.53"]
    assert directives(text, "http_port")[0].startswith("http_port 3128 ssl-bump ")


def test_without_magento_hosts_only_localhost_may_use_it() -> None:
    text = render(EgressPolicy())
    assert directives(text, "acl magento") == ["acl magento src 127.0.0.1/32 ::1"]
    assert "# warning: egress.magento_hosts is empty" in text


def test_empty_lists_leave_no_empty_acl() -> None:
    text = render(make_policy(allow=[], deny=[]))
    assert "mageguard_allow" not in text and "mageguard_deny" not in text


@pytest.fixture(scope="module")
def squid_openssl() -> str:
    """Squid with SSL-Bump: Debian's `squid` is the GnuTLS build without it, so the
    OpenSSL build (`squid-openssl`, which replaces it) is installed when missing."""
    path = require("squid", "squid-openssl")
    if "--with-openssl" not in subprocess.run([path, "-v"], capture_output=True, text=True).stdout:
        subprocess.run(
            [str(ROOT / "scripts" / "debian-packages"), "squid-openssl"],
            capture_output=True,
            timeout=900,
            check=False,
        )
    version = subprocess.run([path, "-v"], capture_output=True, text=True).stdout
    if "--with-openssl" not in version:
        unavailable("Squid with OpenSSL (Debian package squid-openssl) could not be installed")
    return path


@pytest.fixture(scope="module")
def bump_cert(tmp_path_factory: pytest.TempPathFactory) -> str:
    openssl = require("openssl", "openssl")
    cert = tmp_path_factory.mktemp("squid") / "bump.pem"
    request = ["req", "-new", "-x509", "-nodes", "-days", "2", "-subj", "/CN=test"]
    subprocess.run(
        [openssl, *request, "-newkey", "rsa:2048", "-keyout", str(cert), "-out", str(cert)],
        capture_output=True,
        check=True,
    )
    return str(cert)


@pytest.mark.parametrize(
    "policy",
    [
        make_policy(),
        make_policy(mode="strict"),
        EgressPolicy(),
        make_policy(allow=["api.openai.com", "*.openai.azure.com"], deny=["x.openai.azure.com"]),
    ],
    ids=["ai_block", "strict", "default", "allow and deny overlap the catalog"],
)
def test_real_squid_parses_the_config(
    squid_openssl: str, bump_cert: str, tmp_path: Path, policy: EgressPolicy
) -> None:
    path = tmp_path / "squid.conf"
    path.write_text(render(policy, cert=bump_cert))
    parsed = subprocess.run(
        [squid_openssl, "-k", "parse", "-f", str(path)], capture_output=True, text=True
    )
    problems = [line for line in parsed.stderr.splitlines() if "ERROR" in line or "FATAL" in line]
    assert parsed.returncode == 0 and problems == [], parsed.stderr[-2000:]


def test_refusals_are_resets_so_squid_never_bumps_a_tunnel_to_show_an_error(
    policy: EgressPolicy,
) -> None:
    assert directives(render(policy), "deny_info") == [
        f"deny_info TCP_RESET {acl}"
        for acl in (
            "Safe_ports",
            "SSL_ports",
            "magento",
            "all",
            "mageguard_deny",
            "mageguard_doh",
            "mageguard_ai",
            "mageguard_ai_re",
        )
    ]


# The live proof: the rendered config run by the real Squid in a network namespace of its
# own (only loopback: port 443 is free there), one TLS server standing in for both an
# allowed host and an AI provider on the same address (a shared CDN), and a client that
# tunnels through Squid with every combination of CONNECT name and TLS SNI.
CLIENT = r"""
import json, socket, ssl, sys, threading
cert, port, attempts = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
seen = []
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(cert)
server_ctx.sni_callback = lambda sock, name, ctx: seen.append(name)
listener = socket.create_server(("127.0.0.1", 443))

def serve():
    while True:
        conn, _ = listener.accept()
        try:
            tls = server_ctx.wrap_socket(conn, server_side=True)
            tls.sendall(b"upstream\n")
            tls.close()
        except OSError:
            conn.close()

threading.Thread(target=serve, daemon=True).start()

def attempt(host, sni):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        head = sock.recv(4096)
    except ConnectionResetError:
        return "reset"
    if not head.startswith(b"HTTP/1.1 200"):
        return "refused " + head.split(b"\r\n", 1)[0].decode()
    client_ctx = ssl.create_default_context()
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    try:
        tls = client_ctx.wrap_socket(sock, server_hostname=sni)
        return "tunnel " + tls.recv(64).decode().strip()
    except (OSError, ssl.SSLError):
        return "tls cut"

results = [attempt(host, sni) for host, sni in attempts]
print(json.dumps({"results": results, "upstream_sni": seen}))
"""
RUNTIME = """
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log
coredump_dir {d}
hosts_file {d}/hosts
netdb_filename none
shutdown_lifetime 0 seconds
cache_effective_user proxy
"""


def test_real_squid_refuses_ai_hosts_by_name_and_by_sni_on_a_shared_address(
    squid_openssl: str, bump_cert: str
) -> None:
    """repo.magento.com and api.openai.com share 127.0.0.1 here, as two customers of one
    CDN do: only the SNI tells them apart, and the upstream must never see the AI name."""
    require_root()  # a network namespace of its own
    policy = make_policy(magento_hosts=["127.0.0.1/32"], deny=[])
    workdir = Path(tempfile.mkdtemp(prefix="mageguard-squid-", dir="/tmp"))
    namespace = f"mgsquid-{secrets.token_hex(3)}"
    squid_proc = None
    try:
        workdir.chmod(0o755)
        shutil.copy(bump_cert, workdir / "bump.pem")
        files = SquidFiles(tls_cert=str(workdir / "bump.pem"), ssl_db=str(workdir / "ssl_db"))
        text = squid.config(build_plan(policy, None, allow_addresses=False), files=files)
        (workdir / "squid.conf").write_text(text + RUNTIME.format(d=workdir))
        (workdir / "hosts").write_text("127.0.0.1 repo.magento.com api.openai.com\n")
        subprocess.run(
            [files.certgen, "-c", "-s", files.ssl_db, "-M", "4MB"], check=True, capture_output=True
        )
        subprocess.run(["chown", "-R", "proxy", str(workdir)], check=True)
        subprocess.run(["ip", "netns", "add", namespace], check=True)
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
        in_ns = ["ip", "netns", "exec", namespace]
        squid_proc = subprocess.Popen(
            [*in_ns, squid_openssl, "-N", "-f", str(workdir / "squid.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if "Accepting SSL bumped" in _read(workdir / "cache.log"):
                break
            time.sleep(0.1)
        attempts = [
            ("repo.magento.com", "repo.magento.com"),  # allowed: spliced through
            ("repo.magento.com", "api.openai.com"),  # fronting an AI host behind a good name
            ("api.openai.com", "api.openai.com"),  # an AI host by name
            ("127.0.0.1", "api.openai.com"),  # a hard-coded address, the AI host's SNI
            ("127.0.0.1", "repo.magento.com"),  # ai_block: an ordinary host passes
        ]
        done = subprocess.run(
            [
                *in_ns,
                sys.executable,
                "-c",
                CLIENT,
                str(workdir / "bump.pem"),
                "3128",
                json.dumps(attempts),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr + _read(workdir / "cache.log")[-2000:]
        found = json.loads(done.stdout)
        assert found["results"] == [
            "tunnel upstream",
            "tls cut",
            "reset",
            "tls cut",
            "tunnel upstream",
        ]
        assert found["upstream_sni"] == ["repo.magento.com", "repo.magento.com"]
    finally:
        if squid_proc is not None:
            squid_proc.terminate()
            squid_proc.wait(timeout=30)
        subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
