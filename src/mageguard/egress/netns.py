"""A three-host network in network namespaces, for proving rulesets on a real kernel.

    gateway  <--veth-->  magento  <--veth-->  internet

"magento" is the host the rules are loaded on; "gateway" carries the gateway's, the
services' and the resolvers' addresses (the private side); "internet" carries one address
per public name, the stand-ins for allowed hosts and AI providers. Names resolve through
/etc/netns/<magento>/hosts, which `ip netns exec` puts in place of /etc/hosts. Everything
is torn down on the way out, also when a step failed, so a failed run leaves no
namespace, interface or hosts file behind.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mageguard.egress.policy import IPAddress
from mageguard.errors import MageguardError

# The lab's own addresses: RFC 2544's benchmarking range and a ULA prefix, both chosen
# so that they do not meet a real policy's addresses (verify refuses a policy that does).
LAB_V4 = ipaddress.ip_network("198.18.0.0/15")
LAB_V6 = ipaddress.ip_network("fd6d:6700::/32")
MAGENTO_TO_GATEWAY = ("198.18.0.1", "198.18.0.2", "fd6d:6700:1::1", "fd6d:6700:1::2")
MAGENTO_TO_INTERNET = ("198.18.0.5", "198.18.0.6", "fd6d:6700:2::1", "fd6d:6700:2::2")
MAGENTO = "magento"
GATEWAY = "gateway"
INTERNET = "internet"
ROLES = (MAGENTO, GATEWAY, INTERNET)
READY_TIMEOUT = 10.0


class LabError(MageguardError):
    """The namespaces could not be built or driven (not root, no nft, a failed command)."""


@dataclass
class Lab:
    token: str
    names: dict[str, str] = field(default_factory=dict)  # role -> namespace name
    servers: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def hosts_dir(self) -> Path:
        return Path("/etc/netns") / self.names[MAGENTO]

    def run(self, role: str, *argv: str, stdin: str | None = None) -> str:
        return _run(["ip", "netns", "exec", self.names[role], *argv], stdin)

    def serve(self, role: str, listen: Iterable[tuple[str, str, int]]) -> None:
        """Stand-in listeners in `role` on these (protocol, address, port)."""
        wanted = sorted(set(listen))
        if not wanted:
            return
        argv = ["ip", "netns", "exec", self.names[role], sys.executable]
        argv += ["-m", "mageguard.egress.agent", "serve", json.dumps(wanted)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.servers.append(proc)
        line = _readline(proc.stdout, READY_TIMEOUT)
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise LabError(f"the stand-in servers in {role} did not start: {err.strip()[-300:]}")

    def probe(self, role: str, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if not items:
            return []
        out = self.run(
            role,
            sys.executable,
            "-m",
            "mageguard.egress.agent",
            "probe",
            stdin=json.dumps(list(items)),
        )
        return list(json.loads(out))

    def write_hosts(self, names: Mapping[str, Sequence[IPAddress]]) -> None:
        self.hosts_dir.mkdir(parents=True, exist_ok=True)
        lines = ["127.0.0.1 localhost", "::1 localhost"]
        lines += [f"{a} {name}" for name, addresses in names.items() for a in addresses]
        (self.hosts_dir / "hosts").write_text("\n".join(lines) + "\n", "utf-8")

    def load_ruleset(self, path: Path) -> None:
        self.run(MAGENTO, "nft", "-f", str(path))

    def counters(self) -> dict[str, int]:
        """Packets per `mageguard:<rule>` comment in the magento namespace's ruleset."""
        doc = json.loads(self.run(MAGENTO, "nft", "-j", "list", "table", "inet", "mageguard"))
        packets: dict[str, int] = {}
        for item in doc.get("nftables", []):
            rule = item.get("rule")
            if not rule or not str(rule.get("comment", "")).startswith("mageguard:"):
                continue
            name = rule["comment"].removeprefix("mageguard:")
            count = sum(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
            packets[name] = packets.get(name, 0) + count
        return packets


def preflight() -> None:
    """Refuse early, with the reason, when this machine cannot build the lab."""
    import os

    if os.geteuid() != 0:
        raise LabError("egress verify needs root: it creates network namespaces")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            raise LabError(f"egress verify needs `{tool}` (Debian package {package})")


@contextmanager
def lab(gateway_side: Iterable[IPAddress], internet_side: Iterable[IPAddress]) -> Iterator[Lab]:
    """The three namespaces, wired and addressed; `gateway_side` addresses live on the
    gateway host and `internet_side` ones on the internet host (on their loopback)."""
    preflight()
    the = Lab(token=secrets.token_hex(3))
    try:
        for role in ROLES:
            the.names[role] = f"mgv-{the.token}-{role}"
            _run(["ip", "netns", "add", the.names[role]])
        _wire(the, list(dict.fromkeys(gateway_side)), list(dict.fromkeys(internet_side)))
        yield the
    finally:
        _teardown(the)


def _wire(the: Lab, gateway_side: list[IPAddress], internet_side: list[IPAddress]) -> None:
    m, g, i = (the.names[r] for r in ROLES)
    _run(
        [
            "ip",
            "link",
            "add",
            "to-gateway",
            "netns",
            m,
            "type",
            "veth",
            "peer",
            "name",
            "to-magento",
            "netns",
            g,
        ]
    )
    _run(
        [
            "ip",
            "link",
            "add",
            "to-internet",
            "netns",
            m,
            "type",
            "veth",
            "peer",
            "name",
            "to-magento",
            "netns",
            i,
        ]
    )
    mg4, gm4, mg6, gm6 = MAGENTO_TO_GATEWAY
    mi4, im4, mi6, im6 = MAGENTO_TO_INTERNET
    _batch(
        m,
        [
            "link set lo up",
            f"addr add {mg4}/30 dev to-gateway",
            f"addr add {mg6}/64 dev to-gateway nodad",
            "link set to-gateway up",
            f"addr add {mi4}/30 dev to-internet",
            f"addr add {mi6}/64 dev to-internet nodad",
            "link set to-internet up",
            f"route add default via {im4}",
            f"route add default via {im6}",
            *(
                f"route add {a}/{a.max_prefixlen} via {gm4 if a.version == 4 else gm6}"
                for a in gateway_side
            ),
        ],
    )
    for ns, (own4, peer4, own6, peer6), hosted in (
        (g, (gm4, mg4, gm6, mg6), gateway_side),
        (i, (im4, mi4, im6, mi6), internet_side),
    ):
        _batch(
            ns,
            [
                "link set lo up",
                f"addr add {own4}/30 dev to-magento",
                f"addr add {own6}/64 dev to-magento nodad",
                "link set to-magento up",
                f"route add default via {peer4}",
                f"route add default via {peer6}",
                *(f"addr add {a}/{a.max_prefixlen} dev lo" for a in hosted),
            ],
        )


def _teardown(the: Lab) -> None:
    for proc in the.servers:
        with suppress(ProcessLookupError):
            proc.kill()
        with suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
    for name in the.names.values():
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    if MAGENTO in the.names:
        shutil.rmtree(the.hosts_dir, ignore_errors=True)


def _batch(namespace: str, commands: Sequence[str]) -> None:
    _run(["ip", "-n", namespace, "-batch", "-"], "\n".join(commands) + "\n")


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{' '.join(argv[:4])}: {exc}") from None
    if done.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _readline(stream: IO[str] | None, timeout: float) -> str:
    """One line from a child's stdout, or "" when it says nothing in time."""
    import selectors

    if stream is None:
        return ""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return stream.readline()
