"""What `fix` knows of a store before it changes anything: its websites and store views,
its core_config_data rows and its deployment files (env.php, config.php).

Read once, at plan time; apply compares the live store with this view and refuses when
they differ, so a plan is never carried out on a store that moved under it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mageguard.errors import MageguardError
from mageguard.fix.encryptor import EncryptionError, Encryptor
from mageguard.fix.model import FileChange
from mageguard.scan.database import ConfigRow, DatabaseSnapshot, read_database
from mageguard.scan.php.literal import Leaf, flatten, read_returned_array
from mageguard.scan.result import Tenant

ENV_PHP = "app/etc/env.php"
CONFIG_PHP = "app/etc/config.php"


@dataclass(frozen=True)
class Website:
    id: int
    code: str
    name: str
    is_default: bool
    stores: tuple[Tenant, ...] = ()


@dataclass(frozen=True)
class Store:
    root: Path
    websites: tuple[Website, ...]
    rows: tuple[ConfigRow, ...]
    env_php: bytes | None
    config_php: bytes | None
    database: str | None = None  # as shown, password masked
    env: dict[str, Leaf] = field(default_factory=dict)  # flattened env.php

    def file_change(self, path: str, content: bytes) -> FileChange | None:
        """The change that makes `path` hold `content`; None when it already does."""
        target = self.root / path
        old = target.read_bytes() if target.is_file() else None
        return None if old == content else FileChange(path, old, content)

    @property
    def default_website(self) -> Website | None:
        return next((w for w in self.websites if w.is_default), None) or (
            self.websites[0] if self.websites else None
        )

    def website_of(self, scope: str, scope_id: int) -> Website | None:
        """The website a scope belongs to; the default scope belongs to the default one."""
        if scope == "default":
            return self.default_website
        for w in self.websites:
            if scope == "websites" and w.id == scope_id:
                return w
            if scope == "stores" and any(s.scope_id == scope_id for s in w.stores):
                return w
        return None

    def scope_id(self, scope: str, code: str) -> int | None:
        for w in self.websites:
            if scope == "websites" and w.code == code:
                return w.id
            for s in w.stores:
                if scope == "stores" and s.code == code:
                    return s.scope_id
        return None

    def row(self, scope: str, scope_id: int, path: str) -> ConfigRow | None:
        return self._rows.get((scope, scope_id, path))

    @functools.cached_property
    def _rows(self) -> Mapping[tuple[str, int, str], ConfigRow]:
        return {(r.scope, r.scope_id, r.path): r for r in self.rows}

    @property
    def crypt_key(self) -> str:
        leaf = self.env.get("crypt/key")
        if leaf is None or not isinstance(leaf.value, str) or not leaf.value.strip():
            raise EncryptionError(f"{ENV_PHP} has no crypt/key: cannot write encrypted keys")
        return leaf.value

    def encryptor(self) -> Encryptor:
        return Encryptor(self.crypt_key)


def read_store(root: Path, db: str | None) -> Store:
    env_php = _read(root / ENV_PHP)
    config_php = _read(root / CONFIG_PHP)
    env: dict[str, Leaf] = {}
    if env_php is not None:
        data = read_returned_array(env_php)
        if data is None:
            raise MageguardError(f"{ENV_PHP} does not return an array: cannot edit it safely")
        env = dict(flatten(data))
    snapshot = read_database(db) if db else None
    websites = _websites(snapshot) if snapshot else _websites_from_env(env)
    return Store(
        root=root,
        websites=websites,
        rows=snapshot.rows if snapshot else (),
        env_php=env_php,
        config_php=config_php,
        database=snapshot.source if snapshot else None,
        env=env,
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MageguardError(f"cannot read {path}: {exc.strerror}") from None


def _websites(snapshot: DatabaseSnapshot) -> tuple[Website, ...]:
    sites = [t for t in snapshot.tenants if t.scope == "websites"]
    stores = [t for t in snapshot.tenants if t.scope == "stores"]
    default_code = _default_website_code(snapshot)
    return tuple(
        Website(
            id=w.scope_id,
            code=w.code,
            name=w.name,
            is_default=w.code == default_code,
            stores=tuple(s for s in stores if s.website_code == w.code),
        )
        for w in sorted(sites, key=lambda t: t.scope_id)
    )


def _default_website_code(snapshot: DatabaseSnapshot) -> str | None:
    sites = sorted((t for t in snapshot.tenants if t.scope == "websites"), key=lambda t: t.scope_id)
    chosen = [t for t in sites if t.is_default] or sites
    return chosen[0].code if chosen else None


def _websites_from_env(env: Mapping[str, Leaf]) -> tuple[Website, ...]:
    """Without a database, env.php's `scopes` (written by app:config:dump) names them."""
    codes: dict[int, tuple[str, str, bool]] = {}
    for key, leaf in env.items():
        parts = key.split("/")
        if len(parts) == 4 and parts[:2] == ["scopes", "websites"] and parts[3] == "website_id":
            code = parts[2]
            if code != "admin" and isinstance(leaf.value, (int, str)):
                name = env.get(f"scopes/websites/{code}/name")
                default = env.get(f"scopes/websites/{code}/is_default")
                codes[int(leaf.value)] = (
                    code,
                    str(name.value) if name else code,
                    bool(default and str(default.value) == "1"),
                )
    return tuple(
        Website(id=i, code=c, name=n, is_default=d) for i, (c, n, d) in sorted(codes.items())
    )


__all__ = ["CONFIG_PHP", "ENV_PHP", "Store", "Website", "read_store"]
