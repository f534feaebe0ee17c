"""Reading sources: gzip by magic bytes, a broken gzip refused before anything is
written, and re-ingestion that never counts a line twice (same file, grown file,
rotated and compressed copy)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from mageguard.audit import flowdb
from mageguard.errors import InputError
from tests.audit.flowsupport import flows, inject, real, run

OPENAI = (
    "1677971741.100  1234 10.0.1.5 TCP_TUNNEL/200 5120 CONNECT "
    "api.openai.com:443 - HIER_DIRECT/162.159.140.245 -"
)
GROQ = (
    "1677971799.100  1234 10.0.1.6 TCP_TUNNEL/200 5120 CONNECT "
    "api.groq.com:443 - HIER_DIRECT/1.2.3.4 -"
)


def _squid(tmp_path: Path, name: str = "access.log") -> Path:
    log = tmp_path / name
    inject(real("logs_squid_sample/squid_access.log") * 20, [(100, OPENAI)], log)
    return log


def _requests(db: Path) -> int:
    with flowdb.connect(db, read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM records").fetchone()[0])  # type: ignore[index]


def test_a_gzip_log_is_read_like_its_plain_text(tmp_path: Path) -> None:
    plain = _squid(tmp_path)
    packed = tmp_path / "access.log.1.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    db = tmp_path / "flows.duckdb"
    result = run([packed], db)
    assert (result.sources[0].format, result.sources[0].records) == ("squid", 161)
    assert flows(db) == {("10.0.1.5", "api.openai.com", "openai", False)}


def test_reingesting_the_same_file_counts_nothing_twice(tmp_path: Path) -> None:
    log, db = _squid(tmp_path), tmp_path / "flows.duckdb"
    run([log], db)
    again = run([log], db)
    assert [(s.new_records, s.records) for s in again.sources] == [(0, 161)]
    assert _requests(db) == 1


def test_a_grown_file_contributes_only_its_new_lines(tmp_path: Path) -> None:
    log, db = _squid(tmp_path), tmp_path / "flows.duckdb"
    run([log], db)
    with log.open("a") as f:
        f.write(GROQ + "\n")
    grown = run([log], db)
    assert [(s.new_records, s.records) for s in grown.sources] == [(1, 162)]
    assert flows(db) == {
        ("10.0.1.5", "api.openai.com", "openai", False),
        ("10.0.1.6", "api.groq.com", "groq", False),
    }
    with flowdb.connect(db, read_only=True) as con:
        lines = con.execute("SELECT line FROM records ORDER BY line").fetchall()
    assert lines == [(101,), (162,)]


def test_a_rotated_compressed_copy_is_the_same_source(tmp_path: Path) -> None:
    log, db = _squid(tmp_path), tmp_path / "flows.duckdb"
    run([log], db)
    rotated = tmp_path / "access.log.1.gz"
    with log.open("rb") as src, gzip.open(rotated, "wb") as dst:
        shutil.copyfileobj(src, dst)
    log.unlink()
    result = run([rotated], db)
    assert [(s.new_records, s.records) for s in result.sources] == [(0, 161)]
    assert _requests(db) == 1


def test_a_broken_gzip_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    good = _squid(tmp_path)
    broken = tmp_path / "bad.log.gz"
    broken.write_bytes(gzip.compress(good.read_bytes())[:300])
    db = tmp_path / "flows.duckdb"
    with pytest.raises(InputError, match="unreadable gzip"):
        run([good, broken], db)
    assert not db.exists()


def test_a_gzip_broken_past_its_head_rolls_the_whole_ingestion_back(tmp_path: Path) -> None:
    good = _squid(tmp_path)
    big = tmp_path / "big.log"
    big.write_text(good.read_text() * 400)
    packed = gzip.compress(big.read_bytes())
    broken = tmp_path / "big.log.gz"
    broken.write_bytes(packed[: len(packed) - 64])  # the head reads, the tail is cut
    db = tmp_path / "flows.duckdb"
    run([tmp_path / "access.log"], db)
    with pytest.raises(InputError, match="unreadable gzip"):
        run([good, broken], db, gateways=["10.0.9.9"])
    with flowdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sources").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM gateways").fetchone() == (0,)
    assert _requests(db) == 1
