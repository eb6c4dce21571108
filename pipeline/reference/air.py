"""Flight distances: great circle between airports, the ICAO correction, distance bands.

Method (docs/emission-factors.md): the great-circle distance (haversine on a sphere of the
mean Earth radius) between the two airports of `pipeline.codelists.airports()`, plus the ICAO
correction for stacking, traffic and weather (`air_gcd_correction.csv`: +50 km under 550 km,
+100 km up to 5500 km, +125 km beyond). The band that picks the factor (`air_distance_bands.csv`)
is read on the great-circle distance. Both tables belong to the factor set; intervals are
[min_km, max_km), an empty max_km meaning no upper bound.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.codelists import airports, normalise_refs
from pipeline.geo import great_circle_km
from pipeline.reference.factors import FactorSetError, read_set_table


@cache
def airport_table() -> pd.DataFrame:
    """The airports' (lat, lon), indexed by IATA code (about 9,000 rows: built once)."""
    return pd.DataFrame.from_dict(airports(), orient="index", columns=["lat", "lon"])


def airport_coordinates(codes: pd.Series) -> pd.DataFrame:
    """(lat, lon) for IATA codes; raises `KeyError` listing every unknown code."""
    table = airport_table()
    keys = normalise_refs(codes).fillna("")
    pos = table.index.get_indexer(pd.Index(keys))
    if (pos < 0).any():
        unknown = sorted({str(c) for c in codes[pos < 0]})
        raise KeyError(f"unknown IATA airport code(s): {', '.join(unknown)}")
    return pd.DataFrame(table.to_numpy()[pos], index=codes.index, columns=["lat", "lon"])


def route_gcd_km(origin: pd.Series, destination: pd.Series) -> pd.Series:
    """Great-circle km between origin and destination airports, row by row."""
    a = airport_coordinates(origin)
    b = airport_coordinates(destination.reindex(origin.index))
    return great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"])


def _intervals(filename: str, value_col: str, factor_set: str | None, directory: Path | str | None) -> pd.DataFrame:
    table = read_set_table(filename, factor_set, directory)
    lo = pd.to_numeric(table["min_km"], errors="coerce")
    open_end = table["max_km"] == ""
    hi = pd.to_numeric(table["max_km"].mask(open_end), errors="coerce")
    ok = lo.notna() & (hi.notna() | open_end)
    hi = hi.mask(open_end, np.inf)
    order = lo.sort_values().index
    starts, ends, values = lo[order].to_numpy(), hi[order].to_numpy(), table.loc[order, value_col].to_numpy()
    contiguous = len(starts) > 0 and starts[0] == 0 and np.isinf(ends[-1]) and np.all(ends[:-1] == starts[1:])
    if not (bool(ok.all()) and contiguous):
        raise FactorSetError(f"{filename}: intervals must start at 0, touch end to start and end open")
    return pd.DataFrame({"min_km": starts, "max_km": ends, value_col: values})


def _which(km: pd.Series, table: pd.DataFrame) -> np.ndarray:
    values = pd.to_numeric(km, errors="coerce").to_numpy(dtype=float)
    if (values < 0).any():
        raise ValueError(f"negative distance: {values[values < 0][0]} km")
    return np.searchsorted(table["min_km"].to_numpy(), values, side="right") - 1


def icao_correction_km(
    gcd_km: pd.Series, *, factor_set: str | None = None, directory: Path | str | None = None
) -> pd.Series:
    """Kilometres ICAO adds to a great-circle distance; missing distance stays missing."""
    table = _intervals("air_gcd_correction.csv", "add_km", factor_set, directory)
    pos = _which(gcd_km, table)
    add = table["add_km"].astype(float).to_numpy()[np.clip(pos, 0, None)]
    return pd.Series(np.where(gcd_km.isna(), np.nan, add), index=gcd_km.index, name="correction_km")


def corrected_distance_km(
    gcd_km: pd.Series, *, factor_set: str | None = None, directory: Path | str | None = None
) -> pd.Series:
    """Great-circle km plus the ICAO correction (the distance the factors are applied to)."""
    return (gcd_km + icao_correction_km(gcd_km, factor_set=factor_set, directory=directory)).rename("distance_km")


def flight_distance_km(
    origin: pd.Series,
    destination: pd.Series,
    *,
    factor_set: str | None = None,
    directory: Path | str | None = None,
) -> pd.Series:
    """One-way flown distance between airports: great circle + ICAO correction, in km."""
    return corrected_distance_km(route_gcd_km(origin, destination), factor_set=factor_set, directory=directory)


def distance_band(km: pd.Series, *, factor_set: str | None = None, directory: Path | str | None = None) -> pd.Series:
    """Band code (`short_haul`, `medium_haul`, `long_haul`) of each great-circle distance."""
    table = _intervals("air_distance_bands.csv", "band", factor_set, directory)
    pos = _which(km, table)
    bands = table["band"].to_numpy(dtype=object)[np.clip(pos, 0, None)]
    return pd.Series(np.where(km.isna(), None, bands), index=km.index, name="band", dtype=object)
