"""Typed loaders for the catalog's data files.

Every file is validated against its JSON Schema when loaded, so a typo in a data file is a
CatalogError at start-up, not a rule that silently never fires.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mageguard.errors import CatalogError

# libyaml's loader is ~10x faster than the pure-Python one; both are safe loaders.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data_file(
    name: str,
    schema: str | None = None,
    *,
    package: str = "mageguard.catalog",
    schemas: str = "mageguard.catalog",
) -> Any:
    """Load `<package>/data/<name>.yaml` and validate it against
    `<schemas>/schemas/<schema or name>.schema.json`: the one loader of knowledge files,
    whichever part of mageguard ships them.

    Validation costs more than parsing, so its success is remembered per content digest
    (see `_validated`): the same files are validated once per installation, not per run.
    """
    where = f"{package.rsplit('.', 1)[-1]}/data/{name}.yaml"
    try:
        text = resources.files(package).joinpath("data", f"{name}.yaml").read_text("utf-8")
        schema_text = (
            resources.files(schemas)
            .joinpath("schemas", f"{schema or name}.schema.json")
            .read_text("utf-8")
        )
        data = yaml.load(text, Loader=SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    validate_once(data, text, schema_text, where)
    return data


def validate_once(data: Any, text: str, schema_text: str, where: str) -> None:
    """Validate `data` (parsed from `text`) unless these exact bytes passed before."""
    digest = hashlib.sha256(f"{text}\x00{schema_text}".encode()).hexdigest()[:32]
    if _validated(digest):
        return
    try:
        schema_doc = json.loads(schema_text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"schema for {where}: {exc}") from exc
    validate(data, schema_doc, where)
    _validated(digest, remember=True)


def _validated(digest: str, remember: bool = False) -> bool:
    """Whether these exact bytes already passed their schema. A marker that cannot be
    written only means validating again next time."""
    if os.environ.get("MAGEGUARD_ALWAYS_VALIDATE"):
        return False
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    marker = base / "mageguard" / "validated" / digest
    if remember:
        with contextlib.suppress(OSError):
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        return True
    return marker.exists()


def validate(data: Any, schema: Mapping[str, Any], where: str) -> None:
    import jsonschema  # on demand: ~70 ms that an already validated catalog does not need

    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise CatalogError(f"{where}: {path}: {first.message}")


@dataclass(frozen=True)
class KeyPattern:
    id: str
    provider: str
    tokens: tuple[str, ...]
    regex: re.Pattern[str]
    mixed_charset: bool = False
    ai_units_only: bool = False


@dataclass(frozen=True)
class Sdk:
    provider: str
    language: str
    package: str
    classes: tuple[str, ...] = ()
    constructors: tuple[str, ...] = ()
    base_uri_methods: tuple[str, ...] = ()
    send_methods: tuple[str, ...] = ()
    default_host: str | None = None


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    kind: str
    hosts: tuple[str, ...]
    url_paths: tuple[str, ...]
    env_vars: tuple[str, ...]
    keys: tuple[KeyPattern, ...]
    sdks: tuple[Sdk, ...]
    composer_packages: tuple[str, ...]
    npm_packages: tuple[str, ...]
    surface: str | None = None
    config_words: tuple[str, ...] = ()
    package_categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    gateway_protocol: str | None = None  # the API the gateway speaks in its place


@dataclass(frozen=True)
class DataCategory:
    id: str
    title: str
    kind: str
    severity: str
    description: str = ""


@dataclass(frozen=True)
class Entity:
    """Something the redaction engine finds in text (EMAIL, CREDIT_CARD, SKU...)."""

    id: str
    title: str
    category: str
    placeholder: str
    operator: str


@dataclass(frozen=True)
class Pattern:
    id: str
    title: str
    seed: str


@dataclass(frozen=True)
class Surface:
    id: str
    title: str
    risk: int
    seed_point: int | None
    plugin_targets: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    path_tokens: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ControlClause:
    patterns: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    rules: frozenset[str] | None = None

    def holds(self, rule_id: str, pattern: str, categories: Iterable[str]) -> bool:
        if self.patterns is not None and pattern not in self.patterns:
            return False
        if self.categories is not None and not self.categories.intersection(categories):
            return False
        return self.rules is None or rule_id in self.rules


@dataclass(frozen=True)
class Control:
    id: str
    framework: str
    ref: str
    title: str
    when: tuple[ControlClause, ...] = ()


def _host_regex(pattern: str) -> re.Pattern[str]:
    """`*` stands for one or more DNS labels, so `*.openai.azure.com` matches any resource."""
    parts = [
        r"[a-z0-9-]+(?:\.[a-z0-9-]+)*" if p == "*" else re.escape(p)
        for p in re.split(r"(\*)", pattern)
    ]
    return re.compile("".join(parts) + r"\Z")


class HostMatcher:
    """Classifies host names by the providers catalog: exact names first, then wildcards."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self._exact: dict[str, Provider] = {}
        self._wild: list[tuple[re.Pattern[str], Provider]] = []
        for provider in providers:
            for host in provider.hosts:
                if "*" in host:
                    self._wild.append((_host_regex(host), provider))
                else:
                    self._exact[host] = provider

    def match(self, host: str) -> Provider | None:
        host = host.lower().rstrip(".")
        found = self._exact.get(host)
        if found is not None:
            return found
        for regex, provider in self._wild:
            if regex.match(host):
                return provider
        return None


_URL_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//(?:[^@/?#]*@)?([^:/?#\[\]]+)", re.I)
_FILE_EXT = re.compile(r"\.(php|phtml|js|json|xml|html?|csv|log|txt|png|jpe?g|gif|svg|css|md)\Z")
_BARE_HOST = re.compile(r"^([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(?:[/?#]|\Z)", re.I)


def host_of(url: str) -> str | None:
    """The host of an absolute URL, or of a scheme-less `host/path` (openai-php's base URIs
    are written that way: `api.openai.com/v1`)."""
    text = url.strip()
    m = _URL_HOST.match(text)
    if m:
        return m.group(1).lower()
    m = _BARE_HOST.match(text)
    if m:
        host = m.group(1).lower()
        # A bare "image.png" or "Model/Chat.php" is not a host: require a TLD-like last label.
        if re.search(r"\.[a-z]{2,}\Z", host) and not _FILE_EXT.search(host):
            return host
    return None


@dataclass(frozen=True)
class Catalog:
    providers: tuple[Provider, ...]
    categories: tuple[DataCategory, ...]
    patterns: tuple[Pattern, ...]
    surfaces: tuple[Surface, ...]
    controls: tuple[Control, ...]
    data_sources: Mapping[str, Any]
    sinks: Mapping[str, Any]
    entities: tuple[Entity, ...] = ()

    @functools.cached_property
    def hosts(self) -> HostMatcher:
        return HostMatcher(self.providers)

    @functools.cached_property
    def provider_by_id(self) -> Mapping[str, Provider]:
        return {p.id: p for p in self.providers}

    @functools.cached_property
    def category_by_id(self) -> Mapping[str, DataCategory]:
        return {c.id: c for c in self.categories}

    @functools.cached_property
    def entity_by_id(self) -> Mapping[str, Entity]:
        return {e.id: e for e in self.entities}

    @functools.cached_property
    def surface_by_id(self) -> Mapping[str, Surface]:
        return {s.id: s for s in self.surfaces}

    @property
    def key_patterns(self) -> tuple[KeyPattern, ...]:
        return tuple(k for p in self.providers for k in p.keys)

    @property
    def sdks(self) -> tuple[Sdk, ...]:
        return tuple(s for p in self.providers for s in p.sdks)

    def provider_for_url(self, url: str) -> tuple[Provider, str] | None:
        host = host_of(url)
        if host is None:
            return None
        provider = self.hosts.match(host)
        return (provider, host) if provider else None

    def provider_for_package(self, package: str, ecosystem: str = "composer") -> Provider | None:
        package = package.lower()
        for p in self.providers:
            names = p.composer_packages if ecosystem == "composer" else p.npm_packages
            if package in (n.lower() for n in names):
                return p
        return None

    def controls_for(
        self, rule_id: str, pattern: str, categories: Iterable[str]
    ) -> tuple[str, ...]:
        cats = tuple(categories)
        return tuple(
            c.id
            for c in self.controls
            if any(clause.holds(rule_id, pattern, cats) for clause in c.when)
        )

    def ai_tokens(self) -> tuple[str, ...]:
        """Strings whose presence makes a module worth analysing whole: host names, SDK
        namespaces, package names, env vars, and the extra AI words of sinks.yaml."""
        tokens: set[str] = set(self.sinks["ai_tokens"])
        for p in self.providers:
            for host in p.hosts:
                parts = host.split("*")
                # `bedrock-runtime.*.amazonaws.com` gates on its distinctive first part,
                # never on a shared cloud suffix like ".amazonaws.com".
                literal = parts[0] if len(parts[0]) >= 6 else max(parts, key=len)
                if len(literal.strip(".-")) >= 6:
                    tokens.add(literal)
            tokens.update(p.env_vars)
            tokens.update(p.composer_packages)
            for sdk in p.sdks:
                tokens.update(c.rstrip("\\") for c in sdk.classes if len(c.rstrip("\\")) >= 5)
        return tuple(sorted(t for t in tokens if t))

    def key_tokens(self) -> tuple[str, ...]:
        return tuple(sorted({t for k in self.key_patterns for t in k.tokens}))


def _tuple(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(data.get(key) or ())


def _provider(raw: Mapping[str, Any]) -> Provider:
    pid = raw["id"]
    keys = []
    for k in raw["keys"]:
        try:
            regex = re.compile(k["regex"])
        except re.error as exc:
            raise CatalogError(f"providers.yaml: key {k['id']}: bad regex: {exc}") from exc
        keys.append(
            KeyPattern(
                id=k["id"],
                provider=pid,
                tokens=tuple(k["tokens"]),
                regex=regex,
                mixed_charset=bool(k.get("mixed_charset")),
                ai_units_only=bool(k.get("ai_units_only")),
            )
        )
    sdks = tuple(
        Sdk(
            provider=pid,
            language=s["language"],
            package=s["package"],
            classes=_tuple(s, "classes"),
            constructors=_tuple(s, "constructors"),
            base_uri_methods=_tuple(s, "base_uri_methods"),
            send_methods=_tuple(s, "send_methods"),
            default_host=s.get("default_host"),
        )
        for s in raw["sdks"]
    )
    packages = raw.get("packages") or {}
    return Provider(
        id=pid,
        name=raw["name"],
        kind=raw["kind"],
        hosts=tuple(raw["hosts"]),
        url_paths=_tuple(raw, "url_paths"),
        env_vars=_tuple(raw, "env_vars"),
        keys=tuple(keys),
        sdks=sdks,
        composer_packages=_tuple(packages, "composer"),
        npm_packages=_tuple(packages, "npm"),
        surface=raw.get("surface"),
        gateway_protocol=raw.get("gateway_protocol"),
        config_words=_tuple(raw, "config_words"),
        package_categories={
            k.lower(): tuple(v) for k, v in (packages.get("categories") or {}).items()
        },
    )


def _clause(raw: Mapping[str, Any]) -> ControlClause:
    def fs(key: str) -> frozenset[str] | None:
        return frozenset(raw[key]) if key in raw else None

    return ControlClause(patterns=fs("patterns"), categories=fs("categories"), rules=fs("rules"))


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog, validated; cached because it never changes within a process."""
    providers = tuple(_provider(p) for p in load_data_file("providers")["providers"])
    categories = tuple(
        DataCategory(**c) for c in load_data_file("data_categories")["data_categories"]
    )
    patterns = tuple(Pattern(**p) for p in load_data_file("patterns")["patterns"])
    surfaces = tuple(
        Surface(
            id=s["id"],
            title=s["title"],
            risk=s["risk"],
            seed_point=s.get("seed_point"),
            **{k: tuple(v) for k, v in s["signals"].items()},
        )
        for s in load_data_file("surfaces")["surfaces"]
    )
    controls = tuple(
        Control(
            id=c["id"],
            framework=c["framework"],
            ref=c["ref"],
            title=c["title"],
            when=tuple(_clause(w) for w in c.get("when", ())),
        )
        for c in load_data_file("controls")["controls"]
    )
    catalog = Catalog(
        providers=providers,
        categories=categories,
        patterns=patterns,
        surfaces=surfaces,
        controls=controls,
        data_sources=load_data_file("data_sources"),
        sinks=load_data_file("sinks"),
        entities=tuple(Entity(**e) for e in load_data_file("entities")["entities"]),
    )
    _check_references(catalog)
    return catalog


def _check_references(catalog: Catalog) -> None:
    """Cross-file consistency the schemas cannot express: every name used is defined once."""

    def unique(kind: str, ids: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise CatalogError(f"duplicate {kind} id {i!r}")
            seen.add(i)
        return seen

    unique("provider", (p.id for p in catalog.providers))
    unique("key pattern", (k.id for k in catalog.key_patterns))
    cats = unique("data category", (c.id for c in catalog.categories))
    pats = unique("pattern", (p.id for p in catalog.patterns))
    unique("surface", (s.id for s in catalog.surfaces))
    unique("control", (c.id for c in catalog.controls))
    unique("entity", (e.id for e in catalog.entities))
    for e in catalog.entities:
        if e.category not in cats:
            raise CatalogError(f"entity {e.id}: unknown data category {e.category!r}")
    surface_ids = {s.id for s in catalog.surfaces}
    for p in catalog.providers:
        if p.surface is not None and p.surface not in surface_ids:
            raise CatalogError(f"provider {p.id}: unknown surface {p.surface!r}")
    for p in catalog.providers:
        for name, pcats in p.package_categories.items():
            if name not in (n.lower() for n in p.composer_packages):
                raise CatalogError(f"provider {p.id}: categories for unlisted package {name}")
            for c in pcats:
                if c not in cats:
                    raise CatalogError(f"provider {p.id}: unknown data category {c!r}")
    for s in catalog.surfaces:
        for c in s.categories:
            if c not in cats:
                raise CatalogError(f"surface {s.id}: unknown data category {c!r}")
    for ctl in catalog.controls:
        for clause in ctl.when:
            for c in clause.categories or ():
                if c not in cats:
                    raise CatalogError(f"control {ctl.id}: unknown data category {c!r}")
            for pat in clause.patterns or ():
                if pat not in pats:
                    raise CatalogError(f"control {ctl.id}: unknown pattern {pat!r}")
    ds = catalog.data_sources
    entries = [*ds["types"].values(), *ds["any_receiver"].values()]
    entries += [m for t in ds["types"].values() for m in (t.get("methods") or {}).values()]
    for entry in entries:
        for c in entry.get("categories", ()):
            if c not in cats:
                raise CatalogError(f"data_sources.yaml: unknown data category {c!r}")
    for attr, c in ds["attributes"].items():
        if c not in cats:
            raise CatalogError(f"data_sources.yaml: attribute {attr}: unknown category {c!r}")
