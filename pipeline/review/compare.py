"""An entity's indicators this year and the year before, with the change (`gtb compare`).

Every key of the output contract, as `gtb indicators` gives it, beside last year's value; an
indicator a plausibility flag of the year bears on is marked, and the flags are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.errors import GtbError
from pipeline.indicators import Key, keys

# The indicators a flag on a sheet bears on (the total and per capita follow from every sheet).
BEARS_ON = {
    "Entity": ("personnel",),
    "Facilities": (
        "facilities_tco2e",
        "electricity_kwh",
        "renewable_electricity_share",
        "scope1_tco2e",
        "scope2_tco2e",
    ),
    "Refrigerants": ("facilities_tco2e", "scope1_tco2e", "optional_tco2e"),
    "Vehicles": ("other_travel_tco2e", "scope1_tco2e"),
    "AirTravel": ("air_travel_tco2e", "scope3_tco2e"),
    "OtherTravel": ("other_travel_tco2e", "scope3_tco2e"),
    "Waste": ("waste_tonnes", "waste_per_capita_kg", "waste_diversion_share", "hazardous_waste_tonnes"),
    "Water": ("water_m3", "water_per_capita_m3"),
}
ALWAYS = ("total_tco2e", "per_capita_tco2e", "share_facilities", "share_air_travel", "share_other_travel")


@dataclass(frozen=True)
class Line:
    key: Key
    before: float | None
    now: float | None
    flagged: bool

    @property
    def change(self) -> float | None:
        if self.before is None or self.now is None or self.key.kind in ("share", "change", "percent"):
            return None
        return self.now / self.before - 1 if self.before else None


@dataclass(frozen=True)
class Comparison:
    entity: str
    year: int
    previous_year: int | None
    lines: list[Line]
    flags: list[dict]


def compare(con: duckdb.DuckDBPyConnection, entity: str, year: int) -> Comparison:
    code = entity.strip().upper()
    cur = con.execute(
        "SELECT * FROM entity_indicators WHERE entity_code = ? AND year IN (?, ?)", [code, year, year - 1]
    )
    names = [d[0] for d in cur.description]
    rows = {r[names.index("year")]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    if year not in rows:
        raise GtbError(f"no indicators for {code} in {year}: see gtb status --year {year}")
    flags = [
        dict(zip(("sheet", "cell", "code", "message", "status"), r, strict=True))
        for r in con.execute(
            """
            SELECT f.sheet, f.cell, f.code, f.message, f.status FROM flags f JOIN submissions s USING (submission_id)
            WHERE s.entity_code = ? AND s.reporting_year = ? AND s.status = 'loaded' ORDER BY f.flag_id
            """,
            [code, year],
        ).fetchall()
    ]
    marked = {k for f in flags if f["status"] == "open" for k in (*BEARS_ON.get(f["sheet"], ()), *ALWAYS)}
    before, now = rows.get(year - 1, {}), rows[year]
    lines = [Line(k, _num(before.get(k.key)), _num(now.get(k.key)), k.key in marked) for k in keys()]
    return Comparison(code, year, year - 1 if before else None, lines, flags)


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
