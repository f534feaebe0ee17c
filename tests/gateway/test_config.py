"""The gateway's configuration: schema-checked and cross-checked before the first request,
with errors that name the field; `--check-config` runs exactly that; embedded defaults
need no file."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mageguard.cli import app
from mageguard.errors import ConfigError
from mageguard.gateway import config as gateway_config
from tests.helpers.gateway import write_config

UPSTREAM = "http://127.0.0.1:9"


def edited(tmp_path: Path, edit: Any) -> Path:
    path = write_config(tmp_path, UPSTREAM)
    raw = yaml.safe_load(path.read_text())
    edit(raw)
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_valid_file_loads_with_paths_relative_to_it(tmp_path: Path) -> None:
    config = gateway_config.load(write_config(tmp_path, UPSTREAM))
    assert set(config.tenants) == {"acme", "globex"}
    assert config.tenants["acme"].dictionary == str(tmp_path / "acme.csv")
    assert config.tenants["acme"].chain("checkout_payment") == ("local", "safe")
    assert config.tenants["acme"].chain("content_generation") == (
        "local",
        "external",
        "leaky",
        "safe",
    )
    assert config.audit_store == str(tmp_path / "data" / "audit.db")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r["tenants"][0]["routes"].update(default=["nope"]), "unknown backend 'nope'"),
        (
            lambda r: r["tenants"][0]["routes"].update(checkout=["local"]),
            "unknown surface 'checkout'",
        ),
        (
            lambda r: r["tenants"][0].update(external_categories=["secrets"]),
            "unknown data category",
        ),
        (
            lambda r: r["tenants"][1]["keys"][0].update(
                sha256=r["tenants"][0]["keys"][0]["sha256"]
            ),
            "has the same key as",
        ),
        (lambda r: r["backends"][0].pop("base_url"), "needs base_url"),
        (
            lambda r: r["backends"].append({"id": "x", "kind": "llama", "locality": "external"}),
            "runs in process",
        ),
        (lambda r: r["tenants"][0]["keys"][0].update(sha256="plaintext-key"), "sha256"),
        (lambda r: r.update(limits={"max_body_bytes": 10}), "max_body_bytes"),
        (lambda r: r.update(flags=[{"tenant": "initech", "surface": "default"}]), "unknown tenant"),
        (lambda r: r.update(colour="blue"), "colour"),
        (lambda r: r.update(policy={"operators": {"EMAIL": "shred"}}), "shred"),
        (lambda r: r.update(policy={"operators": {"SHOE_SIZE": "mask"}}), "unknown entity"),
        (lambda r: r["tenants"][0].update(policy="missing-policy.yaml"), "missing-policy.yaml"),
    ],
)
def test_mistakes_are_refused_with_the_field_named(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gateway_config.load(edited(tmp_path, edit))


def test_check_config_validates_and_exits(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app, ["gateway", "--check-config", "--config", str(write_config(tmp_path, UPSTREAM))]
    )
    assert ok.exit_code == 0 and "OK (2 tenants, 4 backends" in ok.output
    bad = runner.invoke(
        app,
        [
            "gateway",
            "--check-config",
            "--config",
            str(edited(tmp_path, lambda r: r["backends"].clear())),
        ],
    )
    assert bad.exit_code == 2 and "backends" in bad.output
    missing = runner.invoke(
        app, ["gateway", "--check-config", "--config", str(tmp_path / "no.yaml")]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_new_key_prints_a_key_and_the_hash_to_configure(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["gateway", "--new-key"])
    lines = dict(line.split(":", 1) for line in result.output.strip().splitlines())
    key, digest = lines["key"].strip(), lines["sha256"].strip()
    assert gateway_config.hash_key(key) == digest and len(key) > 40


def test_embedded_defaults_keep_only_the_hash_of_a_generated_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAGEGUARD_DEV_KEY", raising=False)
    monkeypatch.setenv("MAGEGUARD_DATA_DIR", str(tmp_path))
    first = gateway_config.load(None)
    assert first.dev_key and first.dev_key.startswith("mg-dev-")
    hash_file = tmp_path / "dev-key.sha256"
    assert hash_file.read_text().strip() == gateway_config.hash_key(first.dev_key)
    assert stat.S_IMODE(hash_file.stat().st_mode) == 0o600
    again = gateway_config.load(None)
    assert again.dev_key is None  # printed once
    assert again.tenants["dev"].keys[0].sha256 == gateway_config.hash_key(first.dev_key)
    assert again.backends["local"].kind == "llama"
    assert again.audit_store == str(tmp_path / "audit.db")


def test_a_policy_can_be_inline_and_per_tenant(tmp_path: Path) -> None:
    from mageguard.gateway.tenants import Tenants

    def edit(raw: dict[str, Any]) -> None:
        raw["policy"] = {"operators": {"EMAIL": "mask"}}
        raw["tenants"][1]["policy"] = {"surfaces": {"content_generation": {"EMAIL": "block"}}}

    config = gateway_config.load(edited(tmp_path, edit))
    tenants = Tenants(config)
    acme, globex = tenants.by_id["acme"].redactor, tenants.by_id["globex"].redactor
    assert "[EMAIL_1]" not in acme.redact("mail jo@example.org").text
    assert globex.redact("mail jo@example.org", surface="content_generation").blocked == ("EMAIL",)
    assert "[EMAIL_1]" in globex.redact("mail jo@example.org").text
