"""mageguard.yaml or [tool.mageguard] in pyproject.toml.

Precedence: command-line flag, then its environment variable, then this file, then the
built-in default. A missing file or section means defaults; an invalid one is an error
(exit 2), never silently ignored.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mageguard.catalog.loader import SafeLoader, validate
from mageguard.errors import CatalogError, ConfigError

CONFIG_NAMES = ("mageguard.yaml", "mageguard.yml", ".mageguard.yaml")


def _schema() -> dict[str, Any]:
    doc = resources.files("mageguard.catalog").joinpath("schemas", "config.schema.json")
    return dict(json.loads(doc.read_text("utf-8")))


def find_config(explicit: Path | None, search: list[Path]) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return explicit
    for directory in search:
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if "mageguard" in data.get("tool", {}):
                return pyproject
    return None


def load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text("utf-8")
        if path.name == "pyproject.toml":
            data = tomllib.loads(text).get("tool", {}).get("mageguard", {})
        else:
            data = yaml.load(text, Loader=SafeLoader) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        validate(data, _schema(), str(path))
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None
    return data


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name) or {}
    return dict(value) if isinstance(value, dict) else {}
