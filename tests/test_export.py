"""`gtb export`: the published data read back with DuckDB and validated against its datapackage."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pytest
from frictionless import Package
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import api, safe
from pipeline.cli import main
from pipeline.report.export import TYPES, WITHHELD, resources
from tests.builders import set_cell, valid_sheets, write_workbook

YEAR = 2024
FORMULA_SITE = '@SUM(1+1)*cmd|" /C calc"!A0'  # DDE-style payload typed as text


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    inputs = root / "inputs"
    (inputs / "history").mkdir(parents=True)
    for year in ("2023", "2024"):
        (inputs / "submissions" / year).mkdir(parents=True)
    write_workbook(inputs / "submissions" / "2023" / "UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    write_workbook(inputs / "submissions" / "2024" / "UNEP_2024.xlsx", valid_sheets("UNEP", YEAR))
    wfp = set_cell(valid_sheets("WFP", YEAR), "Facilities", "A2", FORMULA_SITE)
    wfp = set_cell(wfp, "Entity", "B7", "Jane Focal-Point")
    wfp = set_cell(wfp, "Entity", "B8", "jane.focalpoint@wfp.org")
    wfp["Water"][0].append("comment")
    wfp["Water"][1].append("ask Jane about the meter")
    write_workbook(inputs / "submissions" / "2024" / "WFP_2024.xlsx", wfp)
    api.run(inputs, root / "gtb.duckdb", root / "out", jobs=1)
    return root / "gtb.duckdb"


@pytest.fixture(scope="module")
def parquet(warehouse) -> Path:
    return api.export(YEAR, warehouse, warehouse.parent / "pq", "parquet").folder


@pytest.fixture(scope="module")
def csv_export(warehouse) -> Path:
    return api.export(YEAR, warehouse, warehouse.parent / "csv", "csv").folder


def descriptor(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_parquet_reads_back_with_duckdb_as_the_descriptor_says(parquet, warehouse):
    package = descriptor(parquet)
    assert Package.validate_descriptor(str(parquet / "datapackage.json")).valid
    names = [r["name"] for r in package["resources"]]
    assert names == [r.name for r in resources()]
    assert {"system_indicators", "entity_indicators", "facilities_activity", "emissions", "emission_factors"} <= set(
        names
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for resource in package["resources"]:
            path = parquet / resource["path"]
            cur = duckdb.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')")
            columns = [(name, str(dtype)) for name, dtype, *_ in cur.fetchall()]
            fields = resource["schema"]["fields"]
            assert [c[0] for c in columns] == [f["name"] for f in fields], resource["name"]
            for (name, dtype), f in zip(columns, fields, strict=True):
                assert TYPES[dtype] == f["type"], (resource["name"], name, dtype)
                assert f.get("description"), (resource["name"], name)
            key = resource["schema"].get("primaryKey")
            if key:
                [(rows, distinct)] = duckdb.execute(
                    f"SELECT count(*), count(DISTINCT ({', '.join(key)})) FROM read_parquet('{path}')"
                ).fetchall()
                assert rows == distinct, resource["name"]
        # the rows are the database's: the year's loaded submissions, nothing else
        [(db_rows,)] = con.execute(
            "SELECT count(*) FROM facilities_activity JOIN submissions USING (submission_id) "
            "WHERE status = 'loaded' AND reporting_year = ?",
            [YEAR],
        ).fetchall()
        [(pq_rows, years)] = duckdb.execute(
            f"SELECT count(*), list(DISTINCT year) FROM read_parquet('{parquet / 'facilities_activity.parquet'}')"
        ).fetchall()
        assert pq_rows == db_rows == 6 and years == [YEAR]
        [(db_total,)] = con.execute("SELECT total_tco2e FROM system_indicators WHERE year = ?", [YEAR]).fetchall()
        [(pq_total,)] = duckdb.execute(
            f"SELECT total_tco2e FROM read_parquet('{parquet / 'system_indicators.parquet'}') WHERE year = {YEAR}"
        ).fetchall()
        assert pq_total == db_total
        # every emissions row names a factor that is in the package, with its source
        [(orphans,)] = duckdb.execute(
            f"""SELECT count(*) FROM read_parquet('{parquet / "emissions.parquet"}') e
                ANTI JOIN read_parquet('{parquet / "emission_factors.parquet"}') f
                ON f.factor_set = e.factor_set AND f.factor_id = e.factor_id AND f.region = e.factor_region"""
        ).fetchall()
        assert orphans == 0
    finally:
        con.close()
    # the site name is published exactly as typed in Parquet
    [(site,)] = duckdb.execute(
        f"SELECT site FROM read_parquet('{parquet / 'facilities_activity.parquet'}') "
        "WHERE entity_code = 'WFP' AND source_row = 2"
    ).fetchall()
    assert site == FORMULA_SITE


def test_csv_package_is_valid_for_frictionless(csv_export):
    report = Package(str(csv_export / "datapackage.json")).validate()
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])[:10]
    assert report.stats["tasks"] == len(resources())


def test_frictionless_catches_a_file_that_disagrees_with_its_descriptor(csv_export, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in csv_export.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    text = (broken / "system_indicators.csv").read_text(encoding="utf-8").splitlines()
    cells = text[1].split(",")
    cells[1] = "lots"  # reporting_entities: an integer
    text[1] = ",".join(cells)
    (broken / "system_indicators.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    report = Package(str(broken / "datapackage.json")).validate()
    assert not report.valid
    assert ("system_indicators", "type-error") in {(t.name, e.type) for t in report.tasks for e in t.errors}


def test_csv_never_replays_a_formula(csv_export):
    text = (csv_export / "facilities_activity.csv").read_text(encoding="utf-8")
    assert "'" + FORMULA_SITE.replace('"', '""') in text
    assert "," + FORMULA_SITE.replace('"', '""') not in text and '"' + FORMULA_SITE not in text


def test_personal_data_and_comments_are_withheld(parquet, csv_export):
    for folder in (parquet, csv_export):
        for path in folder.iterdir():
            data = path.read_bytes()
            for secret in (b"jane.focalpoint@wfp.org", b"Jane Focal-Point", b"ask Jane about the meter"):
                assert secret not in data, (path.name, secret)
        fields = {f["name"] for r in descriptor(folder)["resources"] for f in r["schema"]["fields"]}
        assert not fields & set(WITHHELD)


def test_rerun_replaces_the_files_and_keeps_what_it_did_not_write(warehouse, tmp_path):
    folder = api.export(YEAR, warehouse, tmp_path, "parquet").folder
    (folder / "notes.txt").write_text("the author's own file", encoding="utf-8")
    listed = descriptor(folder)
    listed["resources"].append({"name": "old_table", "path": "old_table.parquet"})
    (folder / "datapackage.json").write_text(json.dumps(listed), encoding="utf-8")
    (folder / "old_table.parquet").write_bytes(b"from an earlier version")
    first = {p.name: p.read_bytes() for p in folder.glob("*.parquet") if p.name != "old_table.parquet"}
    api.export(YEAR, warehouse, tmp_path, "parquet")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "the author's own file"
    assert not (folder / "old_table.parquet").exists(), "a file the previous package listed and this one does not"
    assert {p.name: p.read_bytes() for p in folder.glob("*.parquet")} == first, "same data, same bytes"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_an_export_in_the_other_format_says_it_removed_the_first(warehouse, tmp_path, capsys):
    """`--format csv`, then a plain `gtb export`: the CSV files went without a word."""
    argv = ["export", "--year", str(YEAR), "--db", str(warehouse), "--outputs", str(tmp_path)]
    assert main([*argv, "--format", "csv"]) == 0
    assert "removed" not in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    count = len(resources())
    assert f"removed {count} csv files of the export before, which this datapackage.json does not describe" in out
    folder = tmp_path / "export" / str(YEAR)
    assert not list(folder.glob("*.csv")) and len(list(folder.glob("*.parquet"))) == count
    assert main(argv) == 0 and "removed" not in capsys.readouterr().out


def test_an_export_that_cannot_be_written_whole_leaves_the_folder_as_it_was(warehouse, tmp_path, capsys, monkeypatch):
    """A full disk on the third file: the earlier export stays whole (its files and descriptor
    agree), no temporary file is left, and the command says so in one line (it was an internal
    error, with the first file replaced and no datapackage.json)."""
    from pipeline.report import export

    folder = api.export(YEAR, warehouse, tmp_path, "csv").folder
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = export._write
    calls = []

    def full_disk(*args, **kwargs):
        calls.append(args[1].name)
        if len(calls) == 3:
            raise duckdb.IOException('IO Error: Could not write file "x": No space left on device')
        return written(*args, **kwargs)

    monkeypatch.setattr(export, "_write", full_disk)
    argv = ["export", "--year", str(YEAR), "--format", "csv", "--db", str(warehouse), "--outputs", str(tmp_path)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err and "as it was" in err, err
    assert "internal error" not in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    monkeypatch.setattr(export, "_write", written)
    monkeypatch.setattr(export, "_write_descriptor", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    assert main(argv) == 2
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_command_line(warehouse, tmp_path, capsys):
    assert main(["export", "--year", str(YEAR), "--db", str(warehouse), "--outputs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "parquet files" in out and "datapackage.json" in out
    assert main(["export", "--year", "2031", "--db", str(warehouse), "--outputs", str(tmp_path)]) == 2
    assert "no data for 2031" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--year", str(YEAR), "--format", "xlsx", "--db", str(warehouse)])
    assert exit_.value.code == 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
def test_formula_guard_in_sql_is_the_python_rule(value):
    [(got,)] = duckdb.execute(f"SELECT {safe.formula_safe_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()
    assert got == safe.formula_safe(value)


@pytest.mark.parametrize("value", ["=1+1", "-5", "+1,234.5", "-", "@x", "\tx", "\r\nx", "-\u0663", "plain", ""])
def test_formula_guard_in_sql_on_known_cases(value):
    [(got,)] = duckdb.execute(f"SELECT {safe.formula_safe_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()
    assert got == safe.formula_safe(value)


def test_estimated_share_is_published_with_its_system_rows(parquet, csv_export, warehouse):
    """`estimated_emissions` (the report's "x % of emissions from estimated figures") is in the
    package, per entity and per year; the year's row has no entity, so the resource has no key."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        view = con.execute("SELECT * FROM estimated_emissions WHERE year <= ? ORDER BY ALL", [YEAR]).fetchall()
    finally:
        con.close()
    assert any(row[0] is None and row[2] for row in view) and any(row[0] == "WFP" for row in view)
    published = duckdb.execute(
        f"SELECT * FROM read_parquet('{parquet / 'estimated_emissions.parquet'}') ORDER BY ALL"
    ).fetchall()
    assert len(published) == len(view)
    for mine, theirs in zip(published, view, strict=True):  # DuckDB's parallel sums may differ in the last bit
        assert mine[:4] == theirs[:4] and mine[4:] == pytest.approx(theirs[4:], rel=1e-12)
    [resource] = [r for r in descriptor(csv_export)["resources"] if r["name"] == "estimated_emissions"]
    assert "primaryKey" not in resource["schema"]
    assert {f["name"]: f.get("unit") for f in resource["schema"]["fields"]}["estimated_tco2e"] == "tCO2e"
    from_csv = duckdb.execute(
        f"SELECT * FROM read_csv('{csv_export / 'estimated_emissions.csv'}') ORDER BY ALL"
    ).fetchall()
    assert len(from_csv) == len(view) and sum(row[0] is None for row in from_csv) == sum(row[0] is None for row in view)


def test_an_interrupted_export_leaves_no_temporary_file_and_the_next_sweeps_old_ones(warehouse, tmp_path, monkeypatch):
    """Ctrl-C (or any error but a write's) left the hidden temporary files of the resources written
    so far in the folder, and a kill leaves them too: hidden, they travelled with the published
    folder, and no later export removed them."""
    from pipeline.report import export as export_module

    api.export(YEAR, warehouse, tmp_path, "csv")
    folder = tmp_path / "export" / str(YEAR)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = export_module._write
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return written(*args, **kwargs)

    monkeypatch.setattr(export_module, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.export(YEAR, warehouse, tmp_path, "csv")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    monkeypatch.undo()
    for left in (".emissions-k3j2.csv", "tmp_.emissions-a1b2.csv", ".submissions-zz.parquet", ".datapackage-q1.json"):
        (folder / left).write_text("half a file")
    (folder / ".notes.txt").write_text("kept")  # not ours
    api.export(YEAR, warehouse, tmp_path, "csv")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith((".", "tmp_"))) == [".notes.txt"]


def test_an_export_leaves_the_temporary_files_of_one_still_running(warehouse, tmp_path):
    """Two exports of one year at once (a cron job and an analyst): the second swept the first's
    temporary files as a killed export's, and the first failed with "the folder is as it was"."""
    import subprocess
    import sys

    api.export(YEAR, warehouse, tmp_path, "csv")
    folder = tmp_path / "export" / str(YEAR)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        theirs = [f".emissions-{running.pid}-k3j2.csv", f"tmp_.submissions-{running.pid}-a1.csv"]
        killed = [f".emissions-{gone.pid}-x9.csv", f".datapackage-{gone.pid}-q1.json", ".system_indicators-old.csv"]
        for name in theirs + killed:
            (folder / name).write_text("half a file")
        # a running process's id on a file two days old: the id of one killed long ago, reused since
        reused = folder / f".entity_indicators-{running.pid}-old.csv"
        reused.write_text("half a file")
        os.utime(reused, (time.time() - 2 * 86400,) * 2)
        api.export(YEAR, warehouse, tmp_path, "csv")
        left = sorted(p.name for p in folder.iterdir() if p.name.startswith((".", "tmp_")))
        assert left == sorted(theirs), left
    finally:
        running.kill()
        running.wait()
    api.export(YEAR, warehouse, tmp_path, "csv")
    assert not [p for p in folder.iterdir() if p.name.startswith((".", "tmp_"))], "swept once it has stopped"


def test_a_query_duckdb_stops_on_ctrl_c_is_an_interruption():
    from pipeline.cli import _interrupted

    assert _interrupted(RuntimeError("Query interrupted"))
    assert not _interrupted(RuntimeError("Query failed: something else"))


def test_the_grid_shares_behind_the_renewable_default_are_published_with_their_source(tmp_path):
    """Under gtb-2026.1 an electricity row without a renewable figure counts the country's grid
    share as renewable; that share and its source were in no exported table, so the renewable
    share of the report could not be traced."""
    import csv

    inputs = tmp_path / "inputs"
    (inputs / "history").mkdir(parents=True)
    (inputs / "submissions" / "2025").mkdir(parents=True)
    sheets = set_cell(valid_sheets("UNEP", 2025), "Facilities", "F2", None)  # no renewable figure given
    write_workbook(inputs / "submissions" / "2025" / "UNEP_2025.xlsx", sheets)
    api.run(inputs, tmp_path / "gtb.duckdb", tmp_path / "out", jobs=1)
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        [(defaults,)] = con.execute("SELECT count(*) FROM emissions WHERE renewable_source = 'grid_default'").fetchall()
    assert defaults > 0, "the fixture prices some electricity with the grid default"
    folder = api.export(2025, tmp_path / "gtb.duckdb", tmp_path / "pub", "csv").folder
    assert Package(str(folder / "datapackage.json")).validate().valid
    with (folder / "grid_renewable_shares.csv").open(encoding="utf-8") as fh:
        rows = {(r["factor_set"], r["region"]): r for r in csv.DictReader(fh)}
    reference = Path(__file__).resolve().parent.parent / "inputs/reference/factors/gtb-2026.1/grid_renewable_share.csv"
    with reference.open(encoding="utf-8") as fh:
        expected = {r["region"]: r for r in csv.DictReader(fh)}
    assert {region for _, region in rows} == set(expected) and {s for s, _ in rows} == {"gtb-2026.1"}
    assert float(rows[("gtb-2026.1", "KEN")]["renewable_share"]) == float(expected["KEN"]["renewable_share"])
    assert rows[("gtb-2026.1", "WORLD")]["source_url"] == expected["WORLD"]["source_url"]
    [resource] = [r for r in descriptor(folder)["resources"] if r["name"] == "grid_renewable_shares"]
    assert resource["schema"]["primaryKey"] == ["factor_set", "region"]
