"""Air travel by the method of the ICAO Carbon Emissions Calculator (ICEC), from cited tables.

The calculator (methodology, Version 13) works per route: the great-circle distance plus ICAO's
correction; the fuel each aircraft type on the route burns over that distance (Appendix C);
the share of that fuel attributed to passengers rather than freight and the share of seats
occupied (both by route group, Appendix A); economy-equivalent seats; a cabin-class factor;
3.16 kg CO2 per kg of fuel:

    CO2 per passenger = 3.16 x sum(w x fuel) x pax_to_freight / (sum(w x seats) x load_factor) x class

ICEC weights the aircraft types by the airline schedules of the route, which are not public. A
factor set substitutes a documented aircraft mix by great-circle distance band
(`icao_aircraft_mix.csv`); docs/emission-factors.md gives its error against every published
calculator result found. The tables of a set (`inputs/reference/factors/<set>/icao_*.csv`):

    icao_fuel_burn.csv      aircraft_code, distance_nm, fuel_kg (Appendix C)
    icao_aircraft.csv       aircraft_code, body, y_seats
    icao_aircraft_mix.csv   min_km, max_km, aircraft_code, weight
    icao_route_groups.csv   route_group, region_pairs ('EUR|NAM ...'), passenger_load_factor, pax_to_freight_factor
    icao_regions.csv        region (ISO3), icao_region_code
    icao_class_factors.csv  cabin_class, factor
    icao_constants.csv      co2_per_fuel, nm_per_km, default load and pax-to-freight factors

A set without these files computes air travel by distance band (DESNZ factors); `uses_icao(set)`
tells which.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.reference.air import corrected_distance_km
from pipeline.reference.factors import FactorSetError, read_set_table, set_dir

FILES = (
    "icao_fuel_burn.csv",
    "icao_aircraft.csv",
    "icao_aircraft_mix.csv",
    "icao_route_groups.csv",
    "icao_regions.csv",
    "icao_class_factors.csv",
    "icao_constants.csv",
)


@dataclass(frozen=True)
class Tables:
    fuel: dict[str, tuple[np.ndarray, np.ndarray]]  # aircraft -> (nm, kg), sorted by nm
    seats: dict[str, float]
    mix: list[tuple[float, float, list[tuple[str, float]]]]  # (min_km, max_km, [(aircraft, weight)])
    groups: dict[str, tuple[str, float, float]]  # 'EUR|NAM' -> (route group, load factor, pax-to-freight)
    regions: dict[str, str]  # ISO3 -> ICAO region code
    classes: dict[str, float]
    constants: dict[str, float]


def uses_icao(name: str | None = None, directory: Path | str | None = None) -> bool:
    """True when the factor set computes air travel by the ICAO method (it carries the tables)."""
    folder = set_dir(name, directory)
    return all((folder / f).is_file() for f in FILES)


def newest_icao_set() -> str:
    """The newest factor set that computes air travel by the ICAO method."""
    from pipeline.reference.factors import available_sets

    sets = [name for name in available_sets() if uses_icao(name)]
    if not sets:
        raise FactorSetError("no factor set carries the ICAO calculator's tables")
    return sets[-1]


def _number(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise FactorSetError(f"{source}: column {column} must hold numbers >= 0")
    return values.astype(float)


def tables(name: str | None = None, directory: Path | str | None = None) -> Tables:
    """The ICAO tables of a set, checked: every aircraft of the mix has a fuel curve and seats,
    the mix weights of each band add up to 1 and the bands cover every distance. Built once per
    set and folder (a run may read the sets of its inputs folder: `factors.reference_folder`)."""
    from pipeline.reference import factors

    return _tables(name, str(Path(directory) if directory is not None else factors.FACTORS_DIR))


@cache
def _tables(name: str | None, directory: str) -> Tables:
    fuel_frame = read_set_table("icao_fuel_burn.csv", name, directory)
    nm, kg = (
        _number(fuel_frame, "distance_nm", "icao_fuel_burn.csv"),
        _number(fuel_frame, "fuel_kg", "icao_fuel_burn.csv"),
    )
    fuel = {
        str(code): (nm[idx].to_numpy(), kg[idx].to_numpy())
        for code, idx in fuel_frame.sort_values("distance_nm", key=lambda s: pd.to_numeric(s))
        .groupby("aircraft_code")
        .groups.items()
    }
    aircraft = read_set_table("icao_aircraft.csv", name, directory)
    seats = dict(zip(aircraft["aircraft_code"], _number(aircraft, "y_seats", "icao_aircraft.csv"), strict=True))
    mix_frame = read_set_table("icao_aircraft_mix.csv", name, directory)
    bands: dict[tuple[float, float], list[tuple[str, float]]] = {}
    for lo, hi, code, weight in zip(
        mix_frame["min_km"], mix_frame["max_km"], mix_frame["aircraft_code"], mix_frame["weight"], strict=True
    ):
        key = (float(lo), float(hi) if hi else np.inf)
        bands.setdefault(key, []).append((code, float(weight)))
    mix = sorted((lo, hi, members) for (lo, hi), members in bands.items())
    problems = [
        f"aircraft {c} of the mix has no fuel curve or seats"
        for *_, m in mix
        for c, _ in m
        if c not in fuel or c not in seats
    ]
    problems += [
        f"mix weights of band {lo:g}-{hi:g} km add up to {sum(w for _, w in m):g}"
        for lo, hi, m in mix
        if abs(sum(w for _, w in m) - 1) > 1e-9
    ]
    if (
        not mix
        or mix[0][0] != 0
        or not np.isinf(mix[-1][1])
        or any(a[1] != b[0] for a, b in zip(mix, mix[1:], strict=False))
    ):
        problems.append("the mix bands must start at 0 km, touch end to start and end open")
    route_groups = read_set_table("icao_route_groups.csv", name, directory)
    load = _number(route_groups, "passenger_load_factor", "icao_route_groups.csv")
    freight = _number(route_groups, "pax_to_freight_factor", "icao_route_groups.csv")
    groups: dict[str, tuple[str, float, float]] = {}
    for group, pairs, lf, pf in zip(
        route_groups["route_group"], route_groups["region_pairs"], load, freight, strict=True
    ):
        for pair in pairs.split():
            if pair in groups:
                problems.append(f"region pair {pair} is in two route groups")
            groups["|".join(sorted(pair.split("|")))] = (group, lf, pf)
    regions_frame = read_set_table("icao_regions.csv", name, directory)
    regions = dict(zip(regions_frame["region"], regions_frame["icao_region_code"], strict=True))
    codes = set(regions.values())
    problems += [f"no route group for {a}|{b}" for a in codes for b in codes if "|".join(sorted((a, b))) not in groups]
    class_frame = read_set_table("icao_class_factors.csv", name, directory)
    classes = dict(
        zip(class_frame["cabin_class"], _number(class_frame, "factor", "icao_class_factors.csv"), strict=True)
    )
    constants_frame = read_set_table("icao_constants.csv", name, directory)
    constants = dict(zip(constants_frame["name"], _number(constants_frame, "value", "icao_constants.csv"), strict=True))
    missing = {"co2_per_fuel", "nm_per_km", "default_passenger_load_factor", "default_pax_to_freight_factor"} - set(
        constants
    )
    problems += [f"icao_constants.csv lacks {name_}" for name_ in sorted(missing)]
    if problems:
        raise FactorSetError(f"ICAO tables of {set_dir(name, directory).name}: " + "; ".join(problems))
    return Tables(fuel, seats, mix, groups, regions, classes, constants)


def _fuel_kg(curve: tuple[np.ndarray, np.ndarray], nm: np.ndarray) -> np.ndarray:
    """Fuel of one aircraft at each distance: linear in the table, extended linearly beyond its ends."""
    xs, ys = curve
    inside = np.interp(nm, xs, ys)
    low = ys[0] + (ys[1] - ys[0]) * (nm - xs[0]) / (xs[1] - xs[0])
    high = ys[-2] + (ys[-1] - ys[-2]) * (nm - xs[-2]) / (xs[-1] - xs[-2])
    return np.maximum(0.0, np.where(nm < xs[0], low, np.where(nm > xs[-1], high, inside)))


def passenger_fuel(
    gcd_km: pd.Series,
    origin_country: pd.Series,
    destination_country: pd.Series,
    cabin_class: pd.Series,
    *,
    factor_set: str | None = None,
    directory: Path | str | None = None,
) -> pd.DataFrame:
    """Per one-way passenger flight: the fuel attributed to the passenger (kg) and how it was found.

    Columns: `fuel_kg` (x 3.16 = kg CO2), `route_group` (empty for a distance without airports,
    which takes the default load and pax-to-freight factors), `flown_km`, `aircraft_fuel_kg`
    (mix-weighted fuel of the flight), `seats` (mix-weighted economy-equivalent seats),
    `load_factor`, `pax_to_freight`, `class_factor`.
    """
    t = tables(factor_set, directory)
    gcd = gcd_km.astype(float)
    flown = corrected_distance_km(gcd, factor_set=factor_set, directory=directory).to_numpy()
    nm = flown * t.constants["nm_per_km"]
    aircraft_fuel = np.zeros(len(gcd))
    seats = np.zeros(len(gcd))
    for lo, hi, members in t.mix:
        in_band = ((gcd >= lo) & (gcd < hi)).to_numpy()
        if not in_band.any():
            continue
        for code, weight in members:
            aircraft_fuel[in_band] += weight * _fuel_kg(t.fuel[code], nm[in_band])
            seats[in_band] += weight * t.seats[code]
    region_a = origin_country.map(t.regions)
    region_b = destination_country.map(t.regions)
    pair = [
        ("|".join(sorted((a, b))) if isinstance(a, str) and isinstance(b, str) else None)
        for a, b in zip(region_a, region_b, strict=True)
    ]
    found = [t.groups.get(p) if p else None for p in pair]
    group = pd.Series([f[0] if f else "" for f in found], index=gcd.index, dtype=object)
    load = np.array([f[1] if f else t.constants["default_passenger_load_factor"] for f in found], dtype=float)
    freight = np.array([f[2] if f else t.constants["default_pax_to_freight_factor"] for f in found], dtype=float)
    unknown = sorted(set(cabin_class) - set(t.classes))
    if unknown:
        raise FactorSetError(f"icao_class_factors.csv has no factor for cabin class(es) {', '.join(unknown)}")
    cls = cabin_class.map(t.classes).to_numpy(dtype=float)
    per_passenger = aircraft_fuel * freight / (seats * load) * cls
    return pd.DataFrame(
        {
            "fuel_kg": per_passenger,
            "route_group": group,
            "flown_km": flown,
            "aircraft_fuel_kg": aircraft_fuel,
            "seats": seats,
            "load_factor": load,
            "pax_to_freight": freight,
            "class_factor": cls,
        },
        index=gcd.index,
    )


def co2_per_fuel(factor_set: str | None = None, directory: Path | str | None = None) -> float:
    return tables(factor_set, directory).constants["co2_per_fuel"]


def estimate_kg_per_passenger(
    origin: pd.Series,
    destination: pd.Series,
    gcd_km: pd.Series,
    cabin_class: pd.Series,
    factor_set: str,
) -> pd.Series:
    """kg CO2 of one passenger on one one-way flight, as the pipeline estimates it with `factor_set`:
    the ICAO method where the set carries its tables, else the distance-band factor per passenger-km
    x the distance flown. Airports may be missing (a distance given alone)."""
    from pipeline.codelists import airport_countries
    from pipeline.reference.air import distance_band
    from pipeline.reference.factors import resolve_factors

    if uses_icao(factor_set):
        countries = airport_countries()
        fuel = passenger_fuel(
            gcd_km, origin.map(countries), destination.map(countries), cabin_class, factor_set=factor_set
        )
        return fuel["fuel_kg"] * co2_per_fuel(factor_set)
    band = distance_band(gcd_km, factor_set=factor_set)
    factor = resolve_factors("AirTravel", band + "." + cabin_class, name=factor_set)["kgco2e_per_unit"]
    return corrected_distance_km(gcd_km, factor_set=factor_set) * factor
