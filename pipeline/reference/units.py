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

from pathlib import Path

import pandas as pd

from pipeline.codelists import normalise_codes
from pipeline.reference.factors import conversions

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
    """
    table_key = table.strip().lower()
    conv = conversions(factor_set, directory)
    conv = conv[conv["sheet_key"] == table_key]
    if conv.empty:
        sheets = ", ".join(sorted(conversions(factor_set, directory)["sheet"].unique()))
        raise UnitConversionError(f"no unit conversions for sheet {table!r}; known sheets: {sheets}")
    index = quantities.index
    acts = _codes(activity_codes.reindex(index))
    unit = _codes(units.reindex(index))
    by_pair = conv.set_index(["activity", "from_unit"])[["to_unit", "multiplier"]]
    exact = pd.DataFrame({"activity": acts, "from_unit": unit}, index=index).join(by_pair, on=["activity", "from_unit"])
    wild = pd.DataFrame({"activity": WILDCARD, "from_unit": unit}, index=index).join(
        by_pair, on=["activity", "from_unit"]
    )
    found = exact[["to_unit", "multiplier"]].where(exact["to_unit"].notna(), wild[["to_unit", "multiplier"]])
    missing = found["to_unit"].isna()
    if missing.any():
        pairs = pd.DataFrame(
            {"activity": activity_codes.reindex(index)[missing], "unit": units.reindex(index)[missing]}
        )
        counts = pairs.astype(str).value_counts()
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
    canonical = (numbers.astype(float) * found["multiplier"].astype(float)).rename("canonical_quantity")
    return canonical, found["to_unit"].rename("canonical_unit")
