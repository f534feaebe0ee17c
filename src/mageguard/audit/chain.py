"""The keyed hash chain and its key.

mac_n = HMAC-SHA256(key, mac_{n-1} || seq_n || body_n), starting from a genesis MAC bound
to the store's random id, so records cannot be moved between stores that share a key.
Without the key nobody can recompute a MAC, so a changed record cannot be hidden by
rewriting the chain after it. The key file is the trust root: it is created 0600 and
refused when others can read or write it; it never appears in a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import orjson

from mageguard.audit.errors import AuditKeyError

KEY_BYTES = 32
_SHA256 = hashlib.sha256


def load_key(path: Path, *, create: bool) -> bytes:
    """The key in `path`, created (32 random bytes, mode 0600) if missing and `create`."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if not create:
            raise AuditKeyError(f"audit key file {path} does not exist") from None
        _create_key(path)
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise AuditKeyError(f"audit key file {path} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise AuditKeyError(f"audit key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise AuditKeyError(
                f"audit key file {path} is open to group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}): chmod 600 it"
            )
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise AuditKeyError(f"audit key file {path} must hold exactly {KEY_BYTES} bytes")
    return key


def _create_key(path: Path) -> None:
    """Write the key beside `path`, then link it into place: two processes starting at once
    both end up with the one key that won, never with a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise AuditKeyError(f"audit key file {path} cannot be created: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def key_id(key: bytes) -> str:
    """A public fingerprint of the key: tells "wrong key" apart from "every record changed"."""
    return hmac.new(key, b"mageguard.audit.key-id", _SHA256).hexdigest()[:32]


def genesis(key: bytes, store_id: str) -> bytes:
    return hmac.digest(key, b"mageguard.audit.genesis\x00" + store_id.encode(), "sha256")


def link(key: bytes, prev: bytes, seq: int, body: bytes) -> bytes:
    return hmac.digest(key, prev + seq.to_bytes(8, "big") + body, "sha256")


def checkpoint_mac(key: bytes, store_id: str, seq: int, head: bytes, ts: float) -> bytes:
    message = orjson.dumps([store_id, seq, head.hex(), ts])
    return hmac.digest(key, b"mageguard.audit.checkpoint\x00" + message, "sha256")


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
