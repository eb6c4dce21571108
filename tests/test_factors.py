"""Factor sets: validation on read, pins, coverage of the contract's codes, WORLD fallback."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import codelists
from pipeline.reference import factors as F


def grid_factor_for(countries: pd.Series, name: str = "gtb-2025.1") -> pd.DataFrame:
    """Location-based grid electricity factor per country: the country row, else WORLD."""
    return F.resolve_factors("Facilities", pd.Series("electricity", index=countries.index), countries, name=name)


SET = "gtb-2025.1"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def factor_row(
    factor_id="fuel.diesel.litre",
    category="stationary_fuel",
    activity="diesel",
    unit="litre",
    region="WORLD",
    value="2.5",
    url="https://example.org/factors",
    year="2023",
) -> list[str]:
    return [
        factor_id,
        category,
        activity,
        unit,
        region,
        value,
        "IPCC AR5 GWP100",
        "A source",
        url,
        year,
        "CC BY 4.0",
        "",
    ]


def tiny_set(root: Path, rows: list[list[str]], name: str = "test-1.0") -> Path:
    write_csv(root / name / "factors_test.csv", list(F.FACTOR_COLUMNS), rows)
    return root


# --- the repository's set -------------------------------------------------------------------


def test_repository_set_loads_validated_and_typed():
    table = F.factor_set(SET)
    assert set(table["category"]) == set(F.CATEGORIES)
    assert table["kgco2e_per_unit"].dtype == float
    assert (table["factor_set"] == SET).all()
    assert not table.duplicated(["factor_id", "region"]).any()
    assert table["source_url"].str.match(r"https?://").all()


def test_pins_cover_2010_to_2030_with_an_existing_set():
    for year in range(2010, 2031):
        assert F.pinned_set(year) in F.available_sets()
    with pytest.raises(F.FactorSetError, match="no factor set pinned for year 2009"):
        F.pinned_set(2009)


def test_duplicate_pin_year_is_refused(tmp_path):
    path = write_csv(tmp_path / "pins.csv", ["year", "factor_set"], [[2020, "a"], [2020, "b"]])
    with pytest.raises(F.FactorSetError, match="2020 is pinned more than once"):
        F.pinned_set(2020, path)


@pytest.mark.parametrize(
    ("sheet", "codelist", "countries"),
    [
        ("Facilities", "energy_type", "KEN"),
        ("Vehicles", "vehicle_fuel", "KEN"),
        ("Refrigerants", "refrigerant_gas", None),
        ("OtherTravel", "travel_mode", None),
    ],
)
def test_every_contract_code_has_a_factor(sheet, codelist, countries):
    codes = pd.Series(codelists.codes(codelist))
    where = None if countries is None else pd.Series(countries, index=codes.index)
    resolved = F.resolve_factors(sheet, codes, where)
    assert resolved["factor_id"].notna().all()
    assert len(resolved) == len(codes)
    assert not resolved["fell_back_to_world"].any()  # KEN has a grid factor


@pytest.mark.parametrize("name", F.available_sets())
def test_every_cabin_class_has_an_air_travel_factor(name):
    from pipeline.reference import icao

    if icao.uses_icao(name):  # the ICAO method: one factor, CO2 per kg of fuel, and a class factor per class
        resolved = F.resolve_factors("AirTravel", pd.Series(["icao_fuel"]), name=name)
        assert (resolved["unit"] == "kg_fuel").all() and resolved.loc[0, "kgco2e_per_unit"] == 3.16
        assert set(codelists.codes("cabin_class")) <= set(icao.tables(name).classes)
        return
    bands = F.read_set_table("air_distance_bands.csv", name)["band"]
    activities = pd.Series([f"{b}.{c}" for b in bands for c in codelists.codes("cabin_class")])
    resolved = F.resolve_factors("AirTravel", activities, name=name)
    assert len(resolved) == 3 * 4
    assert (resolved["unit"] == "passenger_km").all()


def test_vehicle_electricity_uses_the_country_grid_factor():
    resolved = F.resolve_factors("Vehicles", pd.Series(["electricity"]), pd.Series(["FRA"]))
    grid = grid_factor_for(pd.Series(["FRA"]))
    assert resolved.loc[0, "factor_id"] == "grid.electricity.kwh"
    assert resolved.loc[0, "kgco2e_per_unit"] == grid.loc[0, "kgco2e_per_unit"]
    assert resolved.loc[0, "region"] == "FRA"


def test_every_country_has_a_grid_factor_or_an_explicit_world_fallback():
    countries = pd.Series(codelists.codes("countries"))
    grid = grid_factor_for(countries)
    own = grid["region"] == countries
    world = (grid["region"] == F.WORLD) & grid["fell_back_to_world"]
    assert (own | world).all()
    regions = set(F.factor_set(SET).query("category == 'grid_electricity'")["region"]) - {F.WORLD}
    assert own.sum() == len(regions & set(countries)) >= 200
    assert world.sum() == len(countries) - own.sum()
    by_code = grid.set_index(countries)
    assert by_code.loc["CHE", "region"] == "CHE"
    assert by_code.loc["CAF", "region"] == F.WORLD  # the source gives 0 g/kWh, i.e. no data
    assert by_code.loc["ATA", "fell_back_to_world"]
    world_value = F.factor_set(SET).query("category == 'grid_electricity' and region == 'WORLD'")
    assert world_value["kgco2e_per_unit"].item() == by_code.loc["CAF", "kgco2e_per_unit"]


def test_missing_country_on_a_regional_factor_is_flagged_as_fallback():
    grid = grid_factor_for(pd.Series(["CHE", None, "  "], index=[10, 11, 12]))
    assert grid["fell_back_to_world"].tolist() == [False, True, True]
    assert list(grid.index) == [10, 11, 12]


def test_unknown_activity_is_an_error_naming_it():
    with pytest.raises(F.FactorSetError, match="'uranium'"):
        F.resolve_factors("Facilities", pd.Series(["diesel", "uranium"]))


def test_refrigerant_blends_are_the_mass_weighted_component_gwps():
    table = F.factor_set(SET).query("category == 'refrigerant_gwp'").set_index("activity")["kgco2e_per_unit"]
    blends = F.read_set_table("refrigerant_blends.csv")
    blends["mass_fraction"] = blends["mass_fraction"].astype(float)
    for blend, parts in blends.groupby("blend"):
        assert parts["mass_fraction"].sum() == pytest.approx(1.0)
        expected = sum(table[c] * f for c, f in zip(parts["component"], parts["mass_fraction"], strict=True))
        assert table[blend] == pytest.approx(expected)
    assert table["r410a"] == pytest.approx(0.5 * 677 + 0.5 * 3170)  # AR5 HFC-32 and HFC-125
    assert table["r717"] == 0 and table["r744"] == 1


def test_air_factors_are_desnz_co2_without_the_8_percent_uplift():
    table = F.factor_set(SET).set_index("factor_id")["kgco2e_per_unit"]
    assert table["air.long_haul.economy.passenger_km"] == pytest.approx(0.11712 / 1.08)
    assert table["air.medium_haul.first.passenger_km"] == table["air.medium_haul.business.passenger_km"]
    assert table["air.long_haul.first.passenger_km"] > table["air.long_haul.business.passenger_km"]


# --- validation of a set built in code ------------------------------------------------------


def test_a_valid_tiny_set_loads_from_an_override_directory(tmp_path):
    root = tiny_set(tmp_path, [factor_row(), factor_row(region="CHE", value="2.6")])
    assert F.available_sets(root) == ("test-1.0",)
    table = F.factor_set("test-1.0", root)
    assert table["kgco2e_per_unit"].tolist() == [2.6, 2.5]


def test_duplicate_factor_and_region_is_caught_with_line_numbers(tmp_path):
    root = tiny_set(tmp_path, [factor_row(), factor_row(value="2.7")])
    with pytest.raises(
        F.FactorSetError, match=r"line 2, factors_test.csv line 3: duplicate factor_id 'fuel.diesel.litre'"
    ):
        F.factor_set("test-1.0", root)


def test_two_factors_for_one_activity_and_region_are_refused(tmp_path):
    root = tiny_set(tmp_path, [factor_row(), factor_row(factor_id="fuel.diesel.other", value="2.7")])
    with pytest.raises(
        F.FactorSetError, match=r"line 2, factors_test.csv line 3: two factors for stationary_fuel/diesel"
    ):
        F.factor_set("test-1.0", root)
    repeated = tiny_set(tmp_path / "again", [factor_row(), factor_row(), factor_row(factor_id="fuel.diesel.other")])
    with pytest.raises(F.FactorSetError) as refused:
        F.factor_set("test-1.0", repeated)
    assert "line 2, factors_test.csv line 3: duplicate factor_id 'fuel.diesel.litre'" in str(refused.value)
    assert "line 2, factors_test.csv line 3, factors_test.csv line 4: two factors for" in str(refused.value)


def test_missing_source_url_is_caught(tmp_path):
    root = tiny_set(tmp_path, [factor_row(), factor_row(factor_id="fuel.petrol.litre", activity="petrol", url="")])
    with pytest.raises(F.FactorSetError, match="line 3, column source_url: empty"):
        F.factor_set("test-1.0", root)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (factor_row(value="0"), "kgco2e_per_unit: '0' is not a number > 0"),
        (factor_row(value="-1"), "is not a number > 0"),
        (factor_row(value="abc"), "is not a number > 0"),
        (factor_row(region="XXX"), "region: 'XXX' is neither WORLD nor an ISO3"),
        (factor_row(category="fuel"), "category: 'fuel' is not one of"),
        (factor_row(unit="gallon"), "unit: 'gallon' is not one of"),
        (factor_row(url="www.example.org"), "is not an http"),
        (factor_row(year="last year"), "publication_year: 'last year' is not a year"),
    ],
)
def test_bad_rows_are_refused(tmp_path, row, message):
    with pytest.raises(F.FactorSetError, match=message):
        F.factor_set("test-1.0", tiny_set(tmp_path, [row]))


def test_zero_is_legitimate_only_for_a_gwp(tmp_path):
    row = factor_row("refrigerant.r717.kg", "refrigerant_gwp", "r717", "kg", value="0")
    assert F.factor_set("test-1.0", tiny_set(tmp_path, [row]))["kgco2e_per_unit"].item() == 0


def test_missing_column_and_unquoted_comma_are_refused(tmp_path):
    write_csv(tmp_path / "a-1" / "factors_x.csv", list(F.FACTOR_COLUMNS[:-2]), [factor_row()[:-2]])
    with pytest.raises(F.FactorSetError, match="missing column"):
        F.factor_set("a-1", tmp_path)
    path = tmp_path / "b-1" / "factors_x.csv"
    path.parent.mkdir()
    path.write_text(
        ",".join(F.FACTOR_COLUMNS) + "\n" + ",".join(factor_row()[:-1] + ["a note, with a comma", ""]) + "\n"
    )
    with pytest.raises(F.FactorSetError, match="more fields than the header"):
        F.factor_set("b-1", tmp_path)


def test_unknown_set_names_the_available_ones(tmp_path):
    root = tiny_set(tmp_path, [factor_row()])
    with pytest.raises(F.FactorSetError, match="unknown factor set 'nope'.*available: test-1.0"):
        F.factor_set("nope", root)


# --- the grid builder -----------------------------------------------------------------------


def load_build_grid():
    path = F.FACTORS_DIR / "build_grid.py"
    spec = importlib.util.spec_from_file_location("build_grid", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_grid_weights_world_by_generation_and_drops_zero_intensity():
    build = load_build_grid()
    data = {
        "AAA": {"carbon_intensity": 100.0, "total_TWh": 3.0, "year": 2023, "country_name": "A"},
        "BBB": {"carbon_intensity": 500.0, "total_TWh": 1.0, "year": 2022, "country_name": "B"},
        "CCC": {"carbon_intensity": 0.0, "total_TWh": 0.2, "year": 2022, "country_name": "C"},
    }
    grid, cooling = build.build_rows(data, "9.9", cooling_cop=4.0)
    by_region = {row["region"]: row["kgco2e_per_unit"] for row in grid}
    assert by_region == {"WORLD": 0.2, "AAA": 0.1, "BBB": 0.5}  # (100*3 + 500*1) / 4 g/kWh
    assert [row["kgco2e_per_unit"] for row in cooling] == [0.05, 0.025, 0.125]
    assert "codecarbon 9.9" in grid[0]["source_title"]
    assert set(grid[0]) == set(F.FACTOR_COLUMNS)


def test_an_all_hydro_grid_listed_at_zero_is_a_real_grid_not_missing_data():
    """gtb-2026.1: the Central African Republic (0.15 TWh, all hydro) gets the lifecycle median of
    hydropower (IPCC AR5, 24 gCO2e/kWh), not the world average twenty times higher."""
    new = grid_factor_for(pd.Series(["CAF", "FRA"]), name="gtb-2026.1")
    old = grid_factor_for(pd.Series(["CAF"]), name="gtb-2025.1")
    assert new.loc[0, "region"] == "CAF" and new.loc[0, "kgco2e_per_unit"] == pytest.approx(0.024)
    assert old.loc[0, "region"] == F.WORLD and old.loc[0, "kgco2e_per_unit"] > 15 * new.loc[0, "kgco2e_per_unit"]


def test_the_documented_world_fallbacks_are_exactly_the_countries_without_a_grid_row():
    """docs/emission-factors.md lists every country of the code list that falls back to WORLD."""
    countries = pd.Series(codelists.codes("countries"))
    grid = grid_factor_for(countries, name="gtb-2026.1")
    fallback = sorted(countries[grid["fell_back_to_world"]])
    doc = (Path(__file__).resolve().parent.parent / "docs" / "emission-factors.md").read_text(encoding="utf-8")
    listed = doc.split("<!-- world-fallbacks -->")[1].split("<!-- /world-fallbacks -->")[0]
    assert sorted(re.findall(r"`([A-Z]{3})`", listed)) == fallback and len(fallback) == 36


def test_renewable_share_default_for_a_country_and_the_world():
    shares = F.renewable_shares("gtb-2026.1")
    assert shares["CAF"] == 1.0 and 0.2 < shares["FRA"] < 0.3 and 0.25 < shares[F.WORLD] < 0.35
    assert F.renewable_shares("gtb-2025.1") == {}


# --- a long input resolved once per distinct (activity, country) ---------------------------


def _resolved_or_refused(sheet: str, activities: pd.Series, countries: pd.Series | None) -> object:
    try:
        return F.resolve_factors(sheet, activities, countries)
    except F.FactorSetError as exc:
        return str(exc)


@settings(max_examples=60, deadline=None)
@given(
    sheet=st.sampled_from(["Facilities", "Vehicles", "Refrigerants", "AirTravel"]),
    extra=st.lists(st.sampled_from(["no_such_fuel", " Electricity ", "DIESEL", "economy", ""]), max_size=2),
    countries=st.lists(st.sampled_from(["KEN", "che", " FRA ", "ZZZ", "", None, float("nan")]), min_size=1, max_size=5),
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=40),
    with_countries=st.booleans(),
    shuffled_index=st.booleans(),
)
def test_a_long_input_resolved_by_distinct_pairs_is_resolved_as_row_by_row(
    sheet, extra, countries, picks, with_countries, shuffled_index
):
    known = sorted(F.factor_lookup().query("sheet_key == @sheet.lower()")["activity"])
    activities_seen = known[:6] + extra
    rows = F.DISTINCT_FROM_ROWS + len(picks)
    index = pd.Index(range(rows, 0, -1) if shuffled_index else range(rows))
    chosen = [picks[i % len(picks)] for i in range(rows)]
    activities = pd.Series([activities_seen[p % len(activities_seen)] for p in chosen], index=index)
    country = pd.Series([countries[(p // 7) % len(countries)] for p in chosen], index=index[::-1])
    assert F._distinct_pairs(activities, country.reindex(index) if with_countries else None) is not None
    by_pairs = _resolved_or_refused(sheet, activities, country if with_countries else None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(F, "DISTINCT_FROM_ROWS", 10**9)
        row_by_row = _resolved_or_refused(sheet, activities, country if with_countries else None)
    if isinstance(row_by_row, str):
        assert by_pairs == row_by_row
    else:
        assert isinstance(by_pairs, pd.DataFrame)
        pd.testing.assert_frame_equal(by_pairs, row_by_row, check_exact=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.text(alphabet=" \t\u00a0\u3000-_/aBcÉß1.()", max_size=8), max_size=20))
def test_codes_of_a_text_column_are_read_as_those_of_the_same_cells_as_objects(texts):
    """A typed text column (Arrow or Python strings) takes the short way through `normalise_codes`
    and `normalise_refs`; the cells as written (object, with numbers among them) the long way."""
    as_objects = pd.Series(texts, dtype=object)
    for dtype in ("string[pyarrow]", "string[python]"):
        as_text = pd.Series(texts, dtype=dtype)
        assert codelists.normalise_codes(as_text).tolist() == codelists.normalise_codes(as_objects).tolist()
        assert codelists.normalise_refs(as_text).tolist() == codelists.normalise_refs(as_objects).tolist()
    mixed = pd.Series([*texts, 12, 1.5, True], dtype=object)
    assert codelists.normalise_codes(mixed).tolist()[len(texts) :] == [None, None, None]


# --- the rule, as joins of the set's tables: what the dictionary lookups must give -------------


def _resolved_by_joins(sheet: str, activities: pd.Series, countries: pd.Series | None, name: str) -> object:
    """`resolve_factors` written as pandas joins of the lookup and factor tables, row by row."""
    lookup = F.factor_lookup(name)
    lookup = lookup[lookup["sheet_key"] == sheet.strip().lower()]
    acts = codelists.normalise_codes(activities)
    rows = pd.DataFrame({"activity": acts}, index=activities.index).join(
        lookup.set_index("activity")[["category", "factor_activity", "regional"]], on="activity"
    )
    unknown = rows["category"].isna()
    if unknown.any():
        found = sorted({str(a) for a in activities[unknown]})
        return f"{sheet}: no factor lookup for activity {', '.join(map(repr, found))}"
    wanted = (
        pd.Series(F.WORLD, index=activities.index)
        if countries is None
        else codelists.normalise_refs(countries.reindex(activities.index)).fillna("")
    )
    rows["wanted"] = wanted.where(rows["regional"].astype(bool), F.WORLD)
    table = F.factor_set(name).set_index(["category", "activity", "region"])
    cols = ["factor_id", "unit", "kgco2e_per_unit"]
    exact = rows.join(table[cols], on=["category", "factor_activity", "wanted"])
    world = rows.assign(wanted=F.WORLD).join(table[cols], on=["category", "factor_activity", "wanted"])
    hit = exact["factor_id"].notna()
    out = exact[cols].where(hit, world[cols])
    if out["factor_id"].isna().any():
        lost = rows[out["factor_id"].isna()][["category", "factor_activity"]].drop_duplicates()
        listed = ", ".join(f"{c}/{a}" for c, a in lost.itertuples(index=False))
        return f"{sheet}: no factor (not even {F.WORLD}) for {listed}"
    return pd.DataFrame(
        {
            "factor_id": out["factor_id"],
            "category": rows["category"],
            "activity": rows["factor_activity"],
            "region": rows["wanted"].where(hit, F.WORLD),
            "unit": out["unit"],
            "kgco2e_per_unit": out["kgco2e_per_unit"].astype(float),
            "fell_back_to_world": ~hit,
        },
        index=activities.index,
    )


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["gtb-2025.1", "gtb-2026.1"]),
    sheet=st.sampled_from(["Facilities", "Vehicles", "Refrigerants", "AirTravel", "OtherTravel", " facilities "]),
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=12),
    odd=st.lists(st.sampled_from(["uranium", "", None, 3.0]), max_size=1),
    countries=st.none()
    | st.lists(st.sampled_from(["KEN", "che", " FRA ", "ZZZ", "", None, float("nan"), 7]), min_size=13, max_size=13),
    shuffled=st.booleans(),
)
def test_the_factor_of_each_row_is_the_one_the_joins_of_the_tables_give(name, sheet, picks, odd, countries, shuffled):
    known = sorted(F.factor_lookup(name).query("sheet_key == @sheet.strip().lower()")["activity"])
    spellings = [*known, *(a.upper() for a in known[:2]), *(f" {a} " for a in known[-2:])]
    activities = [spellings[p % len(spellings)] for p in picks] + odd
    index = pd.Index(range(len(activities), 0, -1) if shuffled else range(len(activities)))
    acts = pd.Series(activities, index=index, dtype=object)
    where = pd.Series(countries[: len(activities)], index=index[::-1], dtype=object) if countries else None
    expected = _resolved_by_joins(sheet, acts, where, name)
    try:
        got: object = F.resolve_factors(sheet, acts, where, name=name)
    except F.FactorSetError as exc:
        got = str(exc)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, pd.DataFrame)
        pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
