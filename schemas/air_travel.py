"""AirTravel sheet: one row per route and cabin class; both airports, or distance_km alone."""

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import catalogue, codelists, geo
from schemas import contract
from schemas.checks import (
    REPORTING_YEAR,
    is_blank,
    parse_code,
    parse_number,
    parse_ref,
    row_check,
    sheet_schema,
    within_bounds,
)


@cache
def tolerance() -> float:
    """How far a submitted ICAO calculator figure may be from the estimate (schemas/plausibility.csv)."""
    with (Path(__file__).resolve().parent / "plausibility.csv").open(newline="", encoding="utf-8") as fh:
        return float(next(r["limit"] for r in csv.DictReader(fh) if r["name"] == "icec_vs_estimate"))


def _year_set(year: int) -> tuple[str, bool] | None:
    """The factor set pinned for `year` and whether it prices flights by the ICAO calculator's
    method (and so takes the calculator's own figure); None for a year without a pin (an error of
    its own). Looked up once per year and reference (`factors.reference_folder`)."""
    from pipeline.reference import factors

    pins = factors.PINS_PATH
    return _year_set_in(year, str(pins), str(factors.FACTORS_DIR), factors.file_stamp([pins]))


@cache
def _year_set_in(year: int, pins: str, sets: str, stamp: tuple) -> tuple[str, bool] | None:
    """`_year_set` of the pins file at `pins` as it is (`stamp`: read again once it changes)."""
    from pipeline.reference import factors, icao

    try:
        pinned = factors.pinned_set(year, pins)
        return pinned, icao.uses_icao(pinned, sets)
    except factors.FactorSetError:  # no pin, or a pin naming no set: errors of their own
        return None


def _estimates(d: pd.DataFrame) -> pd.Series:
    """The pipeline's estimate (kg CO2 per passenger, one way) of the rows that give the calculator's
    figure and a readable route, class and reporting year, in a year whose set uses the figure (the
    estimate it replaces); NaN elsewhere."""
    from pipeline.reference import icao

    icec = parse_number(d["icec_co2_kg"])
    out = pd.Series(np.nan, index=d.index)
    if not icec.notna().any():
        return out  # most sheets give no calculator figure: nothing to estimate
    d = d[icec.notna()]  # the rows that give one; the others stay NaN
    icec = icec[d.index]
    origin, destination = parse_ref(d["origin"]), parse_ref(d["destination"])
    ports = codelists.airports()
    known = origin.isin(list(ports)) & destination.isin(list(ports))
    gcd = parse_number(d["distance_km"]).where(~known)
    if known.any():
        a = pd.DataFrame([ports[c] for c in origin[known]], index=origin.index[known], columns=["lat", "lon"])
        b = pd.DataFrame([ports[c] for c in destination[known]], index=origin.index[known], columns=["lat", "lon"])
        gcd[known] = geo.great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"])
    cabin = parse_code(d["cabin_class"])
    year = d[REPORTING_YEAR] if REPORTING_YEAR in d else pd.Series(np.nan, index=d.index)
    usable = icec.notna() & gcd.notna() & (gcd > 0) & cabin.isin(codelists.codes("cabin_class")) & year.notna()
    for y, rows in d[usable].groupby(year[usable]):
        idx = rows.index
        priced = _year_set(int(y))
        if priced is None or not priced[1]:  # the figure is not used that year (`_icec_unused`)
            continue
        out[idx] = icao.estimate_kg_per_passenger(
            origin[idx].where(known[idx]),
            destination[idx].where(known[idx]),
            gcd[idx].astype(float),
            cabin[idx].astype(str),
            priced[0],
        )
    return out


def _figures(d: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The rows' calculator figures as numbers, and which of them are figures within the column's
    bounds: the others are blank or have their range error, and no finding of the two checks below
    follows on from it (a "-100 %" of a 0)."""
    icec = parse_number(d["icec_co2_kg"])
    return icec, within_bounds(contract.sheet("AirTravel").column("icec_co2_kg"), icec) & icec.notna()


def _icec_unused(d: pd.DataFrame) -> pd.Series:
    """A calculator figure in a year whose factor set prices flights by distance band (gtb-2025.1,
    2010-2024): the set's method prices the row, and the figure is kept but not counted."""
    _, given = _figures(d)
    if not given.any() or REPORTING_YEAR not in d:
        return pd.Series(True, index=d.index)
    years = pd.to_numeric(d[REPORTING_YEAR], errors="coerce")
    unused = pd.Series(False, index=d.index)
    for y in years[given].dropna().unique():
        priced = _year_set(int(y))
        if priced is not None and not priced[1]:
            unused |= given & years.eq(y)
    return ~unused


def _unused_params(value: object, row: pd.Series | None) -> dict[str, object]:
    assert row is not None
    year = int(row[REPORTING_YEAR])
    priced = _year_set(year)
    assert priced is not None
    return {"year": year, "set": priced[0]}


def _icec_near_estimate(d: pd.DataFrame) -> pd.Series:
    """A figure within the column's bounds (`_figures`) near the estimate."""
    icec, compared = _figures(d)
    return ~(compared & ((icec / _estimates(d) - 1).abs() > tolerance()))


def _icec_params(value: object, row: pd.Series | None) -> dict[str, object]:
    assert row is not None
    estimate = float(_estimates(row.to_frame().T.infer_objects()).iloc[0])
    icec = float(parse_number(pd.Series([value])).iloc[0])
    # the estimate as the finding's language writes numbers: 1,646 (en), 1 646 (fr), 1.646 (es)
    return {
        "estimate": catalogue.Number(float(round(estimate))),
        "difference": catalogue.SignedPercent(icec / estimate - 1),
    }


def _pair_complete(d: pd.DataFrame, column: str, other: str) -> pd.Series:
    return ~(is_blank(d[column]) & ~is_blank(d[other]))


def _no_distance_with_airports(d: pd.DataFrame) -> pd.Series:
    return is_blank(d["distance_km"]) | is_blank(d["origin"]) | is_blank(d["destination"])


def _route_given(d: pd.DataFrame) -> pd.Series:
    return ~(is_blank(d["origin"]) & is_blank(d["destination"]) & is_blank(d["distance_km"]))


def _different_airports(d: pd.DataFrame) -> pd.Series:
    same = parse_ref(d["origin"]).eq(parse_ref(d["destination"])) & ~is_blank(d["origin"])
    return ~same.fillna(False).astype(bool)


schema = sheet_schema(
    "AirTravel",
    [
        row_check(
            "origin-needs-destination",
            "missing-value.destination",
            "destination",
            lambda d: _pair_complete(d, "destination", "origin"),
        ),
        row_check(
            "destination-needs-origin",
            "missing-value.origin",
            "origin",
            lambda d: _pair_complete(d, "origin", "destination"),
        ),
        row_check(
            "distance-or-airports",
            "inconsistent-row.distance-and-airports",
            "distance_km",
            _no_distance_with_airports,
        ),
        row_check(
            "route-required",
            "missing-value.route",
            "distance_km",
            _route_given,
        ),
        row_check(
            "different-airports",
            "inconsistent-row.same-airport",
            "destination",
            _different_airports,
            lambda v, r: {"airport": str(v).strip().upper()},
        ),
        row_check(
            "icec-near-estimate",
            "implausible-value.icec-differs",
            "icec_co2_kg",
            _icec_near_estimate,
            _icec_params,
        ),
        row_check("icec-used", "unused-value.icec-before-icao", "icec_co2_kg", _icec_unused, _unused_params),
    ],
)
