"""Prepare: the warehouse rows of valid submissions, with the columns the pipeline derives.

For every table sheet, the typed rows of all valid submissions at once: contract columns under
their warehouse names (`schemas/columns.csv`) and the derived columns of
`schemas/derived_columns.csv`, computed here by one small hook per sheet: canonical quantities
(with the factor set each reporting year is priced with), flight distances and bands, serial
keys, flags. `rederive` computes those of loaded rows again when `gtb recalculate` restates a
year with another set, so that conversions, bands and prices always come from one set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb
import numpy as np
import pandas as pd

from pipeline import codelists, serials
from pipeline.intake.validate import Submission, concat_tables
from pipeline.reference import air, factors, units
from schemas import contract

Pairs = list[tuple[int, Submission]]


def _with_ids(subs: Pairs, sheet: str) -> pd.DataFrame:
    """The sheet's typed rows of every submission, with its id and reporting year (`_year`)."""
    frame, counts = concat_tables([s.tables for _, s in subs], sheet)
    parts = [(sid, s, n) for (sid, s), n in zip(subs, counts, strict=True) if n]
    if not parts:
        return pd.DataFrame()
    lengths = [n for _, _, n in parts]
    frame["submission_id"] = np.repeat(np.array([sid for sid, _, _ in parts], dtype="int64"), lengths)
    frame["_year"] = np.repeat(np.array([s.reporting_year for _, s, _ in parts]), lengths)
    return frame


SETS = "sets"  # frame.attrs key: reporting year -> the factor set it is priced with (default: its pin)


def _set_of(frame: pd.DataFrame, year: int) -> str:
    """The factor set rows of `year` are converted with: the one given for it (`SETS`), else its pin."""
    return frame.attrs.get(SETS, {}).get(int(year)) or factors.pinned_set(int(year))


def _canonical(frame: pd.DataFrame, activity: str, quantity: str, unit: str, sheet: str) -> tuple[pd.Series, pd.Series]:
    """Canonical quantity and unit, each row converted with its reporting year's factor set."""
    qty = pd.Series(np.nan, index=frame.index)
    unit_out = pd.Series(None, index=frame.index, dtype=object)
    for year, part in frame.groupby("_year"):
        factor_set = _set_of(frame, int(year))  # type: ignore[arg-type]  # the group keys are years
        q, u = units.to_canonical(part[activity], part[unit], part[quantity], sheet, factor_set=factor_set)
        qty[part.index], unit_out[part.index] = q, u
    return qty, unit_out


def serial_key(values: pd.Series) -> pd.Series:
    """The one spelling of each serial (`pipeline.serials.normalise`), as stored in offsets.serial_key:
    the text of the serial as parsed (`serials.parse`), which validation and the cross-checks
    have parsed already."""
    return values.map(lambda value: serials.parse(value).text).astype("string")


def _energy(activity: str) -> Callable[[pd.DataFrame], dict[str, pd.Series]]:
    def derive(frame: pd.DataFrame) -> dict[str, pd.Series]:
        quantity, unit = _canonical(frame, activity, "quantity", "unit", str(frame.attrs["sheet"]))
        return {"canonical_quantity": quantity, "canonical_unit": unit}

    return derive


def _refrigerants(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {"is_hcfc": frame["gas"].isin(codelists.flag("refrigerant_gas", "is_hcfc"))}


def _air_travel(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return dict(flights(frame, by_year=True).items())  # type: ignore[arg-type]  # column names are str


def _offsets(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {"serial_key": serial_key(frame["serial_range"])}


def _waste(frame: pd.DataFrame) -> dict[str, pd.Series]:
    tonnes, _ = _canonical(frame, "waste_stream", "quantity", "unit", "Waste")
    return {
        "quantity_tonnes": tonnes,
        "is_hazardous": frame["waste_stream"].isin(codelists.flag("waste_stream", "is_hazardous")),
        "is_diverted": frame["treatment"].isin(codelists.flag("waste_treatment", "is_diverted")),
    }


def _water(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {"volume_m3": _canonical(frame, "source", "volume", "unit", "Water")[0]}


# sheet -> hook computing its derived columns (schemas/derived_columns.csv) from its typed rows
DERIVE: dict[str, Callable[[pd.DataFrame], dict[str, pd.Series]]] = {
    "Facilities": _energy("energy_type"),
    "Vehicles": _energy("fuel"),
    "Refrigerants": _refrigerants,
    "AirTravel": _air_travel,
    "Offsets": _offsets,
    "Waste": _waste,
    "Water": _water,
}


def activity_tables(subs: Pairs, sets: Mapping[int, str] | None = None) -> dict[str, pd.DataFrame]:
    """Warehouse rows for every table sheet of the given (submission_id, valid submission) pairs;
    `sets`: the factor set of each reporting year (`calculate.year_sets`), by default its pin."""
    out: dict[str, pd.DataFrame] = {}
    for spec in contract.sheets():
        if not spec.is_table:
            continue
        frame = _with_ids(subs, spec.name)
        if frame.empty:
            continue
        frame.attrs["sheet"] = spec.name
        frame.attrs[SETS] = dict(sets or {})
        rows = frame[["submission_id", "source_row", *spec.names]].rename(
            columns={c.name: c.db_name for c in spec.columns}
        )
        derived = DERIVE[spec.name](frame) if spec.derived else {}
        assert set(derived) == {d.name for d in spec.derived}, (
            f"{spec.name}: the derived columns differ from the contract"
        )
        for name, values in derived.items():
            rows[name] = values
        out[spec.table] = rows
    return out


def field_rows(subs: Pairs, sheet: str) -> pd.DataFrame:
    """Rows of a Field/Value sheet's table (Entity, EMS) under their warehouse names."""
    spec = contract.sheet(sheet)
    attr = {"Entity": "entity", "EMS": "ems"}[sheet]
    return pd.DataFrame(
        [{"submission_id": sid, **{c.db_name: getattr(s, attr).get(c.name) for c in spec.columns}} for sid, s in subs]
    )


def flights(frame: pd.DataFrame, by_year: bool = False) -> pd.DataFrame:
    """Flights, great-circle and flown distance, distance band and passenger-km of AirTravel rows.

    The great-circle distance comes from the airports, or is the distance_km given without them
    (read as a great-circle distance, as booking tools report it). The band is chosen on it, and
    the ICAO correction of the factor set is added to give the distance flown.
    """
    out = pd.DataFrame(index=frame.index)
    out["flights"] = (frame["trips"].astype("int64") * np.where(frame["round_trip"].astype(bool), 2, 1)).astype("int64")
    has_route = frame["origin"].notna() & frame["destination"].notna()
    gcd = frame["distance_km"].astype(float).copy()
    if has_route.any():
        gcd[has_route] = air.route_gcd_km(frame.loc[has_route, "origin"], frame.loc[has_route, "destination"])
    out["great_circle_km"] = gcd
    flown = pd.Series(np.nan, index=frame.index)
    band = pd.Series(None, index=frame.index, dtype=object)
    groups = frame.groupby("_year") if by_year and "_year" in frame else [(None, frame)]
    for year, part in groups:
        fs = _set_of(frame, int(year)) if year is not None else None
        flown[part.index] = air.corrected_distance_km(gcd[part.index], factor_set=fs)
        band[part.index] = air.distance_band(gcd[part.index], factor_set=fs)
    out["flight_distance_km"] = flown
    out["distance_band"] = band
    out["passenger_km"] = out["flights"] * out["flight_distance_km"]
    return out


# the sheets whose derived columns the factor set decides (unit conversions, distance bands and
# the flown-distance correction); the others' (serial keys, code flags) are the same in every set
BY_FACTOR_SET = ("Facilities", "Vehicles", "AirTravel", "Waste", "Water")


def rederive(con: duckdb.DuckDBPyConnection, ids: list[int], year: int, factor_set: str) -> int:
    """Compute again, with `factor_set`, the derived columns of the loaded rows of the submissions
    `ids` (all of reporting year `year`), from their stored contract columns, by the very hooks
    that derived them at loading; the number of rows updated."""
    updated = 0
    for name in BY_FACTOR_SET:
        spec = contract.sheet(name)
        stored = ", ".join(f'"{c.db_name}" AS "{c.name}"' for c in spec.columns)
        frame = con.execute(
            f"SELECT submission_id, source_row, {stored} FROM {spec.table} WHERE submission_id IN (SELECT unnest(?))",
            [ids],
        ).df()
        if frame.empty:
            continue
        frame["_year"] = int(year)
        frame.attrs.update({"sheet": name, SETS: {int(year): factor_set}})
        derived = pd.DataFrame(DERIVE[name](frame))
        derived["submission_id"], derived["source_row"] = frame["submission_id"], frame["source_row"]
        con.register("_derived", derived)
        try:
            columns = ", ".join(f'"{d.name}" = _derived."{d.name}"' for d in spec.derived)
            con.execute(
                f"UPDATE {spec.table} SET {columns} FROM _derived "
                f"WHERE {spec.table}.submission_id = _derived.submission_id "
                f"AND {spec.table}.source_row = _derived.source_row"
            ).fetchall()  # the count of rows: the statement done before the frame is let go
        finally:
            con.unregister("_derived")
        updated += len(frame)
    return updated
