"""Unit conversions to canonical units, each checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline import codelists
from pipeline.reference import factors as F
from pipeline.reference.units import UnitConversionError, to_canonical


def convert(table: str, activity: str, unit: str, quantity: float) -> tuple[float, str]:
    q, u = to_canonical(pd.Series([activity]), pd.Series([unit]), pd.Series([quantity]), table)
    return q.iloc[0], u.iloc[0]


@pytest.mark.parametrize(
    ("table", "activity", "unit", "quantity", "expected", "canonical"),
    [
        ("Facilities", "electricity", "kwh", 123.4, 123.4, "kwh"),
        ("Facilities", "electricity", "mwh", 1, 1000, "kwh"),
        ("Facilities", "electricity", "gj", 1, 1e9 / 3.6e6, "kwh"),  # 277.777... kWh
        ("Facilities", "district_heating", "mwh", 2.5, 2500, "kwh"),
        ("Facilities", "district_cooling", "gj", 3.6, 1000, "kwh"),
        ("Facilities", "natural_gas", "gj", 1, 277.7777777777778, "kwh"),
        ("Facilities", "natural_gas", "m3", 1, 2.04981 / 0.18395, "kwh"),  # DESNZ CO2/m3 over CO2/kWh gross
        # kg -> litre: DESNZ CO2 per tonne / CO2 per litre of the same fuel gives litres per tonne
        ("Facilities", "diesel", "kg", 1000, 3164.33 / 2.626, "litre"),  # 1205 litres per tonne
        ("Facilities", "petrol", "kg", 1000, 3135 / 2.33086, "litre"),
        ("Facilities", "heating_oil", "kg", 1000, 3190 / 2.72417, "litre"),
        ("Facilities", "kerosene", "kg", 1000, 3149.67 / 2.52782, "litre"),
        ("Facilities", "lpg", "kg", 1000, 2935.18 / 1.55491, "litre"),
        ("Facilities", "lpg", "litre", 40, 40, "litre"),
        ("Facilities", "coal", "kg", 500, 0.5, "tonne"),
        ("Facilities", "wood_biomass", "tonne", 7, 7, "tonne"),
        ("Vehicles", "jet_fuel", "kg", 800, 800 * 3.14967 / 2.51973, "litre"),  # about 0.8 kg per litre
        ("Vehicles", "aviation_gasoline", "kg", 1000, 3127.67 / 2.28297, "litre"),
        ("Vehicles", "marine_diesel", "kg", 1000, 3205.99 / 2.73782, "litre"),
        ("Vehicles", "cng", "m3", 12, 12, "m3"),
        ("Vehicles", "electricity", "kwh", 5, 5, "kwh"),
        ("Waste", "paper_cardboard", "kg", 2500, 2.5, "tonne"),
        ("Waste", "mixed", "tonne", 3, 3, "tonne"),
        ("Water", "municipal", "litre", 1500, 1.5, "m3"),
        ("Water", "groundwater", "m3", 9, 9, "m3"),
    ],
)
def test_each_conversion_by_hand(table, activity, unit, quantity, expected, canonical):
    value, unit_out = convert(table, activity, unit, quantity)
    assert value == pytest.approx(expected, rel=1e-6)
    assert unit_out == canonical


def test_vectorised_keeps_index_and_ignores_case_and_spelling():
    idx = [14, 15, 16]
    q, u = to_canonical(
        pd.Series(["Electricity", "Natural Gas", "DIESEL"], index=idx),
        pd.Series(["MWh", " GJ ", "Litre"], index=idx),
        pd.Series([1.5, 2, 10], index=idx),
        "facilities",
    )
    assert list(q.index) == idx and list(u.index) == idx
    assert q.tolist() == pytest.approx([1500, 555.5555555555, 10])
    assert u.tolist() == ["kwh", "kwh", "litre"]
    assert q.name == "canonical_quantity" and u.name == "canonical_unit"


def test_missing_quantity_stays_missing():
    q, _ = to_canonical(pd.Series(["coal"]), pd.Series(["kg"]), pd.Series([None], dtype=float), "Facilities")
    assert math.isnan(q.iloc[0])


def test_unknown_pair_raises_naming_the_pair_and_count():
    with pytest.raises(UnitConversionError, match=r"2 row\(s\) with no unit conversion: \('electricity', 'litre'\) x2"):
        to_canonical(
            pd.Series(["electricity", "electricity", "diesel"]),
            pd.Series(["litre", "litre", "kg"]),
            pd.Series([1, 2, 3]),
            "Facilities",
        )
    with pytest.raises(UnitConversionError, match="'coal', 'm3'"):
        convert("Facilities", "coal", "m3", 1)


def test_unknown_sheet_and_non_numeric_quantity_raise():
    with pytest.raises(UnitConversionError, match="no unit conversions for sheet 'Offsets'"):
        convert("Offsets", "cer", "tco2e", 1)
    with pytest.raises(ValueError, match="not a number"):
        to_canonical(pd.Series(["coal"]), pd.Series(["kg"]), pd.Series(["lots"]), "Facilities")


@pytest.mark.parametrize(("sheet", "compat"), [("Facilities", "facilities_unit"), ("Vehicles", "vehicle_unit")])
def test_every_allowed_unit_converts_to_the_unit_of_its_factor(sheet, compat):
    pairs = sorted(codelists.pairs(compat))
    activities = pd.Series([a for a, _ in pairs])
    _, canonical = to_canonical(activities, pd.Series([u for _, u in pairs]), pd.Series([1.0] * len(pairs)), sheet)
    resolved = F.resolve_factors(sheet, activities, pd.Series(["KEN"] * len(pairs)))
    mismatched = activities[canonical != resolved["unit"]].tolist()
    assert mismatched == []


@pytest.mark.parametrize(
    ("sheet", "codelist", "canonical"), [("Waste", "waste_unit", "tonne"), ("Water", "water_unit", "m3")]
)
def test_every_waste_and_water_unit_converts(sheet, codelist, canonical):
    units = pd.Series(codelists.codes(codelist))
    q, u = to_canonical(pd.Series(["any"] * len(units)), units, pd.Series([1.0] * len(units)), sheet)
    assert q.notna().all()
    assert set(u) == {canonical}
