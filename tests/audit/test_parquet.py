"""`mageguard audit export` and `--parquet`: a fleet's flow stores, exported as Parquet,
read as one with the same SQL; each store's sources stay its own, and an Incident's clocks
start at the earliest awareness of any store."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from mageguard.audit import flowdb, parquet, render
from mageguard.errors import InputError
from mageguard.gateway.command import audit_group
from tests.audit.flowsupport import run

SHOP_1 = (
    "1700000000.000  10 10.0.1.6 TCP_TUNNEL/200 99 CONNECT api.openai.com:443 - "
    "HIER_DIRECT/1.1.1.1 -"
)
SHOP_2 = (
    "1700000500.000  10 10.0.2.7 TCP_TUNNEL/200 99 CONNECT api.anthropic.com:443 - "
    "HIER_DIRECT/1.1.1.1 -"
)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(audit_group, list(args))


def _store(tmp_path: Path, name: str, *lines: str, now: float) -> Path:
    log = tmp_path / f"{name}.log"
    log.write_text("".join(line + "\n" for line in lines))
    db = tmp_path / f"{name}.duckdb"
    run([log], db, now=now)
    return db


def _doc(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    doc = render.flows_document(con)
    doc.pop("generated_at")
    return doc


def test_an_export_reads_back_as_the_store_it_came_from(tmp_path: Path) -> None:
    db = _store(tmp_path, "shop-1", SHOP_1, now=1800000000.0)
    with flowdb.connect(db, read_only=True) as con:
        expected = _doc(con)
        parquet.export(con, tmp_path / "export", "shop-1")
    with parquet.connect([tmp_path / "export"]) as con:
        assert _doc(con) == expected


def test_a_fleet_reads_as_one_and_keeps_the_earliest_awareness(tmp_path: Path) -> None:
    first = _store(tmp_path, "shop-1", SHOP_1, now=1800000000.0)
    # the second host saw the same bypass later, and one of its own
    second = _store(tmp_path, "shop-2", SHOP_1, SHOP_2, now=1800003600.0)
    for db, label in ((first, "shop-1"), (second, "shop-2")):
        with flowdb.connect(db, read_only=True) as con:
            parquet.export(con, tmp_path / label, label)
    with parquet.connect([tmp_path / "shop-1", tmp_path / "shop-2"]) as con:
        doc = render.flows_document(con)
        sources = con.execute("SELECT id FROM sources ORDER BY id").fetchall()
    assert [s for (s,) in sources] == ["shop-1:1", "shop-2:1"]
    flows = {(f["source"], f["destination"], f["requests"]) for f in doc["flows"]}
    assert flows == {("10.0.1.6", "api.openai.com", 2), ("10.0.2.7", "api.anthropic.com", 1)}
    aware = {i["destination"]: i["aware_at"] for i in doc["incidents"]}
    assert aware == {
        "api.openai.com": "2027-01-15T08:00:00Z",  # shop-1's moment, the earlier one
        "api.anthropic.com": "2027-01-15T09:00:00Z",
    }


def test_a_directory_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "records.parquet").write_bytes(b"")
    with (
        pytest.raises(InputError, match="not a flow-store export"),
        parquet.connect([tmp_path / "half"]),
    ):
        pass


@pytest.mark.parametrize("label", ["", "-x", "a b", "x'; DROP TABLE records; --", "é"])
def test_a_label_that_could_break_out_of_sql_is_refused(tmp_path: Path, label: str) -> None:
    db = _store(tmp_path, "shop-1", SHOP_1, now=1800000000.0)
    with flowdb.connect(db, read_only=True) as con, pytest.raises(InputError, match="label"):
        parquet.export(con, tmp_path / "export", label)
    assert not (tmp_path / "export").exists() or not any((tmp_path / "export").iterdir())


def test_export_then_flows_and_incidents_from_the_cli(tmp_path: Path) -> None:
    db = _store(tmp_path, "shop-1", SHOP_1, now=1800000000.0)
    exported = _cli("export", "--db", str(db), "--label", "shop-1", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{t}.parquet" for t in parquet.TABLES
    )
    flows = _cli("flows", "--parquet", str(tmp_path / "out"), "-f", "json")
    assert flows.exit_code == 0, flows.output
    assert [f["destination"] for f in json.loads(flows.output)["flows"]] == ["api.openai.com"]
    # two days after awareness: NIS2's 24 h early warning is overdue, GDPR's 72 h is not
    late = _cli("incidents", "--parquet", str(tmp_path / "out"), "--now", "2027-01-17T08:00:00Z")
    assert late.exit_code == 1  # there is an incident
    assert "OVERDUE" in late.output and "due in" in late.output
    both = _cli("flows", "--parquet", str(tmp_path / "out"), "--db", str(db))
    assert both.exit_code == 2 and "not both" in both.output
