"""The connector module: rendered files are valid and deterministic, and the PHP plugins,
run by PHPUnit against stubs of Magento, Guzzle and Laminas (tests/fix/php/), reroute, leave
alone or block each kind of call."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from mageguard.errors import ConfigError
from mageguard.fix.connector import (
    MODULE_DIR,
    SURFACES,
    ConnectorSettings,
    Route,
    installed_routes,
    render_connector,
    routes_call,
)
from mageguard.scan.finding import Confidence, Finding, Location, Severity
from tests.helpers.debian import require

PHP_TESTS = Path(__file__).parent / "php"

# tests/fix/php/tests/ConnectorTestCase.php expects exactly this gateway and these surfaces.
SETTINGS = ConnectorSettings(
    gateway_url="http://127.0.0.1:8700",
    routes=(
        Route("api.openai.com", "openai", "openai"),
        Route("*.openai.azure.com", "azure_openai", "openai"),
        Route("api.anthropic.com", "anthropic", "anthropic"),
        Route("generativelanguage.googleapis.com", "google_gemini", None),
    ),
    surfaces=(
        ("Lumen\\SmartSearch\\", "search_recommendations"),
        ("Lumen\\", "content_generation"),
        ("Lumen\\FraudShield\\", "checkout_payment"),
    ),
)


@pytest.fixture(scope="session")
def php() -> str:
    return require("php", "php-cli")


@pytest.fixture(scope="session")
def phpunit(php: str) -> str:
    return require("phpunit", "phpunit")


def write_module(files: dict[str, bytes], root: Path) -> Path:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root / MODULE_DIR


def config_fields(files: dict[str, bytes]) -> dict[str, str | None]:
    root = ET.fromstring(files[f"{MODULE_DIR}/etc/config.xml"])
    general = root.find("default/mageguard_connector/general")
    assert general is not None
    return {field.tag: field.text for field in general}


def test_phpunit_suite_passes_against_the_rendered_module(tmp_path: Path, phpunit: str) -> None:
    module = write_module(render_connector(SETTINGS), tmp_path)
    result = subprocess.run(
        [
            phpunit,
            "--bootstrap",
            str(PHP_TESTS / "bootstrap.php"),
            "--do-not-cache-result",
            "--fail-on-warning",
            "--fail-on-risky",
            str(PHP_TESTS / "tests"),
        ],
        cwd=tmp_path,
        env={**os.environ, "MAGEGUARD_CONNECTOR_DIR": str(module)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "OK (" in result.stdout, output


def test_every_rendered_php_file_passes_php_lint(tmp_path: Path, php: str) -> None:
    module = write_module(render_connector(SETTINGS), tmp_path)
    php_files = sorted(module.rglob("*.php"))
    assert len(php_files) >= 7
    for path in php_files:
        result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_rendered_xml_and_json_file_parses() -> None:
    files = render_connector(SETTINGS)
    xml_files = [path for path in files if path.endswith(".xml")]
    assert {p.removeprefix(f"{MODULE_DIR}/") for p in xml_files} == {
        "etc/acl.xml",
        "etc/adminhtml/system.xml",
        "etc/config.xml",
        "etc/di.xml",
        "etc/module.xml",
    }
    for path in xml_files:
        ET.fromstring(files[path])
    composer = json.loads(files[f"{MODULE_DIR}/composer.json"])
    assert (composer["name"], composer["type"]) == ("mageguard/module-connector", "magento2-module")


def test_render_is_deterministic_and_sorted_under_the_module_dir() -> None:
    first = render_connector(SETTINGS)
    assert first == render_connector(SETTINGS)
    assert list(first) == sorted(first)
    assert all(path.startswith(f"{MODULE_DIR}/") for path in first)
    assert f"{MODULE_DIR}/registration.php" in first


def test_config_xml_round_trips_routes_and_surfaces_exactly() -> None:
    fields = config_fields(render_connector(SETTINGS))

    assert fields["enabled"] == "1"
    assert fields["gateway_url"] == "http://127.0.0.1:8700"
    assert fields["default_surface"] == "default"
    assert json.loads(fields["routes"] or "") == [
        {"host": "api.openai.com", "provider": "openai", "protocol": "openai"},
        {"host": "*.openai.azure.com", "provider": "azure_openai", "protocol": "openai"},
        {"host": "api.anthropic.com", "provider": "anthropic", "protocol": "anthropic"},
        {
            "host": "generativelanguage.googleapis.com",
            "provider": "google_gemini",
            "protocol": None,
        },
    ]
    assert json.loads(fields["surfaces"] or "") == {
        "Lumen\\": "content_generation",
        "Lumen\\FraudShield\\": "checkout_payment",
        "Lumen\\SmartSearch\\": "search_recommendations",
    }


def test_xml_special_characters_in_values_survive_escaping() -> None:
    settings = ConnectorSettings(
        gateway_url="https://gw.example/mageguard&x<y>",
        routes=(Route("api.openai.com", "open<ai>&co", "openai"),),
        surfaces=(),
        enabled=False,
    )
    fields = config_fields(render_connector(settings))

    assert fields["enabled"] == "0"
    assert fields["gateway_url"] == "https://gw.example/mageguard&x<y>"
    assert json.loads(fields["routes"] or "")[0]["provider"] == "open<ai>&co"
    assert json.loads(fields["surfaces"] or "") == {}


def test_system_xml_has_one_encrypted_key_field_per_surface() -> None:
    files = render_connector(SETTINGS)
    root = ET.fromstring(files[f"{MODULE_DIR}/etc/adminhtml/system.xml"])
    keys = root.findall("system/section[@id='mageguard_connector']/group[@id='keys']/field")

    assert [field.get("id") for field in keys] == list(SURFACES)
    for field in keys:
        assert field.get("type") == "obscure"
        assert (
            field.findtext("backend_model") == "Magento\\Config\\Model\\Config\\Backend\\Encrypted"
        )
        assert (field.get("showInDefault"), field.get("showInWebsite")) == ("1", "1")


def test_di_xml_plugs_each_client_with_an_existing_plugin_class() -> None:
    files = render_connector(SETTINGS)
    root = ET.fromstring(files[f"{MODULE_DIR}/etc/di.xml"])
    plugged = {t.get("name"): t.find("plugin") for t in root.findall("type")}

    assert set(plugged) == {
        "Magento\\Framework\\HTTP\\Client\\Curl",
        "GuzzleHttp\\Client",
        "GuzzleHttp\\ClientFactory",
        "Laminas\\Http\\Client",
    }
    for plugin in plugged.values():
        assert plugin is not None
        php_class = (plugin.get("type") or "").removeprefix("Mageguard\\Connector\\")
        assert f"{MODULE_DIR}/{php_class.replace(chr(92), '/')}.php" in files


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gateway_url": "http://127.0.0.1:8700/"}, "gateway_url"),
        ({"gateway_url": "http://127.0.0.1:8700/v1"}, "gateway_url"),
        ({"gateway_url": "127.0.0.1:8700"}, "gateway_url"),
        ({"surfaces": (("Lumen\\SmartSearch", "search_recommendations"),)}, "namespace prefix"),
        ({"surfaces": (("Lumen\\", "search"),)}, "unknown surface"),
        ({"surfaces": (("Lumen\\", "logging"), ("Lumen\\", "default"))}, "mapped twice"),
        ({"default_surface": "everything"}, "unknown surface"),
    ],
)
def test_invalid_settings_are_refused(change: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "gateway_url": SETTINGS.gateway_url,
        "routes": SETTINGS.routes,
        "surfaces": SETTINGS.surfaces,
        **change,
    }
    with pytest.raises(ConfigError, match=message):
        ConnectorSettings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "provider", "protocol"),
    [
        ("https://api.openai.com", "openai", "openai"),
        ("api.x.com", "", "openai"),
        ("a.b", "p", "grpc"),
    ],
)
def test_invalid_routes_are_refused(host: str, provider: str, protocol: str) -> None:
    with pytest.raises(ConfigError):
        Route(host, provider, protocol)


# --- what the scan reads back from an installed connector --------------------------------

CONFIG_PHP = b"<?php\nreturn [\n    'modules' => [\n        'Magento_Store' => 1,\n%s    ],\n];\n"


def _tree(tmp_path: Path, module_line: bytes | None) -> Path:
    for path, content in render_connector(SETTINGS).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    (tmp_path / "app/etc").mkdir(parents=True, exist_ok=True)
    line = b"" if module_line is None else module_line + b"\n"
    (tmp_path / "app/etc/config.php").write_bytes(CONFIG_PHP % line)
    return tmp_path


def _reader(root: Path) -> Callable[[str], bytes | None]:
    def read(rel: str) -> bytes | None:
        path = root / rel
        return path.read_bytes() if path.is_file() else None

    return read


def test_an_installed_and_enabled_connector_reads_back_its_routes(tmp_path: Path) -> None:
    root = _tree(tmp_path, b"        'Mageguard_Connector' => 1,")
    assert installed_routes(_reader(root)) == SETTINGS.routes


@pytest.mark.parametrize(
    "module_line", [None, b"        'Mageguard_Connector' => 0,"], ids=["absent", "disabled"]
)
def test_a_connector_not_enabled_in_config_php_routes_nothing(
    tmp_path: Path, module_line: bytes | None
) -> None:
    assert installed_routes(_reader(_tree(tmp_path, module_line))) == ()


def test_a_connector_switched_off_in_the_database_routes_nothing(tmp_path: Path) -> None:
    root = _tree(tmp_path, b"        'Mageguard_Connector' => 1,")
    assert installed_routes(_reader(root), disabled_in_database=True) == ()


def test_a_connector_config_that_does_not_parse_counts_as_absent(tmp_path: Path) -> None:
    root = _tree(tmp_path, b"        'Mageguard_Connector' => 1,")
    (root / MODULE_DIR / "etc/config.xml").write_bytes(b"<config><default><mageguard")
    assert installed_routes(_reader(root)) == ()


def _call(rule: str, provider: str, **extra: str) -> Finding:
    return Finding(
        rule_id=rule,
        title="",
        message="",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        surface="content_generation",
        pattern="external_ai_call",
        location=Location("app/code/Lumen/X/Model/A.php", 3),
        fingerprint=f"{rule}:{provider}",
        evidence="",
        remediation="",
        provider=provider,
        extra=tuple(sorted(extra.items())),
    )


@pytest.mark.parametrize(
    ("finding", "routed"),
    [
        (_call("php-ai-http-call", "openai", client="Guzzle"), True),
        (_call("php-ai-http-call", "anthropic", client="Magento HTTP Curl"), True),
        (_call("php-ai-sdk-call", "openai", sdk="openai-php/client"), True),
        (_call("php-ai-http-call", "anthropic", client="curl"), False),  # raw curl_*: no plugin
        (_call("php-ai-http-call", "google_gemini", client="Guzzle"), False),  # blocked, not routed
        (_call("php-prompt-logging", "openai", client="Guzzle"), False),
    ],
)
def test_a_call_is_routed_when_its_client_is_plugged_and_its_provider_has_a_route(
    finding: Finding, routed: bool
) -> None:
    assert routes_call(finding, SETTINGS.routes) is routed


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace(b"return", b"return /* bypass */", 1),
        lambda text: b"",
    ],
    ids=["edited", "emptied"],
)
def test_a_connector_whose_code_was_changed_routes_nothing(
    tmp_path: Path, edit: Callable[[bytes], bytes]
) -> None:
    root = _tree(tmp_path, b"        'Mageguard_Connector' => 1,")
    plugin = root / MODULE_DIR / "Plugin/CurlPlugin.php"
    plugin.write_bytes(edit(plugin.read_bytes()))
    assert installed_routes(_reader(root)) == ()


def test_a_connector_missing_a_plugin_routes_nothing(tmp_path: Path) -> None:
    root = _tree(tmp_path, b"        'Mageguard_Connector' => 1,")
    (root / MODULE_DIR / "Plugin/GuzzleClientPlugin.php").unlink()
    assert installed_routes(_reader(root)) == ()
