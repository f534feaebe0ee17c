"""Which files are Magento logs: var/log (with rotations), var/report, var/debug/db.log,
anything named explicitly; never mageguard's own outputs or the backup directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from mageguard.errors import InputError
from mageguard.logs.discovery import discover


def _rel(root: Path, paths: list[tuple[Path, str]]) -> list[tuple[str, str]]:
    return [(p.relative_to(root).as_posix(), kind) for p, kind in paths]


def _found(root: Path, *given: Path, exclude: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    return _rel(root, [(f.path, f.kind) for f in discover(list(given), exclude)])


def test_a_magento_root_yields_its_logs_reports_and_query_log(store: Path) -> None:
    (store / "app/etc").mkdir(parents=True)
    (store / "app/etc/env.php").write_text("<?php return [];\n")
    (store / "var/cache").mkdir()
    (store / "var/cache/mage--0").write_text("cached")
    assert _found(store, store) == [
        ("var/log/acme_ai.log", "log"),
        ("var/log/cron.log", "log"),
        ("var/log/debug.log", "log"),
        ("var/log/exception.log", "log"),
        ("var/log/system.log", "log"),
        ("var/report/1714550400123", "report"),
        ("var/report/1714550400999", "report"),
        ("var/debug/db.log", "db"),
    ]


def test_rotated_and_compressed_logs_are_found_and_other_names_are_not(store: Path) -> None:
    log = store / "var/log"
    for name in ["system.log.1", "system.log.2.gz", "debug.log-20240501", "notes.txt", "x.logx"]:
        (log / name).write_text("x\n")
    names = {p for p, _ in _found(store, store)}
    assert {"var/log/system.log.1", "var/log/system.log.2.gz", "var/log/debug.log-20240501"} <= (
        names
    )
    assert not names & {"var/log/notes.txt", "var/log/x.logx"}


def test_redacted_copies_manifests_and_late_files_are_never_taken(store: Path) -> None:
    log = store / "var/log"
    for suffix in [
        ".mageguard-redacted",
        ".mageguard-redacted.json",
        ".mageguard-late",
        ".mageguard-redacted.tmp",
    ]:
        (log / f"system.log{suffix}").write_text("x\n")
    assert [p for p, _ in _found(store, store) if "mageguard" in p] == []
    # also when a shell glob names them explicitly
    assert _found(store, *sorted(log.glob("system.log*"))) == [("var/log/system.log", "log")]


def test_var_itself_a_log_directory_and_a_single_file_can_be_given(store: Path) -> None:
    assert len(_found(store, store / "var")) == 8
    assert _found(store, store / "var/log") == [
        ("var/log/acme_ai.log", "log"),
        ("var/log/cron.log", "log"),
        ("var/log/debug.log", "log"),
        ("var/log/exception.log", "log"),
        ("var/log/system.log", "log"),
    ]
    other = store / "elsewhere.txt"
    other.write_text("x\n")
    assert _found(store, other) == [("elsewhere.txt", "file")]


def test_a_file_given_twice_is_taken_once(store: Path) -> None:
    log = store / "var/log/system.log"
    assert _found(store, log, store, log).count(("var/log/system.log", "log")) == 1


def test_an_excluded_directory_is_skipped(store: Path) -> None:
    backup = store / "var/log/backup"
    backup.mkdir()
    (backup / "system.log").write_text("x\n")
    assert "var/log/backup/system.log" in {p for p, _ in _found(store, store / "var/log")}
    assert "var/log/backup/system.log" not in {
        p for p, _ in _found(store, store / "var/log", exclude=(backup,))
    }


def test_a_path_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "nope"])
