"""Store configuration changes: AI endpoints pointed at the gateway, provider keys replaced
by the tenant's gateway key (encrypted, as Magento's Encrypted backend stores it), in
core_config_data per scope and in env.php's `system` overrides.

Magento resolves a value store view -> website -> default, with env.php overriding the
database at the same scope. A key only at the default scope would make every website speak
as one tenant, so each website gets its own row; store views inherit their website's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from mageguard.catalog import Catalog, Provider
from mageguard.catalog.loader import host_of
from mageguard.fix.encryptor import EncryptionError, Encryptor, is_encrypted
from mageguard.fix.model import RowChange
from mageguard.fix.store import Store
from mageguard.scan.analyzers.xml import CREDENTIAL_FIELD
from mageguard.scan.finding import Finding

OPENAI_SUFFIXES = ("/chat/completions", "/completions", "/embeddings", "/responses", "/models")
_ENV_KEY = re.compile(r"^system/(?:(default)|(websites|stores)/([^/]+))/(.+)$")

KeyFor = Callable[[str, str], str]  # (tenant, surface) -> key


@dataclass(frozen=True)
class Entry:
    """A configuration value wherever it lives: a core_config_data row or an env.php
    `system` entry (`env_key` is its flattened key there)."""

    scope: str
    scope_id: int
    path: str
    value: str
    env_key: str | None = None

    @property
    def section(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def field(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def entries(store: Store) -> list[Entry]:
    out = [
        Entry(r.scope, r.scope_id, r.path, r.value)
        for r in store.rows
        if r.value is not None and r.scope in ("default", "websites", "stores")
    ]
    for key, leaf in store.env.items():
        m = _ENV_KEY.match(key)
        if m is None or not isinstance(leaf.value, str):
            continue
        scope = "default" if m.group(1) else m.group(2)
        scope_id = 0 if m.group(1) else store.scope_id(scope, m.group(3))
        if scope_id is None:
            continue  # a scope code this store does not have: Magento ignores it too
        out.append(Entry(scope, scope_id, m.group(4), leaf.value, env_key=key))
    return out


def gateway_endpoint(value: str, protocol: str, gateway_url: str) -> str:
    """The gateway URL a configured endpoint becomes: the API suffix the module put in the
    value is kept (`.../v1/chat/completions`), the provider's own prefix is not (Azure's
    `/openai/deployments/<name>`); OpenAI clients append paths to `<gateway>/v1`, Anthropic
    clients to the bare base."""
    base = gateway_url.rstrip("/")
    path = urlsplit(value.strip()).path.rstrip("/")
    if protocol == "anthropic":
        return f"{base}/v1/messages" if path.endswith("/messages") else base
    for suffix in OPENAI_SUFFIXES:
        if path.endswith(suffix):
            return f"{base}/v1{suffix}"
    return f"{base}/v1"


@dataclass(frozen=True)
class Routed:
    """A configuration section whose endpoint the plan points at the gateway."""

    section: str
    provider: Provider
    surface: str


def routed_sections(
    all_entries: Iterable[Entry], catalog: Catalog, surfaces: Mapping[str, str]
) -> dict[str, Routed]:
    out: dict[str, Routed] = {}
    for e in all_entries:
        provider = _endpoint_provider(e, catalog)
        if provider is not None and provider.gateway_protocol:
            surface = surfaces.get(e.section) or provider.surface or "default"
            out.setdefault(e.section, Routed(e.section, provider, surface))
    return out


_MODEL_FIELD = re.compile(r"(?:^|_)model$")


def configured_models(store: Store, routed: Mapping[str, Routed]) -> dict[str, set[str]]:
    """Provider -> the model names its routed sections configure (core_config_data, env.php
    and the modules' etc/config.xml defaults): the gateway must route each of them, or the
    store's requests get `model_not_found` the day its endpoints point at the gateway."""
    from mageguard.errors import MageguardError
    from mageguard.scan.wiring import flatten_config_defaults
    from mageguard.scan.xmlfile import parse_xml

    if not routed:
        return {}
    values = [(e.path, e.value) for e in entries(store)]
    # A module's defaults matter only when they open one of the routed sections: a bytes
    # test spares parsing the hundreds of config.xml files of a real vendor/ tree.
    tags = {f"<{section.split('/', 1)[0]}>".encode() for section in routed}
    for xml in sorted(store.root.glob("app/code/*/*/etc/config.xml")) + sorted(
        store.root.glob("vendor/*/*/etc/config.xml")
    ):
        try:
            data = xml.read_bytes()
            if not any(tag in data for tag in tags):
                continue
            defaults = flatten_config_defaults(parse_xml(data, str(xml)))
        except (OSError, MageguardError):
            continue
        values += [(path, value) for path, (value, _) in defaults.items()]
    out: dict[str, set[str]] = {}
    for path, value in values:
        section, field = path.rsplit("/", 1)
        if section in routed and _MODEL_FIELD.search(field) and 0 < len(value.strip()) <= 100:
            out.setdefault(routed[section].provider.id, set()).add(value.strip())
    return out


def _endpoint_provider(e: Entry, catalog: Catalog) -> Provider | None:
    if CREDENTIAL_FIELD.search(e.field) or "://" not in e.value:
        return None
    host = host_of(e.value)
    return catalog.hosts.match(host) if host else None


def section_surfaces(findings: Iterable[Finding]) -> dict[str, str]:
    """Config section -> surface, as the scan attributed the section's findings."""
    out: dict[str, str] = {}
    for f in findings:
        path = dict(f.extra).get("config_path")
        if path:
            out.setdefault(path.rsplit("/", 1)[0], f.surface)
    return out


@dataclass
class ConfigChanges:
    rows: list[RowChange]
    env: dict[str, str]  # env.php flattened key -> new value
    resolved: set[tuple[str, int, str]]  # (scope, scope_id, path) now safe


def plan_config(
    store: Store,
    catalog: Catalog,
    findings: Iterable[Finding],
    gateway_url: str,
    key_for: KeyFor,
    encryptor: Encryptor,
) -> tuple[ConfigChanges, dict[str, Routed]]:
    findings = tuple(findings)
    all_entries = entries(store)
    routed = routed_sections(all_entries, catalog, section_surfaces(findings))
    key_sections = _key_sections(findings, catalog, routed)
    changes = ConfigChanges([], {}, set())

    def tenant(scope: str, scope_id: int) -> str | None:
        site = store.website_of(scope, scope_id)
        return site.code if site else None

    for e in all_entries:
        new: str | None = None
        if e.section in routed and (provider := _endpoint_provider(e, catalog)) is not None:
            protocol = provider.gateway_protocol
            if protocol:
                new = gateway_endpoint(e.value, protocol, gateway_url)
        elif e.section in key_sections and CREDENTIAL_FIELD.search(e.field) and e.value.strip():
            site = tenant(e.scope, e.scope_id)
            if site is None:
                continue
            key = key_for(site, key_sections[e.section])
            if holds(e.value, key, encryptor):
                changes.resolved.add((e.scope, e.scope_id, e.path))
                continue
            new = encryptor.encrypt(key)
        if new is None:
            continue
        changes.resolved.add((e.scope, e.scope_id, e.path))
        if new == e.value:
            continue
        if e.env_key is not None:
            changes.env[e.env_key] = new
        else:
            secret = bool(CREDENTIAL_FIELD.search(e.field))
            changes.rows.append(RowChange(e.scope, e.scope_id, e.path, e.value, new, secret))
    changes.rows += _website_keys(store, all_entries, key_sections, key_for, encryptor)
    return changes, routed


def _key_sections(
    findings: Iterable[Finding], catalog: Catalog, routed: Mapping[str, Routed]
) -> dict[str, str]:
    """Sections whose keys become gateway keys: every routed section, and every section
    holding a plaintext key of a provider the gateway stands in for (the connector then
    authenticates its calls; the provider key must not stay in the database)."""
    out = {r.section: r.surface for r in routed.values()}
    for f in findings:
        path = dict(f.extra).get("config_path")
        provider = catalog.provider_by_id.get(f.provider or "")
        if (
            path
            and f.rule_id in ("db-ai-key-plaintext", "ai-key-in-env-php")
            and provider is not None
            and provider.gateway_protocol
        ):
            out.setdefault(path.rsplit("/", 1)[0], f.surface)
    return out


def _website_keys(
    store: Store,
    all_entries: list[Entry],
    key_sections: Mapping[str, str],
    key_for: KeyFor,
    encryptor: Encryptor,
) -> list[RowChange]:
    """A websites-scope key row for each website that would otherwise inherit the default
    scope's key (and so speak as the default website's tenant)."""
    if not store.rows:
        return []  # no database: env.php's own scopes are all there is
    out = []
    key_paths = sorted(
        {
            e.path
            for e in all_entries
            if e.section in key_sections and CREDENTIAL_FIELD.search(e.field) and e.value.strip()
        }
    )
    for path in key_paths:
        for site in store.websites:
            if store.row("websites", site.id, path) is not None:
                continue
            key = key_for(site.code, key_sections[path.rsplit("/", 1)[0]])
            out.append(RowChange("websites", site.id, path, None, encryptor.encrypt(key), True))
    return out


def holds(value: str, key: str, encryptor: Encryptor) -> bool:
    """Whether a stored value already is `key`, encrypted: so a re-run changes nothing."""
    if not is_encrypted(value):
        return False
    try:
        return encryptor.decrypt(value) == key
    except EncryptionError:
        return False
