"""The policy as a Squid forward proxy that decides by name twice: on the CONNECT (or
plain HTTP) request, and on the TLS client hello's SNI, which Squid peeks at without
decrypting (peek at step 1, then splice or terminate).

The SNI check is what closes the shared-CDN bypass that address rules leave open: an AI
host on the same address as an allowed one is still refused by name, and a CONNECT to an
allowed name (or a bare IP) that then says `api.openai.com` in its hello is cut off.
The order mirrors EgressPolicy.decide_host: deny list, then allow list, then the
providers catalog's AI hosts, then the mode (ai_block lets the rest through, strict
does not). Squid needs OpenSSL for this (Debian's `squid-openssl`; its plain `squid`
is built with GnuTLS and has no SSL-Bump).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from mageguard.egress.plan import Plan

_LABELS = r"[a-z0-9-]+(\.[a-z0-9-]+)*"  # what `*` stands for: one or more DNS labels


@dataclass(frozen=True)
class SquidFiles:
    """Where the SSL-Bump port's certificate and the certificate helper live. Peek and
    splice never sign anything, but Squid refuses an ssl-bump port without them."""

    tls_cert: str = "/etc/squid/mageguard-bump.pem"
    certgen: str = "/usr/lib/squid/security_file_certgen"
    ssl_db: str = "/var/lib/squid/ssl_db"


def config(plan: Plan, *, files: SquidFiles = SquidFiles(), source: str = "") -> str:
    policy = plan.policy
    port = policy.gateway.proxy_port if policy.gateway else 3128
    sources = [str(n) for n in policy.magento_hosts] or ["127.0.0.1/32", "::1"]
    lines = [
        "# mageguard egress: Squid with SNI peek-and-splice,"
        f" rendered from {source or 'the policy'}.",
        "# Needs Squid built with OpenSSL (Debian/Ubuntu: squid-openssl). Create the",
        "# certificate the ssl-bump port requires (it signs nothing: nothing is bumped) with",
        '#   openssl req -new -x509 -nodes -days 3650 -subj "/CN=mageguard egress" \\',
        f"#     -newkey rsa:2048 -keyout {files.tls_cert} -out {files.tls_cert}",
        f"#   {files.certgen} -c -s {files.ssl_db} -M 4MB",
        f"# mode: {policy.mode}",
        *(
            []
            if policy.magento_hosts
            else ["# warning: egress.magento_hosts is empty: only localhost may use this proxy"]
        ),
        "",
        f"http_port {port} ssl-bump tls-cert={files.tls_cert} "
        "generate-host-certificates=on dynamic_cert_mem_cache_size=4MB",
        f"sslcrtd_program {files.certgen} -s {files.ssl_db} -M 4MB",
        "sslcrtd_children 5 startup=1 idle=1",
        "",
        f"acl magento src {' '.join(sources)}",
        "acl SSL_ports port 443",
        "acl Safe_ports port 80 443",
        "acl CONNECT method CONNECT",
        "acl step1 at_step SslBump1",
    ]
    groups = [
        ("deny", "the policy's deny list", policy.deny),
        ("doh", "public DNS-over-HTTPS endpoints", doh_hosts()),
        ("allow", "the policy's allow list", policy.allow),
        ("ai", "AI hosts of the providers catalog", _catalog_ai_hosts(plan)),
    ]
    acls: dict[str, tuple[list[str], list[str]]] = {}
    for name, why, patterns in groups:
        request, sni = _acl_lines(f"mageguard_{name}", patterns)
        if request:
            lines += ["", f"# mageguard:{name}: {why}", *request, *sni]
        acls[name] = (_names(request), _names(sni))
    lines += _access(acls, policy.mode)
    lines += _bump(acls, policy.mode)
    lines.append("")
    if policy.resolvers:  # Squid resolves for itself: a client cannot pick the address
        lines.append(f"dns_nameservers {' '.join(str(r) for r in policy.resolvers)}")
    lines += ["cache deny all", "forwarded_for delete", ""]
    return "\n".join(lines)


def _access(acls: dict[str, tuple[list[str], list[str]]], mode: str) -> list[str]:
    """http_access by the request's name. A refusal is a TCP reset: on an ssl-bump port
    Squid would otherwise answer 200 and bump the tunnel with a certificate of its own
    just to show its error page, which a client must never be taught to accept."""
    verdict = {"deny": "deny", "doh": "deny", "allow": "allow", "ai": "deny"}
    lines = [
        "",
        "http_access deny !Safe_ports",
        "http_access deny CONNECT !SSL_ports",
        "http_access allow localhost manager",
        "http_access deny manager",
        "http_access deny !magento",
    ]
    for name, (request, _) in acls.items():
        lines += [f"http_access {verdict[name]} {acl}" for acl in request]
    lines += ["http_access allow magento" if mode == "ai_block" else "http_access deny all"]
    lines += ["http_access deny all", ""]
    refused = ["Safe_ports", "SSL_ports", "magento", "all"]
    refused += [
        acl for name, (request, _) in acls.items() if verdict[name] == "deny" for acl in request
    ]
    return lines + [f"deny_info TCP_RESET {acl}" for acl in refused]


def _bump(acls: dict[str, tuple[list[str], list[str]]], mode: str) -> list[str]:
    """ssl_bump by the TLS client hello's SNI, peeked at step 1, never decrypted."""
    tls = {"deny": "terminate", "doh": "terminate", "allow": "splice", "ai": "terminate"}
    lines = ["", "ssl_bump peek step1"]
    for name, (_, sni) in acls.items():
        lines += [f"ssl_bump {tls[name]} {acl}" for acl in sni]
    lines.append("ssl_bump splice all" if mode == "ai_block" else "ssl_bump terminate all")
    return lines


def doh_hosts() -> tuple[str, ...]:
    text = resources.files("mageguard.egress").joinpath("data", "doh_hosts.txt").read_text()
    return tuple(s for line in text.splitlines() if (s := line.strip()) and s[0] != "#")


def domains(patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """Policy host patterns as Squid sees them: (dstdomain values, regexes).

    `*.x` becomes `.x` (Squid's "x and its subdomains": one name wider, and fast); any
    other wildcard becomes an anchored regex. Squid refuses a name listed beside a
    `.domain` that covers it, so covered names are dropped."""
    plain: set[str] = set()
    regexes: list[str] = []
    for pattern in patterns:
        if "*" not in pattern:
            plain.add(pattern)
        elif pattern.startswith("*.") and "*" not in pattern[2:]:
            plain.add(pattern[1:])
        else:
            parts = (
                _LABELS if part == "*" else part.replace(".", r"\.")
                for part in re.split(r"(\*)", pattern)
            )
            regexes.append("^" + "".join(parts) + "$")
    kept = [d for d in sorted(plain) if not any(_covers(o, d) for o in plain if o != d)]
    return kept, sorted(set(regexes))


def _covers(wide: str, name: str) -> bool:
    return wide.startswith(".") and (name == wide[1:] or name.endswith(wide))


def _acl_lines(name: str, patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    plain, regexes = domains(patterns)
    request: list[str] = []
    sni: list[str] = []
    # One value a line: Squid adds up lines of one ACL, and a diff then shows one host.
    request += [f"acl {name} dstdomain -n {d}" for d in plain]
    request += [f"acl {name}_re dstdom_regex -n -i {r}" for r in regexes]
    sni += [f"acl {name}_sni ssl::server_name {d}" for d in plain]
    sni += [f"acl {name}_sni_re ssl::server_name_regex -i {r}" for r in regexes]
    return request, sni


def _names(acl_lines: list[str]) -> list[str]:
    return list(dict.fromkeys(line.split()[1] for line in acl_lines))


def _catalog_ai_hosts(plan: Plan) -> tuple[str, ...]:
    """The catalog's AI hosts; the deny list has its own ACL, checked first. An allowed
    AI host passes because the allow ACL is checked before this one, as in the policy."""
    deny = set(plan.policy.deny)
    return tuple(h for h in plan.policy.ai_hosts() if h not in deny)
