"""Keys `fix` writes must be readable by Magento's own Encryptor (sodium, cipher 3)."""

from __future__ import annotations

import base64
import subprocess

import pytest

from mageguard.fix.encryptor import EncryptionError, Encryptor, is_encrypted
from tests.helpers.debian import require

KEY = "base64" + base64.b64encode(bytes(range(32))).decode()


def test_a_value_round_trips_and_looks_like_magentos() -> None:
    enc = Encryptor(KEY)
    value = enc.encrypt("mg-secret")
    assert value.startswith("0:3:") and is_encrypted(value)
    assert enc.decrypt(value) == "mg-secret"
    assert enc.encrypt("mg-secret") != value  # a fresh nonce every time


def test_the_last_key_of_several_encrypts_and_older_ones_still_decrypt() -> None:
    old = Encryptor(KEY)
    rotated = Encryptor(KEY + " " + "k" * 32)
    assert rotated.encrypt("x").startswith("1:3:")
    assert rotated.decrypt(old.encrypt("x")) == "x"


def test_a_wrong_key_or_tampered_value_is_refused_not_guessed() -> None:
    value = Encryptor(KEY).encrypt("mg-secret")
    with pytest.raises(EncryptionError):
        Encryptor("k" * 32).decrypt(value)
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(EncryptionError):
        Encryptor(KEY).decrypt(tampered)
    with pytest.raises(EncryptionError):
        Encryptor(KEY).decrypt("sk-plain")


def test_bad_crypt_keys_are_errors() -> None:
    for bad in ("", "short", "base64!!!"):
        with pytest.raises(EncryptionError):
            Encryptor(bad)


def test_php_sodium_decrypts_what_we_encrypt_as_magento_does() -> None:
    php = require("php", "php-cli")
    value = Encryptor(KEY).encrypt("mg-key-for-php")
    body = base64.b64decode(value.split(":", 2)[2])
    script = (
        "$raw = base64_decode($argv[1]); $key = base64_decode(substr($argv[2], 6));"
        "$n = mb_substr($raw, 0, SODIUM_CRYPTO_AEAD_CHACHA20POLY1305_IETF_NPUBBYTES, '8bit');"
        "$c = mb_substr($raw, SODIUM_CRYPTO_AEAD_CHACHA20POLY1305_IETF_NPUBBYTES, null, '8bit');"
        "echo sodium_crypto_aead_chacha20poly1305_ietf_decrypt($c, $n, $n, $key);"
    )
    out = subprocess.run(
        [php, "-r", script, base64.b64encode(body).decode(), KEY],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == "mg-key-for-php"
