"""app/etc/env.php and config.php: configuration overrides and credentials.

Their `system` section overrides core_config_data per scope, so AI endpoints set there
decide where modules send data; any AI key in them sits in plain text on every host
the deployment reaches.
"""

from __future__ import annotations

import re

from mageguard.scan.analyzers.secrets import find_keys
from mageguard.scan.analyzers.xml import AI_NAME, CREDENTIAL_FIELD
from mageguard.scan.config_sources import ConfigValue
from mageguard.scan.facts import Fact
from mageguard.scan.php.literal import Leaf, PhpData, flatten, read_returned_array

SERVICES_CONNECTOR = re.compile(r"^services_connector/", re.I)
_ENCRYPTED = re.compile(r"^\d:\d:")


def config_values(data: dict[str, PhpData] | None, rel: str) -> list[ConfigValue]:
    if not data:
        return []
    out = []
    for key, leaf in flatten(data):
        parts = key.split("/")
        if parts[0] != "system" or not isinstance(leaf.value, (str, int, float)):
            continue
        if len(parts) >= 5 and parts[1] == "default":
            out.append(ConfigValue("/".join(parts[2:]), str(leaf.value), f"{rel}:{leaf.line}"))
        elif len(parts) >= 6 and parts[1] in ("websites", "stores"):
            out.append(
                ConfigValue(
                    "/".join(parts[3:]),
                    str(leaf.value),
                    f"{rel}:{leaf.line}",
                    scope=parts[1],
                    scope_code=parts[2],
                )
            )
    return out


def secret_facts(data: dict[str, PhpData] | None, rel: str) -> list[Fact]:
    if not data:
        return []
    facts = []
    for key, leaf in flatten(data):
        if not isinstance(leaf.value, str) or not leaf.value:
            continue
        fact = _secret(key, leaf, rel)
        if fact is not None:
            facts.append(fact)
    return facts


def _secret(key: str, leaf: Leaf, rel: str) -> Fact | None:
    value = str(leaf.value)
    config_path = (
        "/".join(
            key.split("/")[
                3 if key.startswith("system/") and not key.startswith("system/default/") else 2 :
            ]
        )
        if key.startswith("system/")
        else key
    )
    matches = list(find_keys(value))
    services = bool(SERVICES_CONNECTOR.match(config_path))
    credential = bool(CREDENTIAL_FIELD.search(key.rsplit("/", 1)[-1]))
    if not matches and not (credential and (AI_NAME.search(key) or services)):
        return None
    if _ENCRYPTED.match(value) and not services:
        return None
    conditions = {"plaintext"} if not _ENCRYPTED.match(value) else {"encrypted"}
    if services:
        conditions.add("services_connector")
    else:
        conditions.add("not_services_connector")
    provider = (
        matches[0].pattern.provider if matches else ("adobe_commerce_saas" if services else None)
    )
    return Fact(
        kind="secret",
        path=rel,
        line=leaf.line,
        column=leaf.column,
        matched=f"{key}={value}",
        language="deployment-config",
        conditions=frozenset(conditions),
        provider=provider,
        secret=value,
        detail=(
            ("config_path", key),
            ("key_type", matches[0].pattern.id if matches else "credential"),
        ),
    )


def read(source: bytes, rel: str) -> tuple[list[ConfigValue], list[Fact]]:
    data = read_returned_array(source)
    return config_values(data, rel), secret_facts(data, rel)
