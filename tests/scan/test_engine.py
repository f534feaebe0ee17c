"""Scanning a tree: notices instead of crashes, the cache, and the gate's economy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mageguard.errors import InputError
from mageguard.scan.engine import ScanOptions, scan

STORE = Path(__file__).parent.parent / "fixtures" / "magento-store"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    shutil.copytree(STORE, tmp_path / "store")
    return tmp_path / "store"


def _keys(result: object) -> list[tuple[str, str, int]]:
    return [(f.rule_id, f.location.path, f.location.line) for f in result.findings]  # type: ignore[attr-defined]


def test_a_warm_scan_reads_nothing_and_reports_the_same(store: Path, tmp_path: Path) -> None:
    options = ScanOptions(cache_dir=tmp_path / "cache")
    cold = scan(store, options)
    warm = scan(store, options)
    assert _keys(warm) == _keys(cold)
    assert warm.stats.cache_hits == cold.stats.ai_units > 0
    assert warm.stats.files_parsed == 0


def test_a_changed_file_invalidates_only_its_unit(store: Path, tmp_path: Path) -> None:
    options = ScanOptions(cache_dir=tmp_path / "cache")
    cold = scan(store, options)
    php = store / "app/code/Lumen/SmartSearch/Model/ClaudeReranker.php"
    php.write_text(php.read_text("utf-8").replace("curl_exec($ch)", "curl_exec( $ch )"))
    warm = scan(store, options)
    assert warm.stats.cache_hits == cold.stats.ai_units - 1
    assert len(warm.findings) == len(cold.findings)


def test_a_corrupt_cache_is_ignored(store: Path, tmp_path: Path) -> None:
    options = ScanOptions(cache_dir=tmp_path / "cache")
    cold = scan(store, options)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            f.write_bytes(b"\x00garbage")
    assert _keys(scan(store, options)) == _keys(cold)


def test_a_tree_that_is_not_magento_is_scanned_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/Chat.php").write_text(
        "<?php\nclass Chat { function go($c) { return $c->post('https://api.openai.com/v1/x',"
        " ['json' => ['messages' => 1, 'model' => 2]]); } }\n"
    )
    result = scan(tmp_path, ScanOptions(use_cache=False))
    assert [n.kind for n in result.notices] == ["not_magento"]


def test_a_file_that_does_not_parse_gets_a_notice_and_the_rest_is_scanned(store: Path) -> None:
    broken = store / "app/code/Lumen/AiSeo/Model/Broken.php"
    broken.write_text("<?php\nclass Broken { public function x( { $a = ; }\n")
    result = scan(store, ScanOptions(use_cache=False))
    assert ("parse_error", "app/code/Lumen/AiSeo/Model/Broken.php") in [
        (n.kind, n.path) for n in result.notices
    ]
    assert any(f.location.path.endswith("MetaGenerator.php") for f in result.findings)


def test_an_unreadable_file_gets_a_notice_and_the_rest_is_scanned(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    import mageguard.scan.engine as engine

    target = "app/code/Lumen/AiSeo/Model/MetaGenerator.php"

    def guarded_open(file: str, *args: object, **kwargs: object) -> object:
        if str(file).endswith(target):
            raise PermissionError(13, "Permission denied")
        return builtins.open(file, *args, **kwargs)  # type: ignore[call-overload]  # noqa: PTH123

    monkeypatch.setattr(engine, "open", guarded_open, raising=False)
    result = scan(store, ScanOptions(use_cache=False, jobs=1))
    assert ("unreadable", target) in [(n.kind, n.path) for n in result.notices]
    assert "Permission denied" in next(n.message for n in result.notices if n.path == target)
    assert any(f.location.path.endswith("DescriptionGenerator.php") for f in result.findings)


def test_a_missing_root_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        scan(tmp_path / "missing")


def test_tests_and_generated_code_are_skipped_unless_asked(store: Path) -> None:
    result = scan(store, ScanOptions(use_cache=False, include_tests=True))
    assert any("/Test/" in f.location.path for f in result.findings)
    result = scan(store, ScanOptions(use_cache=False))
    assert not any("/Test/" in f.location.path for f in result.findings)


def test_only_units_that_mention_ai_are_analysed(store: Path) -> None:
    result = scan(store, ScanOptions(use_cache=False))
    assert result.stats.ai_units < result.stats.units


def test_a_module_that_names_ai_only_in_comments_is_not_analysed(tmp_path: Path) -> None:
    module = tmp_path / "app/code/Acme/Docs"
    (module / "Model").mkdir(parents=True)
    (module / "registration.php").write_text("<?php\n")
    (module / "Model/Note.php").write_text(
        "<?php\n// We might call https://api.openai.com/v1 one day.\n"
        "/** OpenAI::client() is not used here. */\nclass Note {}\n"
    )
    (tmp_path / "app/etc").mkdir(parents=True)
    (tmp_path / "app/etc/config.php").write_text("<?php return [];\n")
    result = scan(tmp_path, ScanOptions(use_cache=False))
    assert result.stats.ai_units == 0


def test_reading_in_parallel_finds_exactly_what_reading_serially_finds(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mageguard.scan.engine as engine

    serial = scan(store, ScanOptions(use_cache=False, jobs=1))
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 1)
    parallel = scan(store, ScanOptions(use_cache=False, jobs=2))
    assert _keys(parallel) == _keys(serial)
    assert [f.fingerprint for f in parallel.findings] == [f.fingerprint for f in serial.findings]
