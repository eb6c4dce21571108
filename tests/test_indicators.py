"""The indicator views (indicators.sql), `pipeline.indicators.indicators` and `gtb indicators`.

Every figure is checked on small hand-made warehouses (tests/warehouse_fixtures.py) whose
numbers were chosen so the expected values can be worked out on paper; the arithmetic is in
the comments. The main scenario (`main_db`):

  2010, published totals only (history):
    UNEP  personnel 100  facilities 300  air 500  other 200  = 1000 t   waste 20 t  water 5000 m3
    WFP   personnel 300  facilities 1000 air 1500 other 500  = 3000 t   (no waste, no water)
  2024, workbooks:
    UNEP  personnel 200, coverage 90 %, floor 1000 m2, EMS certified
          natural gas 150 t (s1), electricity 200,000 kWh of which 50,000 renewable at 0.5 kg/kWh
          = 100 t (s2; market 75 t), refrigerant R-134a 50 t (s1), HCFC R-22 30 t (optional),
          vehicle diesel 40 t (s1, other travel), air 600 t (s3), rail 60 t (s3)
          -> facilities 150+100+50 = 300, air 600, other 40+60 = 100, total 1000, optional 30
          offsets 1000 + 500 = 1500 (a surplus of 500)
          waste 20 t: mixed/landfill 7, paper/recycling 6, organic/composting 2,
          organic/anaerobic digestion 1, glass/reuse 1, e-waste/recycling 1,
          medical/incineration with energy recovery 1, hazardous/landfill 1
          -> diverted 6+2+1+1+1 = 11, hazardous 1+1+1 = 3;  water 3000 m3
    WFP   personnel 300, coverage 50 %, no floor area, EMS implementing
          electricity 400,000 kWh, none renewable = 200 t (s2), air 1500, rail 300 -> total 2000
          no offsets, no waste, no water.
          Also: an earlier, superseded WFP 2024 submission (air 99,999 t ...) and a published
          history row WFP 2024 (personnel 999): the loaded workbook alone counts.
    UNDP  personnel 500, coverage 100 %, floor 3000 m2, EMS planning (joined after 2010)
          natural gas (no electricity) 600 t, air 1000, rail 400 -> total 2000
          offsets 2000 (exactly its total), water 32,000 m3, no waste
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline import api, codelists
from pipeline.cli import main
from pipeline.errors import GtbError
from pipeline.indicators import COUNT_KEYS, INDICATOR_KEYS, indicators, json_value, year_ranges
from tests.warehouse_fixtures import Warehouse, classify

approx = pytest.approx
NULL = None
SCOPE_KEYS = ("optional_tco2e", "scope1_tco2e", "scope2_tco2e", "scope2_market_tco2e", "scope3_tco2e")
CHANGE_KEYS = ("per_capita_change_since_2010", "total_change_since_2010", "like_for_like_change_since_2010")
EMS_KEYS = ("ems_met", "ems_approaching", "ems_not_met")


def build_main(path: Path) -> None:
    wh = Warehouse(path)
    wh.history("UNEP", 2010, personnel=100, facilities=300, air=500, other=200, waste_tonnes=20, water_m3=5000)
    wh.history("WFP", 2010, personnel=300, facilities=1000, air=1500, other=500)

    a = wh.submission("UNEP", 2024, 200, coverage_percent=90, floor_area_m2=1000, ems="certified")
    wh.emission(a, "stationary", 150)
    assert wh.electricity(a, kwh=200_000, renewable_kwh=50_000) == 100
    wh.emission(a, "refrigerant", 50)
    wh.emission(a, "hcfc", 30)
    wh.emission(a, "vehicle_fuel", 40)
    wh.emission(a, "air", 600)
    wh.emission(a, "other_travel", 60)
    wh.offsets(a, 1000)
    wh.offsets(a, 500)
    for tonnes, stream, treatment in [
        (7, "mixed", "landfill"),
        (6, "paper_cardboard", "recycling"),
        (2, "organic", "composting"),
        (1, "organic", "anaerobic_digestion"),
        (1, "glass", "reuse"),
        (1, "e_waste", "recycling"),
        (1, "medical", "incineration_energy_recovery"),
        (1, "hazardous", "landfill"),
    ]:
        wh.waste(a, tonnes, stream, treatment)
    wh.water(a, 3000)

    old = wh.submission("WFP", 2024, 9999, coverage_percent=1, floor_area_m2=1, ems="certified", status="superseded")
    wh.emission(old, "air", 99_999)
    wh.electricity(old, kwh=1_000_000, renewable_kwh=1_000_000)
    wh.offsets(old, 99_999)
    wh.waste(old, 999, "paper_cardboard", "recycling")
    wh.water(old, 999)
    b = wh.submission("WFP", 2024, 300, coverage_percent=50, floor_area_m2=None, ems="implementing")
    assert wh.electricity(b, kwh=400_000) == 200
    wh.emission(b, "air", 1500)
    wh.emission(b, "other_travel", 300)
    wh.history("WFP", 2024, personnel=999, facilities=1, air=1, other=1, offsets=5, waste_tonnes=7, water_m3=7)

    c = wh.submission("UNDP", 2024, 500, coverage_percent=100, floor_area_m2=3000, ems="planning")
    wh.fuel(c, "natural_gas", 3_000_000)
    wh.emission(c, "stationary", 600)
    wh.emission(c, "air", 1000)
    wh.emission(c, "other_travel", 400)
    wh.offsets(c, 2000)
    wh.water(c, 32_000)
    wh.close()


@pytest.fixture(scope="module")
def main_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("main") / "gtb.duckdb"
    build_main(path)
    return path


def view_row(db: Path, view: str, year: int, entity: str | None = None) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        where = "year = ?" + (" AND entity_code = ?" if entity else "")
        cur = con.execute(f"SELECT * FROM {view} WHERE {where}", [year] + ([entity] if entity else []))
        rows = cur.fetchall()
        assert len(rows) == 1, rows
        return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def figures(row: dict) -> dict:
    return {k: row[k] for k in INDICATOR_KEYS}


def check(row: dict, expected: dict) -> None:
    """Every contract key, exactly: NULL must be NULL (never 0), numbers equal to 1e-9."""
    assert set(expected) == set(INDICATOR_KEYS), set(INDICATOR_KEYS) ^ set(expected)
    for key in INDICATOR_KEYS:
        if expected[key] is None:
            assert row[key] is None, f"{key}: expected NULL, found {row[key]!r}"
        else:
            assert row[key] is not None, f"{key}: expected {expected[key]}, found NULL"
            assert row[key] == approx(expected[key], rel=1e-9, abs=1e-9), f"{key}: {row[key]!r} != {expected[key]!r}"


# ------------------------------------------------------------------------------------------
# Columns and types
# ------------------------------------------------------------------------------------------


def test_views_have_exactly_the_contract_columns_in_contract_order(tmp_path):
    wh = Warehouse(tmp_path / "gtb.duckdb")
    system = [r[0] for r in wh.con.execute("DESCRIBE system_indicators").fetchall()]
    entity = [r[0] for r in wh.con.execute("DESCRIBE entity_indicators").fetchall()]
    assert system == ["year", *INDICATOR_KEYS]
    assert entity == ["entity_code", "year", *INDICATOR_KEYS]
    assert len(INDICATOR_KEYS) == len(set(INDICATOR_KEYS)) == 36


def test_counts_are_integers_and_every_figure_a_double(tmp_path):
    wh = Warehouse(tmp_path / "gtb.duckdb")
    for view in ("system_indicators", "entity_indicators"):
        types = {r[0]: r[1] for r in wh.con.execute(f"DESCRIBE {view}").fetchall()}
        for key in INDICATOR_KEYS:
            if key in COUNT_KEYS:
                assert types[key] in ("INTEGER", "BIGINT"), (view, key, types[key])
            else:
                assert types[key] == "DOUBLE", (view, key, types[key])


# ------------------------------------------------------------------------------------------
# The main scenario: every key, both views
# ------------------------------------------------------------------------------------------


def test_system_row_of_a_workbook_year(main_db):
    check(
        view_row(main_db, "system_indicators", 2024),
        {
            "reporting_entities": 3,  # UNEP, WFP, UNDP; the superseded WFP file and WFP's history row add nothing
            "personnel": 1000,  # 200 + 300 + 500 (not 999 nor 9999 for WFP)
            "total_tco2e": 5000,  # 1000 + 2000 + 2000, HCFC 30 t left out
            "facilities_tco2e": 1100,  # 300 + 200 + 600
            "air_travel_tco2e": 3100,  # 600 + 1500 + 1000
            "other_travel_tco2e": 800,  # (40 + 60) + 300 + 400
            "optional_tco2e": 30,  # UNEP's R-22
            "scope1_tco2e": 840,  # UNEP 150 + 50 + 40, UNDP 600; not the HCFC
            "scope2_tco2e": 300,  # 100 + 200, location-based
            "scope2_market_tco2e": 275,  # (200,000 - 50,000) x 0.5 / 1000 = 75, + 200
            "scope3_tco2e": 3860,  # 3100 air + 60 + 300 + 400 rail; 840 + 300 + 3860 = 5000
            "share_facilities": 0.22,  # 1100 / 5000
            "share_air_travel": 0.62,  # 3100 / 5000
            "share_other_travel": 0.16,  # 800 / 5000
            "per_capita_tco2e": 5.0,  # 5000 / 1000
            "offsets_tco2e": 3500,  # 1500 + 0 + 2000
            "offset_share": 0.6,  # (min(1500, 1000) + 0 + min(2000, 2000)) / 5000; uncapped would be 0.7
            "climate_neutral_entities": 2,  # UNEP (1500 >= 1000) and UNDP (2000 >= 2000)
            "per_capita_change_since_2010": -0.5,  # 5 / (4000 / 400 = 10) - 1; the ratio of totals would give +0.25
            "total_change_since_2010": 0.25,  # 5000 / 4000 - 1
            "like_for_like_change_since_2010": -0.25,  # UNEP + WFP only: (1000 + 2000) / (1000 + 3000) - 1
            "electricity_kwh": 600_000,  # 200,000 + 400,000
            "renewable_electricity_share": 50_000 / 600_000,  # = 1/12
            "renewable_share_reported": 50_000 / 600_000,  # all of it the entities' own figure
            "renewable_share_grid_default": 0.0,  # the test set has no grid renewable shares
            "facility_intensity_kgco2e_per_m2": 225.0,  # (300 + 600) t x 1000 / (1000 + 3000) m2; WFP gave no area
            "waste_tonnes": 20,
            "waste_per_capita_kg": 100.0,  # 20,000 kg / 200, UNEP's personnel only (not / 1000)
            "waste_diversion_share": 0.55,  # 11 / 20
            "hazardous_waste_tonnes": 3,  # e-waste 1 + medical 1 + hazardous 1
            "water_m3": 35_000,  # 3000 + 32,000
            "water_per_capita_m3": 50.0,  # 35,000 / (200 + 500): WFP reported no water
            "ems_met": 1,  # UNEP certified
            "ems_approaching": 1,  # WFP implementing
            "ems_not_met": 1,  # UNDP planning
            "reporting_coverage_percent": 83.0,  # (90 x 200 + 50 x 300 + 100 x 500) / 1000; the plain mean is 80
        },
    )


def test_entity_rows_of_a_workbook_year(main_db):
    check(
        view_row(main_db, "entity_indicators", 2024, "UNEP"),
        {
            "reporting_entities": 1,
            "personnel": 200,
            "total_tco2e": 1000,  # 300 + 600 + 100; not 1030
            "facilities_tco2e": 300,  # 150 + 100 + 50
            "air_travel_tco2e": 600,
            "other_travel_tco2e": 100,  # diesel vehicles 40 + rail 60
            "optional_tco2e": 30,
            "scope1_tco2e": 240,  # 150 + 50 + 40
            "scope2_tco2e": 100,
            "scope2_market_tco2e": 75,
            "scope3_tco2e": 660,  # 600 + 60
            "share_facilities": 0.3,
            "share_air_travel": 0.6,
            "share_other_travel": 0.1,
            "per_capita_tco2e": 5.0,  # 1000 / 200
            "offsets_tco2e": 1500,
            "offset_share": 1.0,  # min(1500, 1000) / 1000, never 1.5
            "climate_neutral_entities": 1,
            "per_capita_change_since_2010": -0.5,  # 5 / (1000 / 100) - 1
            "total_change_since_2010": 0.0,  # 1000 / 1000 - 1
            "like_for_like_change_since_2010": 0.0,
            "electricity_kwh": 200_000,
            "renewable_electricity_share": 0.25,  # 50,000 / 200,000
            "renewable_share_reported": 0.25,
            "renewable_share_grid_default": 0.0,
            "facility_intensity_kgco2e_per_m2": 300.0,  # 300,000 kg / 1000 m2
            "waste_tonnes": 20,
            "waste_per_capita_kg": 100.0,  # 20,000 / 200
            "waste_diversion_share": 0.55,
            "hazardous_waste_tonnes": 3,
            "water_m3": 3000,
            "water_per_capita_m3": 15.0,  # 3000 / 200
            "ems_met": 1,
            "ems_approaching": 0,
            "ems_not_met": 0,
            "reporting_coverage_percent": 90.0,
        },
    )
    check(
        view_row(main_db, "entity_indicators", 2024, "WFP"),
        {
            "reporting_entities": 1,
            "personnel": 300,
            "total_tco2e": 2000,
            "facilities_tco2e": 200,
            "air_travel_tco2e": 1500,
            "other_travel_tco2e": 300,
            "optional_tco2e": 0,  # a workbook with no HCFC: a true zero
            "scope1_tco2e": 0,
            "scope2_tco2e": 200,
            "scope2_market_tco2e": 200,  # no renewable kWh
            "scope3_tco2e": 1800,
            "share_facilities": 0.1,
            "share_air_travel": 0.75,
            "share_other_travel": 0.15,
            "per_capita_tco2e": 2000 / 300,
            "offsets_tco2e": 0,
            "offset_share": 0.0,
            "climate_neutral_entities": 0,
            "per_capita_change_since_2010": -1 / 3,  # (2000/300) / (3000/300) - 1
            "total_change_since_2010": -1 / 3,  # 2000 / 3000 - 1
            "like_for_like_change_since_2010": -1 / 3,
            "electricity_kwh": 400_000,
            "renewable_electricity_share": 0.0,  # electricity reported, none renewable: 0, not NULL
            "renewable_share_reported": 0.0,
            "renewable_share_grid_default": 0.0,
            "facility_intensity_kgco2e_per_m2": NULL,  # no floor area
            "waste_tonnes": NULL,  # no waste reported
            "waste_per_capita_kg": NULL,
            "waste_diversion_share": NULL,
            "hazardous_waste_tonnes": NULL,
            "water_m3": NULL,
            "water_per_capita_m3": NULL,
            "ems_met": 0,
            "ems_approaching": 1,
            "ems_not_met": 0,
            "reporting_coverage_percent": 50.0,
        },
    )
    check(
        view_row(main_db, "entity_indicators", 2024, "UNDP"),
        {
            "reporting_entities": 1,
            "personnel": 500,
            "total_tco2e": 2000,
            "facilities_tco2e": 600,
            "air_travel_tco2e": 1000,
            "other_travel_tco2e": 400,
            "optional_tco2e": 0,
            "scope1_tco2e": 600,
            "scope2_tco2e": 0,
            "scope2_market_tco2e": 0,
            "scope3_tco2e": 1400,
            "share_facilities": 0.3,
            "share_air_travel": 0.5,
            "share_other_travel": 0.2,
            "per_capita_tco2e": 4.0,
            "offsets_tco2e": 2000,
            "offset_share": 1.0,
            "climate_neutral_entities": 1,  # offsets equal to the total are enough
            "per_capita_change_since_2010": NULL,  # no 2010 row for UNDP
            "total_change_since_2010": NULL,
            "like_for_like_change_since_2010": NULL,
            "electricity_kwh": NULL,  # natural gas only: no electricity data
            "renewable_electricity_share": NULL,
            "renewable_share_reported": NULL,
            "renewable_share_grid_default": NULL,
            "facility_intensity_kgco2e_per_m2": 200.0,  # 600,000 kg / 3000 m2
            "waste_tonnes": NULL,
            "waste_per_capita_kg": NULL,
            "waste_diversion_share": NULL,
            "hazardous_waste_tonnes": NULL,
            "water_m3": 32_000,
            "water_per_capita_m3": 64.0,  # 32,000 / 500
            "ems_met": 0,
            "ems_approaching": 0,
            "ems_not_met": 1,
            "reporting_coverage_percent": 100.0,
        },
    )


def test_history_only_year(main_db):
    workbook_only = {k: NULL for k in SCOPE_KEYS + EMS_KEYS}
    workbook_only |= {
        "electricity_kwh": NULL,
        "renewable_electricity_share": NULL,
        "renewable_share_reported": NULL,
        "renewable_share_grid_default": NULL,
        "facility_intensity_kgco2e_per_m2": NULL,
        "waste_diversion_share": NULL,
        "hazardous_waste_tonnes": NULL,
        "reporting_coverage_percent": NULL,
    }
    check(
        view_row(main_db, "system_indicators", 2010),
        workbook_only
        | {
            "reporting_entities": 2,
            "personnel": 400,
            "total_tco2e": 4000,
            "facilities_tco2e": 1300,
            "air_travel_tco2e": 2000,
            "other_travel_tco2e": 700,
            "share_facilities": 0.325,  # 1300 / 4000
            "share_air_travel": 0.5,
            "share_other_travel": 0.175,
            "per_capita_tco2e": 10.0,
            "offsets_tco2e": 0,
            "offset_share": 0.0,
            "climate_neutral_entities": 0,
            "per_capita_change_since_2010": 0.0,  # the baseline against itself
            "total_change_since_2010": 0.0,
            "like_for_like_change_since_2010": 0.0,
            "waste_tonnes": 20,
            "waste_per_capita_kg": 200.0,  # 20,000 kg / 100: only UNEP reported waste
            "water_m3": 5000,
            "water_per_capita_m3": 50.0,  # 5000 / 100
        },
    )
    check(
        view_row(main_db, "entity_indicators", 2010, "WFP"),
        workbook_only
        | {
            "reporting_entities": 1,
            "personnel": 300,
            "total_tco2e": 3000,
            "facilities_tco2e": 1000,
            "air_travel_tco2e": 1500,
            "other_travel_tco2e": 500,
            "share_facilities": 1 / 3,
            "share_air_travel": 0.5,
            "share_other_travel": 1 / 6,
            "per_capita_tco2e": 10.0,
            "offsets_tco2e": 0,
            "offset_share": 0.0,
            "climate_neutral_entities": 0,
            "per_capita_change_since_2010": 0.0,
            "total_change_since_2010": 0.0,
            "like_for_like_change_since_2010": 0.0,
            "waste_tonnes": NULL,
            "waste_per_capita_kg": NULL,
            "water_m3": NULL,
            "water_per_capita_m3": NULL,
        },
    )


def test_only_loaded_submissions_and_workbooks_before_history(main_db):
    with duckdb.connect(str(main_db), read_only=True) as con:
        rows = con.execute(
            "SELECT entity_code, year, data_source, personnel FROM entity_year ORDER BY year, entity_code"
        ).fetchall()
        years = con.execute("SELECT year FROM system_indicators ORDER BY year").fetchall()
    assert rows == [
        ("UNEP", 2010, "history", 100),
        ("WFP", 2010, "history", 300),
        ("UNDP", 2024, "workbook", 500),
        ("UNEP", 2024, "workbook", 200),
        ("WFP", 2024, "workbook", 300),  # the loaded workbook; not the superseded file (9999), not history (999)
    ]
    assert years == [(2010,), (2024,)]


# ------------------------------------------------------------------------------------------
# Single rules, each on its own tiny warehouse
# ------------------------------------------------------------------------------------------


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse(tmp_path / "gtb.duckdb")
    yield warehouse
    warehouse.close()


def test_surplus_offsets_of_one_entity_never_cover_another(wh):
    a = wh.submission("UNEP", 2024, 10)
    wh.emission(a, "air", 100)
    wh.offsets(a, 150)
    b = wh.submission("WFP", 2024, 10)
    wh.emission(b, "air", 100)
    row = wh.system(2024)
    assert row["offsets_tco2e"] == 150
    assert row["offset_share"] == approx(0.5)  # (min(150, 100) + min(0, 100)) / 200; uncapped 150 / 200 = 0.75
    assert row["climate_neutral_entities"] == 1
    assert wh.entity("UNEP", 2024)["offset_share"] == approx(1.0)
    assert wh.entity("WFP", 2024)["offset_share"] == 0.0


def test_climate_neutral_needs_offsets_covering_a_positive_total(wh):
    wh.submission("UNEP", 2024, 10)  # total 0, offsets 0
    only_hcfc = wh.submission("WFP", 2024, 10)  # total 0 (HCFC is optional), offsets 10
    wh.emission(only_hcfc, "hcfc", 10)
    wh.offsets(only_hcfc, 10)
    exact = wh.submission("UNDP", 2024, 10)  # 50 against 50: neutral
    wh.emission(exact, "air", 50)
    wh.offsets(exact, 50)
    short = wh.submission("UNICEF", 2024, 10)  # 49.99 against 50: not neutral
    wh.emission(short, "air", 50)
    wh.offsets(short, 49.99)
    assert wh.system(2024)["climate_neutral_entities"] == 1
    assert [wh.entity(e, 2024)["climate_neutral_entities"] for e in ("UNEP", "WFP", "UNDP", "UNICEF")] == [0, 0, 1, 0]
    # a zero total divides nothing: shares and offset share are NULL, not 0
    zero = wh.entity("WFP", 2024)
    assert zero["total_tco2e"] == 0 and zero["optional_tco2e"] == 10
    assert [zero[k] for k in ("offset_share", "share_facilities", "share_air_travel", "share_other_travel")] == [
        None
    ] * 4
    assert wh.system(2024)["offset_share"] == approx((0 + 0 + 50 + 49.99) / 100)


def test_scopes_hcfc_and_market_based_electricity(wh):
    a = wh.submission("UNEP", 2024, 10)
    wh.electricity(a, kwh=100_000, renewable_kwh=40_000, kg_per_kwh=1.0)  # 100 t; market 60 t
    wh.emission(a, "district_heating", 20)  # scope 2, market = location
    wh.emission(a, "vehicle_electricity", 10)  # electric vehicles: scope 2, other travel
    wh.emission(a, "vehicle_fuel", 5)  # scope 1, other travel
    wh.emission(a, "refrigerant", 3)  # scope 1, facilities
    wh.emission(a, "hcfc", 7)  # optional only
    wh.emission(a, "stationary", 2)  # scope 1, facilities
    wh.emission(a, "air", 1000)  # scope 3
    wh.emission(a, "other_travel", 50)  # scope 3
    for row in (wh.system(2024), wh.entity("UNEP", 2024)):
        assert row["facilities_tco2e"] == approx(100 + 20 + 3 + 2)
        assert row["other_travel_tco2e"] == approx(10 + 5 + 50)
        assert row["total_tco2e"] == approx(125 + 1000 + 65)  # 1190, the HCFC's 7 t outside
        assert row["optional_tco2e"] == approx(7)
        assert row["scope1_tco2e"] == approx(5 + 3 + 2)
        assert row["scope2_tco2e"] == approx(100 + 20 + 10)
        assert row["scope2_market_tco2e"] == approx(60 + 20 + 10)
        assert row["scope3_tco2e"] == approx(1000 + 50)
        assert row["scope1_tco2e"] + row["scope2_tco2e"] + row["scope3_tco2e"] == approx(row["total_tco2e"])
        assert row["electricity_kwh"] == approx(100_000)  # buildings only; the vehicles' kWh are not here
        assert row["renewable_electricity_share"] == approx(0.4)


def test_fixture_kinds_follow_the_calculator():
    # the fixtures take scope and category from pipeline.emissions.calculate: pin what the contract says
    assert classify("electricity")[1:] == (2, "purchased_electricity", "facilities", False)
    assert classify("vehicle_electricity")[1:] == (2, "purchased_electricity", "other_travel", False)
    assert classify("hcfc")[1:] == (1, "fugitive", "facilities", True)
    assert classify("vehicle_fuel")[1:] == (1, "mobile_combustion", "other_travel", False)
    assert classify("air")[1:] == (3, "business_travel", "air_travel", False)


def test_no_baseline_no_electricity_no_floor_area_no_waste_no_water_give_null(wh):
    a = wh.submission("UNEP", 2024, 10, floor_area_m2=None)
    wh.fuel(a, "diesel", 100, "litre")
    wh.emission(a, "stationary", 1)
    wh.emission(a, "air", 9)
    for row in (wh.system(2024), wh.entity("UNEP", 2024)):
        assert row["total_tco2e"] == approx(10)
        nulls = CHANGE_KEYS + (
            "electricity_kwh",
            "renewable_electricity_share",
            "facility_intensity_kgco2e_per_m2",
            "waste_tonnes",
            "waste_per_capita_kg",
            "waste_diversion_share",
            "hazardous_waste_tonnes",
            "water_m3",
            "water_per_capita_m3",
        )
        assert {k: row[k] for k in nulls} == {k: None for k in nulls}


def test_a_zero_floor_area_is_no_floor_area(wh):
    a = wh.submission("UNEP", 2024, 10, floor_area_m2=0)
    wh.emission(a, "stationary", 10)
    b = wh.submission("WFP", 2024, 10, floor_area_m2=500)
    wh.emission(b, "stationary", 20)
    assert wh.system(2024)["facility_intensity_kgco2e_per_m2"] == approx(40.0)  # 20,000 kg / 500 m2, UNEP left out
    assert wh.entity("UNEP", 2024)["facility_intensity_kgco2e_per_m2"] is None


def test_per_capita_change_is_a_ratio_of_per_capita_figures(wh):
    # 2010: 1000 t over 100 persons = 10 t; 2024: 1200 t over 200 persons = 6 t
    wh.history("UNEP", 2010, personnel=100, facilities=1000, air=0, other=0)
    a = wh.submission("UNEP", 2024, 200)
    wh.emission(a, "stationary", 1200)
    row = wh.system(2024)
    assert row["per_capita_change_since_2010"] == approx(6 / 10 - 1)  # -0.4
    assert row["total_change_since_2010"] == approx(1200 / 1000 - 1)  # +0.2


def test_like_for_like_leaves_out_entities_that_joined_or_left(wh):
    wh.history("UNEP", 2010, personnel=10, facilities=100, air=0, other=0)
    wh.history("WFP", 2010, personnel=10, facilities=300, air=0, other=0)  # left: no 2024 row
    a = wh.submission("UNEP", 2024, 10)
    wh.emission(a, "air", 80)
    late = wh.submission("UNDP", 2024, 10)  # joined after 2010
    wh.emission(late, "air", 1000)
    row = wh.system(2024)
    assert row["like_for_like_change_since_2010"] == approx(80 / 100 - 1)  # UNEP only: -0.2
    assert row["total_change_since_2010"] == approx(1080 / 400 - 1)
    assert wh.entity("UNDP", 2024)["like_for_like_change_since_2010"] is None


def test_waste_and_water_per_capita_use_the_reporting_entities_personnel(wh):
    a = wh.submission("UNEP", 2024, 100)
    wh.waste(a, 10)
    b = wh.submission("WFP", 2024, 400)
    wh.water(b, 2000)
    wh.submission("UNDP", 2024, 500)  # reports neither
    row = wh.system(2024)
    assert row["waste_per_capita_kg"] == approx(10_000 / 100)  # not / 1000
    assert row["water_per_capita_m3"] == approx(2000 / 400)  # not / 1000


def test_history_waste_and_water_count_for_a_history_year(wh):
    wh.history("UNEP", 2015, personnel=100, facilities=1, air=1, other=1, waste_tonnes=30, water_m3=None)
    wh.history("WFP", 2015, personnel=200, facilities=1, air=1, other=1, waste_tonnes=None, water_m3=800)
    row = wh.system(2015)
    assert (row["waste_tonnes"], row["waste_per_capita_kg"]) == (30, approx(300.0))  # 30,000 / 100
    assert (row["water_m3"], row["water_per_capita_m3"]) == (800, approx(4.0))  # 800 / 200


def test_waste_flags_are_the_contract_streams_and_treatments():
    assert codelists.flag("waste_treatment", "is_diverted") == {
        "recycling",
        "composting",
        "anaerobic_digestion",
        "reuse",
    }
    assert codelists.flag("waste_stream", "is_hazardous") == {"hazardous", "medical", "e_waste"}
    assert codelists.flag("refrigerant_gas", "is_hcfc") == {"r22", "r123"}


def test_diversion_and_hazardous_shares_of_one_entitys_waste(wh):
    a = wh.submission("UNEP", 2024, 10)
    for treatment in codelists.codes("waste_treatment"):  # 1 t per treatment: 4 of 9 divert
        wh.waste(a, 1, "mixed", treatment)
    for stream in ("e_waste", "medical", "hazardous", "plastics"):
        wh.waste(a, 1, stream, "landfill")
    row = wh.entity("UNEP", 2024)
    assert row["waste_tonnes"] == 13
    assert row["waste_diversion_share"] == approx(4 / 13)
    assert row["hazardous_waste_tonnes"] == 3


def test_ems_groups_follow_the_status_code_list(wh):
    statuses = codelists.codes("ems_status")
    for i, status in enumerate(statuses):
        wh.submission(f"E{i}", 2024, 10, ems=status)
    groups = [r["ems_group"] for r in codelists.table("ems_status")]
    row = wh.system(2024)
    assert (row["ems_met"], row["ems_approaching"], row["ems_not_met"]) == (
        groups.count("met"),
        groups.count("approaching"),
        groups.count("not_met"),
    )
    assert (row["ems_met"], row["ems_approaching"], row["ems_not_met"]) == (2, 1, 2)  # the contract's grouping
    for i in range(len(statuses)):
        entity = wh.entity(f"E{i}", 2024)
        assert [entity[k] for k in EMS_KEYS] == [int(groups[i] == g) for g in ("met", "approaching", "not_met")]


def test_a_year_mixing_history_and_workbooks_has_no_scope_split(wh):
    # scope figures must add up to the total; a history row has no split, so the year's are NULL
    wh.history("UNEP", 2019, personnel=100, facilities=100, air=0, other=0)
    b = wh.submission("WFP", 2019, 300, coverage_percent=60, ems="implementing")
    wh.emission(b, "air", 50)
    wh.emission(b, "hcfc", 5)
    row = wh.system(2019)
    assert row["reporting_entities"] == 2 and row["total_tco2e"] == approx(150)
    assert [row[k] for k in SCOPE_KEYS] == [None] * 5
    assert (row["ems_approaching"], row["reporting_coverage_percent"]) == (1, approx(60.0))  # over workbooks only
    assert wh.entity("WFP", 2019)["scope3_tco2e"] == approx(50)


def test_a_year_with_only_a_superseded_submission_has_no_row(wh):
    s = wh.submission("UNEP", 2023, 10, status="superseded")
    wh.emission(s, "air", 10)
    r = wh.submission("WFP", 2023, 10, status="rejected")
    wh.emission(r, "air", 10)
    assert wh.con.execute("SELECT count(*) FROM system_indicators").fetchone()[0] == 0
    assert wh.con.execute("SELECT count(*) FROM entity_indicators").fetchone()[0] == 0


def test_a_year_between_years_with_data_is_a_year_without_data(wh):
    """Completeness runs over every year from the first to the last with figures: a year in between
    with none is there, with every expected entity missing, even where no entity was expected."""
    wh.history("UNEP", 2010, personnel=100, facilities=1, air=1, other=1)
    wh.submission("UNEP", 2013, 120)
    by_year = "SELECT year, entities_reporting, entities_missing, personnel_reporting FROM completeness_by_year"
    assert wh.con.execute(by_year + " ORDER BY year").fetchall() == [
        (2010, 1, 0, 100),
        (2011, 0, 0, None),
        (2012, 0, 0, None),
        (2013, 1, 0, 120),
    ]
    wh.con.execute("INSERT INTO entities VALUES ('UNEP', 'UN Environment Programme', 'fund_programme', NULL, NULL)")
    missing = wh.con.execute(
        "SELECT year, data_source, last_reported_year, last_reported_personnel FROM reporting_completeness "
        "WHERE year BETWEEN 2011 AND 2012 ORDER BY year"
    ).fetchall()
    assert missing == [(2011, "missing", 2010, 100), (2012, "missing", 2010, 100)]
    assert wh.con.execute(by_year + " WHERE year = 2011").fetchall() == [(2011, 0, 1, None)]
    years = wh.con.execute("SELECT year FROM system_indicators ORDER BY year").fetchall()
    assert years == [(2010,), (2013,)]  # the indicators themselves: one row per year with data


# The 2010 figures of a six-entity demo warehouse whose sums came out in another order when one
# year was read (`gtb indicators`) than when all were (the report): 205266.9 vs 205266.90000000002.
DEMO_2010 = (
    ("CBD", 119.7, 1964.8, 74.8, 110),
    ("CTBTO", 793.3, 1631.1, 128.2, 284),
    ("DGACM", 2985.7, 20392.0, 658.3, 1947),
    ("UNDP", 24743.6, 46789.4, 20818.8, 18214),
    ("UNEP", 1882.9, 8704.9, 378.1, 1190),
    ("WFP", 18115.4, 40498.2, 14587.7, 14581),
)


def test_a_row_is_the_same_whichever_query_reads_it(tmp_path):
    """`gtb indicators` (one year) and the published tables (every year) read one figure to the
    last bit, and 2010 against itself is exactly 0: the 2010 baseline is a window over the one
    evaluation of the sums, whose order no longer depends on the query's filter."""
    wh = Warehouse(tmp_path / "gtb.duckdb")
    for year in (2010, 2011):
        for code, facilities, air, other, personnel in DEMO_2010:
            wh.history(code, year, personnel=personnel, facilities=facilities, air=air, other=other)
    for year in (2023, 2024, 2025):
        for code, _, air, _, personnel in DEMO_2010:
            wh.emission(wh.submission(code, year, personnel), "air", air)
    wh.close()
    with duckdb.connect(str(tmp_path / "gtb.duckdb"), read_only=True) as con:
        con.execute("SET threads = 1")  # as every read-only connection of the pipeline
        cur = con.execute("SELECT * FROM system_indicators ORDER BY year")
        columns = [d[0] for d in cur.description]
        every = {row[0]: dict(zip(columns, row, strict=True)) for row in cur.fetchall()}
    assert every[2010]["per_capita_change_since_2010"] == 0.0 and every[2010]["total_change_since_2010"] == 0.0
    assert every[2010]["total_tco2e"] == indicators(2010, db=tmp_path / "gtb.duckdb")["total_tco2e"]
    for year, row in every.items():
        assert indicators(year, db=tmp_path / "gtb.duckdb") == {k: json_value(k, v) for k, v in row.items()}, year


# ------------------------------------------------------------------------------------------
# pipeline.indicators.indicators and the API
# ------------------------------------------------------------------------------------------


def test_indicators_returns_a_json_ready_row(main_db):
    row = indicators(2024, db=main_db)
    assert list(row) == ["year", *INDICATOR_KEYS]
    assert row["year"] == 2024 and type(row["year"]) is int
    for key in COUNT_KEYS:
        assert type(row[key]) is int, key
    for key in set(INDICATOR_KEYS) - COUNT_KEYS:
        assert type(row[key]) is float, key
    assert row["total_tco2e"] == 5000.0 and row["renewable_electricity_share"] == 50_000 / 600_000  # unrounded
    assert json.loads(json.dumps(row)) == row
    assert api.indicators(2024, db=main_db) == row


def test_indicators_of_an_entity_ignore_case_and_keep_nulls(main_db):
    row = indicators(2024, entity=" undp ", db=main_db)
    assert list(row) == ["entity_code", "year", *INDICATOR_KEYS]
    assert row["entity_code"] == "UNDP" and row["per_capita_tco2e"] == 4.0
    assert row["per_capita_change_since_2010"] is None and row["electricity_kwh"] is None
    history = indicators(2010, entity="wfp", db=main_db)
    assert history["scope1_tco2e"] is None and history["ems_met"] is None and history["personnel"] == 300


def test_unknown_year_or_entity_is_a_one_line_error(main_db, tmp_path):
    with pytest.raises(GtbError, match=r"^no indicators for 2031: years in the database are 2010, 2024$"):
        indicators(2031, db=main_db)
    with pytest.raises(GtbError, match=r"^no indicators for UNDP in 2010: its years in the database are 2024$"):
        indicators(2010, entity="undp", db=main_db)
    with pytest.raises(GtbError, match=r"^no indicators for NOPE: entities with data for 2024 are UNDP, UNEP, WFP$"):
        indicators(2024, entity="nope", db=main_db)
    with pytest.raises(GtbError, match="no database at"):
        indicators(2024, db=tmp_path / "missing.duckdb")
    empty = tmp_path / "empty.duckdb"
    Warehouse(empty).close()
    with pytest.raises(GtbError, match="no loaded data yet"):
        indicators(2024, db=empty)


def test_a_database_without_the_views_is_reported(tmp_path):
    from pipeline.warehouse.db import connect

    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(GtbError, match="holds no warehouse yet"):
        indicators(2024, db=bare)
    connect(tmp_path / "tables_only.duckdb").close()  # the warehouse's tables, not yet its views
    with pytest.raises(GtbError, match="has no indicator views"):
        indicators(2024, db=tmp_path / "tables_only.duckdb")


def test_year_ranges():
    assert year_ranges([2012, 2010, 2011, 2019, 2020, 2024]) == "2010-2012, 2019-2020, 2024"


# ------------------------------------------------------------------------------------------
# gtb indicators
# ------------------------------------------------------------------------------------------


def test_cli_prints_the_system_row_as_one_json_object(main_db, capsys):
    assert main(["indicators", "--year", "2024", "--db", str(main_db), "--json"]) == 0
    out, err = capsys.readouterr()
    row = json.loads(out)
    assert list(row) == ["year", *INDICATOR_KEYS] and row["offset_share"] == approx(0.6)
    assert out.count("\n") == 1 and err == ""


def test_cli_prints_an_entity_row(main_db, capsys):
    assert main(["indicators", "--year", "2024", "--entity", "wfp", "--db", str(main_db), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["entity_code"] == "WFP" and row["waste_tonnes"] is None and row["ems_approaching"] == 1


def test_cli_without_json_prints_a_table(main_db, capsys):
    assert main(["indicators", "--year", "2024", "--db", str(main_db)]) == 0
    out = capsys.readouterr().out
    for key in INDICATOR_KEYS:
        assert key in out, key
    assert "5000" in out.replace(",", "")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--year", "2031"], "gtb: no indicators for 2031: years in the database are 2010, 2024"),
        (
            ["--year", "2024", "--entity", "XYZ"],
            "gtb: no indicators for XYZ: entities with data for 2024 are UNDP, UNEP, WFP",
        ),
    ],
)
def test_cli_unknown_year_or_entity_exits_2_with_one_line(main_db, capsys, args, message):
    assert main(["indicators", *args, "--db", str(main_db), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == message + "\n" and "Traceback" not in err


def test_cli_missing_database_exits_2(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "gtb.duckdb"
    assert main(["indicators", "--year", "2024", "--db", str(missing), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gtb: no database at") and err.count("\n") == 1
    assert not missing.parent.exists(), "reading must never create the database"


def test_cli_requires_a_year(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["indicators", "--json"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_renewable_share_takes_the_grid_default_where_the_entity_gave_no_figure(tmp_path):
    """The published rule: rows without an entity figure count the grid's renewable share; the
    indicator says how much of the renewable figure is reported and how much is the default."""
    wh = Warehouse(tmp_path / "gtb.duckdb")
    sid = wh.submission("UNEP", 2025, 100)
    wh.electricity(sid, kwh=100_000, renewable_kwh=20_000)  # reported: 20,000
    wh.electricity(sid, kwh=300_000, grid_default_kwh=60_000)  # no figure: 20 % grid share
    wh.electricity(sid, kwh=100_000, renewable_kwh=0)  # under a set without shares: a zero stays zero
    wh.electricity(sid, kwh=100_000, renewable_kwh=50_000, grid_default_kwh=10_000)  # own, and the rest at 20 %
    row = wh.entity("UNEP", 2025)
    assert row["renewable_electricity_share"] == approx(140_000 / 600_000)
    assert row["renewable_share_reported"] == approx(70_000 / 600_000)
    assert row["renewable_share_grid_default"] == approx(70_000 / 600_000)


# ------------------------------------------------------------------------------------------
# Factor sets by year: where a trend crosses a change of method
# ------------------------------------------------------------------------------------------
OLD_SET, NEW_SET = "gtb-2025.1", "gtb-2026.1"


def priced_with(wh: Warehouse, sid: int, factor_set: str) -> None:
    """The submission's emissions rows as calculated with `factor_set` (the fixture writes 'test-set')."""
    wh.con.execute("UPDATE emissions SET factor_set = ? WHERE submission_id = ?", [factor_set, sid])


def test_factor_sets_by_year_mark_the_first_year_on_another_set(wh):
    """UNEP: published totals 2022, workbooks 2023-2024 on the old set, 2025 on the new; UNDP: 2023
    on the old set, no 2024, 2025 on the new; WFP: published totals 2024, 2025 on the new set."""
    wh.history("UNEP", 2022, personnel=100, facilities=1, air=1, other=1)
    for year, factor_set in ((2023, OLD_SET), (2024, OLD_SET), (2025, NEW_SET)):
        sid = wh.submission("UNEP", year, 100)
        wh.emission(sid, "air", 10)
        priced_with(wh, sid, factor_set)
    for year, factor_set in ((2023, OLD_SET), (2025, NEW_SET)):
        sid = wh.submission("UNDP", year, 100)
        wh.emission(sid, "air", 10)
        priced_with(wh, sid, factor_set)
    wh.history("WFP", 2024, personnel=100, facilities=1, air=1, other=1)
    sid = wh.submission("WFP", 2025, 100)
    wh.emission(sid, "air", 10)
    priced_with(wh, sid, NEW_SET)

    assert wh.con.execute("SELECT * FROM year_factor_sets ORDER BY year").fetchall() == [
        (2022, None, None, None, False),  # published totals name no set
        (2023, OLD_SET, None, None, False),
        (2024, OLD_SET, 2023, OLD_SET, False),
        (2025, NEW_SET, 2024, OLD_SET, True),
    ]
    entity = "SELECT entity_code, year, previous_factor_sets_year, factor_set_changed FROM entity_factor_sets"
    assert wh.con.execute(entity + " ORDER BY ALL").fetchall() == [
        ("UNDP", 2023, None, False),
        ("UNDP", 2025, 2023, True),  # across a year without figures
        ("UNEP", 2023, None, False),
        ("UNEP", 2024, 2023, False),
        ("UNEP", 2025, 2024, True),
        ("WFP", 2025, None, False),  # 2024 from published totals: no set to compare with
    ]
    change = "SELECT entity_code, year, previous_year, change_across_factor_sets FROM entity_change"
    assert wh.con.execute(change + " WHERE year >= 2023 ORDER BY ALL").fetchall() == [
        ("UNDP", 2023, None, None),
        ("UNDP", 2025, None, None),  # no previous year, no change to caution about
        ("UNEP", 2023, 2022, False),
        ("UNEP", 2024, 2023, False),
        ("UNEP", 2025, 2024, True),
        ("WFP", 2024, None, None),
        ("WFP", 2025, 2024, False),
    ]


def test_a_year_whose_rows_use_two_sets_names_both(wh):
    a = wh.submission("UNEP", 2024, 100)
    wh.emission(a, "air", 10)
    priced_with(wh, a, OLD_SET)
    for code, factor_set in (("UNEP", OLD_SET), ("WFP", NEW_SET)):
        sid = wh.submission(code, 2025, 100)
        wh.emission(sid, "air", 10)
        priced_with(wh, sid, factor_set)
    row = wh.con.execute("SELECT factor_sets, factor_set_changed FROM year_factor_sets WHERE year = 2025").fetchone()
    assert row == (f"{OLD_SET}, {NEW_SET}", True)


def test_years_on_one_set_have_no_change(main_db):
    with duckdb.connect(str(main_db), read_only=True) as con:
        sql = "SELECT year, factor_sets, factor_set_changed FROM year_factor_sets ORDER BY year"
        years = con.execute(sql).fetchall()
        flags = con.execute("SELECT DISTINCT change_across_factor_sets FROM entity_change").fetchall()
    assert years[0] == (2010, None, False) and years[-1] == (2024, "test-set", False)
    assert not any(changed for _, _, changed in years)
    assert set(flags) <= {(False,), (None,)}


def test_the_share_of_emissions_from_estimated_figures_is_of_the_workbooks(tmp_path):
    """estimated_emissions: per entity and year with a workbook, and per year, the emissions of the
    rows marked estimated over the workbooks' emissions; published totals count in neither."""
    from tests.builders import valid_sheets, write_workbook

    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    (inputs / "history").mkdir()
    unep = valid_sheets("UNEP")
    wfp = valid_sheets("WFP")
    for rows in wfp.values():  # WFP measured everything
        if "data_quality" in rows[0]:
            at = rows[0].index("data_quality")
            for row in rows[1:]:
                row[at] = "measured"
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", unep)
    write_workbook(inputs / "submissions" / "WFP_2024.xlsx", wfp)
    unhcr = valid_sheets("UNHCR")  # waste and water only: a workbook without an emission counts too
    for name in ("Facilities", "Refrigerants", "Vehicles", "AirTravel", "OtherTravel", "Offsets"):
        unhcr[name] = unhcr[name][:1]
    write_workbook(inputs / "submissions" / "UNHCR_2024.xlsx", unhcr)
    (inputs / "history" / "totals.csv").write_text(
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,waste_tonnes,water_m3\n"
        "ILO,2024,900,100.0,200.0,30.0,0,,\n",
        encoding="utf-8",
    )
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    # UNEP's estimated rows, read from the workbook as written: (sheet, Excel row)
    estimated = {
        (name, n)
        for name, rows in unep.items()
        if "data_quality" in rows[0]
        for n, row in enumerate(rows[1:], start=2)
        if row[rows[0].index("data_quality")] == "estimated"
    }
    assert len(estimated) >= 3
    with duckdb.connect(str(db), read_only=True) as con:
        priced = con.execute(
            """SELECT s.entity_code, e.sheet, e.source_row, e.emissions_tco2e FROM emissions e
               JOIN submissions s USING (submission_id) WHERE NOT e.is_optional"""
        ).fetchall()
        rows = {
            r[0]: r[1:]
            for r in con.execute(
                """SELECT coalesce(entity_code, 'system'), workbook_entities, workbook_tco2e, estimated_tco2e,
                          estimated_share FROM estimated_emissions WHERE year = 2024"""
            ).fetchall()
        }
        total, reporting = con.execute(
            "SELECT total_tco2e, reporting_entities FROM system_indicators WHERE year = 2024"
        ).fetchone()
    unep_total = sum(t for code, _, _, t in priced if code == "UNEP")
    unep_estimated = sum(t for code, sheet, row, t in priced if code == "UNEP" and (sheet, row) in estimated)
    assert rows["UNEP"] == pytest.approx((1, unep_total, unep_estimated, unep_estimated / unep_total))
    assert rows["WFP"][2:] == (0.0, 0.0)
    assert rows["UNHCR"][1:3] == (0.0, 0.0) and rows["UNHCR"][3] is None  # no emission: no share
    system = rows["system"]
    assert system[0] == 3 and reporting == 4  # ILO's published totals say nothing of how they were measured
    assert system[1] == pytest.approx(total - 330.0) and system[2] == pytest.approx(unep_estimated)
    assert system[3] == pytest.approx(unep_estimated / system[1])


def test_the_renewable_share_is_the_same_however_a_sites_electricity_rows_are_laid_out(tmp_path):
    """Under gtb-2026.1 a row with the entity's own renewable figure took that figure alone, so the
    rest of the row, bought from the grid, counted 0 % renewable: one row of 1.5 GWh with 0.5 GWh
    of rooftop solar (the template's example layout) gave 33 %, the same site as two rows 96 %, and
    a 0 typed for "no green contract" 0 % where a blank gave the grid's share."""
    from pipeline.reference import factors
    from tests.builders import valid_sheets, write_workbook

    share = factors.renewable_shares("gtb-2026.1")["KEN"]  # about 0.94
    layouts = {
        "two rows": ([["Gigiri", "KEN", "electricity", 1_000_000, "kwh", None, "measured"],
                      ["Gigiri PV", "KEN", "electricity", 500_000, "kwh", 500_000, "measured"]], 1_500_000),
        "one row": ([["Gigiri", "KEN", "electricity", 1_500_000, "kwh", 500_000, "measured"]], 1_500_000),
        "zero typed": ([["Gigiri", "KEN", "electricity", 1_000_000, "kwh", 0, "measured"]], 1_000_000),
        "blank": ([["Gigiri", "KEN", "electricity", 1_000_000, "kwh", None, "measured"]], 1_000_000),
    }  # fmt: skip
    found = {}
    for name, (rows, kwh) in layouts.items():
        inputs = tmp_path / name / "inputs"
        sheets = valid_sheets("UNEP", 2025)
        sheets["Facilities"] = [sheets["Facilities"][0], *rows]
        write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", sheets)
        db = tmp_path / name / "gtb.duckdb"
        api.run(inputs, db, tmp_path / name / "out", jobs=1)
        with duckdb.connect(str(db), read_only=True) as con:
            found[name] = con.execute(
                "SELECT renewable_electricity_share, renewable_share_reported, renewable_share_grid_default "
                "FROM entity_indicators WHERE entity_code = 'UNEP' AND year = 2025"
            ).fetchone()
            sources = con.execute(
                "SELECT list(renewable_source ORDER BY source_row) FROM emissions WHERE sheet = 'Facilities'"
            ).fetchone()[0]
        own = sum(r[5] or 0 for r in rows)
        total, reported, default = found[name]
        assert total == pytest.approx((own + (kwh - own) * share) / kwh), name
        assert reported == pytest.approx(own / kwh) and default == pytest.approx(total - reported), name
        if name == "one row":
            assert sources == ["reported_and_grid_default"]
        if name == "two rows":
            assert sources == ["grid_default", "reported"]
    assert found["two rows"] == pytest.approx(found["one row"])
    assert found["zero typed"] == pytest.approx(found["blank"])


def test_a_row_all_its_own_renewable_in_another_unit_takes_no_grid_default(tmp_path):
    """36 GJ is 10,000.000000008 kWh: a renewable figure of 10,000 kWh is the whole row, and was
    labelled 'reported_and_grid_default' with a grid part of 8e-9 kWh."""
    from tests.builders import valid_sheets, write_workbook

    inputs = tmp_path / "inputs"
    sheets = valid_sheets("UNEP", 2025)
    sheets["Facilities"] = [sheets["Facilities"][0], ["Gigiri", "KEN", "electricity", 36, "gj", 10_000, "measured"]]
    write_workbook(inputs / "submissions" / "UNEP_2025.xlsx", sheets)
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT renewable_source, renewable_kwh FROM emissions WHERE sheet = 'Facilities'"
        ).fetchall() == [("reported", 10_000.0)]
        assert con.execute(
            "SELECT renewable_share_grid_default FROM entity_indicators WHERE entity_code = 'UNEP' AND year = 2025"
        ).fetchone() == (0.0,)
