"""Calculate: activity rows x the pinned factor set -> one emissions row per activity row.

Each row keeps the factor set, factor id, region and value it used, so every tCO2e traces back
to a row of a submitted sheet and a cited factor. A run calculates only the submissions it
loads; recalculating a past year with another set is `recalculate`, an explicit, logged act.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
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


SOURCES = (
    Source(
        "Facilities", "facilities_activity", "energy_type_code", "canonical_quantity", "canonical_unit", "country_code"
    ),
    Source("Refrigerants", "refrigerants_activity", "gas_code", "refilled_kg", "'kg'", None),
    Source("Vehicles", "vehicles_activity", "fuel_code", "canonical_quantity", "canonical_unit", "country_code"),
    Source(
        "AirTravel",
        "air_travel_activity",
        "distance_band || '.' || cabin_class_code",
        "passenger_km",
        "'passenger_km'",
        None,
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


# Pricing runs in two parts. What a row costs depends on a few of its values only (its year, which
# picks the factor set; its activity, country and unit; for air travel by the ICAO method its
# route and cabin class): Python prices each distinct combination once, with the factor sets'
# own lookups, and DuckDB spreads the prices over the rows, in compiled code on every core. The
# arithmetic is numpy's, operation for operation: (quantity x kgCO2e per unit) / 1000.


def _rows_sql(source: Source, where: str) -> str:
    """The source's activity rows that `where` keeps, each with its pricing key: reporting year,
    activity, country and unit ('' where the sheet has none) and its quantity as a double."""
    return f"""
        SELECT a.*, s.reporting_year, {source.activity_sql} AS _activity,
               coalesce({source.country_sql or "NULL"}, '') AS _country,
               coalesce({source.unit_sql or "NULL"}, '') AS _unit,
               CAST({source.quantity_sql} AS DOUBLE) AS _quantity
        FROM {source.table} a JOIN submissions s USING (submission_id)
        WHERE {where}
    """


def _scopes(sheet: str, activities: pd.Series) -> tuple[list[int], list[str]]:
    scope_default, detail_default, _ = SCOPE_DEFAULT[sheet]
    scope = [SCOPE_BY_ACTIVITY.get((sheet, a), (scope_default, detail_default)) for a in activities]
    return [s for s, _ in scope], [d for _, d in scope]


def _factor_prices(source: Source, keys: pd.DataFrame, sets: dict[int, str]) -> pd.DataFrame:
    """Each distinct (year, activity, country, unit) of a source priced by its factor of the year's
    set (the country's factor or WORLD): factor, its unit, and for electricity the grid's renewable
    share of the country (WORLD where the country has none), NULL for a set without shares."""
    out = []
    for name, part in keys.groupby(keys["reporting_year"].map(sets)):
        part = part.reset_index(drop=True)
        countries = part["_country"].where(part["_country"] != "", None) if source.country_sql else None
        f = factors.resolve_factors(source.sheet, part["_activity"], countries, name=str(name))
        units = f["unit"].to_numpy() if source.unit_sql is None else part["_unit"].to_numpy()
        mismatch = f["unit"].to_numpy() != units
        if mismatch.any():
            bad = part[mismatch].iloc[0]
            raise AssertionError(
                f"{source.sheet}: factor {f[mismatch]['factor_id'].iloc[0]} is per {f[mismatch]['unit'].iloc[0]} "
                f"but the activity is in {bad['_unit']}; conversions.csv and the factors disagree"
            )
        scope, detail = _scopes(source.sheet, part["_activity"])
        shares = factors.renewable_shares(str(name)) if source.sheet == "Facilities" else {}
        share = [shares.get(c, shares[factors.WORLD]) for c in part["_country"]] if shares else [None] * len(part)
        out.append(
            pd.DataFrame(
                {
                    "reporting_year": part["reporting_year"].to_numpy(),
                    "_activity": part["_activity"].to_numpy(),
                    "_country": part["_country"].to_numpy(),
                    "_unit": part["_unit"].to_numpy(),
                    "factor_set": str(name),
                    "activity_unit": units,
                    "factor_id": f["factor_id"].to_numpy(),
                    "factor_region": f["region"].to_numpy(),
                    "kgco2e_per_unit": f["kgco2e_per_unit"].to_numpy(dtype=float),
                    "scope": scope,
                    "scope_detail": detail,
                    "grid_share": pd.array(share, dtype="Float64"),
                    "has_shares": bool(shares),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _icao_prices(keys: pd.DataFrame, sets: dict[int, str]) -> pd.DataFrame:
    """Each distinct (year, great-circle km, airports, cabin class) of air travel priced by the
    ICAO calculator's method: the fuel attributed to one passenger of one flight, and the factor
    of a kg of fuel (3.16 kg CO2)."""
    airport_country = codelists.airport_countries()
    out = []
    for name, part in keys.groupby(keys["reporting_year"].map(sets)):
        part = part.reset_index(drop=True)
        fuel = icao.passenger_fuel(
            part["great_circle_km"],
            part["origin_iata"].map(airport_country),
            part["destination_iata"].map(airport_country),
            part["cabin_class_code"],
            factor_set=str(name),
        )
        f = factors.resolve_factors("AirTravel", pd.Series(["icao_fuel"]), name=str(name))
        scope, detail = _scopes("AirTravel", pd.Series(["icao_fuel"]))
        out.append(
            part.assign(
                fuel_kg=fuel["fuel_kg"].to_numpy(),
                factor_set=str(name),
                factor_id=f["factor_id"].iloc[0],
                factor_region=f["region"].iloc[0],
                kgco2e_per_unit=float(f["kgco2e_per_unit"].iloc[0]),
                scope=scope[0],
                scope_detail=detail[0],
            )
        )
    return pd.concat(out, ignore_index=True)


EMISSIONS_COLUMNS = (
    "submission_id, sheet, source_row, scope, scope_detail, gtb_category, is_optional, activity_quantity, "
    "activity_unit, factor_set, factor_id, factor_region, kgco2e_per_unit, emissions_tco2e, market_emissions_tco2e, "
    "calculated_at, estimated_tco2e, renewable_kwh, renewable_source"
)


def _price_by_factor(con: duckdb.DuckDBPyConnection, source: Source, rows_sql: str, params: dict) -> int:
    """Insert the emissions of the source's rows priced by factor (`_factor_prices` of their keys)."""
    category = SCOPE_DEFAULT[source.sheet][2]
    optional = "coalesce(r.is_hcfc, false)" if source.sheet == "Refrigerants" else "false"
    tco2e = "r._quantity * k.kgco2e_per_unit / 1000.0"
    if source.sheet == "Facilities":  # market-based: only the entity's own renewable electricity is zero-rated
        is_elec = "r._activity = 'electricity'"
        own = "(r._quantity - coalesce(r.renewable_kwh, 0.0)) * k.kgco2e_per_unit / 1000.0"
        market = f"CASE WHEN {is_elec} THEN {own} ELSE {tco2e} END"
        # renewable: the entity's own (on-site or certified, `renewable_kwh`), and under a set with
        # grid shares the rest of the row, which came from the grid, at the grid's share: the same
        # kWh count the same however the site's rows are laid out
        own_kwh = "coalesce(r.renewable_kwh, 0.0)"
        # all of the row its own: within validation's tolerance of the quantity (36 GJ is
        # 10,000.000000008 kWh, and a figure of 10,000 kWh is the whole row)
        whole = "r.renewable_kwh >= r._quantity * (1 - 1e-9)"
        renewable_kwh = (
            f"CASE WHEN {is_elec} THEN CASE WHEN k.has_shares AND NOT coalesce({whole}, false) "
            f"THEN {own_kwh} + (r._quantity - {own_kwh}) * k.grid_share ELSE {own_kwh} END END"
        )
        renewable_source = (
            f"CASE WHEN {is_elec} THEN CASE "
            "WHEN NOT k.has_shares THEN CASE WHEN r.renewable_kwh IS NOT NULL THEN 'reported' ELSE 'none' END "
            f"WHEN {own_kwh} = 0 THEN 'grid_default' WHEN {whole} THEN 'reported' "
            "ELSE 'reported_and_grid_default' END END"
        )
    else:
        market, renewable_kwh, renewable_source = tco2e, "NULL", "NULL"
    return _insert(
        con,
        f"""
        SELECT r.submission_id, '{source.sheet}', r.source_row, k.scope, k.scope_detail, '{category}', {optional},
               r._quantity, k.activity_unit, k.factor_set, k.factor_id, k.factor_region, k.kgco2e_per_unit,
               {tco2e}, {market}, $now, NULL, {renewable_kwh}, {renewable_source}
        FROM ({rows_sql}) r JOIN _prices k
          ON r.reporting_year = k.reporting_year AND r._activity = k._activity AND r._country = k._country
             AND r._unit = k._unit
        """,
        params,
    )


def _price_by_icao(con: duckdb.DuckDBPyConnection, rows_sql: str, params: dict) -> int:
    """Insert the emissions of air travel rows priced by the ICAO method (`_icao_prices` of their
    keys): the fuel of the row's flights x its factor; where the row gives the calculator's own
    figure, that figure per flight, and the estimate kept beside it."""
    estimate = "(k.fuel_kg * CAST(r.flights AS DOUBLE))"
    submitted = "r.icec_kgco2_per_passenger IS NOT NULL"
    quantity = f"CASE WHEN {submitted} THEN CAST(r.flights AS DOUBLE) ELSE {estimate} END"
    per_unit = f"CASE WHEN {submitted} THEN r.icec_kgco2_per_passenger ELSE k.kgco2e_per_unit END"
    tco2e = f"{quantity} * {per_unit} / 1000.0"
    return _insert(
        con,
        f"""
        SELECT r.submission_id, 'AirTravel', r.source_row, k.scope, k.scope_detail, 'air_travel', false,
               {quantity}, CASE WHEN {submitted} THEN 'passenger_flight' ELSE 'kg_fuel' END, k.factor_set,
               CASE WHEN {submitted} THEN '{SUBMITTED_AIR_FACTOR}' ELSE k.factor_id END,
               CASE WHEN {submitted} THEN 'ROUTE' ELSE k.factor_region END, {per_unit},
               {tco2e}, {tco2e}, $now,
               CASE WHEN {submitted} THEN {estimate} * k.kgco2e_per_unit / 1000.0 END, NULL, NULL
        FROM ({rows_sql}) r JOIN _prices k
          ON r.reporting_year = k.reporting_year AND r.great_circle_km = k.great_circle_km
             AND coalesce(r.origin_iata, '') = coalesce(k.origin_iata, '')
             AND coalesce(r.destination_iata, '') = coalesce(k.destination_iata, '')
             AND r.cabin_class_code = k.cabin_class_code
        """,
        params,
    )


def _insert(con: duckdb.DuckDBPyConnection, select_sql: str, params: dict) -> int:
    return int(con.execute(f"INSERT INTO emissions ({EMISSIONS_COLUMNS}) {select_sql}", params).fetchall()[0][0])


def _price(con: duckdb.DuckDBPyConnection, source: Source, ids: list[int], factor_set: str | None, now: object) -> int:
    """Insert the emissions of the source's rows of the submissions `ids`; the number of rows."""
    counts = con.execute(
        f"""
        SELECT s.reporting_year, count(*) FROM {source.table} a JOIN submissions s USING (submission_id)
        WHERE a.submission_id IN (SELECT unnest(?)) GROUP BY ALL
        """,
        [ids],
    ).fetchall()
    if not counts:
        return 0
    sets = {int(year): factor_set or year_set(con, int(year)) for year, _ in counts}
    for name in dict.fromkeys(sets.values()):
        ensure_factor_set(con, name)
    by_icao = {y for y, name in sets.items() if source.sheet == "AirTravel" and icao.uses_icao(name)}
    inserted = 0
    for years, icao_method in ((sorted(set(sets) - by_icao), False), (sorted(by_icao), True)):
        if not years:
            continue
        params = {"ids": ids, "years": years, "now": now}
        rows_sql = _rows_sql(
            source, "a.submission_id IN (SELECT unnest($ids)) AND s.reporting_year IN (SELECT unnest($years))"
        )
        key_columns = (
            "reporting_year, great_circle_km, origin_iata, destination_iata, cabin_class_code"
            if icao_method
            else "reporting_year, _activity, _country, _unit"
        )
        keys = con.execute(f"SELECT DISTINCT {key_columns} FROM ({rows_sql}) r", {"ids": ids, "years": years}).df()
        prices = _icao_prices(keys, sets) if icao_method else _factor_prices(source, keys, sets)
        con.register("_prices", prices)
        try:
            inserted += (
                _price_by_icao(con, rows_sql, params)
                if icao_method
                else _price_by_factor(con, source, rows_sql, params)
            )
        finally:
            con.unregister("_prices")
    expected = sum(n for _, n in counts)
    assert inserted == expected, f"{source.sheet}: {inserted} of {expected} activity rows priced"  # every row, once
    return inserted


def year_set(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """The factor set a workbook of `year` is calculated with: the set of the year's latest
    recalculation (`gtb recalculate` restated the year: a later resubmission follows it, so that
    the year keeps one set), else the set pinned for the year."""
    found = con.execute(
        "SELECT new_factor_set FROM recalculations WHERE reporting_year = ? ORDER BY recalculated_at DESC LIMIT 1",
        [int(year)],
    ).fetchall()  # whole: a result left open would hold the connection
    return str(found[0][0]) if found else factors.pinned_set(int(year))


def year_sets(con: duckdb.DuckDBPyConnection, years: Iterable[int | None]) -> dict[int, str]:
    """`year_set` of each year of `years` (None, a workbook without a year, has none)."""
    return {int(y): year_set(con, int(y)) for y in set(years) if y is not None}


def mixed_sets(con: duckdb.DuckDBPyConnection, years: list[int]) -> list[tuple[int, list[tuple[str, int]]]]:
    """The years among `years` whose loaded submissions' emissions use more than one factor set,
    each with its sets and how many submissions use each (a pin changed after the year's first
    workbooks, and a workbook loaded since): such a year's figures are not comparable within."""
    rows = con.execute(
        """
        SELECT s.reporting_year, e.factor_set, count(DISTINCT s.submission_id)
        FROM emissions e JOIN submissions s USING (submission_id)
        WHERE s.status = 'loaded' AND s.reporting_year IN (SELECT unnest(?))
        GROUP BY ALL ORDER BY ALL
        """,
        [sorted(set(years))],
    ).fetchall()
    by_year: dict[int, list[tuple[str, int]]] = {}
    for year, name, n in rows:
        by_year.setdefault(int(year), []).append((str(name), int(n)))
    return [(year, sets) for year, sets in sorted(by_year.items()) if len(sets) > 1]


def year_mixed_sets(con: duckdb.DuckDBPyConnection, year: int) -> tuple[tuple[str, int], ...]:
    """`mixed_sets` of one year: the factor sets of its loaded workbooks with how many use each,
    when they are two or more (what the run warns of, and what makes its report a draft); () for
    a year on one set."""
    found = mixed_sets(con, [year])
    return tuple(found[0][1]) if found else ()


def sets_used(sets: Iterable[tuple[str, int]]) -> str:
    """A year's factor sets as the run, the report and the export name them (`mixed_sets`):
    'gtb-2025.1 (3 workbooks), gtb-2026.1 (1 workbook)'."""
    return ", ".join(f"{name} ({n} workbook{'s' * (n != 1)})" for name, n in sets)


def calculate(con: duckdb.DuckDBPyConnection, ids: list[int], factor_set: str | None = None) -> int:
    """(Re)write the emissions rows of the given submissions. The caller owns the transaction."""
    if not ids:
        return 0
    con.execute("DELETE FROM emissions WHERE submission_id IN (SELECT unnest(?))", [ids])
    now = utcnow()
    return sum(_price(con, source, ids, factor_set, now) for source in SOURCES)


def recalculate(con: duckdb.DuckDBPyConnection, year: int, factor_set: str, reason: str) -> dict:
    """Recalculate every loaded submission of `year` with `factor_set`, logged in `recalculations`.

    A year already calculated with that set alone is priced again, and kept and logged only if a
    figure changed: a set never changes once published, but the pipeline's rules may (a row's
    renewable electricity since migration 6), and this is how a year takes them; otherwise
    nothing is kept and nothing logged. Beside the log's totals (all
    emission rows, optional ones included), the year's headline total before and after, as
    `gtb indicators` gives it (`system_indicators.total_tco2e`; the views must exist)."""
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
        SELECT string_agg(DISTINCT factor_set, ',' ORDER BY factor_set), sum(emissions_tco2e) FROM emissions
        WHERE submission_id IN (SELECT unnest(?))
        """,
        [ids],
    ).fetchall()[0]
    done = {"year": year, "submissions": len(ids), "old_factor_set": old_set, "new_factor_set": factor_set}
    old_headline = _headline_total(con, year)
    unchanged = {
        **done,
        "unchanged": True,
        "old_total_tco2e": old_total,
        "new_total_tco2e": old_total,
        "old_headline_tco2e": old_headline,
        "new_headline_tco2e": old_headline,
    }
    rows = "SELECT * EXCLUDE (calculated_at) FROM emissions WHERE submission_id IN (SELECT unnest($ids))"
    con.execute("BEGIN TRANSACTION")
    try:
        from pipeline.emissions.prepare import rederive

        if old_set == factor_set:  # the same set: kept only if the pipeline's rules changed a figure
            con.execute(f"CREATE TEMP TABLE _emissions_before AS {rows}", {"ids": ids})
        rederive(con, ids, year, factor_set)  # the set's conversions and bands, as its prices
        calculate(con, ids, factor_set)
        if old_set == factor_set:
            differ = con.execute(
                f"SELECT count(*) FROM (({rows}) EXCEPT ALL (SELECT * FROM _emissions_before)) "
                f"UNION ALL SELECT count(*) FROM ((SELECT * FROM _emissions_before) EXCEPT ALL ({rows}))",
                {"ids": ids},
            ).fetchall()
            con.execute("DROP TABLE _emissions_before")
            if not any(n for (n,) in differ):
                con.execute("ROLLBACK")
                return unchanged
        new_total = con.execute(
            "SELECT coalesce(sum(emissions_tco2e), 0) FROM emissions WHERE submission_id IN (SELECT unnest(?))", [ids]
        ).fetchall()[0][0]
        new_headline = _headline_total(con, year)
        con.execute(
            "INSERT INTO recalculations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [utcnow(), year, old_set, factor_set, len(ids), old_total, new_total, reason],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {
        **done,
        "unchanged": False,
        "old_total_tco2e": old_total,
        "new_total_tco2e": new_total,
        "old_headline_tco2e": old_headline,
        "new_headline_tco2e": new_headline,
    }


def _headline_total(con: duckdb.DuckDBPyConnection, year: int) -> float | None:
    """The year's total as published (`system_indicators`): optional emissions left out, published
    totals of entities without a workbook in."""
    found = con.execute("SELECT total_tco2e FROM system_indicators WHERE year = ?", [year]).fetchone()
    return None if found is None or found[0] is None else float(found[0])
