"""Cells the reader must not read silently wrong (probe_input2): a note in brackets after a
drop-down value, digits grouped by spaces in groups that are not thousands, a country name that
contradicts the code in brackets after it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.intake.reading import note_factor, number_from_text
from tests.builders import check_cell as check_one

# --- 1. a note in brackets after a drop-down value -----------------------------------------------

MULTIPLIERS = [
    ("Facilities", "E3", "Litre (thousands)", "1,000"),
    ("Facilities", "E3", "Litre ('000)", "1,000"),
    ("Facilities", "E3", "Litre (x1000)", "1,000"),
    ("Facilities", "E3", "litre (x 1,000)", "1,000"),
    ("Facilities", "E3", "Litre (millions)", "1,000,000"),
    ("Facilities", "E3", "Litre (milliers)", "1,000"),
    ("Facilities", "E3", "Litro (miles)", "1,000"),
    ("Facilities", "C3", "Diesel (thousand litres)", "1,000"),
    ("Water", "E2", "m3 (thousands)", "1,000"),
    ("Water", "E2", "m3 (mio)", "1,000,000"),
]


@pytest.mark.parametrize("sheet,cell,typed,factor", MULTIPLIERS, ids=[m[2] for m in MULTIPLIERS])
def test_a_note_that_scales_the_figures_is_an_error_naming_the_multiplier(tmp_path, sheet, cell, typed, factor):
    sub = check_one(tmp_path, sheet, cell, typed)
    [found] = sub.findings
    assert (found.sheet, found.cell, found.code, found.severity) == (sheet, cell, "not-in-codelist", "error")
    assert found.value == typed
    assert f"Multiply the quantity by {factor}" in found.message and "alone from the drop-down" in found.message
    assert not sub.is_valid and sub.tables == {}


@pytest.mark.parametrize(
    "typed,said",
    [("Litre (US gallons)", "is not part of the unit"), ("Litre (in m3)", "is not part of the unit")],
)
def test_any_other_note_on_a_unit_is_an_error(tmp_path, typed, said):
    [found] = check_one(tmp_path, "Facilities", "E3", typed).findings
    assert (found.cell, found.code, found.severity) == ("E3", "not-in-codelist", "error")
    assert said in found.message and "'Comment' column" in found.message


@pytest.mark.parametrize(
    "sheet,cell,typed", [("Facilities", "E2", "Kilowatt-hour (MWh)"), ("AirTravel", "D2", "Economy (business)")]
)
def test_a_note_naming_another_value_of_the_list_is_an_error(tmp_path, sheet, cell, typed):
    [found] = check_one(tmp_path, sheet, cell, typed).findings
    assert (found.cell, found.code, found.severity) == (cell, "not-in-codelist", "error")
    assert "names two values of the list" in found.message


NOTES = [
    ("EMS", "B5", "Yes (partially)", "'Yes'", "'Comment' field of the 'Entity' sheet"),
    ("EMS", "B5", "Yes (draft, not yet endorsed)", "'Yes'", "'Comment' field of the 'Entity' sheet"),
    ("AirTravel", "F2", "No (one way, the return is in row 3)", "'No'", "'Comment' column"),
    ("Facilities", "G2", "Measured (half estimated)", "'Measured", "'Comment' column"),
]


@pytest.mark.parametrize("sheet,cell,typed,read,where", NOTES, ids=[n[2] for n in NOTES])
def test_any_other_note_is_a_warning_naming_the_note_and_what_was_read(tmp_path, sheet, cell, typed, read, where):
    sub = check_one(tmp_path, sheet, cell, typed)
    [found] = sub.findings
    assert (found.sheet, found.cell, found.code, found.severity) == (sheet, cell, "dropped-note", "warning")
    note = typed[typed.index("(") :]
    assert f"was read as {read}" in found.message and f"the note '{note}'" in found.message
    assert where in found.message
    assert sub.is_valid


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "code"),
    [
        ("EMS", "B5", "Yes (partially)", "dropped-note"),
        ("Facilities", "E2", "Litre (thousands)", "not-in-codelist"),
        ("Facilities", "D2", "1,200", "ambiguous-number"),
        ("Entity", "B5", 0.005, "implausible-value"),
    ],
)
def test_a_finding_made_while_reading_values_names_its_file_as_every_other(tmp_path, sheet, cell, typed, code):
    """issues.csv's `file` column, which SUN relies on when it puts the reports of many workbooks
    together, was empty for the findings of reading values (notes, separators, shares)."""
    sub = check_one(tmp_path, sheet, cell, typed)
    assert code in {f.code for f in sub.findings}
    assert {f.file for f in sub.findings} == {"UNEP_2024.xlsx"}


def test_a_note_warning_is_said_in_the_workbooks_language(tmp_path):
    for lang, words in (("fr", "a été lu comme 'Oui'"), ("es", "se leyó como 'Sí'")):
        [found] = check_one(tmp_path, "EMS", "B5", "Yes (partially)", lang=lang).findings
        assert words in found.message and "'(partially)'" in found.message


LABEL_NOTES = [
    ("Facilities", "G2", "Measured (meters, invoices, booking records)", "data_quality", 0, "measured"),
    ("Facilities", "G2", "Mesure (meters, invoices, booking records)", "data_quality", 0, "measured"),
    ("Facilities", "G4", "Estimated (extrapolated or modelled)", "data_quality", 2, "estimated"),
    ("Facilities", "C2", "Electricity (purchased or generated)", "energy_type", 0, "electricity"),
    ("Facilities", "C2", "Electricity (achetée ou produite)", "energy_type", 0, "electricity"),
    ("Facilities", "E2", "Kilowatt-hour (kWh)", "unit", 0, "kwh"),
    ("Facilities", "E3", "Litre (L)", "unit", 1, "litre"),
    ("Facilities", "E4", "Cubic metre (m³)", "unit", 2, "m3"),
    ("Refrigerants", "C2", "R-410A (HFC blend)", "gas", 0, "r410a"),
]


@pytest.mark.parametrize("sheet,cell,typed,column,row,code", LABEL_NOTES, ids=[n[2] for n in LABEL_NOTES])
def test_the_notes_the_drop_down_labels_carry_are_still_read_without_a_finding(
    tmp_path, sheet, cell, typed, column, row, code
):
    sub = check_one(tmp_path, sheet, cell, typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables[sheet][column].iloc[row] == code


@pytest.mark.parametrize(
    "note,factor",
    [("thousands", 1e3), ("'000", 1e3), ("x1,000", 1e3), ("×1000", 1e3), ("k", 1e3), ("en milliers", 1e3)]
    + [("millones", 1e6), ("1 000 000", 1e6), ("bn", 1e9), ("US gallons", None), ("in m3", None), ("kWh", None)],
)
def test_the_factor_of_a_note(note, factor):
    assert note_factor(note) == factor


# --- 3. digits grouped by spaces or apostrophes ----------------------------------------------------


@pytest.mark.parametrize("typed", ["1,234 5", "12 34", "1 2345", "1 234 5", "1'23'456", "123 45,6"])
def test_digits_grouped_other_than_in_thousands_are_no_number(tmp_path, typed):
    sub = check_one(tmp_path, "Facilities", "D3", typed)
    [found] = sub.findings
    assert (found.cell, found.code, found.value) == ("D3", "type-error", typed)
    assert found.message.startswith("expected a number; found")
    assert sub.tables == {}


@pytest.mark.parametrize(
    "typed,value",
    [("35 000", 35000), ("1'234", 1234), ("1\u00a0234", 1234), ("1\u202f234", 1234), ("1 234.5", 1234.5)]
    + [("12 345,678", 12345.678), ("1'234.5", 1234.5), ("1 200 000", 1200000), (" 1234 ", 1234), ("+ 1200", 1200)],
)
def test_digits_grouped_in_thousands_still_load(tmp_path, typed, value):
    sub = check_one(tmp_path, "Facilities", "D3", typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["Facilities"]["quantity"].iloc[1] == value


MARKS = st.sampled_from([" ", "\u00a0", "\u202f", "'"])
LANGS = st.sampled_from(["en", "fr", "es"])


@given(st.integers(min_value=-(10**18), max_value=10**18), MARKS, LANGS)
def test_any_integer_grouped_in_thousands_is_read_as_itself(n, mark, lang):
    text = f"{n:,}".replace(",", mark)
    assert number_from_text(text, lang) == (float(n), False)


@given(st.integers(min_value=1000, max_value=10**15), st.from_regex(r"[0-9]{1,6}", fullmatch=True), MARKS, LANGS)
def test_a_grouped_integer_with_a_decimal_part_is_read_as_itself(n, decimals, mark, lang):
    for point in ".,":
        text = f"{n:,}".replace(",", mark) + point + decimals
        assert number_from_text(text, lang) == (float(f"{n}.{decimals}"), False)


@st.composite
def wrong_groupings(draw):
    """Digits split by one mark into groups of which one is of the wrong size: a first group of
    more than three digits, or a later one of other than three."""
    sizes = draw(st.lists(st.integers(min_value=1, max_value=6), min_size=2, max_size=6))
    if sizes[0] <= 3 and all(size == 3 for size in sizes[1:]):
        sizes[draw(st.integers(min_value=1, max_value=len(sizes) - 1))] = draw(st.sampled_from([1, 2, 4, 5]))
    digits = draw(st.from_regex(f"[1-9][0-9]{{{sum(sizes) - 1}}}", fullmatch=True))
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    return draw(MARKS).join(groups)


@given(wrong_groupings(), LANGS, st.sampled_from(["", ",5", ".25"]))
def test_digits_grouped_with_a_group_of_the_wrong_size_are_never_a_number(text, lang, decimals):
    assert number_from_text(text + decimals, lang) == (None, False)


@given(st.integers(min_value=10**6, max_value=10**15), st.sampled_from([(" ", "'"), ("\u00a0", "'"), ("'", "\u202f")]))
def test_two_different_marks_in_one_number_are_no_number(n, marks):
    groups = f"{n:,}".split(",")
    text = groups[0] + marks[0] + groups[1] + "".join(marks[1] + g for g in groups[2:])
    assert number_from_text(text, "en") == (None, False)


# --- 4. a name that contradicts the code in brackets -----------------------------------------------


def test_a_country_name_contradicting_its_code_is_an_error_naming_both(tmp_path):
    sub = check_one(tmp_path, "Facilities", "B2", "Kenya (UGA)")
    [found] = sub.findings
    assert (found.cell, found.code, found.severity, found.value) == ("B2", "not-in-codelist", "error", "Kenya (UGA)")
    assert "'Kenya (KEN)'" in found.message and "'Uganda (UGA)'" in found.message
    assert sub.tables == {}


@pytest.mark.parametrize("typed", ["Kenya (KEN)", "Kenia (KEN)", "kenya (ken)", "Republic of Nowhere (KEN)"])
def test_a_name_that_matches_its_code_or_names_no_country_loads_the_code(tmp_path, typed):
    sub = check_one(tmp_path, "Facilities", "B2", typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["Facilities"]["country"].iloc[0] == "KEN"


@pytest.mark.parametrize(
    "typed,code",
    [("Istanbul (IST)", "IST"), ("Toronto (YYZ)", "YYZ"), ("Bonn (CGN)", "CGN"), ("La Paz (LPB)", "LPB")]
    + [("Venice (TSF)", "TSF"), ("Nairobi (NBO)", "NBO")],
)
def test_an_airport_is_read_by_its_code_whatever_city_is_named(tmp_path, typed, code):
    # the airport list names many main airports by a suburb or a namesake city elsewhere
    sub = check_one(tmp_path, "AirTravel", "A2", typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["AirTravel"]["origin"].iloc[0] == code


@pytest.mark.parametrize("typed,code", [("Congo (COD)", "COD"), ("Sudan (SSD)", "SSD"), ("Guinea (GNB)", "GNB")])
def test_a_name_that_is_part_of_the_coded_countrys_name_loads_the_code(tmp_path, typed, code):
    sub = check_one(tmp_path, "Facilities", "B2", typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["Facilities"]["country"].iloc[0] == code


@pytest.mark.parametrize("typed", ["Niger (NGA)", "Kenia (UGA)"])
def test_a_country_name_of_another_country_only_is_an_error(tmp_path, typed):
    [found] = check_one(tmp_path, "Facilities", "B2", typed).findings
    assert (found.code, found.severity) == ("not-in-codelist", "error")
    assert "two countries" in found.message


# --- what a review of the readers found --------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["MWh (1000 kWh)", "Tonne (1000 kg)", "Tonne (1 000 kg)", "Cubic metre (1,000 litres)", "kWh (k€)"],
)
def test_a_unit_defined_by_another_is_never_read_as_a_multiplier(tmp_path, typed):
    findings = check_one(tmp_path, "Facilities", "E2", typed).findings
    assert not any("Multiply the quantity" in f.message for f in findings), [f.message for f in findings]


@pytest.mark.parametrize(
    "sheet,cell,typed",
    [
        ("AirTravel", "D2", "Economy (K)"),
        ("AirTravel", "F2", "No (one way, 1 000 km)"),
        ("AirTravel", "F2", "Yes (45 mn stopover)"),
        ("AirTravel", "G2", "Estimated (2k run)"),
        ("EMS", "B5", "Yes (1000 staff trained)"),
    ],
)
def test_a_number_in_a_note_on_a_choice_that_scales_nothing_is_a_warning(tmp_path, sheet, cell, typed):
    sub = check_one(tmp_path, sheet, cell, typed)
    [found] = sub.findings
    assert (found.code, found.severity) == ("dropped-note", "warning"), found.message
    assert sub.is_valid


@pytest.mark.parametrize(
    "sheet,cell,typed,code",
    [
        ("Facilities", "E4", "m³ (cubic metres)", "m3"),
        ("Facilities", "E2", "kWh (kilowatt hours)", "kwh"),
        ("Facilities", "E4", "m3 (cubic meter)", "m3"),
        ("Waste", "F2", "Tonne (metric)", "tonne"),
        ("Waste", "F2", "t (metric tonnes)", "tonne"),
        ("Waste", "F2", "Tonne métrique (t)", "tonne"),  # the Facilities list's French label
        ("Waste", "F2", "Tonelada métrica (t)", "tonne"),  # and its Spanish one
        ("Waste", "F2", "metric tonnes", "tonne"),
        ("Water", "E2", "m³ (cubic metres)", "m3"),
        ("Facilities", "G2", "Measured (invoices)", "measured"),
        ("Facilities", "G4", "Estimated (modelled)", "estimated"),
    ],
)
def test_a_note_that_names_the_same_value_in_other_words_is_dropped_without_a_finding(
    tmp_path, sheet, cell, typed, code
):
    sub = check_one(tmp_path, sheet, cell, typed)
    assert sub.findings == [], [f.message for f in sub.findings]
    column = {"E": "unit", "F": "unit", "G": "data_quality"}[cell[0]]
    assert sub.tables[sheet][column].iloc[int(cell[1:]) - 2] == code


@pytest.mark.parametrize("zeros", [12, 309, 5000])
def test_a_note_of_many_zeros_is_no_multiplier_and_no_fault(tmp_path, zeros):
    assert note_factor("0" * zeros) is None and note_factor("1" + "0" * zeros) is None
    sub = check_one(tmp_path, "AirTravel", "F2", "Yes (1" + "0" * zeros + ")")
    assert [f.code for f in sub.findings] == ["dropped-note"]


@pytest.mark.parametrize(
    "note,unit,factor",
    [("thousand litres", False, 1e3), ("thousand litres", True, None), ("1000 litres", False, 1e3)]
    + [("in thousands of litres", True, 1e3), ("miles de litros", True, 1e3), ("mil litros", True, None)]
    + [("k", False, None), ("000s", True, 1e3), ("x 1 000", True, 1e3)],
)
def test_a_scale_followed_by_a_unit_defines_a_unit_after_a_unit_and_scales_after_an_activity(note, unit, factor):
    assert note_factor(note, unit) == factor


@pytest.mark.parametrize(
    "typed,value", [("1 234\u00a0567", 1234567.0), ("1  234", 1234.0), ("1\u202f234 567", 1234567.0)]
)
def test_spaces_of_several_kinds_group_thousands_as_one_mark(typed, value):
    assert number_from_text(typed, "fr") == (value, False)
