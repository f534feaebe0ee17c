"""`fix --apply` then `--rollback` on the sample store in the real MariaDB: the database and
the tree come back byte for byte; a re-run after apply has nothing to do; a failure half-way
leaves the store as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mageguard.errors import MageguardError
from mageguard.fix.apply import DriftError, apply_plan, rollback
from mageguard.fix.egress_plan import EGRESS_DIR
from mageguard.fix.encryptor import Encryptor
from mageguard.fix.gateway_plan import GATEWAY_CONFIG
from mageguard.fix.model import FileChange, Plan, Step
from mageguard.fix.planner import FixOptions, build_plan
from mageguard.fix.store import read_store
from mageguard.scan.engine import ScanOptions, scan
from tests.helpers.gateway import started_cli
from tests.helpers.services import MariaDB, require_mariadb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TABLES = ("store_website", "store_group", "store", "core_config_data")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, str, MariaDB, str]]:
    server = require_mariadb()
    name = f"mg_fix_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        server.load(name, (FIXTURES / "magento-db.sql").read_text("utf-8"))
        root = tmp_path / "store"
        shutil.copytree(FIXTURES / "magento-store", root, symlinks=True)
        yield root, server.dsn(name), server, name
    finally:
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _db_state(server: MariaDB, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with server.connect(name) as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SHOW CREATE TABLE `{table}`")
            out[f"{table}:ddl"] = cur.fetchone()[1]
            cur.execute(f"SELECT * FROM `{table}` ORDER BY 1")
            out[table] = cur.fetchall()
    return out


def _tree_state(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath, d)
            out[str(p.relative_to(root)) + "/"] = ("dir", p.stat().st_mode)
        for f in filenames:
            p = Path(dirpath, f)
            out[str(p.relative_to(root))] = (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                p.stat().st_mode,
            )
    return out


def _plan(root: Path, dsn: str) -> Plan:
    return build_plan(
        scan(root, ScanOptions(db=dsn, use_cache=False)), read_store(root, dsn), FixOptions()
    )


def test_apply_then_rollback_restores_database_and_tree_byte_for_byte(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, server, name = store
    db_before, tree_before = _db_state(server, name), _tree_state(root)
    plan = _plan(root, dsn)
    assert not plan.is_noop

    outcome = apply_plan(plan, root, dsn, tmp_path / "bundle")
    assert outcome.rows == len(plan.rows) > 0 and outcome.files == len(plan.files) > 0
    assert _db_state(server, name) != db_before
    assert (root / "app/code/Mageguard/Connector/etc/module.xml").is_file()
    assert (tmp_path / "bundle").stat().st_mode & 0o077 == 0  # it holds the old keys

    rollback(tmp_path / "bundle", root, dsn)
    assert _db_state(server, name) == db_before
    assert _tree_state(root) == tree_before


def test_applied_store_points_at_the_gateway_with_per_website_encrypted_keys(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, server, name = store
    plan = _plan(root, dsn)
    apply_plan(plan, root, dsn, tmp_path / "bundle")
    enc = read_store(root, dsn).encryptor()
    with server.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT scope, scope_id, value FROM core_config_data WHERE path=%s ORDER BY 1, 2",
            ("lumen_ai/openai/api_key",),
        )
        keys = {(s, i): enc.decrypt(v) for s, i, v in cur.fetchall()}
        cur.execute("SELECT value FROM core_config_data WHERE path='lumen_ai/openai/endpoint'")
        endpoints = {v for (v,) in cur.fetchall()}
    assert endpoints == {"http://127.0.0.1:8088/v1"}
    assert all(k.startswith("mg-") for k in keys.values())
    assert keys[("websites", 1)] != keys[("websites", 2)]  # two websites, two tenants
    assert keys[("stores", 2)] == keys[("websites", 1)]  # the fr view speaks as its website
    env = (root / "app/etc/env.php").read_text("utf-8")
    assert "sk-proj-" not in env and "http://127.0.0.1:8088/v1" in env


def test_a_second_run_after_apply_has_nothing_to_do(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, _, _ = store
    apply_plan(_plan(root, dsn), root, dsn, tmp_path / "bundle")
    again = _plan(root, dsn)
    assert again.is_noop, [
        (s.id, [r.path for r in s.rows], [f.path for f in s.files])
        for s in again.steps
        if s.changes
    ]


def test_a_failure_half_way_leaves_the_store_as_it_was(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, server, name = store
    db_before, tree_before = _db_state(server, name), _tree_state(root)
    plan = _plan(root, dsn)
    # a file whose parent is a file cannot be written: the last step fails after the others
    broken = Step(
        "broken",
        plan.steps[0].kind,
        "logging",
        "t",
        "w",
        "u",
        files=(FileChange("composer.json/not-a-dir/x", None, b"x"),),
    )
    failing = Plan(plan.root, plan.database, plan.gateway_url, (*plan.steps, broken))
    with pytest.raises(MageguardError):
        apply_plan(failing, root, dsn, tmp_path / "bundle")
    assert _db_state(server, name) == db_before
    assert _tree_state(root) == tree_before


def test_apply_refuses_a_store_that_moved_since_the_plan(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, server, name = store
    plan = _plan(root, dsn)
    with server.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE core_config_data SET value='https://other.example/v1' "
            "WHERE path='lumen_ai/openai/endpoint' AND scope='default'"
        )
        conn.commit()
    db_before, tree_before = _db_state(server, name), _tree_state(root)
    with pytest.raises(DriftError):
        apply_plan(plan, root, dsn, tmp_path / "bundle")
    assert _db_state(server, name) == db_before and _tree_state(root) == tree_before


def test_rollback_refuses_to_overwrite_a_change_made_after_apply(
    store: tuple[Path, str, MariaDB, str], tmp_path: Path
) -> None:
    root, dsn, _, _ = store
    apply_plan(_plan(root, dsn), root, dsn, tmp_path / "bundle")
    (root / "app/etc/env.php").write_bytes(b"<?php return [];\n")
    with pytest.raises(DriftError):
        rollback(tmp_path / "bundle", root, dsn)


def test_apply_needs_the_live_database_not_a_dump(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(FIXTURES / "magento-store", root, symlinks=True)
    dump = str(FIXTURES / "magento-db.sql")
    plan = build_plan(
        scan(root, ScanOptions(db=dump, use_cache=False)), read_store(root, dump), FixOptions()
    )
    with pytest.raises(MageguardError, match="live database"):
        apply_plan(plan, root, dump, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_keys_are_derived_so_they_survive_a_re_run_but_rotate_on_request() -> None:
    root = FIXTURES / "magento-store"
    dump = str(FIXTURES / "magento-db.sql")
    result = scan(root, ScanOptions(db=dump, use_cache=False))
    one = build_plan(result, read_store(root, dump), FixOptions())
    two = build_plan(result, read_store(root, dump), FixOptions())
    rotated = build_plan(result, read_store(root, dump), FixOptions(rotate="2026-11"))
    assert one.keys == two.keys and one.keys != rotated.keys
    assert isinstance(read_store(root, dump).encryptor(), Encryptor)


@pytest.fixture
def applied(store: tuple[Path, str, MariaDB, str], tmp_path: Path) -> tuple[Path, str, Plan]:
    """The sample store after `fix --apply`: its root, DSN and the plan applied."""
    root, dsn, _, _ = store
    plan = _plan(root, dsn)
    apply_plan(plan, root, dsn, tmp_path / "bundle")
    return root, dsn, plan


def test_after_apply_the_rescan_shows_no_fixed_finding_and_explains_every_other(
    applied: tuple[Path, str, Plan],
) -> None:
    """The issue's "done when": scan -> fix --apply -> scan."""
    root, dsn, plan = applied
    after = scan(root, ScanOptions(db=dsn, use_cache=False))
    left = {f.fingerprint: f for f in after.findings}
    explained = {e.fingerprint for e in plan.explained}
    assert not plan.resolved & set(left), "a finding the plan resolved is still reported"
    assert set(left) <= explained, [
        (f.rule_id, f.location.path) for fp, f in left.items() if fp not in explained
    ]
    # the connector's calls are shut, not forgotten: the scan keeps them apart
    assert {(f.rule_id, f.location.path) for f in after.routed} == {
        ("php-ai-http-call", "app/code/Lumen/AiDescriptions/Model/DescriptionGenerator.php"),
        ("php-ai-sdk-call", "app/code/Lumen/AiSeo/Model/MetaGenerator.php"),
        ("php-ai-sdk-call", "app/code/Lumen/AiSeo/Model/KeywordSuggester.php"),
        ("php-ai-http-call", "app/code/Lumen/SemanticSearch/Cron/ReindexEmbeddings.php"),
        ("php-ai-http-call", "app/code/Lumen/ReviewSummary/ViewModel/ReviewSummary.php"),
    }


def test_a_hard_coded_endpoint_and_key_are_patched_to_the_gateway(
    applied: tuple[Path, str, Plan],
) -> None:
    root, _, plan = applied
    php = (root / "app/code/Lumen/SmartSearch/Model/ClaudeReranker.php").read_text("utf-8")
    keys = dict(next(k.keys for k in plan.keys if k.tenant == "base"))
    assert "private const API_BASE = 'http://127.0.0.1:8088/v1';" in php
    assert f"private const API_KEY = '{keys['search_recommendations']}';" in php
    assert "sk-ant-" not in php


def test_the_gateway_config_lists_the_models_the_store_asks_for(
    applied: tuple[Path, str, Plan],
) -> None:
    root, dsn, _ = applied
    doc = yaml.safe_load((root / GATEWAY_CONFIG).read_text("utf-8"))
    models = {b["id"]: b["models"] for b in doc["backends"] if b.get("locality") == "external"}
    assert models == {
        "anthropic": ["claude-3-5-haiku-20241022"],
        "openai": ["gpt-3.5-turbo-instruct", "gpt-4o-mini", "text-embedding-3-small"],
    }
    # and the data the scan saw stays local, also on a re-run after the fix hid its findings
    again = _plan(root, dsn)
    assert again.is_noop
    assert "pricing" not in doc["tenants"][0]["external_categories"]


def test_the_gateway_starts_on_the_generated_config_and_knows_each_tenants_keys(
    applied: tuple[Path, str, Plan], tmp_path: Path
) -> None:
    root, _, plan = applied
    config = str(root / GATEWAY_CONFIG)
    with started_cli(tmp_path / "data", "--config", config) as (url, _):
        for tenant in plan.keys:
            key = dict(tenant.keys)["content_generation"]
            reply = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"})
            assert reply.status_code == 200, reply.text
            assert {"gpt-4o-mini", "claude-3-5-haiku-20241022"} <= {
                m["id"] for m in reply.json()["data"]
            }
        refused = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sk-proj-x"})
        assert refused.status_code == 401


def test_the_egress_rules_open_the_gateway_and_name_what_still_bypasses_it(
    store: tuple[Path, str, MariaDB, str],
) -> None:
    root, dsn, _, _ = store
    plan = _plan(root, dsn)
    egress = next(s for s in plan.steps if s.id == "egress")
    files = {f.path: (f.new or b"").decode() for f in egress.files}
    assert set(files) == {f"{EGRESS_DIR}/nftables.nft", f"{EGRESS_DIR}/squid.conf"}
    nft = files[f"{EGRESS_DIR}/nftables.nft"]
    assert "ip daddr 127.0.0.1 tcp dport 8088" in nft  # the gateway's API
    assert "ip daddr 127.0.0.1 tcp dport 3128" in nft  # its forward proxy
    bypass = next(n for n in egress.notes if n.startswith("AI hosts still called directly"))
    assert bypass.rsplit(": ", 1)[1].split(", ") == [
        "api.seon.io",
        "app.datarobot.com",
        "commerce.adobe.io",
        "generativelanguage.googleapis.com",
        "lumen-assistant-def456.svc.eu-west1-gcp.pinecone.io",
        "lumen-catalog-abc123.svc.us-east1-gcp.pinecone.io",
    ]
