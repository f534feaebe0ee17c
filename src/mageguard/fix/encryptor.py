"""Magento's own encryption of configuration values, so `fix` can write keys that Magento's
Encrypted backend and EncryptorInterface::decrypt() read, and read back the keys it wrote.

Magento 2.3+ stores `<key version>:3:<base64(nonce . ciphertext)>`: ChaCha20-Poly1305
(IETF, 12-byte nonce) under the crypt key of env.php, with the nonce as associated data.
env.php's `crypt/key` holds one or more keys separated by whitespace (the last one is
current); since 2.4.7 a key may be written `base64<...>`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from mageguard.errors import MageguardError

CIPHER_CHACHA20POLY1305 = 3
NONCE_BYTES = 12
BASE64_PREFIX = "base64"
_ENCRYPTED = re.compile(r"^(\d+):(\d+):(.*)$", re.S)


class EncryptionError(MageguardError):
    """The crypt key is unusable or a value does not decrypt: never guess, refuse."""


def is_encrypted(value: str) -> bool:
    return bool(_ENCRYPTED.match(value))


class Encryptor:
    def __init__(self, crypt_key: str) -> None:
        self._keys = [_decode_key(k) for k in crypt_key.split()]
        if not self._keys:
            raise EncryptionError("env.php has no crypt/key: cannot encrypt configuration")

    def encrypt(self, plaintext: str, nonce: bytes | None = None) -> str:
        """`nonce` is for tests only: a fixed nonce makes output repeatable."""
        version = len(self._keys) - 1
        nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
        sealed = ChaCha20Poly1305(self._keys[version]).encrypt(nonce, plaintext.encode(), nonce)
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{version}:{CIPHER_CHACHA20POLY1305}:{body}"

    def decrypt(self, value: str) -> str:
        m = _ENCRYPTED.match(value)
        if m is None:
            raise EncryptionError("not an encrypted Magento value")
        version, cipher = int(m.group(1)), int(m.group(2))
        if cipher != CIPHER_CHACHA20POLY1305 or version >= len(self._keys):
            raise EncryptionError(f"unsupported key version {version} or cipher {cipher}")
        try:
            raw = base64.b64decode(m.group(3), validate=True)
            nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            clear = ChaCha20Poly1305(self._keys[version]).decrypt(nonce, sealed, nonce)
            return clear.decode("utf-8")
        except (binascii.Error, InvalidTag, UnicodeDecodeError, ValueError):
            raise EncryptionError("value does not decrypt with this store's crypt key") from None


def _decode_key(key: str) -> bytes:
    if key.startswith(BASE64_PREFIX):
        try:
            raw = base64.b64decode(key[len(BASE64_PREFIX) :], validate=True)
        except binascii.Error:
            raise EncryptionError("env.php crypt/key: invalid base64 key") from None
    else:
        raw = key.encode("utf-8")
    if len(raw) != 32:
        raise EncryptionError(f"env.php crypt/key: a key must be 32 bytes, not {len(raw)}")
    return raw
