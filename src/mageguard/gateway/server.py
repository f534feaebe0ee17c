"""Start-up and shut-down: build every part the pipeline needs from the configuration,
before the first request. A dictionary that does not load, a model that is missing, an
audit store that cannot be opened stop the gateway here (fail closed), with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from mageguard.backends.base import Backend
from mageguard.gateway.config import GatewayConfig
from mageguard.gateway.pipeline import Gateway
from mageguard.gateway.state import open_state
from mageguard.gateway.tenants import Tenants

log = logging.getLogger("mageguard.gateway")
AUDIT_DRAIN_SECONDS = 10.0


async def open_gateway(config: GatewayConfig) -> Gateway:
    from mageguard.audit.store import AuditStore
    from mageguard.audit.writer import AuditWriter
    from mageguard.backends import build

    config.data_dir.mkdir(parents=True, exist_ok=True)
    tenants = Tenants(config, cache_dir=config.data_dir / "dictionaries")
    backends: dict[str, Backend] = {spec.id: build(spec) for spec in config.backends.values()}
    await _load(backends)
    store = AuditStore.open(config.audit_store, config.audit_key_file, config.witness_file)
    writer = AuditWriter(store)
    await writer.start()
    state = open_state(config.redis)
    if not await state.ping():
        raise RuntimeError("redis does not answer at the configured address")
    gateway = Gateway(config, tenants, backends, writer, state)
    if config.proxy is not None:
        from mageguard.egress.proxy import ForwardProxy

        gateway.proxy = ForwardProxy(config.proxy, config.egress, writer.record)
        await gateway.proxy.start()
        log.warning("forward proxy on %s:%s", config.proxy.host, gateway.proxy.port)
    if config.intercept is not None:
        await _start_intercept(gateway, config)
    return gateway


async def _start_intercept(gateway: Gateway, config: GatewayConfig) -> None:
    """TLS for the AI hosts, terminated here and handed to this gateway's own HTTP port."""
    import ipaddress

    from mageguard.egress.intercept import InterceptListener, new_secret, server_context

    spec = config.intercept
    assert spec is not None
    gateway.intercept_secret = new_secret()
    sources = [(ipaddress.ip_network(s.network, strict=False), s.tenant) for s in spec.sources]
    gateway.intercept = InterceptListener(
        spec.host,
        spec.port,
        server_context(spec.ca_dir),
        config.port,
        sources,
        spec.tenant,
        gateway.intercept_secret,
        upstream_host="127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host,
    )
    await gateway.intercept.start()
    log.warning("intercepting TLS for AI hosts on %s:%s", spec.host, gateway.intercept.port)


async def _load(backends: Mapping[str, Backend]) -> None:
    """Models load now, not on the first customer's request: /readyz then means ready."""
    for backend in backends.values():
        load = getattr(backend, "load", None)
        if load is not None:
            await load()


async def close_gateway(gateway: Gateway) -> None:
    if gateway.intercept is not None:
        await gateway.intercept.close()
    if gateway.proxy is not None:
        await gateway.proxy.close()
    for backend in gateway.backends.values():
        try:
            await backend.close()
        except Exception:
            log.exception("closing backend failed")
    try:
        close = getattr(gateway.auditor, "aclose", None)
        if close is not None:
            await close(timeout=AUDIT_DRAIN_SECONDS)  # drains the queue, final checkpoint
    except Exception as exc:  # the store is down: what was not written is logged as lost
        log.error("audit trail not drained at shutdown: %s", exc)
    finally:
        store = getattr(gateway.auditor, "store", None)
        if store is not None:
            try:
                store.close()
            except Exception as exc:
                log.error("audit store did not close cleanly: %s", exc)
        await gateway.state.close()


def serve(config: GatewayConfig, *, log_level: str = "info") -> None:
    import uvicorn

    from mageguard.gateway.app import App

    uvicorn.run(
        App(config, freeze=True),
        host=config.host,
        port=config.port,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_keep_alive=30,
        limit_concurrency=1024,
        server_header=False,
    )
