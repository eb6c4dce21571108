"""Reported quantities -> the canonical unit of their emission factor, driven by data.

The constants live in `conversions.csv` of the factor set (densities and calorific values are
cited data, so they are versioned with the factors). Canonical units:

| sheet | activity | canonical unit |
|---|---|---|
| Facilities | electricity, district_heating, district_cooling, natural_gas | kwh |
| Facilities | diesel, petrol, heating_oil, kerosene, lpg | litre (kg via DESNZ density) |
| Facilities | coal, wood_biomass | tonne |
| Vehicles | liquid fuels / cng / electricity | litre / m3 / kwh |
| Waste (any stream) | | tonne |
| Water (any source) | | m3 |

A row in `conversions.csv` with activity `*` applies to every activity of its sheet. A pair
(activity, unit) that has no row is an error: nothing is converted silently.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.codelists import normalise_codes
from pipeline.reference.factors import conversions, file_stamp, pinned_sets, set_dir

WILDCARD = "*"
MAX_LISTED = 10


class UnitConversionError(ValueError):
    """A (sheet, activity, unit) combination the factor set cannot convert."""


def _codes(values: pd.Series) -> pd.Series:
    return normalise_codes(values)


def to_canonical(
    activity_codes: pd.Series,
    units: pd.Series,
    quantities: pd.Series,
    table: str,
    *,
    factor_set: str | None = None,
    directory: Path | str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Convert `quantities` given in `units` to the canonical unit of each activity.

    `table` is the workbook sheet (`Facilities`, `Vehicles`, `Waste`, `Water`; any case).
    Returns (`canonical_quantity` float Series, `canonical_unit` Series), both with the index of
    `quantities`. A missing quantity stays missing. Raises `UnitConversionError` listing every
    (activity, unit) pair without a conversion row, and `ValueError` for non-numeric quantities.

    The conversion of a row depends on its (activity, unit) alone: each distinct pair is looked
    up once (`conversion_table`: the exact pair, else the sheet's wildcard row for the unit)
    and spread over its rows.
    """
    by_pair = conversion_table(factor_set, directory).get(table.strip().lower())
    if by_pair is None:
        sheets = ", ".join(sorted(conversions(factor_set, directory)["sheet"].unique()))
        raise UnitConversionError(f"no unit conversions for sheet {table!r}; known sheets: {sheets}")
    index = quantities.index
    raw_acts, raw_units = activity_codes.reindex(index), units.reindex(index)
    act_codes, act_seen = pd.factorize(raw_acts)  # a missing value: -1
    unit_codes, unit_seen = pd.factorize(raw_units)
    acts = [*_codes(pd.Series(act_seen, dtype=object)).tolist(), None]  # [-1]: None
    unit_texts = [*_codes(pd.Series(unit_seen, dtype=object)).tolist(), None]
    width = len(unit_seen) + 1
    pair_codes, pairs = pd.factorize((act_codes.astype(np.int64) + 1) * width + unit_codes + 1)
    to_unit: list[object] = []
    multiplier: list[float] = []
    for pair in pairs.tolist():
        act_code, unit_code = divmod(pair, width)
        act, unit = acts[act_code - 1], unit_texts[unit_code - 1]
        found = by_pair.get((act, unit)) if act is not None and unit is not None else None
        if found is None and unit is not None:
            found = by_pair.get((WILDCARD, unit))
        to_unit.append(found[0] if found else None)
        multiplier.append(found[1] if found else math.nan)
    missing = np.array([u is None for u in to_unit], dtype=bool)[pair_codes]
    if missing.any():
        conv = conversions(factor_set, directory)
        conv = conv[conv["sheet_key"] == table.strip().lower()]
        pairs_missing = pd.DataFrame({"activity": raw_acts[missing], "unit": raw_units[missing]})
        counts = pairs_missing.astype(str).value_counts()
        top = counts.head(MAX_LISTED)  # indexed by (activity, unit)
        listed = [f"({a!r}, {u!r}) x{n}" for (a, u), n in zip(top.index, top, strict=True)]
        more = f" and {len(counts) - MAX_LISTED} more" if len(counts) > MAX_LISTED else ""
        allowed = ", ".join(f"{a}/{f}" for a, f in conv[["activity", "from_unit"]].itertuples(index=False))
        raise UnitConversionError(
            f"{table}: {int(missing.sum())} row(s) with no unit conversion: {', '.join(listed)}{more}. "
            f"Known (activity/unit): {allowed}"
        )
    numbers = pd.to_numeric(quantities, errors="coerce")
    bad = numbers.isna() & quantities.notna()
    if bad.any():
        raise ValueError(
            f"{table}: quantity is not a number in {int(bad.sum())} row(s), e.g. {quantities[bad].iloc[0]!r}"
        )
    factor = np.array(multiplier, dtype=float)[pair_codes]
    canonical = pd.Series(numbers.astype(float).to_numpy() * factor, index=index, name="canonical_quantity")
    unit_out = pd.Series(np.array(to_unit, dtype=object)[pair_codes], index=index, name="canonical_unit")
    return canonical, unit_out


def conversion_table(
    factor_set: str | None, directory: Path | str | None
) -> dict[str, dict[tuple[str, str], tuple[str, float]]]:
    """`conversions.csv` of a set, checked, as {sheet key: {(activity, from unit): (to unit,
    multiplier)}}; built once and again when the file changes."""
    path = (set_dir(factor_set, directory) / "conversions.csv").resolve()
    return _conversion_table_once(factor_set, directory, str(path), file_stamp([path]))


@lru_cache(maxsize=16)
def _conversion_table_once(
    factor_set: str | None, directory: Path | str | None, path_text: str, stamp: tuple
) -> dict[str, dict[tuple[str, str], tuple[str, float]]]:
    conv = conversions(factor_set, directory)  # raises for a missing or broken file
    table: dict[str, dict[tuple[str, str], tuple[str, float]]] = {}
    for sheet, activity, from_unit, to_unit, multiplier in conv[
        ["sheet_key", "activity", "from_unit", "to_unit", "multiplier"]
    ].itertuples(index=False):
        table.setdefault(sheet, {})[(activity, from_unit)] = (to_unit, float(multiplier))
    return table


def warm_up() -> None:
    """Read, check and build the conversion lookups of every pinned set now (e.g. while the
    workbooks are read)."""
    for name in pinned_sets():
        conversion_table(name, None)
