"""What the Kubernetes and Cilium renderers share: label selectors from the command line
and YAML whose egress rules each carry a `# mageguard:<rule id>` comment (the objects
themselves have no field for it), so a reviewer can match a rule to its nftables twin."""

from __future__ import annotations

import ipaddress
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from mageguard.egress.plan import Endpoint
from mageguard.egress.policy import IPAddress, IPNetwork
from mageguard.errors import ConfigError

NAME = "mageguard-egress"
_LABEL = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")

Rule = tuple[str, str, Mapping[str, Any]]  # rule id, why, the egress rule


def selector(text: str) -> dict[str, str]:
    """`app=magento,tier=web` as matchLabels."""
    labels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _LABEL.match(key) or len(value) > 63 or not _VALUE.match(value):
            raise ConfigError(f"--selector: {part!r} is not a label=value pair")
        labels[key] = value
    if not labels:
        raise ConfigError("--selector: give at least one label=value pair")
    return labels


def metadata(namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": NAME,
        "labels": {"app.kubernetes.io/managed-by": "mageguard"},
    }
    if namespace:
        meta["namespace"] = namespace
    return meta


def document(
    header: Sequence[str], head: Mapping[str, Any], spec: Mapping[str, Any], rules: Sequence[Rule]
) -> str:
    """`head` (apiVersion, kind, metadata), then `spec` with `egress` last, one commented
    list item per rule."""
    out = [f"# {line}" for line in header]
    out.append(_dump(dict(head)).rstrip("\n"))
    out.append("spec:")
    out.append(textwrap.indent(_dump(dict(spec)), "  ").rstrip("\n"))
    out.append("  egress:")
    for rule, why, body in rules:
        out.append(f"  # mageguard:{rule}: {why}")
        out.append(textwrap.indent(_dump([dict(body)]), "  ").rstrip("\n"))
    return "\n".join(out) + "\n"


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=100)


def by_rule(endpoints: Iterable[Endpoint]) -> dict[str, list[Endpoint]]:
    """Endpoints grouped by rule id, in plan order (DNS has a UDP and a TCP endpoint)."""
    grouped: dict[str, list[Endpoint]] = {}
    for e in endpoints:
        grouped.setdefault(e.rule, []).append(e)
    return grouped


def cidrs(addresses: Iterable[IPAddress | IPNetwork]) -> list[str]:
    """Each address or range once, as a CIDR: a bare address becomes its /32 or /128."""
    return list(dict.fromkeys(str(ipaddress.ip_network(a)) for a in addresses))
