"""A synthetic warehouse for the report: rows inserted straight into the tables, no workbooks.

`build_warehouse(path, ...)` creates the schema and views (`pipeline.warehouse.db.connect`) and
fills them for a handful of entities (the tests) or all ~60 of `schemas/codelists/entities.csv`
(to look at the charts at real size):

- history_totals for the early years (published totals: no scopes, EMS or renewables);
- loaded submissions for the later years: entity_reports, ems_reports, emissions by sheet and
  scope, electricity rows with renewable kWh, offsets, waste by treatment, water.

Every year is calculated with FACTOR_SET, or from `new_set_from` on with NEW_FACTOR_SET (a change
of method, as from 2025 on the real pins). Entities whose renewable share is below
RENEWABLE_REPORTED_FROM give no renewable figure: 0 renewable kWh under FACTOR_SET, the grid
default (GRID_RENEWABLE_SHARE of their kWh) under NEW_FACTOR_SET, as the calculation records it.

Every entity's numbers come from a seeded random stream, so the warehouse is the same on every
run. A few entities are made awkward on purpose (see `AWKWARD`): no floor area, no waste or
water, only a history row in the last year, a formula-looking name, history only.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.indicators.views import create_views
from pipeline.warehouse.db import connect

ROOT = Path(__file__).resolve().parent.parent
ENTITIES_CSV = ROOT / "schemas" / "codelists" / "entities.csv"
FACTOR_SET = "gtb-2025.1"
NEW_FACTOR_SET = "gtb-2026.1"  # a set with country renewable shares: rows without a figure take the grid default
GRID_RENEWABLE_SHARE = 0.3
RENEWABLE_REPORTED_FROM = 0.2  # profiles with a lower renewable share report no renewable figure
STAMP = dt.datetime(2025, 3, 1, 12, 0, 0)
FORMULA_NAME = '=HYPERLINK("http://example.org","click")'

# The small test warehouse: these entities, with these quirks.
TEST_ENTITIES = ("UNEP", "UNDP", "WFP", "UNICEF", "UNHCR", "UNFCCC", "ITC")
AWKWARD = {
    "UNICEF": "no_floor_area",  # facility intensity is NULL
    "UNHCR": "no_waste_water",  # waste and water NULL in every workbook year
    "UNFCCC": "history_last_year",  # the last year comes from a history row (NULL scopes, EMS)
    "ITC": "history_only",  # reports nothing after the history years: no factsheet
    "WFP": "formula_name",  # entity_name starts with '='
}

EMS_PATH = ("none", "planning", "implementing", "implemented", "certified")
TREATMENTS = (  # code, share of waste, diverted, stream
    ("landfill", 0.45, False, "mixed"),
    ("incineration", 0.12, False, "mixed"),
    ("incineration_energy_recovery", 0.08, False, "mixed"),
    ("recycling", 0.2, True, "paper_cardboard"),
    ("composting", 0.1, True, "organic"),
    ("reuse", 0.03, True, "e_waste"),
    ("unknown", 0.02, False, "medical"),
)


@dataclass(frozen=True)
class Profile:
    code: str
    personnel_2019: int
    per_capita_2019: float
    shares: tuple[float, float, float]  # facilities, air travel, other travel
    offset_ratio: float  # offsets / total from offset_from on
    offset_from: int
    ems_start: int  # year the EMS path starts moving
    renewable_share: float
    waste_kg_per_capita: float
    water_m3_per_capita: float
    quirk: str = ""


def entity_rows() -> list[dict[str, str]]:
    with ENTITIES_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def profile(code: str, seed: int, quirk: str = "") -> Profile:
    rng = random.Random(f"{seed}-{code}")
    personnel = int(math.exp(rng.uniform(math.log(60), math.log(40000))))
    air = rng.uniform(0.2, 0.6)
    other = rng.uniform(0.05, 0.2)
    offset_kind = rng.random()
    return Profile(
        code=code,
        personnel_2019=personnel,
        per_capita_2019=math.exp(rng.uniform(math.log(2.0), math.log(26.0))),
        shares=(1 - air - other, air, other),
        offset_ratio=0.0 if offset_kind < 0.2 else (0.6 if offset_kind < 0.35 else rng.uniform(1.01, 1.1)),
        offset_from=rng.choice((2012, 2015, 2018, 2020)),
        ems_start=rng.randint(2016, 2024),
        renewable_share=rng.uniform(0.05, 0.6),
        waste_kg_per_capita=rng.uniform(150, 700),
        water_m3_per_capita=rng.uniform(20, 90),
        quirk=quirk,
    )


def _scale(p: Profile, year: int) -> tuple[int, float]:
    personnel = max(10, round(p.personnel_2019 * (1.01 ** (year - 2019))))
    per_capita = p.per_capita_2019 * (0.975 ** (year - 2019))
    if year == 2020:
        per_capita *= 0.7  # the pandemic year
    return personnel, per_capita


def _sources(p: Profile, year: int) -> tuple[int, float, float, float]:
    personnel, per_capita = _scale(p, year)
    total = personnel * per_capita
    drift = 0.01 * (year - 2019)
    fac, air, other = p.shares[0] + drift, p.shares[1] - drift, p.shares[2]
    return personnel, total * fac, total * air, total * other


class _Rows:
    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {}

    def add(self, table: str, **values: object) -> None:
        self.tables.setdefault(table, []).append(values)


def _history(rows: _Rows, p: Profile, year: int) -> None:
    personnel, fac, air, other = _sources(p, year)
    total = fac + air + other
    waste = None if p.quirk == "no_waste_water" or year < 2013 else personnel * p.waste_kg_per_capita / 1000
    water = None if p.quirk == "no_waste_water" or year < 2014 else personnel * p.water_m3_per_capita
    rows.add(
        "history_totals",
        entity_code=p.code,
        year=year,
        personnel=personnel,
        facilities_tco2e=fac,
        air_travel_tco2e=air,
        other_travel_tco2e=other,
        offsets_tco2e=total * p.offset_ratio if year >= p.offset_from else 0.0,
        waste_tonnes=waste,
        water_m3=water,
        source_file="published_totals.csv",
        source_line=len(rows.tables.get("history_totals", [])) + 2,
        source_sha256="0" * 64,
    )


def _emission(
    rows: _Rows,
    sid: int,
    sheet: str,
    row: int,
    scope: int,
    detail: str,
    category: str,
    tco2e: float,
    optional: bool = False,
    market: float | None = None,
    factor_set: str = FACTOR_SET,
    renewable: tuple[float, str] | None = None,  # an electricity row's renewable kWh and where it comes from
) -> None:
    rows.add(
        "emissions",
        submission_id=sid,
        sheet=sheet,
        source_row=row,
        scope=scope,
        scope_detail=detail,
        gtb_category=category,
        is_optional=optional,
        activity_quantity=tco2e * 1000,
        activity_unit="kgco2e",
        factor_set=factor_set,
        factor_id=f"{sheet.lower()}-{row}",
        factor_region="WORLD",
        kgco2e_per_unit=1.0,
        emissions_tco2e=tco2e,
        market_emissions_tco2e=tco2e if market is None else market,
        calculated_at=STAMP,
        renewable_kwh=None if renewable is None else renewable[0],
        renewable_source=None if renewable is None else renewable[1],
    )


def _workbook(rows: _Rows, p: Profile, year: int, sid: int, factor_set: str = FACTOR_SET) -> None:
    personnel, fac, air, other = _sources(p, year)
    total = fac + air + other
    rows.add(
        "submissions",
        submission_id=sid,
        run_id=1,
        file_name=f"{p.code}_{year}.xlsx",
        file_path=f"submissions/{year}/{p.code}_{year}.xlsx",
        sha256=f"{sid:064d}",
        size_bytes=50_000,
        received_at=STAMP,
        file_modified_at=STAMP,
        entity_code=p.code,
        reporting_year=year,
        template_version="2025.1",
        pipeline_version="2025.1.0",
        status="loaded",
        error_count=0,
        warning_count=1,
        superseded_by=None,
        superseded_at=None,
        report_path=None,
    )
    rows.add(
        "entity_reports",
        submission_id=sid,
        entity_code=p.code,
        reporting_year=year,
        personnel=personnel,
        reporting_coverage_percent=80.0 + (sid % 20),
        floor_area_m2=None if p.quirk == "no_floor_area" else personnel * 14.0,
        focal_point_name="Focal Point",
        focal_point_email="focal.point@un.org",
        template_version="2025.1",
    )
    step = max(0, min(len(EMS_PATH) - 1, (year - p.ems_start) // 2 + 1)) if year >= p.ems_start else 0
    rows.add(
        "ems_reports",
        submission_id=sid,
        status=EMS_PATH[step],
        standard="iso14001" if step == 4 else "none",
        coverage_percent=20.0 * step,
        is_policy_adopted=step >= 2,
        last_management_review=None,
    )
    electricity_t = fac * 0.6
    kwh = electricity_t * 1000 / 0.4
    reported = p.renewable_share >= RENEWABLE_REPORTED_FROM
    renewable = min(0.95, p.renewable_share + 0.03 * (year - 2019)) if reported else 0.0
    if reported:
        counted = (kwh * renewable, "reported")
    elif factor_set == NEW_FACTOR_SET:
        counted = (kwh * GRID_RENEWABLE_SHARE, "grid_default")
    else:
        counted = (0.0, "none")
    rows.add(
        "facilities_activity",
        submission_id=sid,
        source_row=2,
        site="Headquarters",
        country_code="KEN",
        energy_type_code="electricity",
        quantity=kwh,
        unit_code="kwh",
        renewable_kwh=kwh * renewable if reported else None,
        data_quality_code="measured",
        canonical_quantity=kwh,
        canonical_unit="kwh",
    )
    rows.add(
        "facilities_activity",
        submission_id=sid,
        source_row=3,
        site="Headquarters",
        country_code="KEN",
        energy_type_code="diesel",
        quantity=fac * 0.3 * 1000 / 2.7,
        unit_code="litre",
        renewable_kwh=None,
        data_quality_code="measured",
        canonical_quantity=fac * 0.3 * 1000 / 2.7,
        canonical_unit="litre",
    )
    _emission(
        rows,
        sid,
        "Facilities",
        2,
        2,
        "purchased_electricity",
        "facilities",
        electricity_t,
        market=electricity_t * (1 - renewable),
        factor_set=factor_set,
        renewable=counted,
    )
    s = factor_set
    _emission(rows, sid, "Facilities", 3, 1, "stationary_combustion", "facilities", fac * 0.3, factor_set=s)
    _emission(rows, sid, "Refrigerants", 2, 1, "fugitive", "facilities", fac * 0.1, factor_set=s)
    _emission(rows, sid, "Refrigerants", 3, 1, "fugitive", "facilities", fac * 0.02, optional=True, factor_set=s)
    _emission(rows, sid, "AirTravel", 2, 3, "business_travel", "air_travel", air, factor_set=s)
    _emission(rows, sid, "OtherTravel", 2, 3, "business_travel", "other_travel", other * 0.4, factor_set=s)
    _emission(rows, sid, "Vehicles", 2, 1, "mobile_combustion", "other_travel", other * 0.6, factor_set=s)
    if year >= p.offset_from and p.offset_ratio > 0:
        rows.add(
            "offsets",
            submission_id=sid,
            source_row=2,
            standard_code="cer",
            project_id=f"CDM-{sid}",
            serial_range=f"BLOCK-{sid}",
            serial_key=f"BLOCK-{sid}",
            vintage=year - 1,
            quantity_tco2e=total * p.offset_ratio,
            retirement_date=dt.date(year + 1, 3, 1),
        )
    if p.quirk != "no_waste_water":
        waste_t = personnel * p.waste_kg_per_capita / 1000 * (1 - 0.02 * (year - 2019))
        for i, (treatment, share, diverted, stream) in enumerate(TREATMENTS, start=2):
            bonus = 1 + 0.08 * (year - 2019) if diverted else 1.0
            rows.add(
                "waste_activity",
                submission_id=sid,
                source_row=i,
                site="Headquarters",
                country_code="KEN",
                waste_stream_code=stream,
                treatment_code=treatment,
                quantity=waste_t * share * bonus,
                unit_code="tonne",
                data_quality_code="estimated",
                quantity_tonnes=waste_t * share * bonus,
                is_hazardous=stream in ("e_waste", "medical", "hazardous"),
                is_diverted=diverted,
            )
        water = personnel * p.water_m3_per_capita * (1 - 0.01 * (year - 2019))
        rows.add(
            "water_activity",
            submission_id=sid,
            source_row=2,
            site="Headquarters",
            country_code="KEN",
            source_code="municipal",
            volume=water,
            unit_code="m3",
            data_quality_code="measured",
            volume_m3=water,
        )


def build_warehouse(
    path: Path,
    codes: tuple[str, ...] | None = TEST_ENTITIES,
    history_years: range = range(2010, 2019),
    workbook_years: range = range(2019, 2025),
    seed: int = 7,
    awkward: dict[str, str] | None = None,
    never_reporting: tuple[str, ...] = (),
    new_set_from: int | None = None,
) -> Path:
    """Create the warehouse at `path` with `codes` (None: every entity of entities.csv);
    `never_reporting`: entities listed (expected every year) that have no figures at all;
    `new_set_from`: the first year calculated with NEW_FACTOR_SET (None: every year on FACTOR_SET)."""

    def factor_set(year: int) -> str:
        return NEW_FACTOR_SET if new_set_from is not None and year >= new_set_from else FACTOR_SET

    awkward = AWKWARD if awkward is None else awkward
    listed = {r["code"]: r for r in entity_rows()}
    codes = tuple(listed) if codes is None else codes
    rows = _Rows()
    for code in codes + never_reporting:
        row = listed[code]
        quirk = awkward.get(code, "")
        rows.add(
            "entities",
            entity_code=code,
            entity_name=FORMULA_NAME if quirk == "formula_name" else row["name"],
            entity_type=row["entity_type"],
        )
    rows.add(
        "runs",
        run_id=1,
        started_at=STAMP,
        finished_at=STAMP,
        pipeline_version="2025.1.0",
        files_seen=0,
        files_loaded=0,
        files_unchanged=0,
        files_rejected=0,
        submissions_superseded=0,
    )
    for year in list(history_years) + list(workbook_years):
        rows.add("factor_pins", reporting_year=year, factor_set=factor_set(year))
    sid = 0
    for code in codes:
        p = profile(code, seed, awkward.get(code, ""))
        for year in history_years:
            _history(rows, p, year)
        for year in workbook_years:
            if p.quirk == "history_only":
                continue
            if p.quirk == "history_last_year" and year == workbook_years[-1]:
                _history(rows, p, year)
                continue
            sid += 1
            _workbook(rows, p, year, sid, factor_set(year))
    con = connect(Path(path))
    create_views(con)
    try:
        for table, records in rows.tables.items():
            frame = pd.DataFrame.from_records(records)
            con.register("frame", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.unregister("frame")
    finally:
        con.close()
    return Path(path)


if __name__ == "__main__":  # python -m tests.report_fixtures DB: the ~60-entity warehouse, for looking
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "report_fixture.duckdb")
    if target.exists():
        target.unlink()
    build_warehouse(
        target, codes=None, awkward={"UNFCCC": "history_last_year", "ITC": "history_only", "UNICEF": "no_floor_area"}
    )
    print(f"wrote {target}")
