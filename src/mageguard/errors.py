"""The one exception hierarchy of mageguard.

Library code raises these instead of printing or exiting, so that the CLI can map every
failure of the tool itself to exit code 2 and never confuse it with "findings found" (1).
"""

from __future__ import annotations


class MageguardError(Exception):
    """Base of every error mageguard raises on purpose."""


class CatalogError(MageguardError):
    """A packaged data file or rule is invalid: a bug in mageguard or in a custom rule."""


class ConfigError(MageguardError):
    """mageguard.yaml, [tool.mageguard] or a command-line option is invalid."""


class InputError(MageguardError):
    """Something the user pointed us at cannot be used (path, baseline, SQL dump)."""


class DatabaseError(InputError):
    """A --db DSN does not connect or does not hold Magento's tables."""
