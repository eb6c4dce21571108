"""Air travel by the ICAO calculator's method: hand computations from the tables of set gtb-2026.1.

Each expected figure is worked out step by step from the CSV rows themselves (the two fuel table
rows around the distance, the seats, the route group's factors, the class factor, 3.16), not
through the module under test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from pipeline import codelists, geo
from pipeline.reference import icao

SET = "gtb-2026.1"
FOLDER = Path(__file__).resolve().parent.parent / "inputs" / "reference" / "factors" / SET


def rows(name: str) -> list[dict[str, str]]:
    with (FOLDER / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def fuel_at(code: str, nm: float) -> float:
    """Linear interpolation between the two Appendix C rows around `nm` (both inside the table here)."""
    points = sorted(
        (float(r["distance_nm"]), float(r["fuel_kg"])) for r in rows("icao_fuel_burn.csv") if r["aircraft_code"] == code
    )
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x0 <= nm <= x1:
            return y0 + (y1 - y0) * (nm - x0) / (x1 - x0)
    raise AssertionError(f"{nm} nm is outside the table of {code}")


def by_hand(origin: str, destination: str, cabin: str) -> float:
    ports = codelists.airports()
    (la, lo), (lb, lob) = ports[origin], ports[destination]
    gcd = float(geo.great_circle_km(la, lo, lb, lob))
    add = 50 if gcd < 550 else (100 if gcd < 5500 else 125)  # ICAO's correction
    nm = (gcd + add) / 1.852
    mix = [
        r
        for r in rows("icao_aircraft_mix.csv")
        if float(r["min_km"]) <= gcd < (float(r["max_km"]) if r["max_km"] else 1e9)
    ]
    seats = {r["aircraft_code"]: float(r["y_seats"]) for r in rows("icao_aircraft.csv")}
    fuel = sum(float(r["weight"]) * fuel_at(r["aircraft_code"], nm) for r in mix)
    y_seats = sum(float(r["weight"]) * seats[r["aircraft_code"]] for r in mix)
    countries = codelists.airport_countries()
    region = {r["region"]: r["icao_region_code"] for r in rows("icao_regions.csv")}
    pair = "|".join(sorted((region[countries[origin]], region[countries[destination]])))
    group = next(
        r
        for r in rows("icao_route_groups.csv")
        if pair in ["|".join(sorted(p.split("|"))) for p in r["region_pairs"].split()]
    )
    class_factor = float(next(r["factor"] for r in rows("icao_class_factors.csv") if r["cabin_class"] == cabin))
    return (
        3.16
        * fuel
        * float(group["pax_to_freight_factor"])
        / (y_seats * float(group["passenger_load_factor"]))
        * class_factor
    )


def model(origin: str, destination: str, cabin: str) -> float:
    ports, countries = codelists.airports(), codelists.airport_countries()
    (la, lo), (lb, lob) = ports[origin], ports[destination]
    gcd = pd.Series([float(geo.great_circle_km(la, lo, lb, lob))])
    fuel = icao.passenger_fuel(
        gcd, pd.Series([countries[origin]]), pd.Series([countries[destination]]), pd.Series([cabin]), factor_set=SET
    )
    return float(fuel["fuel_kg"].iloc[0]) * icao.co2_per_fuel(SET)


ROUTES = [
    ("NBO", "ADD", "short-haul outside Europe (1,160 km)"),
    ("GVA", "BRU", "short-haul inside Europe (740 km)"),
    ("GVA", "NBO", "medium/long haul, Europe - Sub Saharan Africa (6,000 km)"),
    ("GVA", "JFK", "long haul, Europe - North America (6,200 km)"),
    ("FCO", "BKK", "long haul, Europe - Pacific South East Asia (8,800 km)"),
]


@pytest.mark.parametrize(("origin", "destination", "what"), ROUTES)
@pytest.mark.parametrize("cabin", ["economy", "business"])
def test_route_by_hand(origin, destination, what, cabin):
    assert model(origin, destination, cabin) == pytest.approx(by_hand(origin, destination, cabin), rel=1e-12)


def test_business_is_twice_economy_as_the_calculator_applied_it():
    assert model("GVA", "JFK", "business") == pytest.approx(2 * model("GVA", "JFK", "economy"))


def test_long_haul_economy_is_near_the_calculators_published_figure():
    """The calculator gave 355.75 kg one way Amsterdam-New York in economy; Geneva is 350 km further."""
    assert 0.85 * 355.75 <= model("GVA", "JFK", "economy") <= 1.15 * 355.75 * 6200 / 5850


def test_published_calculator_results_are_reproduced_within_the_documented_error():
    """docs/emission-factors.md states the substitute aircraft mix's error on every public result."""
    examples = list(csv.DictReader((FOLDER.parent.parent / "icec_examples.csv").open(encoding="utf-8")))
    errors = []
    for ex in examples:
        if ex["icec_version_at_date"].startswith("v1 "):
            continue  # the 2008 first version of the calculator
        modelled = model(ex["origin_iata"], ex["destination_iata"], ex["cabin_class"])
        errors.append(abs(modelled / float(ex["kg_co2_per_pax_one_way"]) - 1))
    assert len(errors) == 16
    assert sum(errors) / len(errors) <= 0.212 and max(errors) <= 0.475


def test_a_distance_without_airports_takes_the_default_route_factors():
    fuel = icao.passenger_fuel(
        pd.Series([850.0]), pd.Series([None]), pd.Series([None]), pd.Series(["economy"]), factor_set=SET
    )
    constants = {r["name"]: float(r["value"]) for r in rows("icao_constants.csv")}
    assert fuel["route_group"].iloc[0] == ""
    assert fuel["load_factor"].iloc[0] == constants["default_passenger_load_factor"]


def test_the_distance_band_set_does_not_use_the_icao_method():
    assert icao.uses_icao(SET) and not icao.uses_icao("gtb-2025.1")


# --- the calculator's own figure, and the renewable default, in a run ------------------------------


def with_icec(year: int, figures: list[float | None]) -> dict:
    """The test submission with an icec_co2_kg column on its AirTravel rows."""
    from tests.builders import valid_sheets

    sheets = valid_sheets("UNEP", year)
    air = sheets["AirTravel"]
    air[0].insert(6, "icec_co2_kg")
    for row, figure in zip(air[1:], figures, strict=True):
        row.insert(6, figure)
    return sheets


def test_a_submitted_calculator_figure_is_used_and_the_estimate_kept_beside_it(tmp_path):
    import duckdb

    from pipeline import api
    from tests.builders import write_workbook

    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    # NBO-GVA economy x 40 round trips: the calculator says 280 kg one way; NBO-JFK and the distance row estimated
    write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", with_icec(2025, [280.0, None, None]))
    result = api.run(inputs, tmp_path / "gtb.duckdb", tmp_path / "out", jobs=1)
    assert not result.had_errors
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT source_row, factor_id, activity_unit, activity_quantity, kgco2e_per_unit, emissions_tco2e, "
            "estimated_tco2e "
            "FROM emissions WHERE sheet = 'AirTravel' ORDER BY source_row"
        ).fetchall()
    submitted, estimated, by_distance = rows
    assert submitted[1:5] == ("air.icec.submitted", "passenger_flight", 80.0, 280.0)
    assert submitted[5] == pytest.approx(80 * 280 / 1000)
    assert submitted[6] == pytest.approx(80 * model("NBO", "GVA", "economy") / 1000)  # the estimate, beside it
    assert estimated[1:3] == ("air.icao.fuel.kg_fuel", "kg_fuel") and estimated[6] is None
    assert estimated[5] == pytest.approx(12 * model("NBO", "JFK", "business") / 1000)
    assert by_distance[1] == "air.icao.fuel.kg_fuel"


@pytest.mark.parametrize(("figure", "flagged"), [(280.0, False), (150.0, True), (900.0, True)])
def test_a_calculator_figure_far_from_the_estimate_is_a_warning_naming_the_row(tmp_path, figure, flagged):
    from pipeline import api
    from tests.builders import write_workbook

    path = write_workbook(tmp_path / "UNEP_2025.xlsx", with_icec(2025, [figure, None, None]))
    [sub] = api.check_files([path], jobs=1)
    found = [(f.cell, f.code, f.severity) for f in sub.findings]
    assert found == ([("G2", "implausible-value", "warning")] if flagged else [])
    assert sub.is_valid


@pytest.mark.parametrize("figure", [280.0, 150.0, 900.0])
def test_a_calculator_figure_in_a_year_priced_by_distance_band_is_said_not_to_be_used(tmp_path, figure):
    """2024 is priced with gtb-2025.1's distance bands, which take no calculator figure: the
    figure is neither compared with an estimate the year does not use nor said to be used (the
    run prices the row by the band, `test_every_activity_row_of_two_years_is_priced_once...`); one
    warning on its cell says it is kept with the row, not counted."""
    from pipeline import api
    from tests.builders import write_workbook

    path = write_workbook(tmp_path / "UNEP_2024.xlsx", with_icec(2024, [figure, None, None]))
    [sub] = api.check_files([path], jobs=1)
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("G2", "unused-value", "warning")]
    message = sub.findings[0].message
    assert "not used" in message and "2024" in message and "gtb-2025.1" in message and "is used" not in message
    assert sub.is_valid


@pytest.mark.parametrize("year", [2024, 2025])
@pytest.mark.parametrize("figure", [0.0, -5.0, 50_000.0])
def test_a_calculator_figure_out_of_range_is_one_error_not_also_a_far_estimate(tmp_path, figure, year):
    """0, a negative figure or 50 t per passenger: the range error says it; a comparison with the
    estimate ("-100 %"), or in a year that does not use it that it is not used, would be a
    follow-on finding on the same cell."""
    from pipeline import api
    from tests.builders import write_workbook

    path = write_workbook(tmp_path / f"UNEP_{year}.xlsx", with_icec(year, [figure, None, None]))
    [sub] = api.check_files([path], jobs=1)
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("G2", "out-of-range", "error")]


def test_electricity_without_an_entity_figure_takes_the_country_grid_share(tmp_path):
    import duckdb

    from pipeline import api
    from pipeline.reference import factors
    from tests.builders import set_cell, valid_sheets, write_workbook

    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    sheets = set_cell(valid_sheets("UNEP", 2025), "Facilities", "F2", None)  # no renewable figure for Kenya
    write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", sheets)
    api.run(inputs, tmp_path / "gtb.duckdb", tmp_path / "out", jobs=1)
    share = factors.renewable_shares("gtb-2026.1")["KEN"]
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        renewable, source = con.execute(
            "SELECT renewable_kwh, renewable_source FROM emissions "
            "WHERE sheet = 'Facilities' AND factor_id LIKE 'grid%'"
        ).fetchone()
        row = con.execute(
            "SELECT renewable_electricity_share, renewable_share_reported, renewable_share_grid_default "
            "FROM entity_indicators WHERE entity_code = 'UNEP' AND year = 2025"
        ).fetchone()
    assert (renewable, source) == (pytest.approx(2_400_000 * share), "grid_default")
    assert row == (pytest.approx(share), 0.0, pytest.approx(share))


def test_every_activity_row_of_two_years_is_priced_once_by_its_own_factor(tmp_path):
    """One run with a year of each method (distance bands, ICAO): every activity row gets exactly one
    emissions row, priced with its year's set, and each figure is its quantity x its cited factor."""
    import duckdb

    from pipeline import api
    from pipeline.reference import factors
    from tests.builders import write_workbook

    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", with_icec(2024, [None, 300.0, None]))
    write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", with_icec(2025, [None, 300.0, None]))
    result = api.run(inputs, tmp_path / "gtb.duckdb", tmp_path / "out", jobs=1)
    assert not result.had_errors
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        activity = sum(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in (
                "facilities_activity",
                "refrigerants_activity",
                "vehicles_activity",
                "air_travel_activity",
                "other_travel_activity",
            )
        )
        rows = con.execute(
            """
            SELECT s.reporting_year, e.sheet, e.source_row, e.factor_set, e.factor_id, e.factor_region,
                   e.activity_quantity, e.kgco2e_per_unit, e.emissions_tco2e, f.kgco2e_per_unit
            FROM emissions e JOIN submissions s USING (submission_id)
            LEFT JOIN emission_factors f USING (factor_set, factor_id)
            WHERE f.region IS NULL OR f.region = e.factor_region
            """
        ).fetchall()
    assert len(rows) == activity == len({(r[0], r[1], r[2]) for r in rows})
    for year, sheet, _, factor_set, factor_id, _, quantity, per_unit, tco2e, cited in rows:
        assert factor_set == factors.pinned_set(year)
        assert tco2e == quantity * per_unit / 1000.0
        if factor_id == "air.icec.submitted":  # the calculator's own figure, on the ICAO year only
            assert (year, sheet, per_unit) == (2025, "AirTravel", 300.0)
        else:
            assert per_unit == cited
    air = {(r[0], r[4]) for r in rows if r[1] == "AirTravel"}
    assert {fid for y, fid in air if y == 2025} == {"air.icao.fuel.kg_fuel", "air.icec.submitted"}
    assert all(fid.startswith("air.") and "icao" not in fid and "icec" not in fid for y, fid in air if y == 2024)


def test_the_pins_a_check_reads_are_those_of_the_pins_file_as_it_is_now(tmp_path, monkeypatch):
    """The portal's process lives through edits of factor_pins.csv: the calculator check reads
    the year's set from the file as it is, not as it was when first asked; and an inputs folder's
    reference is read where it holds pins, the sets staying the repository's."""
    import os

    from pipeline.reference import factors
    from schemas.air_travel import _year_set

    pins = tmp_path / "reference" / "factor_pins.csv"
    pins.parent.mkdir()
    pins.write_text("year,factor_set,notes\n2025,gtb-2025.1,\n", encoding="utf-8")
    monkeypatch.setattr(factors, "PINS_PATH", factors.PINS_PATH)
    monkeypatch.setattr(factors, "FACTORS_DIR", factors.FACTORS_DIR)
    sets = factors.FACTORS_DIR
    assert factors.use_reference(tmp_path / "reference")
    assert (pins.resolve(), sets) == (factors.PINS_PATH, factors.FACTORS_DIR)
    assert _year_set(2025) == ("gtb-2025.1", False) and _year_set(2024) is None
    pins.write_text("year,factor_set,notes\n2024,gtb-2025.1,\n2025,gtb-2026.1,\n", encoding="utf-8")
    os.utime(pins, ns=(pins.stat().st_atime_ns, pins.stat().st_mtime_ns + 1_000_000_000))
    assert _year_set(2025) == ("gtb-2026.1", True) and _year_set(2024) == ("gtb-2025.1", False)
    assert not factors.use_reference(tmp_path / "nothing here")
    assert pins.resolve() == factors.PINS_PATH  # a folder without a reference changes nothing
