"""`mageguard fix` on the sample store: a dry run that shows the plan and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mageguard.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STORE, DUMP = FIXTURES / "magento-store", FIXTURES / "magento-db.sql"


def test_dry_run_json_orders_foundation_then_risk_and_explains_every_other_finding() -> None:
    result = CliRunner().invoke(app, ["fix", str(STORE), "--db", str(DUMP), "-f", "json"])
    assert result.exit_code == 1, result.output  # changes pending
    doc = json.loads(result.stdout)
    kinds = [s["kind"] for s in doc["steps"]]
    assert kinds[:2] == ["connector", "gateway_config"]
    order = [
        "checkout_payment",
        "logging",
        "search_recommendations",
        "multi_tenant_models",
        "admin_analytics",
        "content_generation",
    ]
    ranks = [order.index(s["surface"]) for s in doc["steps"][2:]]
    assert ranks == sorted(ranks)
    scan = CliRunner().invoke(app, ["scan", str(STORE), "--db", str(DUMP), "-f", "json"])
    found = {f["fingerprint"] for f in json.loads(scan.stdout)["findings"]}
    resolved = {fp for s in doc["steps"] for fp in s["findings"]}
    explained = {e["fingerprint"] for e in doc["explained"]}
    assert resolved | explained == found and not resolved & explained
    assert doc["tenants"] == ["base", "b2b"]


def test_the_plan_never_shows_a_key() -> None:
    result = CliRunner().invoke(app, ["fix", str(STORE), "--db", str(DUMP)])
    for secret in ("sk-proj-DOmsy", "sk-proj-rUSUu", "sk-proj-kewEz", "AIzaycgAS0"):
        assert secret not in result.stdout
    assert "# mageguard fix plan" in result.stdout


def test_a_bad_database_is_a_clear_error_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fix", str(STORE), "--db", str(tmp_path / "none.sql")])
    assert result.exit_code == 2 and "error:" in result.output


def test_help_explains_dry_run_apply_and_rollback() -> None:
    result = CliRunner().invoke(app, ["fix", "--help"])
    assert result.exit_code == 0
    for word in ("--apply", "--rollback", "--backup", "dry run"):
        assert word in result.output


def test_the_generated_gateway_configuration_passes_the_gateways_own_check(
    tmp_path: Path,
) -> None:
    from mageguard.fix.planner import FixOptions, build_plan
    from mageguard.fix.store import read_store
    from mageguard.gateway.config import hash_key, load
    from mageguard.scan.engine import ScanOptions, scan

    plan = build_plan(
        scan(STORE, ScanOptions(db=str(DUMP), use_cache=False)),
        read_store(STORE, str(DUMP)),
        FixOptions(),
    )
    text = next(f.new for f in plan.files if f.path == "app/etc/mageguard/gateway.yaml")
    assert text is not None
    (tmp_path / "gateway.yaml").write_bytes(text)
    config = load(tmp_path / "gateway.yaml")
    assert sorted(config.tenants) == ["b2b", "base"]
    hashes = {k.sha256 for t in config.tenants.values() for k in t.keys}
    for tenant in plan.keys:
        for _, key in tenant.keys:
            assert hash_key(key) in hashes and key not in text.decode()
