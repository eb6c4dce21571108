"""Facilities sheet: stationary energy (scope 1 combustion, scope 2 purchased energy)."""

from functools import cache

import pandas as pd

from pipeline import catalogue, codelists
from schemas import i18n
from schemas.checks import in_codelist, is_blank, parse_code, parse_number, row_check, sheet_schema


def kwh_per_unit() -> dict[str, float]:
    """Electricity units -> kWh, from the unit conversions of the factor set (one source of truth)
    of the folder of sets read now (`factors.reference_folder`)."""
    from pipeline.reference import factors

    return _kwh_per_unit(str(factors.FACTORS_DIR))


@cache
def _kwh_per_unit(sets: str) -> dict[str, float]:
    from pipeline.reference.factors import conversions

    conv = conversions(None, sets)
    rows = conv[(conv["sheet_key"] == "facilities") & (conv["activity"] == "electricity") & (conv["to_unit"] == "kwh")]
    return {u: float(m) for u, m in zip(rows["from_unit"], rows["multiplier"], strict=True)}


def _renewable_only_on_electricity(d: pd.DataFrame) -> pd.Series:
    energy = parse_code(d["energy_type"])
    unknown = ~in_codelist(energy, "energy_type")  # reported as not-in-codelist instead
    return is_blank(d["renewable_kwh"]) | energy.eq("electricity") | unknown


def _renewable_within_quantity(d: pd.DataFrame) -> pd.Series:
    quantity = parse_number(d["quantity"])
    quantity_kwh = quantity * parse_code(d["unit"]).map(kwh_per_unit())
    return ~(parse_number(d["renewable_kwh"]) > quantity_kwh * (1 + 1e-9)) | (quantity < 0)


def _energy_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """The row's energy type as its drop-down shows it in the finding's language."""
    code = codelists.normalise_code(row["energy_type"]) if row is not None else ""
    return {"energy": i18n.CodeLabels("energy_type", (code,)) if code in codelists.codes("energy_type") else code}


def _within_params(value: object, row: pd.Series | None) -> dict[str, object]:
    assert row is not None
    unit = codelists.normalise_code(row["unit"])
    quantity = float(parse_number(pd.Series([row["quantity"]])).iloc[0])
    factor = kwh_per_unit()[unit]
    # converted, to 12 significant digits (36 GJ is 10,000 kWh, not 10,000.000000008); in kWh, as typed
    return {"kwh": catalogue.Number(quantity if factor == 1 else float(f"{quantity * factor:.12g}"))}


schema = sheet_schema(
    "Facilities",
    [
        row_check(
            "renewable-electricity-only",
            "inconsistent-row.renewable-not-electricity",
            "renewable_kwh",
            _renewable_only_on_electricity,
            _energy_params,
        ),
        row_check(
            "renewable-within-quantity",
            "out-of-range.renewable-above-quantity",
            "renewable_kwh",
            _renewable_within_quantity,
            _within_params,
        ),
    ],
)
