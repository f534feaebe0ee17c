"""The command line contract: exit codes, formats, baselines, config precedence."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mageguard.cli import app

STORE = Path(__file__).parent / "fixtures" / "magento-store"
runner = CliRunner()


def _scan(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["scan", *args], env=env or {})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(STORE, target)
    return target


@pytest.fixture
def clean_tree(tmp_path: Path) -> Path:
    root = tmp_path / "clean"
    (root / "app/etc").mkdir(parents=True)
    (root / "app/etc/config.php").write_text("<?php\nreturn ['modules' => []];\n")
    module = root / "app/code/Acme/Shipping/Model"
    module.mkdir(parents=True)
    (module / "Rates.php").write_text(
        "<?php\nnamespace Acme\\Shipping\\Model;\nclass Rates { public function get(): string"
        " { return file_get_contents('https://api.carrier.example/rates'); } }\n"
    )
    return root


def test_a_clean_tree_exits_0(clean_tree: Path, tmp_path: Path) -> None:
    code, out, _ = _scan(str(clean_tree), "--cache-dir", str(tmp_path / "c"))
    assert code == 0
    assert "0 findings" in out


def test_findings_at_or_over_fail_on_exit_1_and_below_exit_0(store: Path, tmp_path: Path) -> None:
    cache = ["--cache-dir", str(tmp_path / "c")]
    assert _scan(str(store), *cache)[0] == 1
    assert _scan(str(store), *cache, "--fail-on", "critical")[0] == 1
    assert _scan(str(store), *cache, "--fail-on", "never")[0] == 0


def test_a_path_that_does_not_exist_exits_2_with_a_message(tmp_path: Path) -> None:
    code, _, err = _scan(str(tmp_path / "nope"))
    assert code == 2
    assert "no such file or directory" in err


def test_an_unknown_severity_exits_2(store: Path) -> None:
    code, _, err = _scan(str(store), "--fail-on", "severe", "--no-cache")
    assert code == 2
    assert "'severe' is not one of" in err


def test_an_unknown_rule_exits_2(store: Path) -> None:
    code, _, err = _scan(str(store), "--rule", "no-such-rule", "--no-cache")
    assert code == 2
    assert "unknown rule 'no-such-rule'" in err


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown", "html"])
def test_every_format_writes_to_the_output_file(store: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    code, stdout, _ = _scan(str(store), "--format", fmt, "--output", str(out), "--no-cache")
    assert code == 1
    assert stdout == ""
    text = out.read_text("utf-8")
    assert "php-ai-http-call" in text
    if fmt in ("json", "sarif"):
        json.loads(text)


def test_json_findings_carry_every_required_field(store: Path) -> None:
    _, out, _ = _scan(str(store), "--format", "json", "--no-cache")
    finding = json.loads(out)["findings"][0]
    for key in (
        "fingerprint",
        "rule_id",
        "severity",
        "confidence",
        "surface",
        "pattern",
        "data_categories",
        "provider",
        "host",
        "location",
        "evidence",
        "remediation",
        "controls",
    ):
        assert key in finding, key
    assert {"path", "line", "column"} <= set(finding["location"])


def test_evidence_never_carries_a_raw_key(store: Path) -> None:
    _, out, _ = _scan(str(store), "--format", "json", "--no-cache")
    doc = json.loads(out)
    keys = [f for f in doc["findings"] if f["rule_id"] in ("hardcoded-ai-key", "ai-key-in-env-php")]
    assert keys
    for f in keys:
        assert "****" in f["evidence"]
    assert "EXAMPLE" not in out.replace("EXAMPLE_", "")


def test_a_baseline_accepts_todays_findings_and_reports_only_new_ones(
    store: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    code, _, err = _scan(str(store), "--write-baseline", str(baseline), "--no-cache")
    assert code == 0 and "baseline" in err
    assert _scan(str(store), "--baseline", str(baseline), "--no-cache")[0] == 0
    # A second copy of an accepted key is new: counts, not just fingerprints, are kept.
    js = store / "app/code/Lumen/ShopAssistant/view/frontend/web/js/chat-widget.js"
    js.write_text(js.read_text("utf-8") + "\n" + js.read_text("utf-8").splitlines()[13] + "\n")
    code, out, _ = _scan(str(store), "--baseline", str(baseline), "--no-cache", "-f", "json")
    assert code == 1
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["hardcoded-ai-key"]


def test_moving_code_does_not_make_baselined_findings_new(store: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    _scan(str(store), "--write-baseline", str(baseline), "--no-cache")
    php = store / "app/code/Lumen/SmartSearch/Model/ClaudeReranker.php"
    php.write_text(php.read_text("utf-8").replace("<?php\n", "<?php\n\n\n// moved\n", 1))
    assert _scan(str(store), "--baseline", str(baseline), "--no-cache")[0] == 0


def test_a_corrupt_baseline_exits_2(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    code, _, err = _scan(str(store), "--baseline", str(bad), "--no-cache")
    assert code == 2 and "not valid JSON" in err


def test_an_inline_suppression_names_the_rule_and_unused_ones_are_reported(store: Path) -> None:
    php = store / "app/code/Lumen/SmartSearch/Model/ClaudeReranker.php"
    lines = php.read_text("utf-8").splitlines()
    idx = next(i for i, line in enumerate(lines) if "curl_exec($ch)" in line)
    lines.insert(idx, "        // mageguard:ignore php-prompt-injection query is allow-listed")
    lines.insert(0, "<?php // mageguard:ignore hardcoded-ai-key stale")
    lines[1] = ""
    php.write_text("\n".join(lines) + "\n")
    _, out, _ = _scan(str(store), "--format", "json", "--no-cache")
    doc = json.loads(out)
    rules_here = {
        f["rule_id"]
        for f in doc["findings"]
        if f["location"]["path"].endswith("ClaudeReranker.php")
    }
    assert "php-prompt-injection" not in rules_here
    assert "php-ai-http-call" in rules_here
    assert doc["summary"]["suppressed"] == 1
    unused = [n for n in doc["notices"] if n["kind"] == "unused_suppression"]
    assert [n["line"] for n in unused] == [1]


def test_environment_variables_set_flags_and_flags_win(store: Path) -> None:
    env = {"MAGEGUARD_FAIL_ON": "never", "MAGEGUARD_NO_CACHE": "1"}
    assert _scan(str(store), env=env)[0] == 0
    assert _scan(str(store), "--fail-on", "low", env=env)[0] == 1


def test_config_file_sets_defaults_and_flags_win(store: Path) -> None:
    (store / "mageguard.yaml").write_text("scan:\n  fail_on: never\n  format: json\n")
    code, out, _ = _scan(str(store), "--no-cache")
    assert code == 0
    json.loads(out)
    assert _scan(str(store), "--no-cache", "--fail-on", "high")[0] == 1


def test_an_invalid_config_file_exits_2(store: Path) -> None:
    (store / "mageguard.yaml").write_text("scan:\n  fail_on: sometimes\n")
    code, _, err = _scan(str(store), "--no-cache")
    assert code == 2
    assert "mageguard.yaml" in err and "fail_on" in err


def test_changed_since_reports_only_files_changed_in_git(store: Path) -> None:
    git = ["git", "-C", str(store), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "store"], check=True)
    js = store / "app/code/Lumen/ShopAssistant/view/frontend/web/js/chat-widget.js"
    js.write_text(js.read_text("utf-8") + "\n// touched\n")
    _, out, _ = _scan(str(store), "--changed-since", "HEAD", "--format", "json", "--no-cache")
    paths = {f["location"]["path"] for f in json.loads(out)["findings"]}
    assert paths == {"app/code/Lumen/ShopAssistant/view/frontend/web/js/chat-widget.js"}


def test_changed_since_outside_git_exits_2(store: Path) -> None:
    code, _, err = _scan(str(store), "--changed-since", "HEAD", "--no-cache")
    assert code == 2 and "git failed" in err


def test_help_explains_every_option() -> None:
    result = runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in (
        "--db",
        "--format",
        "--output",
        "--baseline",
        "--write-baseline",
        "--fail-on",
        "--changed-since",
    ):
        assert flag in result.stdout
