"""`logs scrub`: a redacted copy and a manifest next to each log with findings; the
original is never touched; every byte that is not redacted is kept as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from mageguard.logs.discovery import LogFile
from mageguard.logs.manifest import Manifest, copy_path, manifest_path
from mageguard.logs.scrub import AiLines, ScrubOptions, ScrubStatus, scrub_file, scrub_logs
from mageguard.redact.engine import Redactor
from mageguard.redact.policy import Policy
from mageguard.redact.spans import Span
from tests.logs.conftest import KEY, PLANTED, RAW_VALUES, StandIns, stand_in_redactor


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_scrub_writes_copies_next_to_logs_with_findings_and_touches_no_original(
    store: Path, redactor: Redactor
) -> None:
    before = _snapshot(store)
    results = scrub_logs([store], redactor)
    after = _snapshot(store)
    assert {k: v for k, v in after.items() if k in before} == before
    written = {r.path.relative_to(store).as_posix() for r in results if r.copy}
    assert written == {
        name
        for name, (counts, _) in PLANTED.items()
        if set(counts) - {"AI_PROMPT", "AI_RESPONSE", "AI_PROVIDER"}
    }
    assert set(after) - set(before) == {
        f"{n}{suffix}"
        for n in written
        for suffix in (".mageguard-redacted", ".mageguard-redacted.json")
    }
    for r in results:
        if r.copy is not None:
            text = r.copy.read_text("utf-8")
            assert not [v for v in RAW_VALUES if v in text]


def test_a_redacted_line_keeps_everything_but_the_values(store: Path, redactor: Redactor) -> None:
    log = store / "var/log/system.log"
    result = scrub_file(LogFile(log, "log"), redactor)
    assert result.status is ScrubStatus.WRITTEN
    assert result.redactions == {"CREDIT_CARD": 1, "EMAIL": 2, "IP_ADDRESS": 1}
    original = log.read_text().splitlines(keepends=True)
    copy = copy_path(log).read_text().splitlines(keepends=True)
    assert copy[2] == (
        "[2024-05-01T08:03:11.482901+00:00] main.INFO: Customer login: [EMAIL] from [IP] [] []\n"
    )
    assert copy[4].endswith("Payment declined for card [CARD], quote 1024 [] []\n")
    assert [i for i, (a, b) in enumerate(zip(original, copy, strict=True)) if a != b] == [2, 3, 4]


def test_secrets_are_masked_by_the_default_policy(store: Path, redactor: Redactor) -> None:
    log = store / "var/log/debug.log"
    scrub_file(LogFile(log, "log"), redactor)
    line = copy_path(log).read_text().splitlines()[1]
    assert KEY not in line and '"api_key":"sk-pro****"' in line
    assert "https:\\/\\/api.openai.com" in line  # markers are reported, never redacted


def test_the_manifest_records_the_original_and_the_copy(store: Path, redactor: Redactor) -> None:
    log = store / "var/log/system.log"
    scrub_file(LogFile(log, "log"), redactor)
    manifest = Manifest.read(manifest_path(log))
    st = log.stat()
    assert (manifest.original, manifest.inode, manifest.size, manifest.mtime_ns) == (
        str(log.resolve()),
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
    )
    assert manifest.sha256 == hashlib.sha256(log.read_bytes()).hexdigest()
    assert manifest.copy_sha256 == hashlib.sha256(copy_path(log).read_bytes()).hexdigest()
    assert manifest.redactions == {"CREDIT_CARD": 1, "EMAIL": 2, "IP_ADDRESS": 1}
    raw = json.loads(manifest_path(log).read_text())
    assert not [v for v in RAW_VALUES if v in json.dumps(raw)]


def test_a_clean_file_gets_no_copy_and_a_stale_copy_is_removed(
    store: Path, redactor: Redactor
) -> None:
    log = store / "var/log/cron.log"
    copy_path(log).write_text("from an earlier run\n")
    manifest_path(log).write_text("{}")
    assert scrub_file(LogFile(log, "log"), redactor).status is ScrubStatus.CLEAN
    assert not copy_path(log).exists() and not manifest_path(log).exists()


def test_a_gzip_log_gets_a_gzip_copy(tmp_path: Path, redactor: Redactor) -> None:
    log = tmp_path / "system.log.1.gz"
    log.write_bytes(gzip.compress(b"ok\nlogin ana@example.com from 203.0.113.9\n"))
    result = scrub_file(LogFile(log, "log"), redactor)
    assert result.copy == tmp_path / "system.log.1.gz.mageguard-redacted"
    assert gzip.decompress(result.copy.read_bytes()) == b"ok\nlogin [EMAIL] from [IP]\n"
    assert Manifest.read(manifest_path(log)).compressed


def test_invalid_utf8_and_line_endings_survive_byte_for_byte(
    tmp_path: Path, redactor: Redactor
) -> None:
    log = tmp_path / "system.log"
    log.write_bytes(b"caf\xe9 \xff ana@example.com \xc3\r\n\x80\x81 no newline at end")
    scrub_file(LogFile(log, "log"), redactor)
    assert copy_path(log).read_bytes() == b"caf\xe9 \xff [EMAIL] \xc3\r\n\x80\x81 no newline at end"


def test_a_5_mb_single_line_is_scrubbed(tmp_path: Path, redactor: Redactor) -> None:
    log = tmp_path / "module.log"
    body = b"lorem ipsum dolor " * 300_000
    log.write_bytes(b"head\n" + body + b"ana@example.com " + body + b"\ntail\n")
    scrub_file(LogFile(log, "log"), redactor)
    assert copy_path(log).read_bytes() == b"head\n" + body + b"[EMAIL] " + body + b"\ntail\n"


def test_ai_lines_can_be_removed_keeping_the_magento_prefix(
    store: Path, redactor: Redactor
) -> None:
    log = store / "var/log/acme_ai.log"
    result = scrub_file(LogFile(log, "log"), redactor, ScrubOptions(ai_lines=AiLines.REMOVE))
    lines = copy_path(log).read_text().splitlines()
    assert lines[:3] == [
        "[2024-05-01T09:00:00.000000+00:00] acme_ai.INFO: [AI traffic removed by mageguard]",
        "[2024-05-01T09:00:02.000000+00:00] acme_ai.INFO: [AI traffic removed by mageguard]",
        "[2024-05-01T09:05:00.000000+00:00] acme_ai.DEBUG: [AI traffic removed by mageguard]",
    ]
    assert lines[3] == log.read_text().splitlines()[3]
    assert result.ai_lines_removed == 3


def test_the_policy_decides_per_entity_and_block_becomes_the_token(tmp_path: Path) -> None:
    policy = Policy.from_mapping(
        {
            "operators": {"EMAIL": "hash", "IP_ADDRESS": "keep"},
            "surfaces": {"logging": {"CREDIT_CARD": "block"}},
        }
    )
    log = tmp_path / "system.log"
    log.write_text("ana@example.com 203.0.113.9 4111111111111111\n")
    result = scrub_file(LogFile(log, "log"), Redactor(detectors=[StandIns()], policy=policy))
    text = copy_path(log).read_text()
    assert text.startswith("<EMAIL:") and text.endswith(" 203.0.113.9 [CARD]\n")
    assert result.redactions == {"CREDIT_CARD": 1, "EMAIL": 1}  # the kept IP is not one


class AppendsWhileRead:
    """A detector that makes the log grow while scrub reads it, like a busy store."""

    name = "appender"
    entities = frozenset({"EMAIL"})

    def __init__(self, log: Path) -> None:
        self.log = log

    def detect(self, text: str) -> Iterator[Span]:
        if "login" in text:
            with self.log.open("a") as f:
                f.write("new line from PHP-FPM\n")
        return iter(())


def test_a_log_that_grows_while_it_is_read_gets_no_copy(tmp_path: Path) -> None:
    log = tmp_path / "system.log"
    log.write_text("login ana@example.com\nmore\n")
    redactor = Redactor(detectors=[StandIns(), AppendsWhileRead(log)])
    result = scrub_file(LogFile(log, "log"), redactor)
    assert result.status is ScrubStatus.CHANGED and "grew" in (result.message or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["system.log"]


def test_a_dictionary_is_optional(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("24-MB01 for ana@example.com\n")
    scrub_file(LogFile(log, "log"), stand_in_redactor(dictionary=None))
    assert copy_path(log).read_text() == "24-MB01 for [EMAIL]\n"


def test_ai_lines_kept_in_redact_mode_are_counted(store: Path, redactor: Redactor) -> None:
    result = scrub_file(LogFile(store / "var/log/acme_ai.log", "log"), redactor)
    assert (result.ai_lines, result.ai_lines_removed) == (3, 0)
    only_markers = scrub_file(LogFile(store / "var/report/1714550400999", "report"), redactor)
    assert only_markers.status is ScrubStatus.CLEAN and only_markers.ai_lines == 1
