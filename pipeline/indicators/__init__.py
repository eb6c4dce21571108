"""Read one row of the indicator views (`system_indicators`, `entity_indicators`).

The figures themselves are defined once, in `pipeline/indicators/indicators.sql`; this module only
fetches a row and makes it JSON-ready (None for NULL, ints for counts, floats unrounded).
`INDICATOR_KEYS` is the key list of the output contract (docs: indicators.md), in contract order:
the views' columns are `year` (and `entity_code` first for entities) followed by exactly these.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB
from pipeline.warehouse.db import opened

INDICATOR_KEYS: tuple[str, ...] = (
    # emissions
    "reporting_entities",
    "personnel",
    "total_tco2e",
    "facilities_tco2e",
    "air_travel_tco2e",
    "other_travel_tco2e",
    "optional_tco2e",
    "scope1_tco2e",
    "scope2_tco2e",
    "scope2_market_tco2e",
    "scope3_tco2e",
    "share_facilities",
    "share_air_travel",
    "share_other_travel",
    "per_capita_tco2e",
    # offsets and climate neutrality
    "offsets_tco2e",
    "offset_share",
    "climate_neutral_entities",
    # change since the 2010 baseline
    "per_capita_change_since_2010",
    "total_change_since_2010",
    "like_for_like_change_since_2010",
    # energy
    "electricity_kwh",
    "renewable_electricity_share",
    "facility_intensity_kgco2e_per_m2",
    # waste and water
    "waste_tonnes",
    "waste_per_capita_kg",
    "waste_diversion_share",
    "hazardous_waste_tonnes",
    "water_m3",
    "water_per_capita_m3",
    # environmental management
    "ems_met",
    "ems_approaching",
    "ems_not_met",
    "reporting_coverage_percent",
)
# Keys that count entities or persons: integers in JSON. Every other key is a float.
COUNT_KEYS: frozenset[str] = frozenset(
    {"reporting_entities", "personnel", "climate_neutral_entities", "ems_met", "ems_approaching", "ems_not_met"}
)


def indicators(year: int, entity: str | None = None, db: Path = DEFAULT_DB) -> dict:
    """The year's system row, or the row of `entity` (code matched ignoring case), as a dict.

    Keys: `year` (and `entity_code` first for an entity) then INDICATOR_KEYS. Raises GtbError with
    a one-line message for a missing database, a year or entity without a row.
    """
    year = int(year)
    with opened(Path(db), read_only=True) as con:
        try:
            if entity is None:
                cur = con.execute("SELECT * FROM system_indicators WHERE year = ?", [year])
            else:
                cur = con.execute(
                    "SELECT * FROM entity_indicators WHERE upper(entity_code) = upper(trim(?)) AND year = ?",
                    [entity, year],
                )
            row = cur.fetchone()
            columns = [d[0] for d in cur.description]
            if row is None:
                raise GtbError(_no_row_message(con, year, entity))
        except duckdb.CatalogException:
            raise GtbError(f"{db} has no indicator views: run `gtb run` on it first") from None
    return {name: json_value(name, value) for name, value in zip(columns, row, strict=True)}


def json_value(key: str, value: Any) -> object:
    """None for NULL, int for counts (and `year`), float for every figure; text stays text.

    `value` is as DuckDB returns it; a count or `year` is a number, so int() takes it."""
    if value is None or isinstance(value, str):
        return value
    if key in COUNT_KEYS or key == "year":
        return int(value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return value


def year_ranges(years: list[int]) -> str:
    """[2010, 2011, 2012, 2019, 2020] -> '2010-2012, 2019-2020'."""
    spans: list[list[int]] = []
    for y in sorted(set(years)):
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _no_row_message(con: duckdb.DuckDBPyConnection, year: int, entity: str | None) -> str:
    if entity is None:
        years = [r[0] for r in con.execute("SELECT year FROM system_indicators").fetchall()]
        if not years:
            return f"no indicators for {year}: the database holds no loaded data yet (run `gtb run`)"
        return f"no indicators for {year}: years in the database are {year_ranges(years)}"
    code = entity.strip().upper()
    years = [
        r[0] for r in con.execute("SELECT year FROM entity_indicators WHERE upper(entity_code) = ?", [code]).fetchall()
    ]
    if years:
        return f"no indicators for {code} in {year}: its years in the database are {year_ranges(years)}"
    of_year = [
        r[0]
        for r in con.execute("SELECT entity_code FROM entity_indicators WHERE year = ? ORDER BY 1", [year]).fetchall()
    ]
    if of_year:
        return f"no indicators for {code}: entities with data for {year} are {', '.join(of_year)}"
    return f"no indicators for entity {code} in the database"


def print_table(row: dict, console: Console | None = None) -> None:
    """The row as a readable two-column table (key, value); NULL shows as an em dash."""
    from rich.table import Table

    title = f"Indicators {row.get('entity_code') or 'system-wide'} {row['year']}"
    table = Table(title=title, show_header=True)
    table.add_column("indicator")
    table.add_column("value", justify="right")
    for key in INDICATOR_KEYS:
        table.add_row(key, _shown(key, row.get(key)))
    (console or Console()).print(table)


def _shown(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key in COUNT_KEYS:
        return f"{value:,}"
    return f"{value:,.6g}" if abs(value) < 1000 else f"{value:,.1f}"
