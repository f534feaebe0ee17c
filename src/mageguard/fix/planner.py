"""From a scan's findings and the store's own configuration to a Plan.

The shared foundation comes first (the gateway configuration, the connector module), then
one step per place that changes, ordered by risk (checkout and payment first); every
finding ends up either resolved by a step or explained.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from mageguard.catalog import Catalog, load_catalog
from mageguard.errors import MageguardError
from mageguard.fix import config_plan
from mageguard.fix.config_plan import ConfigChanges, Routed
from mageguard.fix.connector import (
    CALL_RULES,
    MODULE,
    MODULE_DIR,
    ConnectorSettings,
    Route,
    render_connector,
    routes_call,
)
from mageguard.fix.egress_plan import EGRESS_DIR, egress_files
from mageguard.fix.encryptor import Encryptor
from mageguard.fix.file_steps import file_steps
from mageguard.fix.gateway_plan import GATEWAY_CONFIG, gateway_config
from mageguard.fix.keys import gateway_key
from mageguard.fix.model import (
    Explanation,
    FileChange,
    Kind,
    Plan,
    RowChange,
    Step,
    TenantKeys,
    surface_rank,
)
from mageguard.fix.phpfile import enable_module, replace_values
from mageguard.fix.previous import Previous, read_previous
from mageguard.fix.store import CONFIG_PHP, ENV_PHP, Store
from mageguard.gateway.config import DEFAULT_ROUTE
from mageguard.scan.finding import Finding
from mageguard.scan.result import ScanResult

CONNECTOR_KEYS = "mageguard_connector/keys"


@dataclass(frozen=True)
class Remedy:
    remedy: str
    reason: str
    action: str


@functools.cache
def remedies() -> Mapping[str, Remedy]:
    text = resources.files("mageguard.fix").joinpath("data", "remedies.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["remedies"]
    return {rule: Remedy(**spec) for rule, spec in raw.items()}


@dataclass(frozen=True)
class FixOptions:
    gateway_url: str = "http://127.0.0.1:8088"
    rotate: str = ""  # a salt: new keys for every tenant and surface


def build_plan(
    scan: ScanResult, store: Store, options: FixOptions, catalog: Catalog | None = None
) -> Plan:
    catalog = catalog or load_catalog()
    findings = [
        f for f in scan.findings + scan.routed if not f.location.path.startswith(MODULE_DIR)
    ]
    encryptor = store.encryptor()
    secret = store.crypt_key.split()[-1].encode()  # the current key
    sites = store.websites
    if not sites:
        raise MageguardError(
            "no websites found: pass --db with the store's database (or a dump) so tenants "
            "can be made from store_website"
        )

    keys: dict[str, dict[str, str]] = defaultdict(dict)

    def key_for(tenant: str, surface: str) -> str:
        key = gateway_key(secret, tenant, surface, options.rotate)
        keys[tenant][surface] = key
        return key

    changes, routed = config_plan.plan_config(
        store, catalog, findings, options.gateway_url, key_for, encryptor
    )
    surfaces = sorted(
        {f.surface for f in findings} | {r.surface for r in routed.values()} | {DEFAULT_ROUTE}
    )
    for site in sites:
        for surface in surfaces:
            key_for(site.code, surface)

    steps: list[Step] = []
    previous = read_previous(store, (c.id for c in catalog.categories))
    routes = _routes(catalog)
    resolved_calls = [f for f in findings if routes_call(f, routes)]
    steps.append(
        _connector_step(store, previous, routes, findings, options, keys, encryptor, resolved_calls)
    )
    models = _models(findings, catalog, config_plan.configured_models(store, routed), previous)
    gateway = _gateway_step(store, catalog, findings, keys, models, previous, options.gateway_url)
    steps.append(gateway)
    steps += _config_steps(store, findings, changes, routed)
    steps += file_steps(store, findings, routes, options.gateway_url, key_for)
    resolved = {fp for s in steps for fp in s.findings}
    steps.append(_egress_step(store, catalog, findings, resolved, gateway))
    steps = [s for s in steps if s.changes or s.findings or s.kind is Kind.EGRESS]
    foundation = [s for s in steps if s.kind in (Kind.GATEWAY, Kind.CONNECTOR, Kind.EGRESS)]
    rest = sorted(
        (s for s in steps if s not in foundation),
        key=lambda s: (surface_rank(s.surface), s.kind.value, s.where),
    )
    ordered = tuple(foundation + rest)
    done = {fp for s in ordered for fp in s.findings}
    explained = tuple(_explain(f) for f in findings if f.fingerprint not in done)
    return Plan(
        root=str(store.root),
        database=store.database,
        gateway_url=options.gateway_url,
        steps=ordered,
        explained=tuple(sorted(explained, key=lambda e: (surface_rank(e.surface), e.location))),
        tenants=tuple(s.code for s in sites),
        commands=_commands(options),
        keys=tuple(TenantKeys(t, tuple(sorted(k.items()))) for t, k in sorted(keys.items())),
    )


def _explain(f: Finding) -> Explanation:
    remedy = remedies().get(f.rule_id) or Remedy("none", "no automatic remedy", "review it")
    where = f"{f.location.path}:{f.location.line}" if f.location.is_file else f.location.path
    path = dict(f.extra).get("config_path")
    if path and "config_id" in dict(f.extra):
        extra = dict(f.extra)
        where = f"{path} @ {extra.get('scope', 'default')}/{extra.get('scope_code', '')}"
    return Explanation(f.fingerprint, f.rule_id, f.surface, where, remedy.reason, remedy.action)


# --- the connector --------------------------------------------------------------------


def _routes(catalog: Catalog) -> tuple[Route, ...]:
    return tuple(
        Route(host, p.id, p.gateway_protocol)
        for p in catalog.providers
        if p.kind == "ai_provider"
        for host in p.hosts
        if "*" not in host.replace("*.", "")  # a label wildcard (`*-aiplatform`): egress's job
    )


def _namespaces(store: Store, findings: Iterable[Finding]) -> list[tuple[str, str]]:
    """PHP namespace prefix -> surface, for the connector to name a call's surface."""
    by_module: dict[str, str] = {}
    for f in sorted(findings, key=lambda f: surface_rank(f.surface)):
        if f.module and f.rule_id in CALL_RULES:
            by_module.setdefault(f.module, f.surface)
    out = []
    for module, surface in by_module.items():
        prefix = _namespace_of(store, module)
        if prefix:
            out.append((prefix, surface))
    return sorted(out)


def _namespace_of(store: Store, module: str) -> str | None:
    if "_" in module and "/" not in module:
        vendor, name = module.split("_", 1)
        return f"{vendor}\\{name}\\"
    try:
        doc: Any = json.loads((store.root / "vendor" / module / "composer.json").read_bytes())
        psr4 = doc.get("autoload", {}).get("psr-4", {})
        return next(iter(psr4), None) if isinstance(psr4, dict) else None
    except (OSError, ValueError):
        return None


def _connector_step(
    store: Store,
    previous: Previous,
    routes: tuple[Route, ...],
    findings: list[Finding],
    options: FixOptions,
    keys: Mapping[str, Mapping[str, str]],
    encryptor: Encryptor,
    resolved: list[Finding],
) -> Step:
    settings = ConnectorSettings(
        gateway_url=options.gateway_url.rstrip("/"),
        routes=routes,
        surfaces=tuple(sorted({**previous.surfaces, **dict(_namespaces(store, findings))}.items())),
    )
    files = [
        store.file_change(path, content)
        for path, content in sorted(render_connector(settings).items())
    ]
    if store.config_php is not None:
        new = enable_module(store.config_php, MODULE)
        if new != store.config_php:
            files.append(FileChange(CONFIG_PHP, store.config_php, new))
    rows = []
    default_site = store.default_website
    for site in store.websites:
        for surface, key in sorted(keys.get(site.code, {}).items()):
            rows += _key_row(
                store, "websites", site.id, f"{CONNECTOR_KEYS}/{surface}", key, encryptor
            )
            if default_site is not None and site.code == default_site.code:
                rows += _key_row(store, "default", 0, f"{CONNECTOR_KEYS}/{surface}", key, encryptor)
    return Step(
        id="connector",
        kind=Kind.CONNECTOR,
        surface="checkout_payment",
        title=(
            f"Install {MODULE}: DI plugins on Guzzle (client and factory), "
            "Magento's Curl and Laminas' client send AI hosts to the gateway with the "
            "website, store view and surface as headers and the tenant's gateway key"
        ),
        where=f"{MODULE_DIR}/, {CONFIG_PHP} (modules), core_config_data {CONNECTOR_KEYS}/*",
        undo="rollback removes the module's files, restores config.php and deletes the key rows",
        findings=tuple(f.fingerprint for f in resolved),
        rows=tuple(rows),
        files=tuple(f for f in files if f is not None),
        notes=(
            "run bin/magento setup:upgrade && bin/magento cache:flush after apply",
            "calls to AI hosts whose API the gateway does not speak are refused by the "
            "connector (fail closed) rather than sent",
        ),
    )


def _key_row(
    store: Store, scope: str, scope_id: int, path: str, key: str, encryptor: Encryptor
) -> list[RowChange]:
    row = store.row(scope, scope_id, path)
    if row is not None and row.value and config_plan.holds(row.value, key, encryptor):
        return []
    return [
        RowChange(scope, scope_id, path, row.value if row else None, encryptor.encrypt(key), True)
    ]


# --- the gateway configuration ----------------------------------------------------------


def _models(
    findings: Iterable[Finding],
    catalog: Catalog,
    configured: Mapping[str, set[str]],
    previous: Previous,
) -> dict[str, list[str]]:
    """Provider -> every model the store asks it for: named in the calls the scan resolved
    (extra `model`), configured in its routed sections, or listed by an earlier apply."""
    out: dict[str, set[str]] = defaultdict(set)
    for pid, names in [*configured.items(), *previous.models.items()]:
        out[pid] |= names
    for f in findings:
        provider = catalog.provider_by_id.get(f.provider or "")
        model = dict(f.extra).get("model")
        if provider is not None and provider.gateway_protocol and model:
            out[provider.id] |= {m.strip() for m in model.split(",") if m.strip()}
    return {p: sorted(names) for p, names in sorted(out.items())}


def _gateway_step(
    store: Store,
    catalog: Catalog,
    findings: list[Finding],
    keys: Mapping[str, Mapping[str, str]],
    models: Mapping[str, list[str]],
    previous: Previous,
    gateway_url: str,
) -> Step:
    found = [catalog.provider_by_id.get(f.provider or "") for f in findings]
    found += [catalog.provider_by_id.get(p) for p in previous.providers]
    providers = [p for p in found if p is not None and p.gateway_protocol]
    categories = {c for f in findings for c in f.data_categories} | previous.kept_local
    text = gateway_config(
        tenants=[(w.code, w.name) for w in store.websites],
        keys=keys,
        providers=providers,
        found_categories=categories,
        catalog=catalog,
        deny_hosts=sorted({f.host for f in findings if f.host and not catalog.hosts.match(f.host)}),
        models=models,
        gateway_url=gateway_url,
    )
    change = store.file_change(GATEWAY_CONFIG, text.encode("utf-8"))
    return Step(
        id="gateway-config",
        kind=Kind.GATEWAY,
        surface="checkout_payment",
        title=(
            f"Gateway configuration: {len(store.websites)} tenant(s) from store_website, a key "
            "per tenant and surface, data categories the scan found kept on local backends, "
            "rollout flags at 0% local"
        ),
        where=GATEWAY_CONFIG,
        undo="rollback removes the file",
        files=(change,) if change else (),
    )


def _egress_step(
    store: Store,
    catalog: Catalog,
    findings: list[Finding],
    resolved: set[str],
    gateway: Step,
) -> Step:
    """Rules for what still bypasses the gateway: the hosts of calls neither the connector
    nor a patch reaches are blocked, or, for SDKs that hard-code a provider, served by the
    gateway's transparent interception."""
    text = (
        gateway.files[0].new
        if gateway.files and gateway.files[0].new is not None
        else (store.root / GATEWAY_CONFIG).read_bytes()
    )
    rendered = egress_files(text.decode("utf-8"), store.root)
    files = [store.file_change(path, content) for path, content in rendered.items()]
    bypass = sorted(
        {f.host for f in findings if f.rule_id in CALL_RULES and f.host}
        - {f.host for f in findings if f.fingerprint in resolved}
    )
    intercept = sorted(
        h for h in bypass if (p := catalog.hosts.match(h)) is not None and p.gateway_protocol
    )
    notes = [
        "load after review: nft -f app/etc/mageguard/egress/nftables.nft (or the Squid rules "
        "in front of PHP-FPM's HTTPS_PROXY)"
        if rendered
        else "no rules rendered: the gateway's host name does not resolve here; set "
        f"egress.gateway.address in {GATEWAY_CONFIG}, then mageguard egress render",
    ]
    if bypass:
        notes.append(
            "AI hosts still called directly, refused by these rules until the gateway "
            "config's egress.allow lists one the record of processing covers: " + ", ".join(bypass)
        )
    if intercept:
        notes.append(
            "the gateway can serve these by transparent interception instead of refusing "
            "them: mageguard intercept init, then an `intercept:` section: " + ", ".join(intercept)
        )
    return Step(
        id="egress",
        kind=Kind.EGRESS,
        surface="checkout_payment",
        title=(
            "Egress rules from the gateway configuration: AI hosts are refused unless the "
            "call goes through the gateway (nftables for the Magento host, Squid SNI rules)"
        ),
        where=f"{EGRESS_DIR}/",
        undo="rollback removes the files (nothing is loaded by apply)",
        files=tuple(f for f in files if f is not None),
        notes=tuple(notes),
    )


# --- store configuration ----------------------------------------------------------------


def _config_steps(
    store: Store, findings: list[Finding], changes: ConfigChanges, routed: Mapping[str, Routed]
) -> list[Step]:
    surface_of = config_plan.section_surfaces(findings)
    by_section: dict[str, list[RowChange]] = defaultdict(list)
    for row in changes.rows:
        by_section[row.path.rsplit("/", 1)[0]].append(row)
    resolved = _config_findings(store, findings, changes)
    steps = []
    sections = sorted(set(by_section) | {p.rsplit("/", 1)[0] for p in resolved})
    for section in sections:
        rows = tuple(by_section.get(section, ()))
        surface = surface_of.get(section) or (
            routed[section].surface if section in routed else "default"
        )
        target = routed.get(section)
        steps.append(
            Step(
                id=f"config:{section}",
                kind=Kind.STORE_CONFIG,
                surface=surface,
                title=(
                    f"{section}: endpoint to the gateway ({target.provider.name} protocol), "
                    "keys to the tenant's gateway key (encrypted)"
                    if target
                    else f"{section}: provider key replaced by the tenant's gateway key (encrypted)"
                ),
                where=f"core_config_data {section}/*",
                undo="rollback restores each row's old value and deletes inserted rows",
                findings=tuple(resolved.get(section, ())),
                rows=rows,
            )
        )
    if changes.env and store.env_php is not None:
        new = replace_values(store.env_php, changes.env)
        fps = tuple(
            f.fingerprint
            for f in findings
            if f.location.path == ENV_PHP and dict(f.extra).get("config_path") in changes.env
        )
        steps.append(
            Step(
                id="config:env.php",
                kind=Kind.STORE_CONFIG,
                surface=min(
                    (
                        surface_of.get(k.split("/", 3)[-1].rsplit("/", 1)[0], "default")
                        for k in changes.env
                    ),
                    key=surface_rank,
                ),
                title=(
                    "env.php system overrides: AI endpoints to the gateway, keys to gateway "
                    "keys (encrypted)"
                ),
                where=f"{ENV_PHP}: " + ", ".join(sorted(changes.env)),
                undo="rollback restores the file byte for byte",
                findings=fps,
                files=(FileChange(ENV_PHP, store.env_php, new),),
            )
        )
    return steps


def _config_findings(
    store: Store, findings: list[Finding], changes: ConfigChanges
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        extra = dict(f.extra)
        path, scope, code = extra.get("config_path"), extra.get("scope"), extra.get("scope_code")
        if not path or "config_id" not in extra or not scope:
            continue  # only database rows carry a config_id
        scope_id = 0 if scope == "default" else store.scope_id(scope, code or "")
        if scope_id is not None and (scope, scope_id, path) in changes.resolved:
            out[path.rsplit("/", 1)[0]].append(f.fingerprint)
    return out


def _commands(options: FixOptions) -> tuple[str, ...]:
    return (
        "bin/magento setup:upgrade && bin/magento cache:flush",
        f"mageguard gateway --config {GATEWAY_CONFIG}",
        f"nft -f {EGRESS_DIR}/nftables.nft   # after review; refresh its allow list with "
        f"mageguard egress render --target nftables-sets --config {GATEWAY_CONFIG}",
        f"mageguard intercept init --config {GATEWAY_CONFIG}   # for SDKs that hard-code hosts",
    )
