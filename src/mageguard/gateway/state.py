"""Runtime state that replicas must share: rate-limit windows, flag overrides made through
the admin API, and conversation vaults. In process by default; Redis when the
configuration names one, so two gateway processes behave as one.

Vaults hold the values behind placeholders: in Redis they live under the tenant's
namespace with a TTL and are never logged."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from mageguard.gateway.config import FlagSpec

PREFIX = "mageguard:"
VAULT_TTL = 3600
MAX_MEMORY_VAULTS = 10_000


class SharedState(Protocol):
    async def hit(self, bucket: str, limit: int, window: int = 60) -> bool:
        """Count one request in `bucket`'s current window; False when over `limit`."""
        ...

    async def flags(self) -> dict[tuple[str, str], FlagSpec]: ...

    async def set_flag(self, flag: FlagSpec) -> None: ...

    async def load_vault(self, tenant: str, conversation: str) -> dict[str, str]: ...

    async def save_vault(
        self, tenant: str, conversation: str, state: Mapping[str, str]
    ) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def _vault_key(tenant: str, conversation: str) -> str:
    # the tenant is part of the key: a conversation id guessed or reused by another
    # tenant names a different vault
    digest = hashlib.sha256(f"{tenant}\0{conversation}".encode()).hexdigest()
    return f"{PREFIX}vault:{tenant}:{digest}"


def _flag_from(raw: bytes | str) -> FlagSpec:
    data = orjson.loads(raw)
    return FlagSpec(
        tenant=data["tenant"],
        surface=data["surface"],
        percent=float(data["percent"]),
        kill=bool(data["kill"]),
    )


def _flag_json(flag: FlagSpec) -> bytes:
    return orjson.dumps(
        {"tenant": flag.tenant, "surface": flag.surface, "percent": flag.percent, "kill": flag.kill}
    )


class MemoryState:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._flags: dict[tuple[str, str], FlagSpec] = {}
        self._vaults: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()

    async def hit(self, bucket: str, limit: int, window: int = 60) -> bool:
        now = int(time.time()) // window
        start, count = self._windows.get(bucket, (now, 0))
        if start != now:
            start, count = now, 0
        count += 1
        self._windows[bucket] = (start, count)
        return count <= limit

    async def flags(self) -> dict[tuple[str, str], FlagSpec]:
        return dict(self._flags)

    async def set_flag(self, flag: FlagSpec) -> None:
        self._flags[(flag.tenant, flag.surface)] = flag

    async def load_vault(self, tenant: str, conversation: str) -> dict[str, str]:
        key = _vault_key(tenant, conversation)
        found = self._vaults.get(key)
        if found is None or found[0] < time.monotonic():
            self._vaults.pop(key, None)
            return {}
        return dict(found[1])

    async def save_vault(self, tenant: str, conversation: str, state: Mapping[str, str]) -> None:
        key = _vault_key(tenant, conversation)
        self._vaults[key] = (time.monotonic() + VAULT_TTL, dict(state))
        self._vaults.move_to_end(key)
        while len(self._vaults) > MAX_MEMORY_VAULTS:
            self._vaults.popitem(last=False)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisState:
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._client: Any = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def hit(self, bucket: str, limit: int, window: int = 60) -> bool:
        key = f"{PREFIX}rate:{bucket}:{int(time.time()) // window}"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = await pipe.execute()
        return int(count) <= limit

    async def flags(self) -> dict[tuple[str, str], FlagSpec]:
        raw = await self._client.hgetall(f"{PREFIX}flags")
        flags = (_flag_from(v) for v in raw.values())
        return {(f.tenant, f.surface): f for f in flags}

    async def set_flag(self, flag: FlagSpec) -> None:
        await self._client.hset(f"{PREFIX}flags", f"{flag.tenant}|{flag.surface}", _flag_json(flag))

    async def load_vault(self, tenant: str, conversation: str) -> dict[str, str]:
        raw = await self._client.hgetall(_vault_key(tenant, conversation))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def save_vault(self, tenant: str, conversation: str, state: Mapping[str, str]) -> None:
        if not state:
            return
        key = _vault_key(tenant, conversation)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=dict(state))
            pipe.expire(key, VAULT_TTL)
            await pipe.execute()

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.aclose()


def _s(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def open_state(redis_url: str | None) -> SharedState:
    return RedisState(redis_url) if redis_url else MemoryState()
