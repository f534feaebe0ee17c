"""Magento configuration values from every place they live, so that
`scopeConfig->getValue('lumen_ai/openai/endpoint')` resolves to the host it really names:
module defaults (etc/config.xml), deployment overrides (env.php / config.php `system`),
and the live database (core_config_data, per website and store)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigValue:
    path: str
    value: str
    source: str  # where it was read: "app/code/X/Y/etc/config.xml:12", "db://core_config_data/17"
    scope: str = "default"  # default | websites | stores
    scope_code: str | None = None


class ConfigValues:
    def __init__(self) -> None:
        self._values: dict[str, list[ConfigValue]] = defaultdict(list)

    def add(self, value: ConfigValue) -> None:
        self._values[value.path].append(value)

    def get(self, path: str) -> list[ConfigValue]:
        return list(self._values.get(path, ()))

    def paths(self) -> list[str]:
        return sorted(self._values)

    def __len__(self) -> int:
        return sum(len(v) for v in self._values.values())

    def digest(self) -> str:
        """Changes when any value changes: the key of cached analyses that resolved them."""
        h = hashlib.sha256()
        for path in sorted(self._values):
            for v in self._values[path]:
                h.update(f"{path}\x00{v.value}\x00{v.scope}\x00{v.scope_code}\x01".encode())
        return h.hexdigest()[:16]
