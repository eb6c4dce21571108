"""An entity's indicators this year and the year before, with the change (`gtb compare`).

Every key of the output contract, as `gtb indicators` gives it, beside last year's value; an
indicator a plausibility flag of the year bears on is marked, and the flags are listed. "Last
year" is the entity's latest loaded year before (`last_year.previous_submission`), or its latest
published year (history) where that is later, as the flags and the template's "Last year" sheet
have it: a year rejected or never sent is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.errors import GtbError
from pipeline.indicators import Key, keys
from schemas import i18n

SHA256_SHOWN = 12  # hexadecimal digits of a loaded workbook's SHA-256 shown, to accept it by (`gtb accept --sha256`)
SHA256_SHOWN_MIN = 8  # the fewest `gtb accept --sha256` takes

# What follows from a sheet's emissions: the total and its shares, per capita, the share offset and
# the changes since 2010.
EMISSIONS_FOLLOW = (
    "total_tco2e",
    "per_capita_tco2e",
    "share_facilities",
    "share_air_travel",
    "share_other_travel",
    "offset_share",
    "per_capita_change_since_2010",
    "total_change_since_2010",
    "like_for_like_change_since_2010",
)
# The indicators a flag on a sheet bears on (by the contract's sheet name, whatever the tab is called).
BEARS_ON = {
    "Entity": (
        "personnel",
        "per_capita_tco2e",
        "per_capita_change_since_2010",
        "waste_per_capita_kg",
        "water_per_capita_m3",
    ),
    "Facilities": (
        "facilities_tco2e",
        "electricity_kwh",
        "renewable_electricity_share",
        "renewable_share_reported",
        "renewable_share_grid_default",
        "facility_intensity_kgco2e_per_m2",
        "scope1_tco2e",
        "scope2_tco2e",
        "scope2_market_tco2e",
        *EMISSIONS_FOLLOW,
    ),
    "Refrigerants": (
        "facilities_tco2e",
        "facility_intensity_kgco2e_per_m2",
        "scope1_tco2e",
        "optional_tco2e",
        *EMISSIONS_FOLLOW,
    ),
    "Vehicles": ("other_travel_tco2e", "scope1_tco2e", "scope2_tco2e", "scope2_market_tco2e", *EMISSIONS_FOLLOW),
    "AirTravel": ("air_travel_tco2e", "scope3_tco2e", *EMISSIONS_FOLLOW),
    "OtherTravel": ("other_travel_tco2e", "scope3_tco2e", *EMISSIONS_FOLLOW),
    "Waste": ("waste_tonnes", "waste_per_capita_kg", "waste_diversion_share", "hazardous_waste_tonnes"),
    "Water": ("water_m3", "water_per_capita_m3"),
}


def bears_on(tab: str) -> tuple[str, ...]:
    """The indicators a flag on the sheet of this tab bears on: a flag keeps the tab as the
    workbook names it (`Installations` in French), which is read back to its contract sheet."""
    return BEARS_ON.get(i18n.sheet_of(tab), ())


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
    factor_sets: str | None = None  # the year's emissions' factor set(s) (view entity_factor_sets)
    previous_factor_sets: str | None = None  # the compared year's; None for published totals
    file_name: str | None = None  # the year's loaded workbook, whose flags these are (`gtb accept --file`)
    sha256: str | None = None  # the start of its bytes' SHA-256 (`gtb accept --sha256`)

    @property
    def factor_set_changed(self) -> bool:
        """The two years' emissions were calculated with different factor sets: part of a change
        in emissions is the method's, not the entity's."""
        return bool(self.factor_sets and self.previous_factor_sets and self.factor_sets != self.previous_factor_sets)


def earlier_year(con: duckdb.DuckDBPyConnection, code: str, year: int) -> int | None:
    """The year `year` is compared with, as the plausibility flags and the template's Last year
    sheet have it: the entity's latest loaded year before it, or a later year before it the
    indicators have (published totals); None without any."""
    from pipeline.review.last_year import previous_submission

    loaded = previous_submission(con, code, year)
    after = loaded[1] if loaded is not None else 0
    found = con.execute(
        "SELECT max(year) FROM entity_indicators WHERE entity_code = ? AND year < ? AND year > ?", [code, year, after]
    ).fetchone()
    if found and found[0] is not None:
        return int(found[0])
    return loaded[1] if loaded is not None else None


def compare(con: duckdb.DuckDBPyConnection, entity: str, year: int) -> Comparison:
    from pipeline.review.status import no_run_completed

    if no_run_completed(con):  # the first run was stopped: its indicator views were never made
        raise GtbError("no run has completed on this database yet, so it holds no indicators: run gtb run first")
    code = entity.strip().upper()
    previous = earlier_year(con, code, year)
    cur = con.execute(
        "SELECT * FROM entity_indicators WHERE entity_code = ? AND year IN (?, ?)", [code, year, previous or year]
    )
    names = [d[0] for d in cur.description]
    rows = {r[names.index("year")]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    if year not in rows:
        from pipeline.indicators import look_alike_entity

        raise GtbError(
            look_alike_entity(con, code) or f"no indicators for {code} in {year}: see gtb status --year {year}"
        )
    flags = [
        dict(zip(("sheet", "cell", "code", "message", "status", "explanation"), r, strict=True))
        for r in con.execute(
            """
            SELECT f.sheet, f.cell, f.code, f.message, f.status, f.explanation
            FROM flags f JOIN submissions s USING (submission_id)
            WHERE s.entity_code = ? AND s.reporting_year = ? AND s.status = 'loaded' AND f.status <> 'withdrawn'
            ORDER BY f.flag_id
            """,
            [code, year],
        ).fetchall()
    ]
    marked = {k for f in flags if f["status"] == "open" for k in bears_on(f["sheet"])}
    before, now = rows.get(previous, {}) if previous is not None else {}, rows[year]
    lines = [Line(k, _num(before.get(k.key)), _num(now.get(k.key)), k.key in marked) for k in keys()]
    sets = dict(
        con.execute(
            "SELECT year, factor_sets FROM entity_factor_sets WHERE entity_code = ? AND year IN (?, ?)",
            [code, year, previous if before else year],
        ).fetchall()
    )
    shown_previous = previous if before else None
    loaded = con.execute(
        "SELECT file_name, sha256 FROM submissions WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
        [code, year],
    ).fetchone()
    return Comparison(
        code,
        year,
        shown_previous,
        lines,
        flags,
        sets.get(year),
        sets.get(shown_previous) if shown_previous else None,
        loaded[0] if loaded else None,
        str(loaded[1])[:SHA256_SHOWN] if loaded else None,
    )


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
