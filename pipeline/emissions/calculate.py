"""Calculate: activity rows x the pinned factor set -> one emissions row per activity row.

Each row keeps the factor set, factor id, region and value it used, so every tCO2e traces back
to a row of a submitted sheet and a cited factor. A run calculates only the submissions it
loads; recalculating a past year with another set is `recalculate`, an explicit, logged act.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipeline import codelists
from pipeline.reference import factors, icao
from pipeline.warehouse.db import utcnow
from pipeline.warehouse.load import insert_frame

# factor_id of an air travel row priced with the ICAO calculator's own figure given in the row
SUBMITTED_AIR_FACTOR = "air.icec.submitted"


@dataclass(frozen=True)
class Source:
    """How one activity table becomes emissions."""

    sheet: str
    table: str
    activity_sql: str  # the factor_lookup activity of a row
    quantity_sql: str  # quantity in the factor's unit
    unit_sql: str | None  # that unit, to check against the factor's (None: the factor's unit, per the contract)
    country_sql: str | None  # for regional factors
    extra_sql: str = ""  # further columns a sheet's pricing needs


AIR_COLUMNS = (
    ", a.origin_iata, a.destination_iata, a.great_circle_km, a.cabin_class_code AS cabin_class, a.flights,"
    " a.icec_kgco2_per_passenger"
)
SOURCES = (
    Source(
        "Facilities",
        "facilities_activity",
        "energy_type_code",
        "canonical_quantity",
        "canonical_unit",
        "country_code",
        ", a.renewable_kwh",
    ),
    Source("Refrigerants", "refrigerants_activity", "gas_code", "refilled_kg", "'kg'", None, ", a.is_hcfc"),
    Source("Vehicles", "vehicles_activity", "fuel_code", "canonical_quantity", "canonical_unit", "country_code"),
    Source(
        "AirTravel",
        "air_travel_activity",
        "distance_band || '.' || cabin_class_code",
        "passenger_km",
        "'passenger_km'",
        None,
        AIR_COLUMNS,
    ),
    # passenger-km, but vehicle-km for car_rental (the contract): the factor's unit says which
    Source("OtherTravel", "other_travel_activity", "mode_code", "passenger_km", None, None),
)

# (sheet, activity) -> scope and scope detail; everything else of a sheet takes the sheet default.
SCOPE_DEFAULT = {
    "Facilities": (1, "stationary_combustion", "facilities"),
    "Refrigerants": (1, "fugitive", "facilities"),
    "Vehicles": (1, "mobile_combustion", "other_travel"),
    "AirTravel": (3, "business_travel", "air_travel"),
    "OtherTravel": (3, "business_travel", "other_travel"),
}
SCOPE_BY_ACTIVITY = {
    ("Facilities", "electricity"): (2, "purchased_electricity"),
    ("Facilities", "district_heating"): (2, "purchased_heat_cooling"),
    ("Facilities", "district_cooling"): (2, "purchased_heat_cooling"),
    ("Vehicles", "electricity"): (2, "purchased_electricity"),
}


def ensure_factor_set(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Copy a factor set into the warehouse once, so emissions rows can join their factor."""
    present = con.execute("SELECT count(*) FROM emission_factors WHERE factor_set = ?", [name]).fetchall()[0][0]
    if present:
        return
    frame = factors.factor_set(name).assign(factor_set=name)
    cols = [c for c in frame.columns if c in _factor_columns(con)]
    frame["publication_year"] = pd.to_numeric(frame["publication_year"], errors="coerce").astype("Int64")
    insert_frame(con, "emission_factors", frame[cols])


def _factor_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'emission_factors'"
        ).fetchall()
    }


def sync_pins(con: duckdb.DuckDBPyConnection) -> None:
    """factor_pins mirrors inputs/reference/factor_pins.csv (what a run will use)."""
    pins = factors.pins()[["year", "factor_set"]].rename(columns={"year": "reporting_year"})
    pins["reporting_year"] = pins["reporting_year"].astype(int)
    con.execute("DELETE FROM factor_pins")
    insert_frame(con, "factor_pins", pins)


def _activity(con: duckdb.DuckDBPyConnection, source: Source, ids: list[int]) -> pd.DataFrame:
    country = source.country_sql or "NULL"
    unit = source.unit_sql or "NULL"
    return con.execute(
        f"""
        SELECT a.submission_id, a.source_row, {source.activity_sql} AS activity, {source.quantity_sql} AS quantity,
               {unit} AS unit, {country} AS country, s.reporting_year{source.extra_sql}
        FROM {source.table} a JOIN submissions s USING (submission_id)
        WHERE a.submission_id IN (SELECT unnest(?))
        """,
        [ids],
    ).df()


@dataclass
class Priced:
    """What a group of activity rows costs: the activity in the factor's unit, the factor, tCO2e."""

    quantity: np.ndarray
    unit: np.ndarray
    factor_id: np.ndarray
    region: np.ndarray
    kgco2e_per_unit: np.ndarray
    estimated_tco2e: np.ndarray | None = None  # where a submitted figure replaced the estimate

    @property
    def tco2e(self) -> np.ndarray:
        return self.quantity * self.kgco2e_per_unit / 1000.0


def _by_factor(source: Source, part: pd.DataFrame, name: str) -> Priced:
    """Activity x its factor of the set (country factor or WORLD)."""
    countries = part["country"] if source.country_sql else None
    f = factors.resolve_factors(source.sheet, part["activity"], countries, name=name)
    units = f["unit"].to_numpy() if source.unit_sql is None else part["unit"].to_numpy()
    mismatch = f["unit"].to_numpy() != units
    if mismatch.any():
        bad = part[mismatch].iloc[0]
        raise AssertionError(
            f"{source.sheet}: factor {f[mismatch]['factor_id'].iloc[0]} is per {f[mismatch]['unit'].iloc[0]} "
            f"but the activity is in {bad['unit']}; conversions.csv and the factors disagree"
        )
    return Priced(
        part["quantity"].to_numpy(dtype=float),
        units,
        f["factor_id"].to_numpy(),
        f["region"].to_numpy(),
        f["kgco2e_per_unit"].to_numpy(dtype=float),
    )


def _air_icao(part: pd.DataFrame, name: str) -> Priced:
    """Air travel by the ICAO calculator's method: the fuel attributed to each passenger flight x
    3.16 kg CO2 per kg; where the row gives the calculator's own figure, that figure is used and
    the estimate kept beside it."""
    airport_country = codelists.airport_countries()
    fuel = icao.passenger_fuel(
        part["great_circle_km"],
        part["origin_iata"].map(airport_country),
        part["destination_iata"].map(airport_country),
        part["cabin_class"],
        factor_set=name,
    )
    f = factors.resolve_factors("AirTravel", pd.Series("icao_fuel", index=part.index), name=name)
    flights = part["flights"].to_numpy(dtype=float)
    estimate = Priced(
        fuel["fuel_kg"].to_numpy() * flights,
        np.full(len(part), "kg_fuel", dtype=object),
        f["factor_id"].to_numpy(),
        f["region"].to_numpy(),
        f["kgco2e_per_unit"].to_numpy(dtype=float),
    )
    submitted = part["icec_kgco2_per_passenger"].notna().to_numpy()
    if not submitted.any():
        return estimate
    icec = part["icec_kgco2_per_passenger"].to_numpy(dtype=float)
    return Priced(
        np.where(submitted, flights, estimate.quantity),
        np.where(submitted, "passenger_flight", estimate.unit),
        np.where(submitted, SUBMITTED_AIR_FACTOR, estimate.factor_id),
        np.where(submitted, "ROUTE", estimate.region),
        np.where(submitted, icec, estimate.kgco2e_per_unit),
        np.where(submitted, estimate.tco2e, np.nan),
    )


def _renewable(part: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Renewable kWh of each row and where it comes from: the entity's figure; else, on electricity
    rows, the country's grid renewable share (WORLD where the country has none) when the set has one."""
    is_elec = (part["activity"] == "electricity").to_numpy()
    reported = part["renewable_kwh"].to_numpy(dtype=float)
    has_reported = ~np.isnan(reported)
    shares = factors.renewable_shares(name)
    if shares:
        share = part["country"].map(shares).fillna(shares[factors.WORLD]).to_numpy(dtype=float)
        default = part["quantity"].to_numpy(dtype=float) * share
        kwh = np.where(has_reported, reported, default)
        source = np.where(has_reported, "reported", "grid_default")
    else:  # a set without shares: only what the entity reported counts
        kwh = np.where(has_reported, reported, 0.0)
        source = np.where(has_reported, "reported", "none")
    return np.where(is_elec, kwh, np.nan), np.where(is_elec, source, np.array(None, dtype=object))


def emissions_rows(con: duckdb.DuckDBPyConnection, ids: list[int], factor_set: str | None = None) -> pd.DataFrame:
    """Emissions of the given submissions, with the pinned set of their year (or `factor_set`)."""
    out = []
    now = utcnow()
    for source in SOURCES:
        rows = _activity(con, source, ids)
        if rows.empty:
            continue
        by_year = {y: factor_set or factors.pinned_set(int(y)) for y in rows["reporting_year"].unique()}
        sets = rows["reporting_year"].map(by_year)
        for name, part in rows.groupby(sets):
            ensure_factor_set(con, name)
            if source.sheet == "AirTravel" and icao.uses_icao(name):
                priced = _air_icao(part, name)
            else:
                priced = _by_factor(source, part, name)
            tco2e = priced.tco2e
            market = tco2e.copy()
            renewable_kwh = renewable_source = None
            if source.sheet == "Facilities":
                renewable_kwh, renewable_source = _renewable(part, name)
                reported = part["renewable_kwh"].fillna(0).to_numpy(dtype=float)
                is_elec = (part["activity"] == "electricity").to_numpy()
                # market-based: only the entity's own renewable electricity is zero-rated
                market = np.where(is_elec, (priced.quantity - reported) * priced.kgco2e_per_unit / 1000.0, tco2e)
            scope_default, detail_default, category = SCOPE_DEFAULT[source.sheet]
            scope_of = {
                a: SCOPE_BY_ACTIVITY.get((source.sheet, a), (scope_default, detail_default))
                for a in part["activity"].unique()
            }
            out.append(
                pd.DataFrame(
                    {
                        "submission_id": part["submission_id"].to_numpy(),
                        "sheet": source.sheet,
                        "source_row": part["source_row"].to_numpy(),
                        "scope": part["activity"].map({a: v[0] for a, v in scope_of.items()}).to_numpy(),
                        "scope_detail": part["activity"].map({a: v[1] for a, v in scope_of.items()}).to_numpy(),
                        "gtb_category": category,
                        "is_optional": part["is_hcfc"].to_numpy(dtype=bool)
                        if source.sheet == "Refrigerants"
                        else False,
                        "activity_quantity": priced.quantity,
                        "activity_unit": priced.unit,
                        "factor_set": name,
                        "factor_id": priced.factor_id,
                        "factor_region": priced.region,
                        "kgco2e_per_unit": priced.kgco2e_per_unit,
                        "emissions_tco2e": tco2e,
                        "market_emissions_tco2e": market,
                        "calculated_at": now,
                        "estimated_tco2e": priced.estimated_tco2e,
                        "renewable_kwh": renewable_kwh,
                        "renewable_source": renewable_source,
                    }
                )
            )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def calculate(con: duckdb.DuckDBPyConnection, ids: list[int], factor_set: str | None = None) -> int:
    """(Re)write the emissions rows of the given submissions. The caller owns the transaction."""
    if not ids:
        return 0
    con.execute("DELETE FROM emissions WHERE submission_id IN (SELECT unnest(?))", [ids])
    return insert_frame(con, "emissions", emissions_rows(con, ids, factor_set))


def recalculate(con: duckdb.DuckDBPyConnection, year: int, factor_set: str, reason: str) -> dict:
    """Recalculate every loaded submission of `year` with `factor_set`, logged in `recalculations`."""
    if factor_set not in factors.available_sets():
        raise ValueError(f"unknown factor set {factor_set!r}; available: {', '.join(factors.available_sets())}")
    ids = [
        r[0]
        for r in con.execute(
            "SELECT submission_id FROM submissions WHERE status = 'loaded' AND reporting_year = ?", [year]
        ).fetchall()
    ]
    if not ids:  # nothing to recalculate: said, and nothing logged
        raise ValueError(f"no loaded submission for {year}: there is nothing to recalculate")
    old_set, old_total = con.execute(
        """
        SELECT string_agg(DISTINCT factor_set, ','), sum(emissions_tco2e) FROM emissions
        WHERE submission_id IN (SELECT unnest(?))
        """,
        [ids],
    ).fetchall()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        calculate(con, ids, factor_set)
        new_total = con.execute(
            "SELECT coalesce(sum(emissions_tco2e), 0) FROM emissions WHERE submission_id IN (SELECT unnest(?))", [ids]
        ).fetchall()[0][0]
        con.execute(
            "INSERT INTO recalculations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [utcnow(), year, old_set, factor_set, len(ids), old_total, new_total, reason],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {
        "year": year,
        "submissions": len(ids),
        "old_factor_set": old_set,
        "new_factor_set": factor_set,
        "old_total_tco2e": old_total,
        "new_total_tco2e": new_total,
    }
