"""Gateway keys for (tenant, surface), derived rather than generated.

A key is an HMAC of the tenant and surface under the store's own crypt key: re-running
`fix` yields the same keys, so a second run finds nothing to change (the plan is a no-op)
without keeping plaintext keys anywhere; whoever can derive them already holds env.php,
which decrypts every key Magento stores. `--rotate` salts the derivation to replace them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "mg"


def gateway_key(secret: bytes, tenant: str, surface: str, salt: str = "") -> str:
    message = f"mageguard-gateway-key:v1:{salt}:{tenant}:{surface}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return f"{PREFIX}-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"
