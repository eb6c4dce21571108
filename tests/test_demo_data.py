"""Tests of the demo data generator: determinism, contract conformance, magnitudes, mistakes.

A small generation (the entities with deliberate mistakes plus UNEP, two workbook years and two
history years) is written once per module; the system magnitudes are checked on the full demo
data built in memory (the same rows the workbooks hold, without writing files).
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from demo import data as demo_data
from pipeline import codelists
from pipeline.cells import column_letter
from schemas import contract

SEED = 2025
SUBSET = ["UNEP", "DOS"] + [m.entity for m in demo_data.MISTAKES]
FIRST, LAST, HISTORY_FROM = 2023, 2024, 2021
KWH_PER_UNIT = {"kwh": 1.0, "mwh": 1000.0, "gj": 277.78}


# ---------------------------------------------------------------------------------------------
# A small reader and contract checker (test oracle; the real validator lives elsewhere)
# ---------------------------------------------------------------------------------------------


def read_grid(path: Path) -> dict[str, list[tuple[int, list[object]]]]:
    """sheet -> [(Excel row number, cell values)], blank rows left out, row 1 included.

    Read with calamine (fast) so that every clean workbook can be checked; the broken cells are
    checked with openpyxl below."""
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        rows = []
        for i, values in enumerate(wb.get_sheet_by_name(name).to_python(skip_empty_area=False), start=1):
            values = [None if v == "" else v for v in values]
            if any(v is not None and str(v).strip() != "" for v in values):
                rows.append((i, values))
        out[name] = rows
    return out


def parse_number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(" ", "").replace(",", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueError(f"not a number: {value!r}")
    return float(text)


def parse_value(spec: contract.ColumnSpec, value: object) -> object:
    """A cell value as the canonical value the contract means (raises ValueError if invalid type)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if spec.dtype == "number":
        return parse_number(value)
    if spec.dtype == "integer":
        number = parse_number(value)
        if not number.is_integer():
            raise ValueError(value)
        return int(number)
    if spec.dtype in ("enum", "yesno"):
        return codelists.normalise_code(value)
    if spec.dtype in ("iso3", "iata", "entity"):
        return codelists.normalise_ref(value)
    if spec.dtype == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value).strip())
    return str(value)


def bound(text: str, year: int) -> float | date:
    if text == "current_year":
        return float(date.today().year)
    if text == "reporting_year+1":
        return float(year + 1)
    if text == "reporting_year-01-01":
        return date(year, 1, 1)
    if text == "reporting_year+1-12-31":
        return date(year + 1, 12, 31)
    return float(text)


@cache
def allowed_codes(name: str) -> frozenset[str]:
    return frozenset(codelists.codes(name))


def check_value(spec: contract.ColumnSpec, value: object, year: int) -> str | None:
    """None if the canonical value is valid for the column, else a short reason."""
    if value is None:
        return "missing" if spec.required else None
    if spec.codelist and value not in allowed_codes(spec.codelist):
        return f"{value!r} not in {spec.codelist}"
    if spec.dtype == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(value)):
        return f"bad e-mail {value!r}"
    for name, op in (("ge", lambda a, b: a >= b), ("gt", lambda a, b: a > b), ("le", lambda a, b: a <= b)):
        limit = getattr(spec, name)
        if limit is not None and not op(value, bound(limit, year)):
            return f"{value!r} fails {name} {limit}"
    return None


def check_workbook(path: Path) -> list[str]:
    """Every contract violation found in one workbook, as 'Sheet!A1 reason' strings."""
    grid = read_grid(path)
    problems: list[str] = []
    missing = [s.name for s in contract.sheets() if s.name not in grid]
    problems += [f"{name} missing sheet" for name in missing]
    entity_rows = {row[0]: (i, row[1]) for i, row in grid.get("Entity", [])[1:]}
    year = int(parse_number(entity_rows["reporting_year"][1])) if "reporting_year" in entity_rows else 2024
    for spec in contract.sheets():
        if spec.name not in grid:
            continue
        if spec.is_table:
            problems += check_table_sheet(spec, grid[spec.name], year)
        else:
            problems += check_field_sheet(spec, grid[spec.name], year)
    return problems


def check_field_sheet(spec: contract.SheetSpec, rows: list[tuple[int, list[object]]], year: int) -> list[str]:
    """The violations of a Field | Value sheet: header, values, required fields, EMS standard."""
    problems: list[str] = []
    if rows[0][1][:2] != ["Field", "Value"]:
        problems.append(f"{spec.name}!A1 header {rows[0][1][:2]}")
    values = {}
    for excel_row, cells in rows[1:]:
        col = spec.column(cells[0])
        try:
            values[cells[0]] = parse_value(col, cells[1])
        except ValueError as exc:
            problems.append(f"{spec.name}!B{excel_row} {exc}")
            continue
        reason = check_value(col, values[cells[0]], year)
        if reason:
            problems.append(f"{spec.name}!B{excel_row} {reason}")
    for col in spec.columns:
        if col.required and col.name not in values:
            problems.append(f"{spec.name} missing field {col.name}")
    if (
        spec.name == "EMS"
        and values.get("status") == "certified"
        and values.get("standard") not in ("iso14001", "emas")
    ):
        problems.append(f"{spec.name}!B{field_row(rows, 'standard')} certified without standard")
    return problems


def check_table_sheet(spec: contract.SheetSpec, rows: list[tuple[int, list[object]]], year: int) -> list[str]:
    """The violations of a table sheet: required columns, then per row its cells and its sheet's rules."""
    problems: list[str] = []
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0][1]]
    for col in spec.columns:
        if col.required and col.name not in header:
            problems.append(f"{spec.name}!1 missing column {col.name}")
    for excel_row, cells in rows[1:]:
        row = parse_table_row(spec, header, excel_row, cells, year, problems)
        where = f"{spec.name}!{excel_row}"
        if spec.name == "Facilities" and {"energy_type", "unit"} <= row.keys():
            unit_cell = f"{spec.name}!{column_letter(header.index('unit') + 1)}{excel_row}"
            problems += facilities_row_problems(row, where, unit_cell)
        if spec.name == "Vehicles" and (row.get("fuel"), row.get("unit")) not in codelists.pairs("vehicle_unit"):
            problems.append(f"{where} unit {row.get('unit')} for {row.get('fuel')}")
        if spec.name == "AirTravel":
            problems += air_travel_row_problems(row, where)
    return problems


def parse_table_row(
    spec: contract.SheetSpec, header: list[str], excel_row: int, cells: list[object], year: int, problems: list[str]
) -> dict[str, object]:
    """The contract columns of one table row as canonical values; each invalid cell is added to `problems`."""
    row: dict[str, object] = {}
    for j, name in enumerate(header):
        if name not in spec.names:
            continue
        col = spec.column(name)
        cell = f"{spec.name}!{column_letter(j + 1)}{excel_row}"
        try:
            row[name] = parse_value(col, cells[j] if j < len(cells) else None)
        except ValueError as exc:
            problems.append(f"{cell} {exc}")
            continue
        reason = check_value(col, row[name], year)
        if reason:
            problems.append(f"{cell} {reason}")
    return row


def facilities_row_problems(row: dict, where: str, unit_cell: str) -> list[str]:
    """A unit that does not suit the energy type; renewable_kwh on other than electricity, or above the quantity."""
    problems = []
    if (row["energy_type"], row["unit"]) not in codelists.pairs("facilities_unit"):
        problems.append(f"{unit_cell} unit {row['unit']} for {row['energy_type']}")
    if row.get("renewable_kwh") is not None:
        if row["energy_type"] != "electricity":
            problems.append(f"{where} renewable_kwh on {row['energy_type']}")
        elif row["unit"] in KWH_PER_UNIT and row["renewable_kwh"] > row["quantity"] * KWH_PER_UNIT[row["unit"]]:
            problems.append(f"{where} renewable_kwh above quantity")
    return problems


def air_travel_row_problems(row: dict, where: str) -> list[str]:
    """A route is two different airports without a distance, or a distance alone."""
    airports = row.get("origin"), row.get("destination")
    if all(airports):
        if row.get("distance_km") is not None or airports[0] == airports[1]:
            return [f"{where} inconsistent route"]
    elif any(airports) or row.get("distance_km") is None:
        return [f"{where} route needs both airports or distance_km alone"]
    return []


def field_row(rows, name):
    return next(i for i, cells in rows if cells[0] == name)


def canonical_tables(path: Path) -> tuple[dict[str, dict[str, object]], dict[str, list[dict[str, object]]]]:
    """(fields, tables) of a valid workbook, parsed back to canonical values."""
    grid = read_grid(path)
    fields, tables = {}, {}
    for spec in contract.sheets():
        rows = grid[spec.name]
        if spec.is_table:
            header = [str(h).strip().lower() for h in rows[0][1]]
            tables[spec.name] = [
                {
                    name: parse_value(spec.column(name), cells[j] if j < len(cells) else None)
                    for j, name in enumerate(header)
                }
                for _, cells in rows[1:]
            ]
        else:
            fields[spec.name] = {cells[0]: parse_value(spec.column(cells[0]), cells[1]) for _, cells in rows[1:]}
    return fields, tables


def normalised(spec: contract.ColumnSpec, value: object) -> object:
    value = parse_value(spec, value)
    return float(value) if isinstance(value, int) and spec.dtype == "number" else value


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> demo_data.GenerationSummary:
    return demo_data.generate(tmp_path_factory.mktemp("demo"), SEED, FIRST, LAST, HISTORY_FROM, entities=SUBSET)


@pytest.fixture(scope="module")
def broken_files(small) -> set[Path]:
    return {small.inputs_dir / m.file for m in small.mistakes}


@pytest.fixture(scope="module")
def all_submissions() -> dict[tuple[str, int], demo_data.Submission]:
    """Every workbook of the default demo (2019-2024), built in memory."""
    return {
        (e, y): demo_data.build_submission(e, y, SEED) for y in range(2019, 2025) for e in demo_data.plan_year(SEED, y)
    }


@pytest.fixture(scope="module")
def full_system(all_submissions) -> dict[int, demo_data.SystemFigures]:
    """System figures of the full default demo: history years from the CSV rows, workbook years
    from the workbook rows priced with the CALIBRATION factors."""
    out = demo_data.demo_system_figures(SEED, first_year=2019, last_year=2018, history_from=2010)
    for year in range(2019, 2025):
        subs = [s for (_, y), s in all_submissions.items() if y == year]
        out[year] = demo_data.system_figures(
            year,
            {s.entity: demo_data.submission_footprint(s) for s in subs},
            {s.entity: s.fields["EMS"]["status"] for s in subs},
        )
    return out


# ---------------------------------------------------------------------------------------------
# Files, determinism, contract conformance
# ---------------------------------------------------------------------------------------------


def test_files_are_where_the_contract_and_cli_expect_them(small):
    names = {p.relative_to(small.inputs_dir).as_posix() for p in small.workbooks}
    assert "submissions/2024/UNEP_2024.xlsx" in names and "submissions/2023/CBD_2023.xlsx" in names
    assert len(names) == len(SUBSET) * 2
    assert small.history_file == small.inputs_dir / "history" / "published_totals_2021_2022.csv"
    assert sorted(p.name for p in small.resubmissions) == ["ECE_2024_v2.xlsx", "UNCTAD_2024_v2.xlsx"]
    assert all(p.parent == small.inputs_dir / "resubmissions" / "2024" for p in small.resubmissions)


def test_same_seed_same_bytes_whatever_the_subset(small, tmp_path):
    again = demo_data.generate(tmp_path, SEED, FIRST, LAST, HISTORY_FROM, entities=["UNEP", "ECE"])
    assert len(again.workbooks) == 4
    for path in again.workbooks + again.resubmissions:
        twin = small.inputs_dir / path.relative_to(tmp_path)
        assert path.read_bytes() == twin.read_bytes(), path.name
    assert read_grid(again.workbooks[0]) == read_grid(small.inputs_dir / again.workbooks[0].relative_to(tmp_path))


def test_another_seed_gives_other_values():
    a = demo_data.build_submission("UNEP", 2024, SEED)
    b = demo_data.build_submission("UNEP", 2024, SEED + 1)
    assert a.fields["Entity"]["personnel"] != b.fields["Entity"]["personnel"]
    assert a.tables["AirTravel"] != b.tables["AirTravel"]


def test_every_workbook_has_every_contract_sheet_with_its_headers(small, broken_files):
    for path in small.workbooks + small.resubmissions:
        if path in broken_files:
            continue
        wb = load_workbook(path, read_only=True)
        try:
            assert wb.sheetnames == list(contract.sheet_names()), path.name
            for spec in contract.sheets():
                header = next(wb[spec.name].iter_rows(min_row=1, max_row=1, values_only=True))
                if spec.is_table:
                    assert [str(h).strip().lower() for h in header] == list(spec.names), (path.name, spec.name)
                else:
                    assert list(header) == ["Field", "Value"], (path.name, spec.name)
        finally:
            wb.close()


def test_clean_workbooks_are_valid_under_the_contract(small, broken_files):
    for path in small.workbooks + small.resubmissions:
        if path not in broken_files:
            assert check_workbook(path) == [], path.name


def test_workbook_cells_read_back_as_the_generated_values(small):
    """Spelling variants ('Natural Gas', '1 200', ' ken ') all mean the canonical values."""
    for entity, year in (("UNEP", 2024), ("DOS", 2023), ("ECLAC", 2023), ("ECE", 2023)):
        sub = demo_data.build_submission(entity, year, SEED)
        fields, tables = canonical_tables(small.inputs_dir / "submissions" / str(year) / f"{entity}_{year}.xlsx")
        for spec in contract.sheets():
            if spec.is_table:
                expected = [{k: normalised(spec.column(k), v) for k, v in row.items()} for row in sub.tables[spec.name]]
                got = [{k: normalised(spec.column(k), v) for k, v in row.items()} for row in tables[spec.name]]
                assert got == expected, (entity, year, spec.name)
            else:
                assert fields[spec.name] == {k: normalised(spec.column(k), v) for k, v in sub.fields[spec.name].items()}


def test_workbooks_use_the_spellings_focal_points_use(all_submissions):
    """Across the demo, some cells are typed as Title Case codes, upper case codes or numeric text."""
    cells = []
    for (_, year), sub in all_submissions.items():
        if year != 2024:
            continue
        grid = demo_data.render(sub, SEED)
        cells += [c for rows in grid.values() for row in rows[1:] for c in row if isinstance(c, str)]
    assert "Natural Gas" in cells and "kWh" in cells and "NATURAL_GAS" in cells
    assert any(re.fullmatch(r"\d{1,3}( \d{3})+", c) for c in cells)  # "1 200"
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c) for c in cells)  # ISO date text


def test_serial_ranges_are_unique_across_all_entities_and_years(all_submissions):
    serials = [r["serial_range"] for sub in all_submissions.values() for r in sub.tables["Offsets"]]
    assert len(serials) > 300
    assert len(serials) == len(set(serials))


def test_offsets_are_retired_the_following_year_with_valid_vintages():
    for entity in ("DOS", "UNEP", "WBG"):
        for row in demo_data.build_submission(entity, 2022, SEED).tables["Offsets"]:
            assert row["retirement_date"].year == 2023
            assert 2000 <= row["vintage"] <= 2023
            assert row["quantity_tco2e"] >= 1


def test_benchmark_workbooks_are_large_valid_and_distinct(tmp_path):
    bench = demo_data.generate_benchmark(tmp_path, n_workbooks=3, rows_per_workbook=400, seed=3)
    assert len({p.name for p in bench.workbooks}) == 3
    serials = []
    for path in bench.workbooks:
        assert check_workbook(path) == [], path.name
        _, tables = canonical_tables(path)
        n_rows = sum(len(rows) for rows in tables.values())
        assert 300 <= n_rows <= 440, (path.name, n_rows)
        serials += [r["serial_range"] for r in tables["Offsets"]]
    assert len(serials) == len(set(serials))
    assert bench.rows_written >= 3 * 300


# ---------------------------------------------------------------------------------------------
# History CSV
# ---------------------------------------------------------------------------------------------


def test_history_csv_has_the_contract_header_and_gaps(small):
    with small.history_file.open(newline="", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert lines[0] == (
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,"
        "offsets_tco2e,waste_tonnes,water_m3"
    )
    rows = list(csv.DictReader(lines))
    assert {r["year"] for r in rows} == {"2021", "2022"}
    assert "UNIDIR" not in {r["entity_code"] for r in rows}  # not in the subset
    assert all(float(r["personnel"]) > 0 and float(r["air_travel_tco2e"]) >= 0 for r in rows)
    full = demo_data.history_rows(SEED, 2010, 2018)
    assert any(r["waste_tonnes"] is None for r in full) and any(r["water_m3"] is None for r in full)
    assert any(r["waste_tonnes"] is not None for r in full)
    years_of = lambda code: {r["year"] for r in full if r["entity_code"] == code}  # noqa: E731
    assert min(years_of("UNICC")) == 2014  # joined late
    assert 2016 not in years_of("UNRISD") and "UNSSC" not in {r["entity_code"] for r in full}


# ---------------------------------------------------------------------------------------------
# Magnitudes of the whole system (GtB reports), from the generated rows
# ---------------------------------------------------------------------------------------------


def test_system_magnitudes_every_year(full_system):
    assert sorted(full_system) == list(range(2010, 2025))
    for year, s in full_system.items():
        assert 1.4e6 <= s.total_tco2e <= 2.0e6, (year, s.total_tco2e)
        assert 4.5 <= s.per_capita_tco2e <= 8.5, (year, s.per_capita_tco2e)
        assert 220_000 <= s.personnel <= 330_000, year
        assert 0.40 <= s.share_facilities <= 0.58, year
        assert 0.28 <= s.share_air_travel <= 0.47, year
        assert 0.10 <= s.share_other_travel <= 0.18, year
        assert 300 <= s.waste_per_capita_kg <= 550, year
        assert 44 <= s.water_per_capita_m3 <= 58, year
        assert 55 <= s.entities <= 62, year
        if year >= 2018:
            assert s.offset_share >= 0.9, year
            assert s.entities - 8 <= s.climate_neutral_entities < s.entities, year  # most, not all
        else:
            assert s.offset_share <= 0.5, year


def test_per_capita_declines_from_2010_with_a_covid_dip(full_system):
    pc = {y: s.per_capita_tco2e for y, s in full_system.items()}
    assert pc[2010] == pytest.approx(8.3, abs=0.15)
    assert pc[2019] == pytest.approx(6.5, abs=0.2)
    assert all(pc[y] == pytest.approx(4.6, abs=0.2) for y in (2022, 2023, 2024))
    assert pc[2020] < pc[2019] - 1
    assert full_system[2020].share_air_travel < full_system[2019].share_air_travel - 0.08


def test_ems_counts_follow_the_report(full_system, all_submissions):
    assert full_system[2022].ems_met == 7 and full_system[2022].ems_approaching == 15
    for year in range(2019, 2025):
        statuses = {s.fields["EMS"]["status"] for (_, y), s in all_submissions.items() if y == year}
        assert statuses == set(codelists.codes("ems_status")), year
    for sub in all_submissions.values():
        if sub.fields["EMS"]["status"] == "certified":
            assert sub.fields["EMS"]["standard"] in ("iso14001", "emas")


def test_entities_differ_in_size_and_profile():
    plans = demo_data.plan_year(SEED, 2024)
    assert plans["DOS"].personnel >= 40_000
    assert 15_000 <= plans["UNICEF"].personnel <= 30_000
    assert min(p.personnel for p in plans.values()) <= 100
    dos = demo_data.build_submission("DOS", 2024, SEED)
    fuels = {(r["vehicle_type"], r["fuel"]) for r in dos.tables["Vehicles"]}
    assert ("aircraft", "jet_fuel") in fuels and ("helicopter", "jet_fuel") in fuels
    diesel = sum(float(r["quantity"]) for r in dos.tables["Facilities"] if r["energy_type"] == "diesel")
    assert diesel > 1e7  # litres of generator fuel
    hq = plans["UNHQ"]
    assert hq.air_travel_tco2e > hq.other_travel_tco2e
    assert "r22" in {
        r["gas"] for e in ("DOS", "WFP") for r in demo_data.build_submission(e, 2024, SEED).tables["Refrigerants"]
    }
    countries = {r["country"] for r in demo_data.build_submission("UNDP", 2024, SEED).tables["Facilities"]}
    assert len(countries) >= 20


# ---------------------------------------------------------------------------------------------
# Deliberate mistakes
# ---------------------------------------------------------------------------------------------


def test_each_mistake_is_one_entity_and_listed(small):
    assert {m.entity for m in small.mistakes} == {m.entity for m in demo_data.MISTAKES}
    assert len(small.mistakes) == len({m.entity for m in small.mistakes}) >= 5
    notes = (small.inputs_dir / "submissions" / "DEMO_MISTAKES.md").read_text(encoding="utf-8")
    for m in small.mistakes:
        assert m.year == LAST and f"`{m.file}`" in notes
        assert m.expected_code in notes


def cell_value(path: Path, sheet: str, cell: str) -> object:
    wb = load_workbook(path)
    try:
        return wb[sheet][cell].value
    finally:
        wb.close()


def test_broken_files_really_contain_their_mistakes(small):
    by_kind = {m.kind: m for m in small.mistakes}
    path = lambda m: small.inputs_dir / m.file  # noqa: E731

    m = by_kind["electricity_in_litre"]
    assert cell_value(path(m), m.sheet, m.cell) == "litre"
    row = m.cell[1:]
    assert codelists.normalise_code(cell_value(path(m), "Facilities", f"C{row}")) == "electricity"
    assert cell_value(path(by_kind["country_name"]), "Facilities", by_kind["country_name"].cell) == "Kenya"
    assert (
        parse_number(
            cell_value(
                path(by_kind["negative_quantity"]),
                by_kind["negative_quantity"].sheet,
                by_kind["negative_quantity"].cell,
            )
        )
        < 0
    )
    assert (
        cell_value(path(by_kind["text_in_number"]), by_kind["text_in_number"].sheet, by_kind["text_in_number"].cell)
        == "approx. 500"
    )
    assert cell_value(path(by_kind["renamed_column"]), "Facilities", by_kind["renamed_column"].cell) == "Energy"
    assert "@" not in cell_value(path(by_kind["email_without_at"]), "Entity", by_kind["email_without_at"].cell)
    assert cell_value(path(by_kind["unknown_airport"]), "AirTravel", by_kind["unknown_airport"].cell) == "NYC"
    assert "NYC" not in codelists.airports()

    sheets = load_workbook(path(by_kind["missing_sheet"]), read_only=True).sheetnames
    assert "Water" not in sheets and len(sheets) == len(contract.sheets()) - 1
    sheets = load_workbook(path(by_kind["renamed_sheet"]), read_only=True).sheetnames
    assert "Flights 2025" in sheets and "AirTravel" not in sheets

    ems = {cells[0]: cells[1] for _, cells in read_grid(path(by_kind["certified_without_standard"]))["EMS"][1:]}
    assert (ems["status"], ems["standard"]) == ("certified", "none")

    m = by_kind["duplicate_serial"]
    claimed = cell_value(path(m), "Offsets", m.cell)
    earlier = [
        r["serial_range"] for r in canonical_tables(small.inputs_dir / "submissions/2023/UNEP_2023.xlsx")[1]["Offsets"]
    ]
    assert claimed == m.value and claimed in earlier


def test_each_broken_file_has_exactly_its_one_mistake(small):
    """The oracle finds the recorded cell (or sheet) and nothing else in every broken workbook."""
    for m in small.mistakes:
        problems = check_workbook(small.inputs_dir / m.file)
        if m.kind == "duplicate_serial":
            assert problems == []  # valid on its own: the clash is across files
        elif m.kind == "missing_sheet":
            assert problems == ["Water missing sheet"]
        elif m.kind == "renamed_sheet":
            assert problems == ["AirTravel missing sheet"]
        elif m.kind == "renamed_column":
            assert problems == ["Facilities!1 missing column energy_type"]
        else:
            assert len(problems) == 1 and problems[0].startswith(f"{m.sheet}!"), (m.kind, problems)
            if m.cell:
                assert problems[0].startswith(f"{m.sheet}!{m.cell} "), (m.kind, problems)


def test_resubmissions_are_the_corrected_workbooks(small):
    for m in small.mistakes:
        if m.resubmission:
            fixed = small.inputs_dir / m.resubmission
            assert check_workbook(fixed) == []
            broken, good = read_grid(small.inputs_dir / m.file), read_grid(fixed)
            assert broken != good
            assert demo_data.build_submission(m.entity, m.year, SEED).fields["Entity"]["personnel"] == parse_number(
                {c[0]: c[1] for _, c in good["Entity"][1:]}["personnel"]
            )


def test_each_mistake_is_rejected_for_the_reason_it_was_made(small, tmp_path):
    """A run over the generated years rejects each broken workbook with its designed error and no
    other (a duplicate serial is not also a range of another count, say)."""
    import duckdb

    from pipeline import api

    inputs = tmp_path / "inputs"
    shutil.copytree(small.inputs_dir, inputs)
    api.run(inputs, tmp_path / "gtb.duckdb", tmp_path / "out", jobs=1)
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        for m in small.mistakes:
            codes = {
                code
                for (code,) in con.execute(
                    """SELECT f.code FROM findings f JOIN submissions s USING (submission_id)
                       WHERE s.file_name = ? AND f.severity = 'error'""",
                    [Path(m.file).name],
                ).fetchall()
            }
            assert codes == {m.expected_code}, (m.file, codes)
