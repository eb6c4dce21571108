"""Unit conversions to canonical units, each checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_each_pairs_table_is_checked_on_the_sheets_it_names():
    """A code list headed `<column>,unit` is the (type, unit) rule of every sheet with that column
    and a unit column: found from the file alone, checked by the sheet's schema, and no pairs
    table is left that no sheet takes."""
    from schemas import contract, schemas

    tables = codelists.pairs_tables()
    assert tables == {"energy_type": "facilities_unit", "fuel": "vehicle_unit"}
    paired = {s.name: s.unit_pairs for s in contract.sheets() if s.unit_pairs}
    assert paired == {"Facilities": ("energy_type", "facilities_unit"), "Vehicles": ("fuel", "vehicle_unit")}
    for sheet, (_, table) in paired.items():
        assert f"unit-{table}" in [c.name for c in schemas()[sheet].checks]
    assert not any(c.name.startswith("unit-") for name, m in schemas().items() if name not in paired for c in m.checks)


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


# --- the rule, as joins of the conversion table: what the lookups by distinct pair must give ------


def _converted_by_joins(activities: pd.Series, units: pd.Series, quantities: pd.Series, table: str) -> object:
    """`to_canonical` written as pandas joins of conversions.csv, row by row; an error as its text."""
    conv = F.conversions()
    conv = conv[conv["sheet_key"] == table.strip().lower()]
    index = quantities.index
    acts = codelists.normalise_codes(activities.reindex(index))
    unit = codelists.normalise_codes(units.reindex(index))
    by_pair = conv.set_index(["activity", "from_unit"])[["to_unit", "multiplier"]]
    exact = pd.DataFrame({"activity": acts, "from_unit": unit}, index=index).join(by_pair, on=["activity", "from_unit"])
    wild = pd.DataFrame({"activity": "*", "from_unit": unit}, index=index).join(by_pair, on=["activity", "from_unit"])
    found = exact[["to_unit", "multiplier"]].where(exact["to_unit"].notna(), wild[["to_unit", "multiplier"]])
    missing = found["to_unit"].isna()
    if missing.any():
        return f"{int(missing.sum())} row(s) with no unit conversion"
    numbers = pd.to_numeric(quantities, errors="coerce")
    if (numbers.isna() & quantities.notna()).any():
        return "not a number"
    return numbers.astype(float) * found["multiplier"].astype(float), found["to_unit"]


@settings(max_examples=200, deadline=None)
@given(
    table=st.sampled_from(["Facilities", "Vehicles", "Waste", "Water", " facilities "]),
    picks=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=15),
    odd=st.lists(
        st.tuples(st.sampled_from(["uranium", "", None, 3.0]), st.sampled_from(["kwh", "parsec", None])), max_size=1
    ),
    quantities=st.lists(st.none() | st.floats(0, 1e9) | st.sampled_from(["12", "x"]), min_size=16, max_size=16),
    shuffled=st.booleans(),
)
def test_each_row_converts_as_the_joins_of_the_conversion_table_give(table, picks, odd, quantities, shuffled):
    conv = F.conversions()
    conv = conv[conv["sheet_key"] == table.strip().lower()]
    acts = sorted(set(conv["activity"]) - {"*"}) or ["any"]
    units_known = sorted(set(conv["from_unit"]))
    pairs = [(acts[a % len(acts)], units_known[u % len(units_known)]) for a, u in picks]
    pairs = [(a.upper() if i % 3 == 1 else a, f" {u} " if i % 4 == 2 else u) for i, (a, u) in enumerate(pairs)] + odd
    index = pd.Index(range(len(pairs), 0, -1) if shuffled else range(len(pairs)))
    activities = pd.Series([a for a, _ in pairs], index=index, dtype=object)
    units = pd.Series([u for _, u in pairs], index=index[::-1], dtype=object)
    amounts = pd.Series(quantities[: len(pairs)], index=index, dtype=object)
    expected = _converted_by_joins(activities, units, amounts, table)
    try:
        got: object = to_canonical(activities, units, amounts, table)
    except (UnitConversionError, ValueError) as exc:
        got = str(exc)
    if isinstance(expected, str):
        assert isinstance(got, str) and expected in got
    else:
        assert isinstance(got, tuple)
        pd.testing.assert_series_equal(got[0], expected[0], check_exact=True, check_names=False)
        pd.testing.assert_series_equal(got[1], expected[1], check_dtype=False, check_names=False)
