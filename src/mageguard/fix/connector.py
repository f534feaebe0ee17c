"""The Magento module `mageguard fix` installs into a store: Mageguard_Connector.

In real AI modules the call site rarely names its host (DESIGN.md), so patching call sites
one by one misses calls; plugging the HTTP clients Magento hands out (Curl, Guzzle, Laminas)
reroutes every module's calls to the gateway at once. The PHP is a static tree shipped as
package data (`connector/` beside this file); only etc/config.xml, which carries this store's
gateway URL, AI hosts and namespace-to-surface map, is generated.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from mageguard.errors import ConfigError, MageguardError
from mageguard.scan.finding import Finding

MODULE_DIR = "app/code/Mageguard/Connector"
MODULE = "Mageguard_Connector"
ENABLED_PATH = "mageguard_connector/general/enabled"
# What the DI plugins (connector/etc/di.xml) rewrite: calls through these clients, and the
# SDKs that send through them. Scan findings name the client in `extra`.
CONNECTED_CLIENTS = frozenset({"Guzzle", "Magento HTTP Curl", "Laminas/Zend HTTP"})
CONNECTED_SDKS = frozenset({"openai-php/client"})
CALL_RULES = frozenset({"php-ai-http-call", "php-ai-sdk-call", "php-ai-call-unresolved-host"})

# One gateway key field per surface in etc/adminhtml/system.xml; a test keeps the two equal.
SURFACES = (
    "checkout_payment",
    "multi_tenant_models",
    "logging",
    "search_recommendations",
    "admin_analytics",
    "content_generation",
    "default",
)
PROTOCOLS = ("openai", "anthropic")

_HOST = re.compile(r"(?:\*|[a-z0-9-]+)(?:\.(?:\*|[a-z0-9-]+))*", re.IGNORECASE)
# A namespace prefix ends with a backslash so that Vendor\Search\ cannot match Vendor\SearchX.
_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\\)+")
_GATEWAY_URL = re.compile(r"https?://[^/\s?#]+(?:/[^\s?#]*)?")


@dataclass(frozen=True)
class Route:
    """An AI host the connector watches. `protocol` None: the gateway cannot stand in for
    the provider's API, so every call to the host is refused rather than let through."""

    host: str
    provider: str
    protocol: str | None

    def __post_init__(self) -> None:
        if not _HOST.fullmatch(self.host):
            raise ConfigError(f"connector route: {self.host!r} is not a host name pattern")
        if not self.provider:
            raise ConfigError(f"connector route {self.host}: provider is empty")
        if self.protocol is not None and self.protocol not in PROTOCOLS:
            raise ConfigError(
                f"connector route {self.host}: protocol {self.protocol!r} is none of "
                f"{', '.join(PROTOCOLS)} (or null)"
            )


@dataclass(frozen=True)
class ConnectorSettings:
    """What the connector needs to know about one store; checked here because the PHP side
    can only fail closed on a bad value, which would take the store's AI features down."""

    gateway_url: str
    routes: tuple[Route, ...]
    surfaces: tuple[tuple[str, str], ...]  # (PHP namespace prefix, surface id)
    default_surface: str = "default"
    enabled: bool = True

    def __post_init__(self) -> None:
        url = self.gateway_url
        if not _GATEWAY_URL.fullmatch(url) or url.endswith(("/", "/v1")):
            raise ConfigError(
                f"connector gateway_url {url!r}: want http(s)://host[:port][/path], "
                "without /v1, a trailing slash, query or fragment"
            )
        prefixes = [prefix for prefix, _ in self.surfaces]
        if len(set(prefixes)) != len(prefixes):
            raise ConfigError("connector surfaces: a namespace prefix is mapped twice")
        for prefix, surface in self.surfaces:
            if not _PREFIX.fullmatch(prefix):
                raise ConfigError(
                    f"connector surfaces: {prefix!r} is not a PHP namespace prefix ending in \\"
                )
            _check_surface(surface)
        _check_surface(self.default_surface)


def _check_surface(surface: str) -> None:
    if surface not in SURFACES:
        raise ConfigError(f"connector: unknown surface {surface!r} (one of {', '.join(SURFACES)})")


def render_connector(settings: ConnectorSettings) -> dict[str, bytes]:
    """Relative path under the store root (starting with MODULE_DIR) -> file bytes, sorted
    by path, so that the same settings give the same plan byte for byte."""
    files = dict(_static_files(resources.files("mageguard.fix").joinpath("connector"), ""))
    files["etc/config.xml"] = _config_xml(settings)
    return {f"{MODULE_DIR}/{path}": files[path] for path in sorted(files)}


def routes_json(settings: ConnectorSettings) -> str:
    """The JSON the PHP reads from mageguard_connector/general/routes, in the given order."""
    routes = [
        {"host": r.host, "provider": r.provider, "protocol": r.protocol} for r in settings.routes
    ]
    return json.dumps(routes, separators=(",", ":"))


def surfaces_json(settings: ConnectorSettings) -> str:
    """The JSON object of mageguard_connector/general/surfaces; sorted, as the PHP picks the
    longest matching prefix whatever the order."""
    return json.dumps(dict(settings.surfaces), separators=(",", ":"), sort_keys=True)


def _static_files(node: Traversable, prefix: str) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for child in node.iterdir():
        if child.name.startswith(".") or child.name == "__pycache__":
            continue
        path = f"{prefix}{child.name}"
        if child.is_dir():
            found.extend(_static_files(child, f"{path}/"))
        else:
            found.append((path, child.read_bytes()))
    return found


def _config_xml(settings: ConnectorSettings) -> bytes:
    """Built with ElementTree so that the JSON values are escaped as XML text must be."""
    root = ET.Element(
        "config",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "urn:magento:module:Magento_Store:etc/config.xsd",
        },
    )
    general = ET.SubElement(
        ET.SubElement(ET.SubElement(root, "default"), "mageguard_connector"), "general"
    )
    for name, value in (
        ("enabled", "1" if settings.enabled else "0"),
        ("gateway_url", settings.gateway_url),
        ("default_surface", settings.default_surface),
        ("routes", routes_json(settings)),
        ("surfaces", surfaces_json(settings)),
    ):
        ET.SubElement(general, name).text = value
    ET.indent(root, space="    ")
    return f'<?xml version="1.0"?>\n{ET.tostring(root, encoding="unicode")}\n'.encode()


def routes_call(finding: Finding, routes: Iterable[Route]) -> bool:
    """The connector sends this call to the gateway: one home for the planner (which calls
    a plan resolves) and the scan (which calls an installed connector already routes)."""
    if finding.rule_id not in CALL_RULES:
        return False
    extra = dict(finding.extra)
    if extra.get("client") not in CONNECTED_CLIENTS and extra.get("sdk") not in CONNECTED_SDKS:
        return False
    return finding.provider in {r.provider for r in routes if r.protocol is not None}


def read_settings(config_xml: bytes) -> ConnectorSettings:
    """The settings a rendered etc/config.xml carries (the inverse of render_connector's
    config.xml): what the scan and a re-run of the planner read back."""
    from mageguard.scan.xmlfile import parse_xml

    node = parse_xml(config_xml, f"{MODULE_DIR}/etc/config.xml")
    for tag in ("default", "mageguard_connector", "general"):
        found = node.find(tag)
        if found is None:
            raise ConfigError(f"{MODULE_DIR}/etc/config.xml: no <{tag}>")
        node = found
    try:
        routes = json.loads(node.child_text("routes") or "[]")
        surfaces = json.loads(node.child_text("surfaces") or "{}")
        return ConnectorSettings(
            gateway_url=node.child_text("gateway_url") or "",
            routes=tuple(Route(r["host"], r["provider"], r.get("protocol")) for r in routes),
            surfaces=tuple(sorted(surfaces.items())),
            default_surface=node.child_text("default_surface") or "default",
            enabled=node.child_text("enabled") == "1",
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{MODULE_DIR}/etc/config.xml: {exc}") from None


def installed_routes(
    read: Callable[[str], bytes | None], disabled_in_database: bool = False
) -> tuple[Route, ...]:
    """The routes of a connector that is in the tree and enabled (config.php lists it as 1,
    its etc/config.xml does not switch it off, no core_config_data row does) and whose
    code is exactly what this version of mageguard ships; () otherwise. A connector the
    scan cannot read in full, or that someone edited, counts as absent: claiming a call is
    routed when it may not be would hide a leak."""
    from mageguard.scan.php.literal import read_returned_array

    config_php, config_xml = read("app/etc/config.php"), read(f"{MODULE_DIR}/etc/config.xml")
    if disabled_in_database or config_php is None or config_xml is None:
        return ()
    shipped = _static_files(resources.files("mageguard.fix").joinpath("connector"), "")
    if any(read(f"{MODULE_DIR}/{path}") != content for path, content in shipped):
        return ()
    try:
        modules = (read_returned_array(config_php) or {}).get("modules")
        entry = modules.get(MODULE) if isinstance(modules, dict) else None
        if entry is None or str(getattr(entry, "value", "")) not in ("1", "True"):
            return ()
        settings = read_settings(config_xml)
    except MageguardError:
        return ()
    return settings.routes if settings.enabled else ()
