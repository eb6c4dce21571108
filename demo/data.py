"""Deterministic (seeded) demo data: submission workbooks, historical totals and a benchmark set.

`generate(inputs_dir)` writes, for the entities of `schemas/codelists/entities.csv`:

- `history/published_totals_{history_from}_{first_year-1}.csv`: one row per entity and year of
  published totals (the historical totals CSV of the submission contract);
- `submissions/{YEAR}/{ENTITY}_{YEAR}.xlsx`: one full submission workbook per entity and year,
  sheets and headers taken from `schemas.contract`;
- in the last year, a handful of submissions with the mistakes focal points really make (one
  mistake per entity), corrected resubmissions of some of them under
  `resubmissions/{YEAR}/{ENTITY}_{YEAR}_v2.xlsx`, and `submissions/DEMO_MISTAKES.md` listing them.

`generate_benchmark(out_dir)` writes a set of large, valid workbooks for speed measurements.

How the numbers are made. A *calibration model* (`plan_year`) gives every entity and year its
personnel and its emissions by source (facilities, air travel, other travel), waste and water.
Entities differ by profile (peacekeeping, headquarters, field agency, small secretariat, ...),
size and a seeded entity effect; each year the sources are scaled so that the system matches
the magnitudes published in the Greening the Blue reports (`SYSTEM_TARGETS`). The workbook rows
are then drawn so that, priced with the rough `CALIBRATION_*` factors below, they add up to the
plan. Those factors exist only to size the demo data: the pipeline's real calculation uses cited
factor sets and lives elsewhere; nothing should import them for reporting.

Determinism: every entity-year draws from its own random stream derived from (seed, entity,
year), so a workbook's cells do not depend on which other entities or years are generated. The
xlsx files are byte-identical between runs (fixed document properties and zip timestamps).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import math
import random
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path

from openpyxl import Workbook

from pipeline import TEMPLATE_VERSION, codelists, geo
from pipeline.cells import column_letter
from pipeline.xlsx import save_reproducible
from schemas import contract

FIXED_TIMESTAMP = datetime(2025, 1, 1, 0, 0, 0)  # workbook properties and zip entries
SUBMISSIONS_SERIAL_BLOCK = 1  # leading digit of offset serial numbers: demo submissions
BENCHMARK_SERIAL_BLOCK = 2  # ... and the benchmark set, so the two never collide


def _table(text: str) -> list[dict[str, str]]:
    """Parse an embedded '|'-separated table (first line = header) into dicts of stripped strings."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    header = [h.strip() for h in lines[0].split("|")]
    rows = []
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.split("|")]
        assert len(cells) == len(header), f"embedded table row has {len(cells)} cells, expected {len(header)}: {ln!r}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


# =============================================================================================
# CALIBRATION constants: rough emission factors used ONLY to size the demo data.
# Units: kgCO2e per unit of the row. Not cited, not for reporting.
# =============================================================================================

CALIBRATION_FACILITIES_KG_PER_UNIT: dict[tuple[str, str], float] = {
    (r["energy_type"], r["unit"]): float(r["kg"])
    for r in _table(
        """
        energy_type      | unit  | kg
        electricity      | kwh   | 0.45
        electricity      | mwh   | 450
        electricity      | gj    | 125
        district_heating | kwh   | 0.20
        district_heating | mwh   | 200
        district_heating | gj    | 55.6
        district_cooling | kwh   | 0.15
        district_cooling | mwh   | 150
        district_cooling | gj    | 41.7
        natural_gas      | kwh   | 0.18
        natural_gas      | m3    | 1.9
        natural_gas      | gj    | 50
        diesel           | litre | 2.7
        diesel           | kg    | 3.2
        petrol           | litre | 2.3
        petrol           | kg    | 3.1
        heating_oil      | litre | 2.7
        heating_oil      | kg    | 3.2
        lpg              | litre | 1.6
        lpg              | kg    | 3.0
        kerosene         | litre | 2.5
        kerosene         | kg    | 3.1
        coal             | kg    | 2.4
        coal             | tonne | 2400
        wood_biomass     | kg    | 0.05
        wood_biomass     | tonne | 50
        """
    )
}

CALIBRATION_VEHICLES_KG_PER_UNIT: dict[tuple[str, str], float] = {
    (r["fuel"], r["unit"]): float(r["kg"])
    for r in _table(
        """
        fuel              | unit  | kg
        diesel            | litre | 2.7
        diesel            | kg    | 3.2
        petrol            | litre | 2.3
        petrol            | kg    | 3.1
        lpg               | litre | 1.6
        lpg               | kg    | 3.0
        cng               | m3    | 1.9
        jet_fuel          | litre | 2.5
        jet_fuel          | kg    | 3.16
        aviation_gasoline | litre | 2.2
        aviation_gasoline | kg    | 3.1
        marine_diesel     | litre | 2.7
        marine_diesel     | kg    | 3.2
        electricity       | kwh   | 0.45
        """
    )
}

# Rough GWP100 (kgCO2e per kg leaked); HFCs about 2000.
CALIBRATION_REFRIGERANT_GWP: dict[str, float] = {
    "r22": 1810, "r123": 77, "r134a": 1430, "r404a": 3922, "r407c": 1774, "r410a": 2088,
    "r32": 675, "r290": 3, "r600a": 3, "r744": 1, "r717": 0, "sf6": 23500,
}  # fmt: skip

CALIBRATION_AIR_ECONOMY_KG_PER_PKM_SHORT = 0.15  # flights shorter than the threshold below
CALIBRATION_AIR_ECONOMY_KG_PER_PKM_LONG = 0.10
CALIBRATION_AIR_SHORT_HAUL_KM = 3700.0
CALIBRATION_AIR_DETOUR_KM = 50.0  # added to the great-circle distance between two airports
CALIBRATION_AIR_CABIN_MULTIPLIER: dict[str, float] = {
    "economy": 1.0, "premium_economy": 1.6, "business": 2.9, "first": 4.0,
}  # fmt: skip

CALIBRATION_OTHER_TRAVEL_KG_PER_PKM: dict[str, float] = {
    "rail": 0.035, "bus": 0.03, "car_rental": 0.17, "taxi": 0.15, "ferry": 0.11,
}  # fmt: skip

# Conversions used to size rows (not factors).
_KWH_PER_UNIT = {"kwh": 1.0, "mwh": 1000.0, "gj": 277.78}
_TONNE_PER_UNIT = {"kg": 0.001, "tonne": 1.0}
_M3_PER_UNIT = {"m3": 1.0, "litre": 0.001}


# =============================================================================================
# System targets: the magnitudes of the Greening the Blue reports (data years).
# personnel: all reporting entities; per_capita tCO2e; shares of facilities / air / other
# travel; waste kg and water m3 per capita of the entities reporting them.
# =============================================================================================

SYSTEM_TARGETS: dict[int, dict[str, float]] = {
    int(r["year"]): {k: float(v) for k, v in r.items() if k != "year"}
    for r in _table(
        """
        year | personnel | per_capita | facilities | air  | other | waste_kg | water_m3
        2010 | 232000    | 8.30       | 0.44       | 0.42 | 0.14  | 530      | 55
        2011 | 238000    | 8.10       | 0.44       | 0.42 | 0.14  | 535      | 55
        2012 | 244000    | 7.90       | 0.45       | 0.41 | 0.14  | 535      | 54
        2013 | 250000    | 7.70       | 0.45       | 0.41 | 0.14  | 540      | 54
        2014 | 256000    | 7.45       | 0.46       | 0.40 | 0.14  | 540      | 54
        2015 | 261000    | 7.20       | 0.46       | 0.40 | 0.14  | 540      | 53
        2016 | 264000    | 7.15       | 0.46       | 0.42 | 0.12  | 540      | 53
        2017 | 268000    | 7.05       | 0.44       | 0.42 | 0.14  | 540      | 53
        2018 | 286000    | 6.85       | 0.46       | 0.42 | 0.12  | 500      | 52
        2019 | 298000    | 6.50       | 0.43       | 0.45 | 0.12  | 470      | 52
        2020 | 305000    | 5.00       | 0.55       | 0.32 | 0.13  | 380      | 47
        2021 | 307000    | 4.90       | 0.55       | 0.31 | 0.14  | 350      | 48
        2022 | 309000    | 4.60       | 0.47       | 0.38 | 0.15  | 321      | 49
        2023 | 311000    | 4.62       | 0.46       | 0.39 | 0.15  | 315      | 49
        2024 | 312000    | 4.55       | 0.46       | 0.39 | 0.15  | 310      | 50
        2025 | 314000    | 4.50       | 0.46       | 0.39 | 0.15  | 305      | 50
        """
    )
}


def system_target(year: int) -> dict[str, float]:
    """Targets of a year; years outside the table take the nearest year's targets."""
    years = sorted(SYSTEM_TARGETS)
    return SYSTEM_TARGETS[min(max(year, years[0]), years[-1])]


# =============================================================================================
# Entity profiles (raw per-capita magnitudes before the yearly scaling) and the entities.
# =============================================================================================

PROFILES: dict[str, dict[str, float]] = {
    r["profile"]: {k: float(v) for k, v in r.items() if k != "profile"}
    for r in _table(
        """
        # t per capita by source; vehicle_share of other travel; refrigerant_share of facilities;
        # field_sites_per_1000 personnel (country offices, missions)
        profile      | facilities | air  | other | vehicle_share | refrigerant_share | waste_kg | water_m3 | field_sites_per_1000 | coverage_min
        peacekeeping | 13.0       | 1.5  | 3.3   | 0.96          | 0.05              | 900      | 120      | 1.1                  | 90
        hq           | 2.6        | 4.5  | 0.3   | 0.35          | 0.04              | 250      | 30       | 1.5                  | 100
        agency       | 2.0        | 3.0  | 0.7   | 0.70          | 0.04              | 280      | 35       | 2.0                  | 85
        field        | 1.3        | 1.4  | 1.0   | 0.90          | 0.04              | 320      | 40       | 3.0                  | 75
        relief       | 0.9        | 0.15 | 0.45  | 0.90          | 0.03              | 250      | 45       | 0.7                  | 90
        small        | 1.4        | 10.0 | 0.2   | 0.20          | 0.03              | 200      | 20       | 0.0                  | 100
        regional     | 2.4        | 2.2  | 0.3   | 0.60          | 0.04              | 260      | 35       | 3.0                  | 95
        bank         | 3.0        | 6.5  | 0.3   | 0.30          | 0.04              | 300      | 30       | 1.0                  | 95
        light        | 0.8        | 1.0  | 0.3   | 0.60          | 0.03              | 150      | 20       | 1.5                  | 90
        """  # noqa: E501 (an aligned table: one row per line)
    )
}

# One row per code of entities.csv. personnel in 2019, growth %/year, first_year when an entity
# joined the inventory, missing_years it did not report (';'-separated), offset_from the first
# year its emissions were offset (offset_cover: 1 = fully, <1 partly, blank = never), EMS years
# of planning / implementing / meeting the criteria, the EMS standard and whether certified.
_ENTITY_TABLE = """
code       | profile      | hq_airport | hq_city       | hq_country | personnel | growth | first_year | missing_years | offset_from | offset_cover | ems_plan | ems_impl | ems_met | ems_standard | ems_certified | domain
CBD        | small        | YUL        | Montreal      | CAN        | 120       | 1.0    |            |               | 2010        | 1            | 2019     |          |         | none         | no            | cbd.int
CTBTO      | hq           | VIE        | Vienna        | AUT        | 300       | 0.5    |            | 2019          | 2021        | 1            |          |          |         | none         | no            | ctbto.org
DGACM      | hq           | JFK        | New York      | USA        | 1900      | -0.5   |            |               | 2017        | 1            | 2020     |          |         | none         | no            | un.org
DOS        | peacekeeping | JFK        | New York      | USA        | 42000     | 1.0    |            |               | 2018        | 1            | 2016     | 2018     |         | none         | no            | un.org
DPPA       | hq           | JFK        | New York      | USA        | 900       | 1.5    |            |               | 2015        | 1            |          |          |         | none         | no            | un.org
ECA        | regional     | ADD        | Addis Ababa   | ETH        | 1000      | 1.0    |            |               | 2015        | 1            | 2021     |          |         | none         | no            | un.org
ECE        | regional     | GVA        | Geneva        | CHE        | 300       | 0.5    |            |               | 2015        | 1            | 2019     |          |         | none         | no            | un.org
ECLAC      | regional     | SCL        | Santiago      | CHL        | 600       | 0.5    |            |               | 2016        | 1            | 2021     |          |         | none         | no            | un.org
ESCAP      | regional     | BKK        | Bangkok       | THA        | 700       | 0.5    |            |               | 2015        | 1            | 2019     | 2023     |         | iso14001     | no            | un.org
ESCWA      | regional     | BEY        | Beirut        | LBN        | 450       | 1.0    |            |               | 2016        | 1            |          |          |         | none         | no            | un.org
FAO        | agency       | FCO        | Rome          | ITA        | 11500     | 1.5    |            |               | 2018        | 1            | 2018     | 2020     |         | iso14001     | no            | fao.org
IAEA       | hq           | VIE        | Vienna        | AUT        | 2600      | 1.0    |            |               | 2019        | 0.6          | 2015     | 2017     |         | iso14001     | no            | iaea.org
ICAO       | hq           | YUL        | Montreal      | CAN        | 800       | 0.5    |            |               | 2016        | 1            | 2020     |          |         | none         | no            | icao.int
IFAD       | hq           | FCO        | Rome          | ITA        | 700       | 2.0    |            |               | 2014        | 1            | 2020     |          |         | none         | no            | ifad.org
ILO        | agency       | GVA        | Geneva        | CHE        | 3700      | 1.0    |            |               | 2016        | 1            | 2016     | 2018     |         | iso14001     | no            | ilo.org
IMF        | bank         | IAD        | Washington    | USA        | 3100      | 1.0    |            |               | 2018        | 1            | 2014     | 2016     | 2019    | iso14001     | yes           | imf.org
IMO        | hq           | LHR        | London        | GBR        | 300       | 0.3    |            |               | 2014        | 1            |          |          |         | none         | no            | imo.org
IOM        | field        | GVA        | Geneva        | CHE        | 15000     | 5.0    |            |               | 2018        | 1            | 2020     |          |         | none         | no            | iom.int
ITC        | hq           | GVA        | Geneva        | CHE        | 350       | 1.0    |            |               | 2016        | 1            |          |          |         | none         | no            | intracen.org
ITCILO     | small        | TRN        | Turin         | ITA        | 250       | 0.5    |            |               | 2017        | 1            |          |          |         | none         | no            | itcilo.org
ITU        | hq           | GVA        | Geneva        | CHE        | 800       | 0.3    |            |               | 2014        | 1            | 2018     | 2020     |         | none         | no            | itu.int
OCHA       | field        | JFK        | New York      | USA        | 2500      | 3.0    |            |               | 2017        | 1            | 2020     |          |         | none         | no            | un.org
OHCHR      | hq           | GVA        | Geneva        | CHE        | 1400      | 2.0    |            |               | 2015        | 1            |          |          |         | none         | no            | ohchr.org
OPCW       | hq           | AMS        | The Hague     | NLD        | 500       | 0.5    |            |               |             |              | 2021     |          |         | none         | no            | opcw.org
PAHO       | agency       | IAD        | Washington    | USA        | 2200      | 1.0    |            |               |             |              | 2020     |          |         | none         | no            | paho.org
UN-HABITAT | light        | NBO        | Nairobi       | KEN        | 1900      | 1.0    |            |               | 2012        | 1            | 2019     |          |         | none         | no            | un.org
UN-WOMEN   | agency       | JFK        | New York      | USA        | 3500      | 4.0    |            |               | 2016        | 1            | 2020     | 2023     |         | none         | no            | unwomen.org
UNAIDS     | hq           | GVA        | Geneva        | CHE        | 750       | -1.0   |            |               | 2015        | 1            | 2020     |          |         | none         | no            | unaids.org
UNCCD      | small        | CGN        | Bonn          | DEU        | 80        | 1.0    |            |               | 2010        | 1            | 2012     | 2014     | 2020    | emas         | yes           | unccd.int
UNCDF      | light        | JFK        | New York      | USA        | 200       | 2.0    |            | 2013          | 2016        | 1            |          |          |         | none         | no            | uncdf.org
UNCTAD     | hq           | GVA        | Geneva        | CHE        | 500       | 0.0    |            |               | 2015        | 1            | 2021     |          |         | none         | no            | unctad.org
UNDP       | field        | JFK        | New York      | USA        | 20000     | 1.0    |            |               | 2012        | 1            | 2015     | 2018     |         | iso14001     | no            | undp.org
UNDRR      | small        | GVA        | Geneva        | CHE        | 120       | 2.0    |            |               | 2016        | 1            |          |          |         | none         | no            | undrr.org
UNEP       | hq           | NBO        | Nairobi       | KEN        | 1300      | 1.0    |            |               | 2010        | 1            | 2012     | 2016     | 2019    | iso14001     | no            | unep.org
UNESCO     | agency       | CDG        | Paris         | FRA        | 2300      | 0.0    |            |               | 2016        | 1            | 2019     | 2021     |         | iso14001     | no            | unesco.org
UNFCCC     | small        | CGN        | Bonn          | DEU        | 500       | 2.0    |            |               | 2010        | 1            | 2012     | 2014     | 2016    | emas         | yes           | unfccc.int
UNFPA      | field        | JFK        | New York      | USA        | 5000      | 2.0    |            |               | 2014        | 1            | 2020     | 2024     |         | none         | no            | unfpa.org
UNHCR      | field        | GVA        | Geneva        | CHE        | 18000     | 3.0    |            |               | 2015        | 1            | 2019     | 2021     |         | iso14001     | no            | unhcr.org
UNHQ       | hq           | JFK        | New York      | USA        | 6500      | 0.5    |            |               | 2017        | 1            | 2016     | 2019     |         | none         | no            | un.org
UNICC      | hq           | GVA        | Geneva        | CHE        | 500       | 3.0    | 2014       |               | 2017        | 1            |          |          |         | none         | no            | unicc.org
UNICEF     | field        | JFK        | New York      | USA        | 19000     | 2.0    |            |               | 2014        | 1            | 2017     | 2020     |         | iso14001     | no            | unicef.org
UNIDIR     | small        | GVA        | Geneva        | CHE        | 60        | 2.0    |            | 2022          | 2016        | 1            |          |          |         | none         | no            | unidir.org
UNIDO      | agency       | VIE        | Vienna        | AUT        | 1500      | 0.5    |            |               | 2016        | 1            | 2016     | 2019     |         | iso14001     | no            | unido.org
UNITAR     | small        | GVA        | Geneva        | CHE        | 150       | 2.0    |            |               | 2017        | 1            |          |          |         | none         | no            | unitar.org
UNJSPF     | hq           | JFK        | New York      | USA        | 300       | 1.0    |            |               | 2017        | 1            |          |          |         | none         | no            | un.org
UNOG       | hq           | GVA        | Geneva        | CHE        | 1700      | 0.5    |            |               | 2015        | 1            | 2015     | 2017     | 2021    | iso14001     | no            | un.org
UNON       | hq           | NBO        | Nairobi       | KEN        | 1000      | 0.5    |            |               | 2015        | 1            | 2020     |          |         | none         | no            | un.org
UNOPS      | field        | CPH        | Copenhagen    | DNK        | 8000      | 4.0    |            |               | 2012        | 1            | 2011     | 2013     | 2017    | iso14001     | yes           | unops.org
UNOV-UNODC | agency       | VIE        | Vienna        | AUT        | 2800      | 1.5    |            |               | 2017        | 1            | 2019     |          |         | none         | no            | unodc.org
UNRISD     | small        | GVA        | Geneva        | CHE        | 45        | 0.0    |            | 2016;2020     | 2017        | 1            |          |          |         | none         | no            | unrisd.org
UNRWA      | relief       | AMM        | Amman         | JOR        | 28000     | 0.5    |            |               |             |              | 2020     |          |         | none         | no            | unrwa.org
UNSSC      | small        | TRN        | Turin         | ITA        | 70        | 3.0    | 2021       |               | 2021        | 1            |          |          |         | none         | no            | unssc.org
UNU        | small        | HND        | Tokyo         | JPN        | 600       | 1.0    |            |               | 2016        | 1            |          |          |         | none         | no            | unu.edu
UNV        | light        | CGN        | Bonn          | DEU        | 400       | 1.0    |            |               | 2012        | 1            | 2018     | 2020     | 2023    | emas         | yes           | unv.org
UNWTO      | hq           | MAD        | Madrid        | ESP        | 120       | 0.5    |            |               | 2018        | 1            |          |          |         | none         | no            | unwto.org
UPU        | hq           | ZRH        | Bern          | CHE        | 250       | 0.0    |            |               | 2014        | 1            |          |          |         | none         | no            | upu.int
WBG        | bank         | IAD        | Washington    | USA        | 19000     | 1.0    |            |               | 2010        | 1            | 2014     | 2018     | 2024    | none         | no            | worldbank.org
WFP        | field        | FCO        | Rome          | ITA        | 20000     | 3.0    |            |               | 2014        | 1            | 2016     | 2019     |         | iso14001     | no            | wfp.org
WHO        | agency       | GVA        | Geneva        | CHE        | 9500      | 1.5    |            |               | 2018        | 1            | 2017     | 2019     |         | iso14001     | no            | who.int
WIPO       | hq           | GVA        | Geneva        | CHE        | 1500      | 0.5    |            |               | 2014        | 1            | 2013     | 2015     | 2018    | none         | no            | wipo.int
WMO        | hq           | GVA        | Geneva        | CHE        | 350       | 0.0    |            |               | 2014        | 1            | 2019     | 2023     |         | none         | no            | wmo.int
"""  # noqa: E501 (an aligned table: one row per line)


@dataclass(frozen=True)
class EntityProfile:
    code: str
    index: int  # position in entities.csv (serial number namespaces)
    profile: str
    hq_airport: str
    hq_city: str
    hq_country: str
    personnel_2019: int
    growth: float  # fraction per year
    first_year: int | None
    missing_years: frozenset[int]
    offset_from: int | None
    offset_cover: float
    ems_plan: int | None
    ems_impl: int | None
    ems_met: int | None
    ems_standard: str
    ems_certified: bool
    domain: str

    def reports(self, year: int) -> bool:
        return (self.first_year is None or year >= self.first_year) and year not in self.missing_years


def _opt_int(text: str) -> int | None:
    return int(text) if text else None


@cache
def entity_profiles() -> dict[str, EntityProfile]:
    """The demo profile of every entity of entities.csv (loud error if the two lists differ)."""
    reference = codelists.codes("entities")
    rows = {r["code"]: r for r in _table(_ENTITY_TABLE)}
    if set(rows) != set(reference):
        raise ValueError(
            "demo entity table and schemas/codelists/entities.csv differ: "
            f"missing {sorted(set(reference) - set(rows))}, unknown {sorted(set(rows) - set(reference))}"
        )
    out = {}
    for index, code in enumerate(reference):
        r = rows[code]
        out[code] = EntityProfile(
            code=code,
            index=index,
            profile=r["profile"],
            hq_airport=r["hq_airport"],
            hq_city=r["hq_city"],
            hq_country=r["hq_country"],
            personnel_2019=int(r["personnel"]),
            growth=float(r["growth"]) / 100,
            first_year=_opt_int(r["first_year"]),
            missing_years=frozenset(int(y) for y in r["missing_years"].split(";") if y),
            offset_from=_opt_int(r["offset_from"]),
            offset_cover=float(r["offset_cover"] or 0),
            ems_plan=_opt_int(r["ems_plan"]),
            ems_impl=_opt_int(r["ems_impl"]),
            ems_met=_opt_int(r["ems_met"]),
            ems_standard=r["ems_standard"],
            ems_certified=r["ems_certified"] == "yes",
            domain=r["domain"],
        )
        assert out[code].profile in PROFILES, f"{code}: unknown demo profile {out[code].profile}"
    return out


# =============================================================================================
# Places: duty-station countries (ISO3, main airport, city), peacekeeping missions, airports.
# =============================================================================================

# Countries where field entities have offices; weight = how often field entities operate there.
_FIELD_COUNTRIES = """
country | airport | city          | weight
KEN     | NBO     | Nairobi       | 5
ETH     | ADD     | Addis Ababa   | 5
SSD     | JUB     | Juba          | 5
SDN     | KRT     | Khartoum      | 4
COD     | FIH     | Kinshasa      | 5
CAF     | BGF     | Bangui        | 3
MLI     | BKO     | Bamako        | 3
SOM     | MGQ     | Mogadishu     | 4
NGA     | ABV     | Abuja         | 4
SEN     | DKR     | Dakar         | 4
UGA     | EBB     | Kampala       | 4
TZA     | DAR     | Dar es Salaam | 3
ZAF     | JNB     | Pretoria      | 3
MOZ     | MPM     | Maputo        | 3
ZWE     | HRE     | Harare        | 2
ZMB     | LUN     | Lusaka        | 2
MWI     | LLW     | Lilongwe      | 2
CMR     | NSI     | Yaounde       | 3
TCD     | NDJ     | N'Djamena     | 3
NER     | NIM     | Niamey        | 3
BFA     | OUA     | Ouagadougou   | 3
CIV     | ABJ     | Abidjan       | 3
GHA     | ACC     | Accra         | 2
LBR     | ROB     | Monrovia      | 2
SLE     | FNA     | Freetown      | 2
GIN     | CKY     | Conakry       | 2
MDG     | TNR     | Antananarivo  | 2
RWA     | KGL     | Kigali        | 2
BDI     | BJM     | Bujumbura     | 2
DJI     | JIB     | Djibouti      | 1
ERI     | ASM     | Asmara        | 1
NAM     | WDH     | Windhoek      | 1
BWA     | GBE     | Gaborone      | 1
EGY     | CAI     | Cairo         | 3
MAR     | RBA     | Rabat         | 2
TUN     | TUN     | Tunis         | 2
LBY     | TIP     | Tripoli       | 2
JOR     | AMM     | Amman         | 4
LBN     | BEY     | Beirut        | 4
SYR     | DAM     | Damascus      | 4
IRQ     | EBL     | Erbil         | 4
YEM     | ADE     | Aden          | 4
TUR     | ESB     | Ankara        | 3
AFG     | KBL     | Kabul         | 4
PAK     | ISB     | Islamabad     | 3
IND     | DEL     | New Delhi     | 3
BGD     | DAC     | Dhaka         | 4
NPL     | KTM     | Kathmandu     | 2
LKA     | CMB     | Colombo       | 2
MMR     | RGN     | Yangon        | 3
THA     | BKK     | Bangkok       | 3
KHM     | KTI     | Phnom Penh    | 2
LAO     | VTE     | Vientiane     | 1
VNM     | HAN     | Hanoi         | 2
IDN     | CGK     | Jakarta       | 2
PHL     | MNL     | Manila        | 3
MNG     | UBN     | Ulaanbaatar   | 1
CHN     | PEK     | Beijing       | 1
PNG     | POM     | Port Moresby  | 1
FJI     | SUV     | Suva          | 1
HTI     | PAP     | Port-au-Prince| 3
COL     | BOG     | Bogota        | 3
PER     | LIM     | Lima          | 2
BOL     | LPB     | La Paz        | 2
ECU     | UIO     | Quito         | 2
GTM     | GUA     | Guatemala City| 2
HND     | TGU     | Tegucigalpa   | 2
PAN     | PTY     | Panama City   | 3
BRA     | BSB     | Brasilia      | 2
MEX     | MEX     | Mexico City   | 2
VEN     | CCS     | Caracas       | 2
UKR     | KBP     | Kyiv          | 3
GEO     | TBS     | Tbilisi       | 1
ARM     | EVN     | Yerevan       | 1
TJK     | DYU     | Dushanbe      | 1
UZB     | TAS     | Tashkent      | 1
KAZ     | NQZ     | Astana        | 1
SRB     | BEG     | Belgrade      | 1
BIH     | SJJ     | Sarajevo      | 1
MDA     | RMO     | Chisinau      | 1
PSE     | TLV     | Gaza          | 2
"""

# Peacekeeping and political missions of the DOS entity: mission, country, airport, sites
# (';'-separated), relative size, last year of operation (blank: still running).
_MISSIONS = """
mission  | country | airport | sites                                        | size | until
MINUSMA  | MLI     | BKO     | Bamako;Gao;Timbuktu;Kidal;Mopti             | 12   | 2023
MONUSCO  | COD     | GOM     | Kinshasa;Goma;Bunia;Beni;Bukavu              | 14   |
UNMISS   | SSD     | JUB     | Juba;Malakal;Bentiu;Wau;Bor                  | 14   |
MINUSCA  | CAF     | BGF     | Bangui;Bria;Kaga-Bandoro;Bouar               | 11   |
UNIFIL   | LBN     | BEY     | Naqoura;Tyre;Marjayoun                       | 9    |
UNFICYP  | CYP     | LCA     | Nicosia                                      | 1.5  |
UNISFA   | SDN     | KRT     | Abyei;Kadugli                                | 3    |
UNDOF    | SYR     | DAM     | Camp Faouar                                  | 1    |
MINURSO  | ESH     | EUN     | Laayoune;Smara                               | 1    |
UNTSO    | ISR     | TLV     | Jerusalem                                    | 0.7  |
UNMOGIP  | PAK     | ISB     | Islamabad                                    | 0.3  |
UNSOS    | SOM     | MGQ     | Mogadishu;Baidoa;Kismayo                     | 8    |
UNSOS-KE | KEN     | MBA     | Mombasa                                      | 1    |
UNAMA    | AFG     | KBL     | Kabul;Herat;Mazar-i-Sharif                   | 3    |
UNAMI    | IRQ     | EBL     | Baghdad;Erbil                                | 2    |
UNMHA    | YEM     | HOD     | Hodeidah                                     | 0.5  |
RSCE     | UGA     | EBB     | Entebbe                                      | 2    |
UNGSC    | ITA     | BDS     | Brindisi                                     | 1.5  |
UNGSC-VL | ESP     | VLC     | Valencia                                     | 0.5  |
"""

# Regional and liaison offices of headquarters entities.
_HUB_OFFICES = [
    "GVA",
    "JFK",
    "NBO",
    "BKK",
    "ADD",
    "PTY",
    "SCL",
    "BEY",
    "DKR",
    "VIE",
    "JNB",
    "CAI",
    "AMM",
    "DEL",
    "BRU",
    "IAD",
]

# Major airports for air-travel destinations; weight = how often UN business travel goes there.
_MAJOR_AIRPORTS = """
JFK:10 GVA:10 NBO:8 VIE:6 FCO:6 BKK:6 ADD:6 CDG:5 BRU:4 LHR:4 FRA:4 DXB:4 IAD:4 AMM:4 CPH:3
DKR:3 JNB:3 PTY:3 CAI:3 IST:3 DEL:3 SCL:2 PEK:2 NRT:2 BOG:2 GRU:2 ACC:2 ABJ:2 EBB:2 KGL:2
DAR:2 BEY:2 DOH:2 MAD:2 AMS:2 ZRH:2 MUC:2 CGN:2 YUL:2 MEX:2 LIM:2 SIN:2 MNL:2 CGK:2 ISB:2
EWR BOS ORD ATL LAX SFO SEA MIA DFW IAH DEN YYZ YVR YOW CUN GUA SAL TGU SJO MDE UIO GYE LPB
VVI EZE MVD ASU GIG BSB CCS HAV SDQ PAP KIN POS BGI MGA BSL MXP TRN BDS NAP ORY LYS NCE LGW
MAN EDI DUB DUS BER HAM ARN OSL HEL BCN VLC LIS OPO ATH SAW ESB WAW PRG BUD OTP SOF BEG ZAG
LJU SJJ TIA SKP KBP RMO RIX TLL VNO MLA LCA TBS EVN GYD MBA JUB KRT FIH GOM BGF BKO LOS ABV
NIM OUA NDJ NSI DLA LBV BZV BJM ZNZ JRO LUN LLW HRE CPT DUR MPM TNR WDH GBE MRU SEZ TUN ALG
CMN RBA RAK TIP MGQ HGA JIB ASM ROB FNA CKY BJL NKC COO LFW AUH BAH KWI RUH JED DAM EBL TLV
MCT ADE HOD THR BOM MAA BLR CCU KTM DAC CMB KHI LHE KBL TAS ALA NQZ DYU ASB DMK HAN SGN KTI
VTE RGN KUL DPS CEB PVG CAN HKG ICN HND KIX UBN TPE SYD MEL BNE AKL WLG NAN SUV POM EUN TOM
"""


@dataclass(frozen=True)
class Site:
    name: str
    country: str
    airport: str
    kind: str  # hq_cold, hq_warm, office, camp
    weight: float


_COLD_COUNTRIES = frozenset(["CHE", "AUT", "DEU", "FRA", "ITA", "GBR", "DNK", "NLD", "CAN", "USA", "JPN", "ESP", "BEL"])


@cache
def _places() -> tuple[dict[str, dict[str, str]], list[dict[str, str]], dict[str, float]]:
    """(field countries by ISO3, missions, destination airports with weights), all checked."""
    countries = set(codelists.codes("countries"))
    ports = codelists.airports()
    field_rows = {r["country"]: r for r in _table(_FIELD_COUNTRIES)}
    missions = _table(_MISSIONS)
    destinations: dict[str, float] = {}
    for token in _MAJOR_AIRPORTS.split():
        code, _, weight = token.partition(":")
        destinations[code] = float(weight or 1)
    problems = [f"country {c}" for c in list(field_rows) + [m["country"] for m in missions] if c not in countries]
    problems += [
        f"airport {a}"
        for a in [r["airport"] for r in field_rows.values()]
        + [m["airport"] for m in missions]
        + list(destinations)
        + _HUB_OFFICES
        + [p.hq_airport for p in entity_profiles().values()]
        if a not in ports
    ]
    problems += [f"country {p.hq_country}" for p in entity_profiles().values() if p.hq_country not in countries]
    if problems:
        raise ValueError(f"demo places not in the reference lists: {sorted(set(problems))}")
    return field_rows, missions, destinations


# =============================================================================================
# Seeded random streams
# =============================================================================================


def _rng(seed: int, *keys: object) -> random.Random:
    """An independent random stream for (seed, keys): stable across runs and Python versions."""
    digest = hashlib.sha256("|".join(map(str, (seed, *keys))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _lognormal(rng: random.Random, sigma: float) -> float:
    """Mean-one log-normal multiplier."""
    return math.exp(rng.gauss(0.0, sigma) - sigma * sigma / 2)


def _split(rng: random.Random, total: float, weights: Sequence[float]) -> list[float]:
    s = sum(weights)
    return [total * w / s for w in weights] if s > 0 else [0.0 for _ in weights]


# =============================================================================================
# The calibration model: every entity's footprint by year
# =============================================================================================


@dataclass(frozen=True)
class EntityYearPlan:
    entity: str
    year: int
    personnel: int
    coverage_percent: float
    facilities_tco2e: float  # including HFC refrigerants
    refrigerants_tco2e: float  # HFC part of facilities
    air_travel_tco2e: float
    other_travel_tco2e: float  # vehicles + other travel
    vehicles_tco2e: float
    waste_tonnes: float | None  # None: the entity does not report waste that year
    water_m3: float | None
    offset_ratio: float  # offsets / total (0: none, < 1 partly, > 1 fully offset with a margin)
    ems_status: str
    ems_standard: str

    @property
    def total_tco2e(self) -> float:
        return self.facilities_tco2e + self.air_travel_tco2e + self.other_travel_tco2e


def _ems(p: EntityProfile, year: int) -> tuple[str, str]:
    if p.ems_met is not None and year >= p.ems_met:
        return ("certified" if p.ems_certified else "implemented"), p.ems_standard
    if p.ems_impl is not None and year >= p.ems_impl:
        return "implementing", p.ems_standard
    if p.ems_plan is not None and year >= p.ems_plan:
        return "planning", "none"
    return "none", "none"


def _reports_resource(seed: int, p: EntityProfile, resource: str, year: int) -> bool:
    """Waste and water reporting starts in a seeded year per entity; a few never report it."""
    rng = _rng(seed, "resource-from", p.code, resource)
    u = rng.random()
    if u < 0.06:
        return False  # never reports it
    start = 2010 + int(rng.random() * (9 if resource == "waste" else 11))
    if p.profile in ("peacekeeping", "field", "hq", "agency") and p.personnel_2019 > 5000:
        start = min(start, 2012)
    return year >= start


@cache
def plan_year(seed: int, year: int) -> dict[str, EntityYearPlan]:
    """The calibration model for one year: the plan of every entity reporting that year."""
    target = system_target(year)
    profiles = [p for p in entity_profiles().values() if p.reports(year)]
    raw: dict[str, dict[str, float]] = {}
    for p in profiles:
        fixed = _rng(seed, "entity-effect", p.code)
        effect = {k: _lognormal(fixed, 0.3) for k in ("facilities", "air", "other", "waste_kg", "water_m3")}
        trend = fixed.uniform(-0.035, -0.005)
        yearly = _rng(seed, "entity-year", p.code, year)
        personnel = p.personnel_2019 * (1 + p.growth) ** (year - 2019) * _lognormal(yearly, 0.02)
        prof = PROFILES[p.profile]
        r = {"personnel": personnel}
        for k in ("facilities", "air", "other"):
            r[k] = personnel * prof[k] * effect[k] * (1 + trend) ** (year - 2019) * _lognormal(yearly, 0.06)
        for k in ("waste_kg", "water_m3"):
            r[k] = personnel * prof[k] * effect[k] * _lognormal(yearly, 0.05)
        r["coverage"] = min(100.0, prof["coverage_min"] + (100 - prof["coverage_min"]) * yearly.random())
        r["refrigerant_share"] = prof["refrigerant_share"] * _lognormal(yearly, 0.2)
        # the noise is on what is not vehicles: where vehicles are 90 % of other travel, 5 % noise
        # on the share would move the rest (taxis, rail, buses) threefold from year to year
        r["vehicle_share"] = min(0.99, 1 - (1 - prof["vehicle_share"]) * _lognormal(yearly, 0.08))
        r["offset_margin"] = yearly.uniform(1.03, 1.12)
        raw[p.code] = r

    personnel_scale = target["personnel"] / sum(r["personnel"] for r in raw.values())
    personnel = {c: max(1, round(r["personnel"] * personnel_scale)) for c, r in raw.items()}
    total_people = sum(personnel.values())
    total_t = target["per_capita"] * total_people
    scale = {k: total_t * target[k] / sum(r[k] for r in raw.values()) for k in ("facilities", "air", "other")}
    waste_reporters = [c for c in raw if _reports_resource(seed, entity_profiles()[c], "waste", year)]
    water_reporters = [c for c in raw if _reports_resource(seed, entity_profiles()[c], "water", year)]
    waste_scale = (
        target["waste_kg"]
        * sum(personnel[c] for c in waste_reporters)
        / sum(raw[c]["waste_kg"] for c in waste_reporters)
        if waste_reporters
        else 0.0
    )
    water_scale = (
        target["water_m3"]
        * sum(personnel[c] for c in water_reporters)
        / sum(raw[c]["water_m3"] for c in water_reporters)
        if water_reporters
        else 0.0
    )

    out = {}
    for p in profiles:
        r = raw[p.code]
        facilities = r["facilities"] * scale["facilities"]
        other = r["other"] * scale["other"]
        if p.offset_from is not None and year >= p.offset_from:
            ratio = r["offset_margin"] if p.offset_cover >= 1 else p.offset_cover
        else:
            ratio = 0.0
        status, standard = _ems(p, year)
        out[p.code] = EntityYearPlan(
            entity=p.code,
            year=year,
            personnel=personnel[p.code],
            coverage_percent=round(r["coverage"], 1),
            facilities_tco2e=facilities,
            refrigerants_tco2e=facilities * r["refrigerant_share"],
            air_travel_tco2e=r["air"] * scale["air"],
            other_travel_tco2e=other,
            vehicles_tco2e=other * r["vehicle_share"],
            waste_tonnes=r["waste_kg"] * waste_scale / 1000 if p.code in waste_reporters else None,
            water_m3=r["water_m3"] * water_scale if p.code in water_reporters else None,
            offset_ratio=ratio,
            ems_status=status,
            ems_standard=standard,
        )
    return out


# =============================================================================================
# Submissions in memory (canonical values), and their calibration footprint
# =============================================================================================

Row = dict[str, object]


@dataclass
class Submission:
    """One entity-year's data, canonical values (lower-case codes, numbers, dates)."""

    entity: str
    year: int
    fields: dict[str, dict[str, object]]  # Field/Value sheets: sheet -> field -> value
    tables: dict[str, list[Row]]  # table sheets: sheet -> rows keyed by contract column names


@dataclass(frozen=True)
class Footprint:
    """A submission priced with the CALIBRATION factors (for sizing and checking demo data)."""

    personnel: int
    facilities_tco2e: float
    air_travel_tco2e: float
    other_travel_tco2e: float
    optional_tco2e: float
    offsets_tco2e: float
    waste_tonnes: float | None
    water_m3: float | None

    @property
    def total_tco2e(self) -> float:
        return self.facilities_tco2e + self.air_travel_tco2e + self.other_travel_tco2e


def _new_row(sheet: str, **values: object) -> Row:
    """A row with every contract column of `sheet` (None where not given); unknown keys fail loudly."""
    names = contract.sheet(sheet).names
    unknown = set(values) - set(names)
    if unknown:
        raise KeyError(f"demo row for sheet {sheet} has columns not in the contract: {sorted(unknown)}")
    return {name: values.get(name) for name in names}


@cache
def great_circle_km(a: str, b: str) -> float:
    ports = codelists.airports()
    (lat1, lon1), (lat2, lon2) = ports[a], ports[b]
    return float(geo.great_circle_km(lat1, lon1, lat2, lon2))


def flight_kg(origin: str | None, destination: str | None, distance_km: float | None, cabin: str) -> float:
    """CALIBRATION kgCO2e of one passenger on one one-way flight."""
    km = (
        great_circle_km(origin, destination) + CALIBRATION_AIR_DETOUR_KM
        if origin and destination
        else float(distance_km or 0)
    )
    per_pkm = (
        CALIBRATION_AIR_ECONOMY_KG_PER_PKM_SHORT
        if km < CALIBRATION_AIR_SHORT_HAUL_KM
        else CALIBRATION_AIR_ECONOMY_KG_PER_PKM_LONG
    )
    return km * per_pkm * CALIBRATION_AIR_CABIN_MULTIPLIER[cabin]


def footprint(tables: dict[str, list[Row]], personnel: int) -> Footprint:
    """Price canonical rows with the CALIBRATION factors (HCFC refrigerants as optional emissions)."""
    hcfc = codelists.flag("refrigerant_gas", "is_hcfc")
    fac = sum(
        CALIBRATION_FACILITIES_KG_PER_UNIT[(r["energy_type"], r["unit"])] * float(r["quantity"])
        for r in tables.get("Facilities", [])
    )
    ref = opt = 0.0
    for r in tables.get("Refrigerants", []):
        kg = CALIBRATION_REFRIGERANT_GWP[r["gas"]] * float(r["refilled_kg"])
        if r["gas"] in hcfc:
            opt += kg
        else:
            ref += kg
    veh = sum(
        CALIBRATION_VEHICLES_KG_PER_UNIT[(r["fuel"], r["unit"])] * float(r["quantity"])
        for r in tables.get("Vehicles", [])
    )
    oth = sum(
        CALIBRATION_OTHER_TRAVEL_KG_PER_PKM[r["mode"]] * float(r["passenger_km"]) for r in tables.get("OtherTravel", [])
    )
    air = sum(
        flight_kg(r["origin"], r["destination"], r["distance_km"], r["cabin_class"])
        * int(r["trips"])
        * (2 if r["round_trip"] == "yes" else 1)
        for r in tables.get("AirTravel", [])
    )
    waste_rows = tables.get("Waste", [])
    water_rows = tables.get("Water", [])
    return Footprint(
        personnel=personnel,
        facilities_tco2e=(fac + ref) / 1000,
        air_travel_tco2e=air / 1000,
        other_travel_tco2e=(veh + oth) / 1000,
        optional_tco2e=opt / 1000,
        offsets_tco2e=sum(float(r["quantity_tco2e"]) for r in tables.get("Offsets", [])),
        waste_tonnes=sum(float(r["quantity"]) * _TONNE_PER_UNIT[r["unit"]] for r in waste_rows) if waste_rows else None,
        water_m3=sum(float(r["volume"]) * _M3_PER_UNIT[r["unit"]] for r in water_rows) if water_rows else None,
    )


def submission_footprint(sub: Submission) -> Footprint:
    return footprint(sub.tables, int(sub.fields["Entity"]["personnel"]))


# ---------------------------------------------------------------------------------------------
# Sites of an entity (stable across years; each year some field sites do not report)
# ---------------------------------------------------------------------------------------------


@cache
def entity_sites(seed: int, entity: str) -> tuple[Site, ...]:
    """The headquarters, then by profile: the missions' sites (peacekeeping), the field offices
    and their schools and health centres (relief), or liaison offices and country offices."""
    p = entity_profiles()[entity]
    field_rows, missions, _ = _places()
    rng = _rng(seed, "sites", entity)
    hq_kind = "hq_cold" if p.hq_country in _COLD_COUNTRIES else "hq_warm"
    sites = [Site(f"{entity} headquarters, {p.hq_city}", p.hq_country, p.hq_airport, hq_kind, 1.0)]
    if p.profile == "peacekeeping":
        return tuple(sites + _mission_sites(missions))
    if p.profile == "relief":
        return tuple(sites + _relief_sites(entity, field_rows, rng))
    n_field = int(round(p.personnel_2019 / 1000 * PROFILES[p.profile]["field_sites_per_1000"]))
    if p.profile in ("hq", "regional", "bank", "light", "agency") and n_field:
        liaison = _liaison_offices(entity, p, rng, n_field)
        sites += liaison
        n_field -= len(liaison)
    if n_field > 0:
        sites += _country_offices(entity, p, field_rows, rng, n_field)
    return tuple(sites)


def _mission_sites(missions: list[dict[str, str]]) -> list[Site]:
    """Every mission's headquarters and team sites, its size shared among them (headquarters weigh more)."""
    sites = []
    for m in missions:
        names = m["sites"].split(";")
        for i, town in enumerate(names):
            label = "mission headquarters" if i == 0 else "team site"
            sites.append(
                Site(
                    f"{m['mission']} {label} {town}",
                    m["country"],
                    m["airport"],
                    "camp",
                    float(m["size"]) / len(names) * (1.6 if i == 0 else 1.0),
                )
            )
    return sites


def _relief_sites(entity: str, field_rows: dict[str, dict[str, str]], rng: random.Random) -> list[Site]:
    """Field offices across the region, each with three areas of schools and health centres."""
    sites = []
    for country, fields in (
        ("JOR", ("Amman", "Zarqa", "Irbid")),
        ("LBN", ("Beirut", "Saida", "Tyre")),
        ("SYR", ("Damascus", "Aleppo")),
        ("PSE", ("Gaza", "Jerusalem", "Nablus", "Hebron")),
    ):
        airport = field_rows[country]["airport"]
        for town in fields:
            sites.append(Site(f"{entity} field office {town}", country, airport, "office", _lognormal(rng, 0.4)))
            for k in range(1, 4):
                sites.append(
                    Site(
                        f"{entity} schools and health centres {town} area {k}",
                        country,
                        airport,
                        "office",
                        0.6 * _lognormal(rng, 0.4),
                    )
                )
    return sites


def _liaison_offices(entity: str, p: EntityProfile, rng: random.Random, n_field: int) -> list[Site]:
    """A third of the `n_field` field sites (at least one) as liaison offices in other hubs."""
    hubs = [h for h in _HUB_OFFICES if h != p.hq_airport]
    rng.shuffle(hubs)
    sites = []
    for airport in hubs[: min(len(hubs), max(1, n_field // 3))]:
        country = _airport_country(airport)
        kind = "hq_cold" if country in _COLD_COUNTRIES else "office"
        sites.append(
            Site(
                f"{entity} liaison office {_airport_city(airport)}",
                country,
                airport,
                kind,
                0.12 * _lognormal(rng, 0.3),
            )
        )
    return sites


def _country_offices(
    entity: str, p: EntityProfile, field_rows: dict[str, dict[str, str]], rng: random.Random, n_field: int
) -> list[Site]:
    """Up to `n_field` country offices in distinct countries (drawn by weight), large entities with sub-offices."""
    pool = [c for c in field_rows if c != p.hq_country]
    weights = [float(field_rows[c]["weight"]) for c in pool]
    chosen: list[str] = []
    while len(chosen) < min(n_field, len(pool)):
        c = rng.choices(pool, weights)[0]
        if c not in chosen:
            chosen.append(c)
    field_weight = {"field": 8.0, "agency": 2.0, "light": 1.5}.get(p.profile, 0.5)  # all field sites vs HQ = 1
    sites = []
    for c in chosen:
        row = field_rows[c]
        w = _lognormal(rng, 0.6) * field_weight / len(chosen)
        sites.append(Site(f"{entity} country office {row['city']}", c, row["airport"], "office", w))
        for k in range(rng.choice((0, 0, 1, 2)) if p.personnel_2019 > 5000 else 0):
            sites.append(Site(f"{entity} sub-office {row['city']} {k + 1}", c, row["airport"], "office", w * 0.3))
    return sites


@cache
def _airport_info() -> dict[str, tuple[str, str]]:
    """IATA -> (city, ISO3 country) for the airports the demo uses."""
    import airportsdata

    alpha2 = {row["alpha_2"]: row["code"] for row in codelists.table("countries")}
    data = airportsdata.load("IATA")
    return {code: (a["city"] or a["name"], alpha2.get(a["country"], "")) for code, a in data.items()}


def _airport_country(code: str) -> str:
    return _airport_info()[code][1]


def _airport_city(code: str) -> str:
    known = {"JFK": "New York", "IAD": "Washington", "GVA": "Geneva", "CGN": "Bonn", "ZRH": "Bern"}
    return known.get(code) or _airport_info()[code][0]


def _active_sites(seed: int, entity: str, year: int) -> list[Site]:
    """The sites reporting in `year`: headquarters always, field sites mostly (coverage gaps)."""
    missions = {m["mission"]: m for m in _places()[1]}
    out = []
    for i, s in enumerate(entity_sites(seed, entity)):
        if i == 0:
            out.append(s)
            continue
        mission = missions.get(s.name.split(" ")[0])
        if mission and mission["until"] and year > int(mission["until"]):
            continue  # mission closed
        if _rng(seed, "site-reports", entity, year, s.name).random() < 0.92:
            out.append(s)
    return out


def _expand(sites: list[Site], count: int) -> list[Site]:
    """At least `count` sites: split sites into numbered blocks (benchmark-sized workbooks)."""
    if count <= len(sites):
        return sites
    copies = math.ceil(count / len(sites))
    return [
        replace(s, name=s.name if k == 0 else f"{s.name}, block {k + 1}", weight=s.weight / copies)
        for k in range(copies)
        for s in sites
    ]


# ---------------------------------------------------------------------------------------------
# Row builders: each returns canonical rows for one sheet. `n` asks for about n rows (benchmark)
# ---------------------------------------------------------------------------------------------

_ENERGY_MIX_ROWS = _table(
    """
    # share: of the site's stationary emissions; keep: probability that a site has this carrier
    kind    | energy_type      | share | keep
    hq_cold | electricity      | 0.55  | 1
    hq_cold | natural_gas      | 0.28  | 0.8
    hq_cold | district_heating | 0.10  | 0.5
    hq_cold | heating_oil      | 0.04  | 0.3
    hq_cold | diesel           | 0.03  | 0.6
    hq_warm | electricity      | 0.78  | 1
    hq_warm | diesel           | 0.15  | 0.9
    hq_warm | lpg              | 0.04  | 0.5
    hq_warm | district_cooling | 0.03  | 0.2
    office  | electricity      | 0.55  | 1
    office  | diesel           | 0.38  | 0.8
    office  | lpg              | 0.04  | 0.4
    office  | kerosene         | 0.03  | 0.2
    camp    | diesel           | 0.86  | 1
    camp    | electricity      | 0.08  | 0.8
    camp    | lpg              | 0.03  | 0.6
    camp    | kerosene         | 0.02  | 0.3
    camp    | wood_biomass     | 0.01  | 0.1
    """
)
_ENERGY_MIX: dict[str, list[tuple[str, float, float]]] = {}
for _r in _ENERGY_MIX_ROWS:
    _ENERGY_MIX.setdefault(_r["kind"], []).append((_r["energy_type"], float(_r["share"]), float(_r["keep"])))

_GREEN_CONTRACT_COUNTRIES = frozenset(["CHE", "AUT", "DNK", "DEU", "FRA", "ITA", "ESP", "NLD", "GBR"])


def _quality(rng: random.Random, kind: str) -> str:
    return "estimated" if rng.random() < (0.15 if kind.startswith("hq") else 0.4) else "measured"


def _round_quantity(value: float, unit: str) -> float | int:
    """Whole numbers for small units, one decimal for large ones; never zero for a reported row."""
    if unit in ("mwh", "gj", "tonne"):
        return max(0.1, round(value, 1))
    return max(1, int(round(value)))


def _facilities(ctx: _Ctx, target_t: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    sites = ctx.sites if n is None else _expand(ctx.sites, math.ceil(n / 3))
    pairs: list[tuple[Site, str, float]] = []
    for s in sites:
        shape = ctx.shape("Facilities", s.name)
        mix = [
            (e, share * _lognormal(shape, 0.25) * _lognormal(rng, 0.08))
            for e, share, keep in _ENERGY_MIX[s.kind]
            if shape.random() < keep or keep >= 1 or n is not None
        ]
        for e, share in mix:
            pairs.append((s, e, s.weight * share))
    if n is not None:
        pairs = sorted(pairs, key=lambda t: -t[2])[:n]
    rows = []
    for (s, energy, _), t in zip(pairs, _split(rng, target_t, [w for _, _, w in pairs]), strict=True):
        unit = _facility_unit(rng, energy, t)
        qty = _round_quantity(t * 1000 / CALIBRATION_FACILITIES_KG_PER_UNIT[(energy, unit)], unit)
        renewable = None
        if energy == "electricity":
            kwh = qty * _KWH_PER_UNIT[unit]
            if s.country in _GREEN_CONTRACT_COUNTRIES and s.kind == "hq_cold":
                renewable = int(kwh * rng.uniform(0.3, 1.0))
            elif s.kind in ("camp", "office", "hq_warm") and rng.random() < 0.3:
                renewable = int(kwh * rng.uniform(0.02, 0.25))
            elif rng.random() < 0.2:
                renewable = 0
        rows.append(
            _new_row(
                "Facilities",
                site=s.name,
                country=s.country,
                energy_type=energy,
                quantity=qty,
                unit=unit,
                renewable_kwh=renewable,
                data_quality=_quality(rng, s.kind),
            )
        )
    return rows


def _facility_unit(rng: random.Random, energy: str, t: float) -> str:
    allowed = codelists.allowed_units("facilities_unit")[energy]
    u = rng.random()
    if energy == "electricity":
        return "mwh" if (t > 900 and u < 0.5) or u < 0.03 else ("gj" if u > 0.98 else "kwh")
    if energy.startswith("district_"):
        return "mwh" if u < 0.4 else "kwh"
    if energy == "natural_gas":
        return "m3" if u < 0.6 else ("kwh" if u < 0.95 else "gj")
    if energy == "lpg":
        return "kg" if u < 0.6 else "litre"
    if energy in ("coal", "wood_biomass"):
        return "tonne" if t > 5 else "kg"
    return "litre" if u < 0.95 or "kg" not in allowed else "kg"


_REFRIGERANT_MIX = [
    ("r410a", 40),
    ("r134a", 20),
    ("r407c", 10),
    ("r404a", 8),
    ("r32", 8),
    ("r290", 1),
    ("r600a", 1),
    ("r744", 0.5),
    ("sf6", 0.3),
]


def _refrigerants(ctx: _Ctx, target_t: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    sites = ctx.sites if n is None else _expand(ctx.sites, n)
    chosen = [
        s for i, s in enumerate(sites) if i == 0 or n is not None or ctx.shape("Refrigerants", s.name).random() < 0.4
    ]
    if n is not None:
        chosen = chosen[:n]
    specs: list[tuple[Site, str, float]] = []
    gases, weights = zip(*_REFRIGERANT_MIX, strict=True)
    for s in chosen:
        shape = ctx.shape("Refrigerants", s.name, "gases")
        for _ in range(1 if n is not None else shape.choice((1, 1, 2))):
            gas = shape.choices(gases, weights)[0]
            if gas == "sf6" and not s.kind.startswith("hq"):
                gas = "r410a"
            specs.append((s, gas, s.weight * _lognormal(shape, 0.5) * _lognormal(rng, 0.3)))
    rows = []
    for (s, gas, _), t in zip(specs, _split(rng, target_t, [w for _, _, w in specs]), strict=True):
        gwp = CALIBRATION_REFRIGERANT_GWP[gas]
        kg = t * 1000 / gwp if gwp > 10 else rng.uniform(0.5, 20)
        rows.append(
            _new_row(
                "Refrigerants",
                site=s.name,
                country=s.country,
                gas=gas,
                refilled_kg=max(0.1, round(kg, 1)),
                data_quality=_quality(rng, s.kind),
            )
        )
    # Old R-22 (HCFC) equipment in field premises: optional emissions, outside the total.
    for s in chosen:
        if not s.kind.startswith("hq") and ctx.shape("Refrigerants", s.name, "r22").random() < 0.25:
            rows.append(
                _new_row(
                    "Refrigerants",
                    site=s.name,
                    country=s.country,
                    gas="r22",
                    refilled_kg=round(
                        ctx.shape("Refrigerants", s.name, "r22-kg").uniform(2, 60) * _lognormal(rng, 0.3), 1
                    ),
                    data_quality="estimated",
                )
            )
    if n is not None:
        rows = rows[:n]
    return rows


_VEHICLE_MIX = {
    kind: [(r["vehicle_type"], r["fuel"], float(r["share"])) for r in _table(text)]
    for kind, text in {
        "peacekeeping": """
            vehicle_type | fuel              | share
            aircraft     | jet_fuel          | 0.35
            helicopter   | jet_fuel          | 0.20
            suv          | diesel            | 0.18
            truck        | diesel            | 0.14
            van          | diesel            | 0.04
            bus          | diesel            | 0.03
            boat         | marine_diesel     | 0.02
            car          | petrol            | 0.02
            motorcycle   | petrol            | 0.01
            aircraft     | aviation_gasoline | 0.01
            """,
        "field": """
            vehicle_type | fuel          | share
            suv          | diesel        | 0.55
            car          | petrol        | 0.12
            truck        | diesel        | 0.15
            van          | diesel        | 0.06
            motorcycle   | petrol        | 0.04
            bus          | diesel        | 0.03
            boat         | marine_diesel | 0.02
            aircraft     | jet_fuel      | 0.03
            """,
        "office": """
            vehicle_type | fuel        | share
            car          | petrol      | 0.40
            car          | diesel      | 0.20
            van          | diesel      | 0.15
            suv          | diesel      | 0.15
            car          | electricity | 0.05
            bus          | diesel      | 0.03
            car          | lpg         | 0.01
            bus          | cng         | 0.01
            """,
    }.items()
}


def _vehicles(ctx: _Ctx, target_t: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    kind = {"peacekeeping": "peacekeeping", "field": "field", "relief": "field"}.get(ctx.profile.profile, "office")
    by_country: dict[str, float] = {}
    for s in ctx.sites:
        by_country[s.country] = by_country.get(s.country, 0.0) + s.weight
    countries = sorted(by_country, key=lambda c: -by_country[c])
    specs: list[tuple[str, str, str, float]] = []
    for c in countries:
        mix = _VEHICLE_MIX[kind if c != ctx.profile.hq_country or kind == "field" else "office"]
        if ctx.entity == "WFP" and c != ctx.profile.hq_country:
            mix = mix + [("aircraft", "jet_fuel", 0.25)]  # humanitarian air service
        for vtype, fuel, share in mix:
            shape = ctx.shape("Vehicles", c, vtype, fuel)
            if n is None and share < 0.1 and shape.random() < 0.6:
                continue
            if vtype in ("aircraft", "helicopter", "boat") and n is None and shape.random() < 0.3:
                continue
            specs.append((c, vtype, fuel, by_country[c] * share * _lognormal(shape, 0.3) * _lognormal(rng, 0.1)))
    if n is not None:
        while len(specs) < n:
            specs = specs + [(c, v, f, w * 0.5) for c, v, f, w in specs]
        specs = specs[:n]
    rows = []
    for (c, vtype, fuel, _), t in zip(specs, _split(rng, target_t, [w for *_, w in specs]), strict=True):
        units = codelists.allowed_units("vehicle_unit")[fuel]
        unit = units[0] if not (fuel == "jet_fuel" and rng.random() < 0.4) else "kg"
        qty = _round_quantity(t * 1000 / CALIBRATION_VEHICLES_KG_PER_UNIT[(fuel, unit)], unit)
        rows.append(
            _new_row(
                "Vehicles",
                country=c,
                vehicle_type=vtype,
                fuel=fuel,
                quantity=qty,
                unit=unit,
                data_quality="measured" if rng.random() < 0.7 else "estimated",
            )
        )
    return rows


_CABINS = [("economy", 70), ("business", 24), ("premium_economy", 4), ("first", 2)]


def _air_travel(ctx: _Ctx, target_t: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    _, _, destinations = _places()
    n_rows = n if n is not None else max(8, min(400, round(3 * math.sqrt(max(target_t, 1.0)))))
    origins = [ctx.profile.hq_airport] * 6 + [s.airport for s in ctx.sites[1:40]]
    own = sorted({s.airport for s in ctx.sites})
    dest_codes = list(destinations) + own
    dest_cum = list(itertools.accumulate(list(destinations.values()) + [3.0] * len(own)))
    cabins, cabin_w = zip(*_CABINS, strict=True)
    cabin_cum = list(itertools.accumulate(cabin_w))
    distance_only = 0 if n is None and rng.random() < 0.6 else rng.randint(1, 3)
    seen: set[tuple[str, str, str]] = set()
    specs: list[tuple[str | None, str | None, float | None, str, bool, float]] = []
    attempts = 0
    while len(specs) < n_rows - distance_only and attempts < n_rows * 50:
        attempts += 1
        o = rng.choice(origins)
        d = rng.choices(dest_codes, cum_weights=dest_cum)[0]
        cabin = rng.choices(cabins, cum_weights=cabin_cum)[0]
        if o == d or (o, d, cabin) in seen:
            continue
        seen.add((o, d, cabin))
        specs.append((o, d, None, cabin, rng.random() < 0.78, _lognormal(rng, 1.0)))
    for _ in range(distance_only):
        specs.append(
            (
                None,
                None,
                float(rng.choice((350, 800, 1200, 2500, 4800, 6500, 9800, 12400))),
                rng.choices(cabins, cabin_w)[0],
                rng.random() < 0.5,
                0.2,
            )
        )
    shares = _split(rng, target_t, [w for *_, w in specs])
    rows = []
    for (o, d, km, cabin, rt, _), t in zip(specs, shares, strict=True):
        per_trip_t = flight_kg(o, d, km, cabin) * (2 if rt else 1) / 1000
        trips = max(1, round(t / per_trip_t))
        rows.append(
            _new_row(
                "AirTravel",
                origin=o,
                destination=d,
                distance_km=km,
                cabin_class=cabin,
                trips=trips,
                round_trip="yes" if rt else "no",
                data_quality="measured" if rng.random() < 0.85 else "estimated",
            )
        )
    _correct_trips(rows, target_t)
    return rows


def _correct_trips(rows: list[Row], target_t: float) -> None:
    """Integer trips overshoot small routes; take the difference off (or put it on) the big rows."""

    def row_t(r: Row) -> float:
        return (
            flight_kg(r["origin"], r["destination"], r["distance_km"], r["cabin_class"])
            * (2 if r["round_trip"] == "yes" else 1)
            / 1000
        )

    actual = sum(row_t(r) * r["trips"] for r in rows)
    for r in sorted(rows, key=lambda r: -r["trips"] * row_t(r))[:10]:
        residual = target_t - actual
        if abs(residual) < 0.01 * target_t:
            break
        new = max(1, r["trips"] + round(residual / row_t(r)))
        actual += (new - r["trips"]) * row_t(r)
        r["trips"] = new


_OTHER_TRAVEL_MIX = {
    "europe": [("rail", 0.45), ("taxi", 0.25), ("car_rental", 0.25), ("bus", 0.05)],
    "elsewhere": [("car_rental", 0.40), ("taxi", 0.35), ("bus", 0.15), ("rail", 0.05), ("ferry", 0.05)],
}


def _other_travel(ctx: _Ctx, target_t: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    region = (
        "europe"
        if ctx.profile.hq_country in ("CHE", "AUT", "DEU", "FRA", "ITA", "GBR", "DNK", "NLD", "ESP")
        else "elsewhere"
    )
    specs = []
    for mode, share in _OTHER_TRAVEL_MIX[region]:
        shape = ctx.shape("OtherTravel", mode)
        for _ in range(
            n // len(_OTHER_TRAVEL_MIX[region]) + 1
            if n is not None
            else (shape.choice((1, 1, 2, 3)) if ctx.plan.personnel > 3000 else 1)
        ):
            specs.append((mode, share * _lognormal(shape, 0.4) * _lognormal(rng, 0.1)))
    if n is not None:
        specs = specs[:n]
    rows = []
    for (mode, _), t in zip(specs, _split(rng, target_t, [w for _, w in specs]), strict=True):
        pkm = max(1, int(round(t * 1000 / CALIBRATION_OTHER_TRAVEL_KG_PER_PKM[mode])))
        rows.append(
            _new_row(
                "OtherTravel",
                mode=mode,
                passenger_km=pkm,
                data_quality="estimated" if rng.random() < 0.5 else "measured",
            )
        )
    return rows


_WASTE_MIX = {
    kind: [(r["waste_stream"], r["treatment"], float(r["share"])) for r in _table(text)]
    for kind, text in {
        "hq": """
            waste_stream    | treatment                    | share
            mixed           | landfill                     | 0.25
            mixed           | incineration_energy_recovery | 0.20
            paper_cardboard | recycling                    | 0.15
            organic         | composting                   | 0.12
            plastics        | recycling                    | 0.06
            glass           | recycling                    | 0.04
            metals          | recycling                    | 0.03
            e_waste         | recycling                    | 0.03
            hazardous       | incineration                 | 0.01
            construction    | landfill                     | 0.08
            other           | unknown                      | 0.03
            """,
        "field": """
            waste_stream    | treatment     | share
            mixed           | landfill      | 0.35
            mixed           | open_burning  | 0.10
            mixed           | incineration  | 0.10
            organic         | composting    | 0.08
            organic         | landfill      | 0.08
            plastics        | recycling     | 0.04
            metals          | recycling     | 0.05
            medical         | incineration  | 0.03
            hazardous       | incineration  | 0.02
            e_waste         | reuse         | 0.01
            construction    | landfill      | 0.10
            paper_cardboard | recycling     | 0.04
            """,
    }.items()
}


def _waste(ctx: _Ctx, target_tonnes: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    sites = ctx.sites if n is None else _expand(ctx.sites, math.ceil(n / 6))
    chosen = [s for i, s in enumerate(sites) if i == 0 or n is not None or rng.random() < 0.5][:200]
    specs = []
    for s in chosen:
        mix = _WASTE_MIX["hq" if s.kind.startswith("hq") else "field"]
        for stream, treatment, share in mix:
            if n is None and share < 0.1 and rng.random() < 0.5:
                continue
            specs.append((s, stream, treatment, s.weight * share * _lognormal(rng, 0.4)))
    if n is not None:
        specs = specs[:n]
    rows = []
    for (s, stream, treatment, _), t in zip(specs, _split(rng, target_tonnes, [w for *_, w in specs]), strict=True):
        unit = "tonne" if t >= 5 and rng.random() < 0.8 else "kg"
        qty = _round_quantity(t / _TONNE_PER_UNIT[unit], unit)
        rows.append(
            _new_row(
                "Waste",
                site=s.name,
                country=s.country,
                waste_stream=stream,
                treatment=treatment,
                quantity=qty,
                unit=unit,
                data_quality=_quality(rng, s.kind),
            )
        )
    return rows


_WATER_MIX = {
    "hq_cold": [("municipal", 0.95), ("rainwater", 0.03), ("recycled", 0.02)],
    "hq_warm": [("municipal", 0.80), ("groundwater", 0.15), ("rainwater", 0.05)],
    "office": [("municipal", 0.60), ("groundwater", 0.30), ("trucked", 0.10)],
    "camp": [("groundwater", 0.60), ("trucked", 0.25), ("surface_water", 0.10), ("recycled", 0.05)],
}


def _water(ctx: _Ctx, target_m3: float, n: int | None) -> list[Row]:
    rng = ctx.rng
    sites = ctx.sites if n is None else _expand(ctx.sites, math.ceil(n / 3))
    specs = []
    for s in sites:
        for source, share in _WATER_MIX[s.kind]:
            if n is None and share < 0.1 and rng.random() < 0.6:
                continue
            specs.append((s, source, s.weight * share * _lognormal(rng, 0.3)))
    if n is not None:
        specs = specs[:n]
    rows = []
    for (s, source, _), m3 in zip(specs, _split(rng, target_m3, [w for *_, w in specs]), strict=True):
        unit = "litre" if source == "trucked" and m3 < 2000 and rng.random() < 0.5 else "m3"
        qty = _round_quantity(m3 / _M3_PER_UNIT[unit], unit)
        rows.append(
            _new_row(
                "Water",
                site=s.name,
                country=s.country,
                source=source,
                volume=qty,
                unit=unit,
                data_quality=_quality(rng, s.kind),
            )
        )
    return rows


# Offset projects: (standard, project number, host ISO3)
@cache
def _projects() -> tuple[tuple[str, int, str], ...]:
    rng = random.Random(20080101)  # fixed: project registry does not depend on the demo seed
    hosts = [
        "IND",
        "CHN",
        "BRA",
        "KEN",
        "UGA",
        "RWA",
        "VNM",
        "THA",
        "MEX",
        "ZAF",
        "ETH",
        "NGA",
        "PER",
        "IDN",
        "HND",
        "GTM",
        "BGD",
        "TZA",
        "COL",
        "KHM",
    ]
    out = []
    for i in range(40):
        std = "cer" if i < 28 else ("gold_standard" if i < 35 else "vcu")
        number = (
            rng.randint(200, 10800)
            if std == "cer"
            else rng.randint(1000, 12000)
            if std == "gold_standard"
            else rng.randint(100, 4000)
        )
        out.append((std, number, hosts[i % len(hosts)]))
    return tuple(out)


def _project_id(std: str, number: int) -> str:
    return {"cer": f"CDM {number}", "gold_standard": f"GS{number}", "vcu": f"VCS {number}"}[std]


def _serial_range(std: str, number: int, host: str, start: int, end: int, vintage: int) -> str:
    cc = {row["code"]: row["alpha_2"] for row in codelists.table("countries")}[host]
    if std == "cer":
        return f"{cc}-5-{start}-2-2-0-{number} - {cc}-5-{end}-2-2-0-{number}"
    if std == "gold_standard":
        return f"GS1-1-{cc}-GS{number}-{vintage % 100:02d}-{vintage}-{start}-{end}"
    return f"{start}-{end}-VCS-VCU-262-VER-{cc}-1-{number}-01012{vintage}-31122{vintage}-0"


def _offsets(ctx: _Ctx, quantity_t: float, n: int | None, serial_block: int) -> list[Row]:
    """Credit blocks retired in the following year; serial numbers unique per entity-year space."""
    if quantity_t <= 0:
        return []
    rng = ctx.rng
    total = math.ceil(quantity_t)
    n_rows = n if n is not None else max(1, min(12, math.ceil(total / 15000)))
    n_rows = min(n_rows, total)
    projects = _projects()
    preferred = _rng(ctx.seed, "projects", ctx.entity).sample(range(len(projects)), 4)
    parts = [max(1, int(q)) for q in _split(rng, total, [_lognormal(rng, 0.5) for _ in range(n_rows)])]
    parts[0] += total - sum(parts)
    if parts[0] < 1:  # rounding took too much from the first block: level out
        parts = [total // n_rows + (1 if i < total % n_rows else 0) for i in range(n_rows)]
    space = 100_000_000  # serial numbers per year
    per_entity = space // 64
    start = serial_block * 10**10 + (ctx.year - 2000) * space + ctx.profile.index * per_entity + 1
    limit = start + per_entity
    rows = []
    for q in parts:
        proj = projects[preferred[0] if rng.random() < 0.6 else rng.choice(preferred)]
        std, number, host = proj
        vintage = min(ctx.year + 1, ctx.year - rng.choice((0, 0, 1, 1, 2, 3)))
        end = start + q - 1
        if end >= limit:
            raise ValueError(f"offset serial space of {ctx.entity} {ctx.year} exhausted ({total} credits)")
        retired = date(ctx.year + 1, rng.randint(1, 6), rng.randint(1, 28))
        rows.append(
            _new_row(
                "Offsets",
                standard=std,
                project_id=_project_id(std, number),
                serial_range=_serial_range(std, number, host, start, end, vintage),
                vintage=vintage,
                quantity_tco2e=q,
                retirement_date=retired,
            )
        )
        start = end + 1 + rng.randint(0, 2000)
    return rows


# ---------------------------------------------------------------------------------------------
# Field/Value sheets
# ---------------------------------------------------------------------------------------------

_FIRST = [
    "Amina",
    "Carlos",
    "Mei",
    "Olga",
    "Kwame",
    "Sofia",
    "Ahmed",
    "Priya",
    "Jean",
    "Fatima",
    "Lars",
    "Ana",
    "Tomás",
    "Chiara",
    "Daniel",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "José",
    "Leila",
    "Mateo",
    "Nadia",
    "Omar",
    "Paula",
    "Ravi",
    "Sara",
    "Thandiwe",
    "Victor",
    "Yuki",
    "Zoë",
]
_LAST = [
    "Okafor",
    "García",
    "Chen",
    "Ivanova",
    "Mensah",
    "Rossi",
    "Haddad",
    "Sharma",
    "Dupont",
    "Benali",
    "Nilsson",
    "Silva",
    "Müller",
    "Bianchi",
    "Kim",
    "Achieng",
    "Tanaka",
    "Larsen",
    "Fernández",
    "Nasser",
    "Lopez",
    "Petrova",
    "Farouk",
    "Costa",
    "Patel",
    "Haile",
    "Dlamini",
    "Moreau",
    "Sato",
    "Novak",
]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _focal_point(seed: int, entity: str, year: int) -> tuple[str, str]:
    """The focal point changes every few years; e-mail at the entity's domain."""
    p = entity_profiles()[entity]
    rng = _rng(seed, "focal-point", entity, (year - 2010 + p.index) // 3)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return f"{first} {last}", f"{_ascii(first)}.{_ascii(last)}@{p.domain}"


def _entity_fields(ctx: _Ctx) -> dict[str, object]:
    name, email = _focal_point(ctx.seed, ctx.entity, ctx.year)
    fields = {
        "entity_code": ctx.entity,
        "reporting_year": ctx.year,
        "personnel": ctx.plan.personnel,
        "reporting_coverage_percent": ctx.plan.coverage_percent,
        "floor_area_m2": int(round(ctx.plan.personnel * _rng(ctx.seed, "floor", ctx.entity).uniform(12, 35), -1)),
        "focal_point_name": name,
        "focal_point_email": email,
        "template_version": TEMPLATE_VERSION,
    }
    if _rng(ctx.seed, "floor-known", ctx.entity).random() < 0.15:
        del fields["floor_area_m2"]  # optional field left out
    _check_fields("Entity", fields)
    return fields


def _ems_fields(ctx: _Ctx) -> dict[str, object]:
    rng = ctx.rng
    status, standard = ctx.plan.ems_status, ctx.plan.ems_standard
    coverage = {"none": 0, "planning": rng.randint(0, 5), "implementing": rng.randint(10, 60)}.get(
        status, rng.randint(50, 100)
    )
    fields: dict[str, object] = {
        "status": status,
        "standard": standard,
        "coverage_percent": coverage,
        "policy_adopted": "yes" if status not in ("none", "planning") or rng.random() < 0.4 else "no",
    }
    if status in ("implemented", "certified") or (status == "implementing" and rng.random() < 0.5):
        fields["last_management_review"] = date(ctx.year, rng.randint(3, 12), rng.randint(1, 28))
    _check_fields("EMS", fields)
    return fields


def _check_fields(sheet: str, fields: dict[str, object]) -> None:
    names = contract.sheet(sheet).names
    unknown = set(fields) - set(names)
    if unknown:
        raise KeyError(f"demo fields for sheet {sheet} not in the contract: {sorted(unknown)}")


# ---------------------------------------------------------------------------------------------
# Building one submission
# ---------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    seed: int
    entity: str
    year: int
    profile: EntityProfile
    plan: EntityYearPlan
    sites: list[Site]
    rng: random.Random

    def shape(self, *keys: object) -> random.Random:
        """A stream that does not change from year to year: what an entity's sheets hold (which
        fuels a site burns, which gases, vehicles and modes, their relative sizes) stays put,
        and the year's stream only moves the amounts a little, as real inventories do."""
        return _rng(self.seed, "shape", self.entity, *keys)


# Share of rows per sheet in benchmark-sized workbooks.
BENCHMARK_ROW_SHARES = {
    "Facilities": 0.22, "Refrigerants": 0.05, "Vehicles": 0.08, "AirTravel": 0.35,
    "OtherTravel": 0.02, "Offsets": 0.04, "Waste": 0.14, "Water": 0.10,
}  # fmt: skip


def build_submission(
    entity: str, year: int, seed: int = 2025, *, rows: int | None = None, serial_block: int = SUBMISSIONS_SERIAL_BLOCK
) -> Submission:
    """The canonical content of one entity-year workbook (no file written).

    `rows` asks for about that many data rows in total (benchmark workbooks); by default the
    number of rows follows the entity's size and structure.
    """
    plans = plan_year(seed, year)
    if entity not in plans:
        raise KeyError(f"{entity} does not report in {year} in the demo data")
    plan = plans[entity]
    ctx = _Ctx(
        seed,
        entity,
        year,
        entity_profiles()[entity],
        plan,
        _active_sites(seed, entity, year),
        _rng(seed, "submission", entity, year),
    )

    def n(sheet: str) -> int | None:
        return None if rows is None else max(1, round(rows * BENCHMARK_ROW_SHARES[sheet]))

    tables: dict[str, list[Row]] = {
        "Facilities": _facilities(ctx, plan.facilities_tco2e - plan.refrigerants_tco2e, n("Facilities")),
        "Refrigerants": _refrigerants(ctx, plan.refrigerants_tco2e, n("Refrigerants")),
        "Vehicles": _vehicles(ctx, plan.vehicles_tco2e, n("Vehicles")),
        "AirTravel": _air_travel(ctx, plan.air_travel_tco2e, n("AirTravel")),
        "OtherTravel": _other_travel(ctx, plan.other_travel_tco2e - plan.vehicles_tco2e, n("OtherTravel")),
        "Waste": _waste(ctx, plan.waste_tonnes, n("Waste")) if plan.waste_tonnes is not None else [],
        "Water": _water(ctx, plan.water_m3, n("Water")) if plan.water_m3 is not None else [],
    }
    if rows is not None:  # benchmark workbooks report waste and water whatever the plan says
        tables["Waste"] = tables["Waste"] or _waste(ctx, plan.personnel * 0.3, n("Waste"))
        tables["Water"] = tables["Water"] or _water(ctx, plan.personnel * 40.0, n("Water"))
    fp = footprint(tables, plan.personnel)
    offset_t = fp.total_tco2e * plan.offset_ratio
    if rows is not None:
        offset_t = max(offset_t, float(n("Offsets") or 1))
    tables["Offsets"] = _offsets(ctx, offset_t, n("Offsets"), serial_block)
    fields = {"Entity": _entity_fields(ctx), "EMS": _ems_fields(ctx)}
    ordered = {s.name: tables[s.name] for s in contract.sheets() if s.is_table}
    missing = [s.name for s in contract.sheets() if s.name not in ordered and s.name not in fields]
    if missing:
        raise KeyError(f"the demo generator has no builder for contract sheets {missing}")
    return Submission(entity, year, fields, ordered)


# =============================================================================================
# Rendering: canonical values -> the cells a focal point would type (legitimate spellings)
# =============================================================================================

Grid = dict[str, list[list[object]]]  # sheet name -> rows of cell values (row 1 = header)

STYLES = ("canonical", "canonical", "canonical", "title", "title", "upper")


def _style(seed: int, entity: str) -> str:
    return _rng(seed, "style", entity).choice(STYLES)


_TITLE_UNITS = {"kwh": "kWh", "mwh": "MWh", "gj": "GJ", "m3": "m3", "kg": "kg", "litre": "Litre", "tonne": "Tonne"}
_TITLE_CODES = {
    "cer": "CER",
    "vcu": "VCU",
    "iso14001": "ISO14001",
    "emas": "EMAS",
    "lpg": "LPG",
    "cng": "CNG",
    "sf6": "SF6",
    "suv": "SUV",
}


def _render_value(spec: contract.ColumnSpec, value: object, style: str, rng: random.Random) -> object:
    """A canonical value as a focal point types it; always valid under the contract."""
    if value is None:
        return None
    if spec.dtype in ("enum", "yesno"):
        return _render_code(spec, str(value), style)
    if spec.dtype in ("iso3", "iata", "entity"):
        text = str(value)
        if style == "upper" and rng.random() < 0.1:
            return f" {text.lower()} "
        return text
    if spec.dtype in ("number", "integer"):
        return _render_number(spec, value, style, rng)
    if spec.dtype == "date" and style == "title" and isinstance(value, date):
        return value.isoformat()  # ISO text
    return value


def _render_code(spec: contract.ColumnSpec, text: str, style: str) -> str:
    """A code as typed: title case ('Natural Gas', units as 'kWh'), upper case, or as it is."""
    if style == "title":
        if spec.name == "unit":
            return _TITLE_UNITS.get(text, text)
        return _TITLE_CODES.get(text) or text.replace("_", " ").title()  # "Natural Gas"
    if style == "upper":
        return text.upper()
    return text


def _render_number(spec: contract.ColumnSpec, value: object, style: str, rng: random.Random) -> object:
    """A number as typed; in the title style, now and then a large one as text with separators."""
    if (
        style == "title"
        and isinstance(value, (int, float))
        and rng.random() < 0.03
        and abs(value) >= 1000
        and spec.name not in ("reporting_year", "vintage")
    ):
        if isinstance(value, int) or float(value).is_integer():
            return f"{int(value):,}".replace(",", " ")  # "1 200"
        return f"{value:,.1f}"  # "1,200.5"
    return value


def render(sub: Submission, seed: int) -> Grid:
    """The workbook cells for a submission, sheet by sheet in contract order."""
    style = _style(seed, sub.entity)
    rng = _rng(seed, "render", sub.entity, sub.year)
    grid: Grid = {}
    for spec in contract.sheets():
        if spec.is_table:
            header = [_render_header(c.name, style) for c in spec.columns]
            rows: list[list[object]] = [header]
            for i, row in enumerate(sub.tables[spec.name]):
                if style == "upper" and i == 3 and spec.name == "Facilities":
                    rows.append([])  # a blank row left in the table (skipped by the reader)
                rows.append([_render_value(c, row[c.name], style, rng) for c in spec.columns])
        else:
            rows = [["Field", "Value"]]
            values = sub.fields[spec.name]
            for c in spec.columns:
                if c.name in values:
                    rows.append([c.name, _render_value(c, values[c.name], style, rng)])
        grid[spec.name] = rows
    return grid


def _render_header(name: str, style: str) -> str:
    """Headers match ignoring case: 'Energy_type', 'ENERGY_TYPE' and 'energy_type' are all valid."""
    return name[0].upper() + name[1:] if style == "title" else (name.upper() if style == "upper" else name)


# =============================================================================================
# Writing xlsx (write-only openpyxl, byte-reproducible)
# =============================================================================================


def write_workbook(path: Path, grid: Grid) -> int:
    """Write the sheets of `grid` in order; returns the number of data rows. Same grid, same bytes."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Greening the Blue focal point"
    n_rows = 0
    for name, rows in grid.items():
        ws = wb.create_sheet(title=name)
        for row in rows:
            ws.append(row)
        n_rows += max(0, len(rows) - 1)
    save_reproducible(wb, path, FIXED_TIMESTAMP)
    return n_rows


# =============================================================================================
# Deliberate mistakes (one per entity, in the last year) and corrected resubmissions
# =============================================================================================


@dataclass(frozen=True)
class MistakeSpec:
    entity: str
    kind: str
    expected_code: str  # the finding code the validator should raise (pipeline/catalogue/codes.csv)
    description: str
    resubmit: bool = False


MISTAKES: tuple[MistakeSpec, ...] = tuple(
    MistakeSpec(r["entity"], r["kind"], r["expected_code"], r["description"], r["resubmit"] == "yes")
    for r in _table(
        """
        entity | kind                       | expected_code    | resubmit | description
        ECE    | electricity_in_litre       | unit-mismatch    | yes      | electricity quantity reported in litre
        UNON   | country_name               | not-in-codelist  | no       | country typed as a name instead of its ISO3 code
        WMO    | negative_quantity          | out-of-range     | no       | negative fuel quantity
        ITC    | text_in_number             | type-error       | no       | text ("approx. 500") in a numeric cell
        UNWTO  | missing_sheet              | missing-sheet    | no       | the Water sheet was deleted
        UNCTAD | renamed_sheet              | missing-sheet    | yes      | sheet AirTravel renamed "Flights 2025"
        IMO    | renamed_column             | missing-column   | no       | required column energy_type shortened to "Energy"
        UPU    | email_without_at           | invalid-email    | no       | focal point e-mail without @
        ECLAC  | certified_without_standard | inconsistent-row | no       | EMS status certified with standard none
        UNITAR | unknown_airport            | not-in-codelist  | no       | origin "NYC" is a city code, not an airport
        CBD    | duplicate_serial           | duplicate-serial | no       | offset serial range already claimed by UNEP the year before
        """  # noqa: E501 (an aligned table: one row per line)
    )
)


@dataclass(frozen=True)
class Mistake:
    """A deliberately broken cell or sheet, for DEMO_MISTAKES.md and the tests."""

    file: str  # path relative to the inputs folder, '/'-separated
    entity: str
    year: int
    kind: str
    sheet: str
    cell: str  # e.g. "E3"; empty for sheet-level mistakes
    value: str  # what was written (or the sheet name)
    expected_code: str
    description: str
    resubmission: str | None  # relative path of the corrected workbook, if any


def _first_row(grid: Grid, sheet: str, column: str, predicate=lambda v: v is not None) -> tuple[int, int]:
    """(row index, column index) in the grid of the first data cell of `column` satisfying predicate."""
    header = [str(h).strip().lower() for h in grid[sheet][0]]
    col = header.index(column)
    for i, row in enumerate(grid[sheet][1:], start=1):
        if row and predicate(row[col]):
            return i, col
    raise LookupError(f"no row in {sheet} to break for column {column}")


def _field_row(grid: Grid, sheet: str, name: str) -> int:
    for i, row in enumerate(grid[sheet]):
        if row and row[0] == name:
            return i
    raise LookupError(f"{sheet} has no field {name}")


def _cell(i: int, j: int) -> str:
    return f"{column_letter(j + 1)}{i + 1}"


def _code(v: object) -> str:
    return codelists.normalise_code(v) if v is not None else ""


def write_with_a_mistake(path: Path, grid: Grid, sub: Submission, kind: str, seed: int = 2025) -> Path:
    """A copy of `grid` (`sub` rendered) with one of the demo's mistakes (`kind`), written to
    `path`; `grid` itself is left as it is. The upload samples of the portal use it."""
    broken = {name: [list(row) for row in rows] for name, rows in grid.items()}
    _break(kind, broken, sub, seed)
    write_workbook(path, broken)
    return path


def _break(kind: str, grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    """Apply one mistake to `grid` in place; returns (sheet, cell, value written)."""
    breaker = _BREAKERS.get(kind)
    if breaker is None:
        raise KeyError(f"unknown demo mistake kind {kind!r}")
    return breaker(grid, sub, seed)


# Each mistake kind of MISTAKES: (grid, submission, seed) -> (sheet, cell, value written).


def _electricity_in_litre(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    header = [str(h).strip().lower() for h in grid["Facilities"][0]]
    u, r = header.index("unit"), header.index("renewable_kwh")
    electricity = [
        k
        for k, row in enumerate(grid["Facilities"][1:], start=1)
        if row and _code(row[header.index("energy_type")]) == "electricity"
    ]
    if not electricity:
        raise LookupError("no electricity row in Facilities to break")
    # prefer a row without renewable_kwh, so that the unit is the only thing wrong
    i = next((k for k in electricity if grid["Facilities"][k][r] is None), electricity[0])
    grid["Facilities"][i][u] = "litre"
    return "Facilities", _cell(i, u), "litre"


def _country_name(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    i, j = _first_row(grid, "Facilities", "country", lambda v: codelists.normalise_ref(v) == "KEN")
    grid["Facilities"][i][j] = "Kenya"
    return "Facilities", _cell(i, j), "Kenya"


def _negative_quantity(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    sheet = "Vehicles" if len(grid["Vehicles"]) > 1 else "Facilities"
    i, j = _first_row(grid, sheet, "quantity")
    value = -abs(float(str(grid[sheet][i][j]).replace(" ", "").replace(",", "")))
    grid[sheet][i][j] = int(value) if value.is_integer() else value
    return sheet, _cell(i, j), str(grid[sheet][i][j])


def _text_in_number(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    sheet, column = ("Waste", "quantity") if len(grid["Waste"]) > 1 else ("Facilities", "quantity")
    i, j = _first_row(grid, sheet, column)
    grid[sheet][i][j] = "approx. 500"
    return sheet, _cell(i, j), "approx. 500"


def _missing_sheet(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    del grid["Water"]
    return "Water", "", "Water"


def _renamed_sheet(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    renamed = {("Flights 2025" if k == "AirTravel" else k): v for k, v in grid.items()}
    grid.clear()
    grid.update(renamed)
    return "Flights 2025", "", "Flights 2025"


def _renamed_column(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    j = [str(h).strip().lower() for h in grid["Facilities"][0]].index("energy_type")
    grid["Facilities"][0][j] = "Energy"
    return "Facilities", _cell(0, j), "Energy"


def _email_without_at(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    i = _field_row(grid, "Entity", "focal_point_email")
    value = str(grid["Entity"][i][1]).replace("@", ".")
    grid["Entity"][i][1] = value
    return "Entity", _cell(i, 1), value


def _certified_without_standard(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    i = _field_row(grid, "EMS", "status")
    k = _field_row(grid, "EMS", "standard")
    grid["EMS"][i][1] = "certified"
    grid["EMS"][k][1] = "none"
    return "EMS", _cell(k, 1), "none"  # the standard contradicts the status


def _unknown_airport(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    i, j = _first_row(grid, "AirTravel", "origin")
    grid["AirTravel"][i][j] = "NYC"
    return "AirTravel", _cell(i, j), "NYC"


def _duplicate_serial(grid: Grid, sub: Submission, seed: int) -> tuple[str, str, str]:
    """A serial range UNEP claims in the year before (or in this year, if UNEP did not report then)."""
    earlier = sub.year - 1
    source = (
        build_submission("UNEP", earlier, seed)
        if "UNEP" in plan_year(seed, earlier)
        else build_submission("UNEP", sub.year, seed)
    )
    serial = source.tables["Offsets"][0]["serial_range"]
    i, j = _first_row(grid, "Offsets", "serial_range")
    grid["Offsets"][i][j] = serial
    q_row, q_col = _first_row(grid, "Offsets", "quantity_tco2e")
    grid["Offsets"][q_row][q_col] = source.tables["Offsets"][0]["quantity_tco2e"]  # the credits the range holds
    return "Offsets", _cell(i, j), str(serial)


_BREAKERS = {
    "electricity_in_litre": _electricity_in_litre,
    "country_name": _country_name,
    "negative_quantity": _negative_quantity,
    "text_in_number": _text_in_number,
    "missing_sheet": _missing_sheet,
    "renamed_sheet": _renamed_sheet,
    "renamed_column": _renamed_column,
    "email_without_at": _email_without_at,
    "certified_without_standard": _certified_without_standard,
    "unknown_airport": _unknown_airport,
    "duplicate_serial": _duplicate_serial,
}


# =============================================================================================
# Historical totals
# =============================================================================================


def history_rows(seed: int, first: int, last: int, entities: Iterable[str] | None = None) -> list[dict[str, object]]:
    """Published totals per entity and year (from the calibration model), in entity, year order."""
    wanted = set(entities) if entities is not None else None
    rows = []
    for code in entity_profiles():
        if wanted is not None and code not in wanted:
            continue
        for year in range(first, last + 1):
            plan = plan_year(seed, year).get(code)
            if plan is None:
                continue
            rows.append(
                {
                    "entity_code": code,
                    "year": year,
                    "personnel": plan.personnel,
                    "facilities_tco2e": round(plan.facilities_tco2e, 1),
                    "air_travel_tco2e": round(plan.air_travel_tco2e, 1),
                    "other_travel_tco2e": round(plan.other_travel_tco2e, 1),
                    "offsets_tco2e": float(math.ceil(plan.total_tco2e * plan.offset_ratio)),
                    "waste_tonnes": round(plan.waste_tonnes, 1) if plan.waste_tonnes is not None else None,
                    "water_m3": round(plan.water_m3) if plan.water_m3 is not None else None,
                }
            )
    return rows


def write_history_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(contract.history().names)
        for r in rows:
            writer.writerow(
                [
                    "" if r[k] is None else (f"{r[k]:.1f}" if isinstance(r[k], float) else r[k])
                    for k in contract.history().names
                ]
            )


def history_footprint(row: dict[str, object]) -> Footprint:
    return Footprint(
        personnel=int(row["personnel"]),
        facilities_tco2e=float(row["facilities_tco2e"]),
        air_travel_tco2e=float(row["air_travel_tco2e"]),
        other_travel_tco2e=float(row["other_travel_tco2e"]),
        optional_tco2e=0.0,
        offsets_tco2e=float(row["offsets_tco2e"]),
        waste_tonnes=None if row["waste_tonnes"] is None else float(row["waste_tonnes"]),
        water_m3=None if row["water_m3"] is None else float(row["water_m3"]),
    )


# =============================================================================================
# System figures of generated data (CALIBRATION pricing; for checking magnitudes)
# =============================================================================================


@dataclass(frozen=True)
class SystemFigures:
    year: int
    entities: int
    personnel: int
    total_tco2e: float
    share_facilities: float
    share_air_travel: float
    share_other_travel: float
    per_capita_tco2e: float
    offset_share: float
    climate_neutral_entities: int
    waste_per_capita_kg: float | None
    water_per_capita_m3: float | None
    ems_met: int | None = None
    ems_approaching: int | None = None


def system_figures(year: int, footprints: dict[str, Footprint], ems: dict[str, str] | None = None) -> SystemFigures:
    """The indicators' definitions (docs indicators.md) over CALIBRATION-priced footprints."""
    fps = list(footprints.values())
    people = sum(f.personnel for f in fps)
    total = sum(f.total_tco2e for f in fps)
    waste = [f for f in fps if f.waste_tonnes is not None]
    water = [f for f in fps if f.water_m3 is not None]
    groups = {r["code"]: r["ems_group"] for r in codelists.table("ems_status")}
    return SystemFigures(
        year=year,
        entities=len(fps),
        personnel=people,
        total_tco2e=total,
        share_facilities=sum(f.facilities_tco2e for f in fps) / total,
        share_air_travel=sum(f.air_travel_tco2e for f in fps) / total,
        share_other_travel=sum(f.other_travel_tco2e for f in fps) / total,
        per_capita_tco2e=total / people,
        offset_share=sum(min(f.offsets_tco2e, f.total_tco2e) for f in fps) / total,
        climate_neutral_entities=sum(1 for f in fps if f.total_tco2e > 0 and f.offsets_tco2e >= f.total_tco2e),
        waste_per_capita_kg=1000 * sum(f.waste_tonnes for f in waste) / sum(f.personnel for f in waste)
        if waste
        else None,
        water_per_capita_m3=sum(f.water_m3 for f in water) / sum(f.personnel for f in water) if water else None,
        ems_met=None if ems is None else sum(1 for s in ems.values() if groups[s] == "met"),
        ems_approaching=None if ems is None else sum(1 for s in ems.values() if groups[s] == "approaching"),
    )


def demo_system_figures(
    seed: int = 2025, first_year: int = 2019, last_year: int = 2025, history_from: int = 2010
) -> dict[int, SystemFigures]:
    """System figures of the full demo data, built in memory (no files): history years from the
    published totals, workbook years from the workbook rows priced with the CALIBRATION factors."""
    out = {}
    for year in range(history_from, first_year):
        rows = history_rows(seed, year, year)
        out[year] = system_figures(year, {r["entity_code"]: history_footprint(r) for r in rows})
    for year in range(first_year, last_year + 1):
        subs = [build_submission(code, year, seed) for code in plan_year(seed, year)]
        out[year] = system_figures(
            year,
            {s.entity: submission_footprint(s) for s in subs},
            {s.entity: str(s.fields["EMS"]["status"]) for s in subs},
        )
    return out


# =============================================================================================
# generate() and generate_benchmark()
# =============================================================================================


@dataclass
class GenerationSummary:
    inputs_dir: Path
    seed: int
    first_year: int
    last_year: int
    history_file: Path | None
    workbooks: list[Path] = field(default_factory=list)
    resubmissions: list[Path] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    rows_written: int = 0
    seconds: float = 0.0
    system: dict[int, SystemFigures] = field(default_factory=dict)
    not_reporting: dict[int, list[str]] = field(default_factory=dict)  # year -> entities without a workbook

    def mistakes_markdown(self) -> str:
        lines = [
            "# Deliberate mistakes in the demo submissions",
            "",
            f"Generated by `python -m demo.data` (seed {self.seed}). Each of these {self.last_year} workbooks",
            "carries exactly one mistake that focal points really make, so that `gtb run` shows it rejected",
            "with a finding a focal point can act on. Every other workbook is valid under the contract.",
            "",
            "| file | sheet | cell | value written | expected finding | mistake |",
            "|---|---|---|---|---|---|",
        ]
        for m in self.mistakes:
            lines.append(
                f"| `{m.file}` | {m.sheet} | {m.cell or '(sheet)'} | `{m.value}` "
                f"| `{m.expected_code}` | {m.description} |"
            )
        resub = [m for m in self.mistakes if m.resubmission]
        if resub:
            lines += [
                "",
                "## Corrected resubmissions",
                "",
                "For a second run that shows the resubmission path, copy these into",
                f"`submissions/{self.last_year}/`; they are the same data with the mistake corrected:",
                "",
            ]
            lines += [f"- `{m.resubmission}` corrects `{m.file}` ({m.description})" for m in resub]
        gaps = {y: e for y, e in self.not_reporting.items() if e}
        if gaps:
            profiles = entity_profiles()

            def why(code: str, year: int) -> str:
                first = profiles[code].first_year
                return f"{code} (joins in {first})" if first and year < first else f"{code} (did not report)"

            lines += ["", "## Coverage gaps (no workbook on purpose)", ""]
            lines += [f"- {y}: {', '.join(why(e, y) for e in codes)}" for y, codes in sorted(gaps.items())]
        return "\n".join(lines) + "\n"


def generate(
    inputs_dir: Path,
    seed: int = 2025,
    first_year: int = 2019,
    last_year: int = 2025,
    history_from: int = 2010,
    *,
    entities: Sequence[str] | None = None,
    mistakes: bool = True,
) -> GenerationSummary:
    """Write the demo inputs under `inputs_dir` (see the module docstring); returns what was written.

    `entities` restricts the entities written (the calibration model always spans all of them,
    so a workbook is identical whichever subset is asked for). Mistakes go into `last_year`.
    """
    started = time.perf_counter()
    inputs_dir = Path(inputs_dir)
    profiles = entity_profiles()
    wanted = list(profiles) if entities is None else list(entities)
    unknown = [e for e in wanted if e not in profiles]
    if unknown:
        raise KeyError(f"unknown entities {unknown}: not in schemas/codelists/entities.csv")
    summary = GenerationSummary(inputs_dir, seed, first_year, last_year, None)
    if history_from < first_year:
        _write_history(summary, history_from, wanted)
    broken = {m.entity: m for m in MISTAKES} if mistakes else {}
    for year in range(first_year, last_year + 1):
        _write_year(summary, year, wanted, broken if year == last_year else {})

    if summary.mistakes or mistakes:
        notes = inputs_dir / "submissions" / "DEMO_MISTAKES.md"
        notes.parent.mkdir(parents=True, exist_ok=True)
        notes.write_text(summary.mistakes_markdown(), encoding="utf-8")
    summary.seconds = time.perf_counter() - started
    return summary


def _write_history(summary: GenerationSummary, history_from: int, wanted: list[str]) -> None:
    """The published totals from `history_from` to the year before the first workbooks, as one CSV."""
    first_year, seed = summary.first_year, summary.seed
    rows = history_rows(seed, history_from, first_year - 1, wanted)
    summary.history_file = summary.inputs_dir / "history" / f"published_totals_{history_from}_{first_year - 1}.csv"
    write_history_csv(summary.history_file, rows)
    for year in range(history_from, first_year):
        year_rows = {r["entity_code"]: history_footprint(r) for r in rows if r["year"] == year}
        if year_rows:
            summary.system[year] = system_figures(year, year_rows)


def _write_year(summary: GenerationSummary, year: int, wanted: list[str], broken: dict[str, MistakeSpec]) -> None:
    """The workbooks of one year, for the `wanted` entities that report it; `broken`: entity -> its mistake."""
    plans = plan_year(summary.seed, year)
    summary.not_reporting[year] = [e for e in wanted if e not in plans]
    footprints: dict[str, Footprint] = {}
    ems: dict[str, str] = {}
    for entity in wanted:
        if entity not in plans:
            continue
        sub = build_submission(entity, year, summary.seed)
        footprints[entity] = submission_footprint(sub)
        ems[entity] = str(sub.fields["EMS"]["status"])
        _write_submission(summary, sub, broken.get(entity))
    if footprints:
        summary.system[year] = system_figures(year, footprints, ems)


def _write_submission(summary: GenerationSummary, sub: Submission, spec: MistakeSpec | None) -> None:
    """One entity-year's workbook; with `spec`, broken that way (after writing the corrected
    resubmission first, if the mistake gets one)."""
    entity, year, seed, inputs_dir = sub.entity, sub.year, summary.seed, summary.inputs_dir
    grid = render(sub, seed)
    rel = Path("submissions") / str(year) / f"{entity}_{year}.xlsx"
    resub_rel = None
    if spec is not None:
        if spec.resubmit:
            resub_rel = Path("resubmissions") / str(year) / f"{entity}_{year}_v2.xlsx"
            summary.rows_written += write_workbook(inputs_dir / resub_rel, grid)
            summary.resubmissions.append(inputs_dir / resub_rel)
            grid = {k: [list(r) for r in v] for k, v in grid.items()}
        sheet, cell, value = _break(spec.kind, grid, sub, seed)
        summary.mistakes.append(
            Mistake(
                rel.as_posix(),
                entity,
                year,
                spec.kind,
                sheet,
                cell,
                value,
                spec.expected_code,
                spec.description,
                resub_rel.as_posix() if resub_rel else None,
            )
        )
    summary.rows_written += write_workbook(inputs_dir / rel, grid)
    summary.workbooks.append(inputs_dir / rel)


@dataclass
class BenchmarkSummary:
    out_dir: Path
    workbooks: list[Path]
    rows_written: int
    seconds: float


def generate_benchmark(
    out_dir: Path, n_workbooks: int = 60, rows_per_workbook: int = 2000, seed: int = 7, year: int = 2024
) -> BenchmarkSummary:
    """`n_workbooks` valid workbooks of about `rows_per_workbook` data rows each, distinct
    entity/year pairs (the largest entities first, then earlier years), unique offset serials."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    pairs: list[tuple[str, int]] = []
    y = year
    while len(pairs) < n_workbooks:
        plans = plan_year(seed, y)
        pairs += [(e, y) for e in sorted(plans, key=lambda e: -plans[e].personnel)][: n_workbooks - len(pairs)]
        y -= 1
    paths, rows = [], 0
    for entity, y in pairs:
        sub = build_submission(entity, y, seed, rows=rows_per_workbook, serial_block=BENCHMARK_SERIAL_BLOCK)
        path = out_dir / f"{entity}_{y}.xlsx"
        rows += write_workbook(path, render(sub, seed))
        paths.append(path)
    return BenchmarkSummary(out_dir, paths, rows, time.perf_counter() - started)


def _format_summary(summary: GenerationSummary) -> str:
    lines = [
        f"wrote {len(summary.workbooks)} workbooks ({summary.rows_written} data rows), "
        f"{len(summary.resubmissions)} resubmissions, history {summary.history_file} in {summary.seconds:.1f} s"
    ]
    lines.append("year entities personnel   total_tCO2e  per_cap  fac   air   other offset waste_kg water_m3")
    for y, s in sorted(summary.system.items()):
        lines.append(
            f"{y} {s.entities:8d} {s.personnel:9d} {s.total_tco2e:13,.0f} {s.per_capita_tco2e:8.2f} "
            f"{s.share_facilities:.2f}  {s.share_air_travel:.2f}  {s.share_other_travel:.2f}  {s.offset_share:.2f} "
            f"{(s.waste_per_capita_kg or 0):8.0f} {(s.water_per_capita_m3 or 0):8.1f}"
        )
    lines += [f"broken: {m.file} {m.sheet}!{m.cell} {m.value!r} -> {m.expected_code}" for m in summary.mistakes]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the deterministic demo inputs (workbooks, history CSV).")
    parser.add_argument("inputs_dir", nargs="?", default="inputs", type=Path)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--first-year", type=int, default=2019)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--history-from", type=int, default=2010)
    args = parser.parse_args(argv)
    summary = generate(args.inputs_dir, args.seed, args.first_year, args.last_year, args.history_from)
    print(_format_summary(summary))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
