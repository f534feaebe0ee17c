"""The egress rules of the generated gateway configuration, rendered into the tree so the
operator reviews and loads exactly what the plan shows: an nftables ruleset for the Magento
host and Squid's SNI rules, from the same `egress` section the gateway's forward proxy
enforces. Nothing is loaded: a firewall change on a live store is the operator's step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mageguard.egress.render import RenderOptions, Target, render
from mageguard.errors import ConfigError
from mageguard.fix.gateway_plan import GATEWAY_CONFIG
from mageguard.gateway.config import from_mapping

EGRESS_DIR = "app/etc/mageguard/egress"
TARGETS = {"nftables.nft": Target.NFTABLES, "squid.conf": Target.SQUID}


def egress_files(gateway_yaml: str, root: Path) -> dict[str, bytes]:
    """Path under the store root -> rendered rules; none when the configuration names no
    gateway address. The allow list is left unresolved
    (names, not addresses): a plan must not depend on what DNS answers today, and
    `mageguard egress render --target nftables-sets` refreshes the addresses."""
    raw: Any = yaml.safe_load(gateway_yaml)
    if not isinstance(raw, dict):
        raise ConfigError(f"{GATEWAY_CONFIG}: expected a mapping")
    config = from_mapping(raw, GATEWAY_CONFIG, root / Path(GATEWAY_CONFIG).parent)
    if config.egress.gateway is None:
        return {}  # rules with no path to the gateway would shut the store's AI out
    options = RenderOptions(resolver=None, source=GATEWAY_CONFIG)
    return {
        f"{EGRESS_DIR}/{name}": render(config.egress, target, options).text.encode("utf-8")
        for name, target in TARGETS.items()
    }
