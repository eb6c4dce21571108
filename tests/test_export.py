"""`gtb export`: the published data read back with DuckDB and validated against its datapackage."""

from __future__ import annotations

import csv
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


@pytest.fixture(scope="module")
def priced_2026_1(tmp_path_factory) -> Path:
    """A warehouse of 2025, priced with gtb-2026.1: air travel by the ICAO method (routes between
    airports and a distance given alone), electricity without a renewable figure by the grid default."""
    root = tmp_path_factory.mktemp("export_2026_1")
    inputs = root / "inputs"
    (inputs / "history").mkdir(parents=True)
    (inputs / "submissions" / "2025").mkdir(parents=True)
    sheets = set_cell(valid_sheets("UNEP", 2025), "Facilities", "F2", None)  # no renewable figure given
    write_workbook(inputs / "submissions" / "2025" / "UNEP_2025.xlsx", sheets)
    api.run(inputs, root / "gtb.duckdb", root / "out", jobs=1)
    return root / "gtb.duckdb"


@pytest.fixture(scope="module")
def icao_csv(priced_2026_1) -> Path:
    return api.export(2025, priced_2026_1, priced_2026_1.parent / "csv", "csv").folder


@pytest.fixture(scope="module")
def icao_parquet(priced_2026_1) -> Path:
    return api.export(2025, priced_2026_1, priced_2026_1.parent / "pq", "parquet").folder


FACTORS = Path(__file__).resolve().parent.parent / "inputs/reference/factors"
AIR_TABLES = {  # resource -> its primary key beside factor_set
    "icao_fuel_burn": ["aircraft_code", "distance_nm"],
    "icao_aircraft": ["aircraft_code"],
    "icao_aircraft_mix": ["min_km", "aircraft_code"],
    "icao_route_groups": ["route_group"],
    "icao_regions": ["region"],
    "icao_class_factors": ["cabin_class"],
    "icao_constants": ["name"],
    "air_gcd_correction": ["min_km"],
    "air_distance_bands": ["band"],
}


def set_file(factor_set: str, resource: str) -> list[dict[str, str]]:
    """A factor set's table read from its CSV file, as text."""
    with (FACTORS / factor_set / f"{resource}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def parquet_rows(folder: Path, resource: str) -> list[dict]:
    cur = duckdb.execute(f"SELECT * FROM read_parquet('{folder / f'{resource}.parquet'}')")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_the_grid_shares_behind_the_renewable_default_are_published_with_their_source(priced_2026_1, icao_csv):
    """Under gtb-2026.1 an electricity row without a renewable figure counts the country's grid
    share as renewable; that share and its source were in no exported table, so the renewable
    share of the report could not be traced."""
    with duckdb.connect(str(priced_2026_1), read_only=True) as con:
        [(defaults,)] = con.execute("SELECT count(*) FROM emissions WHERE renewable_source = 'grid_default'").fetchall()
    assert defaults > 0, "the fixture prices some electricity with the grid default"
    folder = icao_csv
    assert Package(str(folder / "datapackage.json")).validate().valid
    with (folder / "grid_renewable_shares.csv").open(encoding="utf-8") as fh:
        rows = {(r["factor_set"], r["region"]): r for r in csv.DictReader(fh)}
    expected = {r["region"]: r for r in set_file("gtb-2026.1", "grid_renewable_share")}
    assert {region for _, region in rows} == set(expected) and {s for s, _ in rows} == {"gtb-2026.1"}
    assert float(rows[("gtb-2026.1", "KEN")]["renewable_share"]) == float(expected["KEN"]["renewable_share"])
    assert rows[("gtb-2026.1", "WORLD")]["source_url"] == expected["WORLD"]["source_url"]
    [resource] = [r for r in descriptor(folder)["resources"] if r["name"] == "grid_renewable_shares"]
    assert resource["schema"]["primaryKey"] == ["factor_set", "region"]


def test_the_air_travel_tables_of_the_icao_method_are_published_row_for_row(icao_parquet, icao_csv):
    """Air travel under gtb-2026.1 is priced in kg of fuel per passenger from the set's ICAO tables
    and its flight-distance tables; none of them was exported, so an emissions row's quantity could
    not be traced. Each is now a resource: the set's file, row for row in its order, typed."""
    report = Package(str(icao_csv / "datapackage.json")).validate()
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])[:10]
    resources_ = {r["name"]: r for r in descriptor(icao_csv)["resources"]}
    for name, key in AIR_TABLES.items():
        expected = set_file("gtb-2026.1", name)
        fields = resources_[name]["schema"]["fields"]
        assert [f["name"] for f in fields] == ["factor_set", *expected[0]], name  # every column of the file
        assert resources_[name]["schema"]["primaryKey"] == ["factor_set", *key]
        assert all(f.get("description") for f in fields), name
        types = {f["name"]: f["type"] for f in fields}
        published = parquet_rows(icao_parquet, name)
        assert len(published) == len(expected), name
        for mine, theirs in zip(published, expected, strict=True):
            assert mine["factor_set"] == "gtb-2026.1"
            for column, text in theirs.items():
                if types[column] == "number":
                    assert mine[column] == (float(text) if text else None), (name, column, text)
                else:
                    assert types[column] == "string" and mine[column] == (text or None), (name, column, text)
        with (icao_csv / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
            assert len(list(csv.DictReader(fh))) == len(expected), name
    units = {
        (r, f["name"]): f.get("unit") for r in AIR_TABLES for f in resources_[r]["schema"]["fields"] if f.get("unit")
    }
    assert units[("icao_fuel_burn", "distance_nm")] == "nm" and units[("icao_fuel_burn", "fuel_kg")] == "kg"
    assert units[("icao_aircraft_mix", "weight")] == units[("icao_route_groups", "passenger_load_factor")] == "share"
    assert units[("air_gcd_correction", "add_km")] == units[("air_distance_bands", "min_km")] == "km"
    for name, number in [("icao_fuel_burn", "fuel_kg"), ("icao_aircraft", "y_seats"), ("icao_constants", "value")]:
        assert {f["name"]: f["type"] for f in resources_[name]["schema"]["fields"]}[number] == "number"
    # what the audit asked for: the sources and the rows the set marks as its own assumptions
    notes = [r["notes"] for r in parquet_rows(icao_parquet, "icao_aircraft_mix")]
    assert any(n.startswith("ASSUMPTION") for n in notes)
    assert all(r["source_url"] for r in parquet_rows(icao_parquet, "icao_fuel_burn"))


def test_every_column_of_a_sets_exported_tables_is_described():
    """A column a factor set's file adds and the metadata does not describe would be left out of
    the package without a word."""
    from pipeline.reference.factors import available_sets
    from pipeline.report.export import set_tables

    for table in set_tables():
        for factor_set in available_sets():
            if (FACTORS / factor_set / table.file).is_file():
                header = set_file(factor_set, table.file.removesuffix(".csv"))[0]
                assert list(header) == list(table.fields)[1:], (factor_set, table.file)


def test_a_year_without_the_icao_method_gets_its_tables_empty_with_their_columns(parquet, csv_export):
    """2024 is priced with gtb-2025.1, which has no ICAO tables: the resources are there, empty,
    with the columns of a year that has them, so the package's shape does not depend on the year;
    the flight-distance tables, which gtb-2025.1 has, hold its rows."""
    resources_ = {r["name"]: r for r in descriptor(csv_export)["resources"]}
    for name in AIR_TABLES:
        assert [f["name"] for f in resources_[name]["schema"]["fields"]][1:] == list(set_file("gtb-2026.1", name)[0]), (
            name
        )
        published = parquet_rows(parquet, name)
        if name.startswith("icao_"):
            assert published == [], name
            with (csv_export / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
                assert list(csv.reader(fh)) == [["factor_set", *set_file("gtb-2026.1", name)[0]]]
        else:
            assert len(published) == len(set_file("gtb-2025.1", name)) > 0
            assert {r["factor_set"] for r in published} == {"gtb-2025.1"}
    types = {f["name"]: f["type"] for f in resources_["icao_fuel_burn"]["schema"]["fields"]}
    assert types["distance_nm"] == types["fuel_kg"] == "number" and types["aircraft_code"] == "string"


def test_the_fuel_of_an_icao_priced_row_is_recomputed_from_the_package_alone(icao_parquet):
    """The audit's property: an emissions row priced by the ICAO method (302.8 kg_fuel x 3.16)
    traces back to the tables of the package. Its kg of fuel per passenger is recomputed here from
    the exported tables alone, as pipeline.reference.icao does, for every such row (routes between
    airports and a distance given alone)."""
    import bisect

    def table(name: str) -> list[dict]:
        return parquet_rows(icao_parquet, name)

    def interval(rows: list[dict], km: float) -> list[dict]:  # [min_km, max_km), an empty max_km open
        return [r for r in rows if r["min_km"] <= km and (r["max_km"] is None or km < r["max_km"])]

    constants = {r["name"]: r["value"] for r in table("icao_constants")}
    countries = {r["iata_code"]: r["country_code"] for r in table("airports")}  # the package's airports
    seats = {r["aircraft_code"]: r["y_seats"] for r in table("icao_aircraft")}
    classes = {r["cabin_class"]: r["factor"] for r in table("icao_class_factors")}
    regions = {r["region"]: r["icao_region_code"] for r in table("icao_regions")}
    groups = {
        frozenset(pair.split("|")): (r["passenger_load_factor"], r["pax_to_freight_factor"])
        for r in table("icao_route_groups")
        for pair in r["region_pairs"].split()
    }
    curves: dict[str, list[tuple[float, float]]] = {}
    for r in table("icao_fuel_burn"):
        curves.setdefault(r["aircraft_code"], []).append((r["distance_nm"], r["fuel_kg"]))
    corrections, mix = table("air_gcd_correction"), table("icao_aircraft_mix")

    def fuel(code: str, nm: float) -> float:  # linear between the stages, extended linearly beyond
        points = sorted(curves[code])
        i = min(max(bisect.bisect_right([x for x, _ in points], nm), 1), len(points) - 1)
        (x0, y0), (x1, y1) = points[i - 1], points[i]
        return max(0.0, y0 + (y1 - y0) * (nm - x0) / (x1 - x0))

    rows = duckdb.execute(
        f"""SELECT e.activity_quantity, e.kgco2e_per_unit, e.factor_id, a.great_circle_km, a.origin_iata,
                   a.destination_iata, a.cabin_class_code, a.flights
            FROM read_parquet('{icao_parquet / "emissions.parquet"}') e
            JOIN read_parquet('{icao_parquet / "air_travel_activity.parquet"}') a USING (submission_id, source_row)
            WHERE e.sheet = 'AirTravel' AND e.activity_unit = 'kg_fuel'"""
    ).fetchall()
    assert len(rows) >= 3 and any(r[4] is None for r in rows) and any(r[4] is not None for r in rows)
    for quantity, per_unit, factor_id, gcd, origin, destination, cabin, flights in rows:
        [correction] = interval(corrections, gcd)
        nm = (gcd + correction["add_km"]) * constants["nm_per_km"]
        band = interval(mix, gcd)  # the aircraft of the great-circle distance's band
        aircraft_fuel = sum(r["weight"] * fuel(r["aircraft_code"], nm) for r in band)
        band_seats = sum(r["weight"] * seats[r["aircraft_code"]] for r in band)
        if origin is None:  # a distance given alone: no route group
            load, freight = constants["default_passenger_load_factor"], constants["default_pax_to_freight_factor"]
        else:
            pair = {regions[countries[origin]], regions[countries[destination]]}
            load, freight = groups[frozenset(pair)]
        per_passenger = aircraft_fuel * freight / (band_seats * load) * classes[cabin]
        assert per_passenger * flights == pytest.approx(quantity, rel=1e-9), (origin, destination, gcd, cabin)
        assert per_unit == constants["co2_per_fuel"] and factor_id == "air.icao.fuel.kg_fuel"


def test_the_airports_of_the_years_flights_are_published_with_their_country_and_place(icao_parquet):
    """A route's group (its load and freight factors) follows its airports' countries, and its
    distance their places: the package names every airport the year's rows fly from or to, with
    both and where they come from, and no other."""
    import math

    from pipeline import codelists

    airports = {r["iata_code"]: r for r in parquet_rows(icao_parquet, "airports")}
    named = duckdb.execute(
        f"""SELECT DISTINCT code FROM (
                SELECT origin_iata AS code FROM read_parquet('{icao_parquet / "air_travel_activity.parquet"}')
                UNION ALL SELECT destination_iata FROM read_parquet('{icao_parquet / "air_travel_activity.parquet"}')
            ) WHERE code IS NOT NULL"""
    ).fetchall()
    assert set(airports) == {code for (code,) in named} and len(airports) >= 2
    places = codelists.airports()
    for code, row in airports.items():
        assert row["country_code"] == codelists.airport_countries()[code] and len(row["country_code"]) == 3
        assert (row["latitude"], row["longitude"]) == places[code] and row["source"].startswith("airportsdata")
    # the distance of a route between two of them is the rows' great-circle distance
    rows = duckdb.execute(
        f"""SELECT origin_iata, destination_iata, great_circle_km
            FROM read_parquet('{icao_parquet / "air_travel_activity.parquet"}') WHERE origin_iata IS NOT NULL"""
    ).fetchall()
    for origin, destination, gcd in rows:
        a, b = airports[origin], airports[destination]
        lat1, lon1, lat2, lon2 = map(math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"]))
        haversine = 2 * math.asin(
            math.sqrt(
                math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
            )
        )
        assert haversine * 6371.0088 == pytest.approx(gcd, rel=1e-2), (origin, destination)


def test_a_number_of_a_sets_table_that_is_not_one_stops_the_export(priced_2026_1, tmp_path, monkeypatch, capsys):
    """Typed by a lenient cast, a fuel figure mistyped in a set's file would be published as an
    empty cell beside the rows it priced; the export stops instead, naming the file and value."""
    from pipeline.reference import factors

    read = factors.read_set_table

    def mistyped(filename, *args, **kwargs):
        table = read(filename, *args, **kwargs)
        if filename == "icao_fuel_burn.csv":
            table.loc[3, "fuel_kg"] = "1,996"
        return table

    monkeypatch.setattr(factors, "read_set_table", mistyped)
    argv = ["export", "--year", "2025", "--format", "csv", "--db", str(priced_2026_1), "--outputs", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "icao_fuel_burn.csv of factor set gtb-2026.1: fuel_kg '1,996' is not a number" in err, err
    assert not (tmp_path / "export" / "2025" / "datapackage.json").exists()


@pytest.mark.parametrize("which", ["2025.1", "2026.1"])
def test_every_canonical_quantity_is_recomputed_from_the_packages_unit_conversions(which, parquet, icao_parquet):
    """A row reported in m3 of natural gas or kg of LPG is priced in kWh: its canonical quantity
    came from the factor set's conversions, which no resource published, so 11.14 kWh per m3 and
    its source were nowhere in the package. Every converted quantity of the four sheets is now
    recomputed from the package alone."""
    folder = parquet if which == "2025.1" else icao_parquet
    conversions = parquet_rows(folder, "unit_conversions")
    assert {r["factor_set"] for r in conversions} == {f"gtb-{which}"}
    assert all(r["source_title"] and r["source_url"] for r in conversions)
    factor = {(r["sheet"], r["activity"], r["from_unit"]): (r["multiplier"], r["to_unit"]) for r in conversions}

    def converted(sheet: str, activity: str, unit: str) -> tuple[float, str]:
        return factor.get((sheet, activity, unit)) or factor[(sheet, "*", unit)]

    checked = converted_rows = 0
    for sheet, table, activity, quantity, result, unit_column in [
        ("Facilities", "facilities_activity", "energy_type_code", "quantity", "canonical_quantity", "canonical_unit"),
        ("Vehicles", "vehicles_activity", "fuel_code", "quantity", "canonical_quantity", "canonical_unit"),
        ("Waste", "waste_activity", None, "quantity", "quantity_tonnes", None),
        ("Water", "water_activity", None, "volume", "volume_m3", None),
    ]:
        for row in parquet_rows(folder, table):
            multiplier, to_unit = converted(sheet, row[activity] if activity else "*", row["unit_code"])
            assert row[result] == pytest.approx(row[quantity] * multiplier, rel=1e-12), (sheet, row)
            assert unit_column is None or row[unit_column] == to_unit, (sheet, row)
            checked += 1
            converted_rows += multiplier != 1.0
    assert checked >= 6 and converted_rows >= 1  # the m3 of natural gas in kWh among them
    resource = next(r for r in descriptor(folder)["resources"] if r["name"] == "unit_conversions")
    assert resource["schema"]["primaryKey"] == ["factor_set", "sheet", "activity", "from_unit"]


def test_the_package_says_in_a_property_whether_it_is_draft_and_why(warehouse, tmp_path):
    """A year `gtb report --final` refuses, because a submission was not compared again with an
    earlier year as it now stands, was exported with no DRAFT mark; and the mark of open flags was
    a sentence in the description alone. `status` ('draft' or 'final') says it for a reader to
    test, `open_plausibility_flags` and `not_compared_again` say why."""
    import shutil

    def package(db: Path, name: str) -> dict:
        return descriptor(api.export(YEAR, db, tmp_path / name, "csv").folder)

    clean = package(warehouse, "clean")
    assert (clean["status"], clean["open_plausibility_flags"], clean["not_compared_again"]) == ("final", [], [])
    assert "DRAFT" not in clean["description"]
    copy = tmp_path / "gtb.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:  # UNEP's 2023 received again after its 2024 was compared with it
        con.execute(
            "UPDATE submissions SET received_at = received_at + INTERVAL 400 DAY "
            "WHERE entity_code = 'UNEP' AND reporting_year = ? AND status = 'loaded'",
            [YEAR - 1],
        )
    stale = package(copy, "stale")
    assert stale["status"] == "draft" and stale["open_plausibility_flags"] == []
    assert stale["not_compared_again"] == [{"entity_code": "UNEP", "compared_with_year": YEAR - 1}]
    assert f"DRAFT: 1 submission of {YEAR} not compared again with an earlier year" in stale["description"]
    with duckdb.connect(str(copy)) as con:
        [(sid,)] = con.execute(
            "SELECT submission_id FROM submissions WHERE entity_code = 'WFP' AND status = 'loaded'"
        ).fetchall()
        for flag_id in (9001, 9002):
            con.execute(
                "INSERT INTO flags (flag_id, submission_id, code, check_name, message, status) "
                "VALUES (?, ?, 'implausible-change', 'yoy', 'x3 on the year before', 'open')",
                [flag_id, sid],
            )
    both = package(copy, "both")
    assert both["status"] == "draft"
    assert both["open_plausibility_flags"] == [{"year": YEAR, "entity_code": "WFP", "flags": 2}]
    assert f"DRAFT: 2 plausibility flags of {YEAR} still open; 1 submission of {YEAR}" in both["description"]
    assert Package(str(tmp_path / "both" / "export" / str(YEAR) / "datapackage.json")).validate().valid


def test_the_units_of_the_columns_the_pipeline_adds_are_theirs(csv_export):
    """air_travel_activity.passenger_km was published in km (its name's ending), though it is in
    passenger-km, and flights had no unit: the columns the pipeline adds carry their own."""
    fields = {
        (r["name"], f["name"]): f.get("unit")
        for r in descriptor(csv_export)["resources"]
        for f in r["schema"]["fields"]
    }
    assert fields[("air_travel_activity", "passenger_km")] == "passenger-km"
    assert fields[("air_travel_activity", "flights")] == "flights"
    assert fields[("air_travel_activity", "great_circle_km")] == "km"


def test_a_restated_year_is_said_in_the_package(warehouse, tmp_path):
    """After `gtb recalculate`, the next export published the earlier year's new total in its
    views with nothing saying it was restated, from what, and why: the report says so, the
    package did not. `recalculations` lists the restatements of the years it shows."""
    import shutil

    copy = tmp_path / "gtb.duckdb"
    shutil.copy(warehouse, copy)
    before = {
        r["year"]: r
        for r in parquet_rows(api.export(YEAR, copy, tmp_path / "a", "parquet").folder, "system_indicators")
    }
    assert parquet_rows(tmp_path / "a" / "export" / str(YEAR), "recalculations") == []
    api.recalculate(YEAR - 1, "gtb-2026.1", "the ICAO method for every year from 2023", db=copy)
    folder = api.export(YEAR, copy, tmp_path / "b", "parquet").folder
    [row] = parquet_rows(folder, "recalculations")
    now = {r["year"]: r for r in parquet_rows(folder, "system_indicators")}
    assert (row["year"], row["old_factor_set"], row["new_factor_set"]) == (YEAR - 1, "gtb-2025.1", "gtb-2026.1")
    with duckdb.connect(str(copy), read_only=True) as con:  # the log's figures, all emission rows
        logged = con.execute("SELECT old_total_tco2e, new_total_tco2e FROM recalculations").fetchall()
    assert [(row["old_total_tco2e"], row["new_total_tco2e"])] == logged
    assert now[YEAR - 1]["total_tco2e"] != before[YEAR - 1]["total_tco2e"], "the views hold the year restated"
    assert row["reason"] == "the ICAO method for every year from 2023"
    resource = next(r for r in descriptor(folder)["resources"] if r["name"] == "recalculations")
    assert resource["schema"]["primaryKey"] == ["year", "recalculated_at"]
    assert all(f.get("description") for f in resource["schema"]["fields"])
    csv_folder = api.export(YEAR, copy, tmp_path / "c", "csv").folder
    assert Package(str(csv_folder / "datapackage.json")).validate().valid
