"""Values that look right in Excel but hold something else: a format character that shows
nothing (a zero-width space pasted in with a code or a number), a minus sign that is not '-',
-0, a 0 in a date cell, and '1.250' in a column of whole numbers."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from pipeline.api import check_files
from pipeline.cells import without_format_characters
from pipeline.intake.reading import number_from_text
from schemas import i18n
from tests.builders import check_cell as check_one
from tests.builders import set_cell, valid_sheets, write_workbook

LANGS = ("en", "fr", "es")


# --- A. format characters, which show nothing -----------------------------------------------------

INVISIBLE = [
    ("Facilities", "B2", "KEN\u200b", "country", "KEN"),  # zero-width space
    ("Facilities", "B2", "K\u00adEN", "country", "KEN"),  # soft hyphen
    ("Facilities", "B2", "\ufeffKEN", "country", "KEN"),  # byte-order mark
    ("Facilities", "B2", "KEN\u200f", "country", "KEN"),  # right-to-left mark
    ("Facilities", "B2", "Kenya (KEN)\u2060", "country", "KEN"),  # word joiner
    ("Facilities", "D3", "1200\u200b", "quantity", 1200),
    ("Facilities", "D3", "\u200e1\u00a0200", "quantity", 1200),
    ("Facilities", "E2", "kWh\u200e", "unit", "kwh"),  # left-to-right mark
    ("Facilities", "G2", "Mea\u00adsured", "data_quality", "measured"),
    ("AirTravel", "A2", "NBO\u200b", "origin", "NBO"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sheet,cell,typed,column,read", INVISIBLE, ids=[repr(i[2]) for i in INVISIBLE])
def test_a_code_or_number_holding_a_format_character_is_read_without_a_word(
    tmp_path, lang, sheet, cell, typed, column, read
):
    sub = check_one(tmp_path, sheet, cell, typed, lang=lang)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables[sheet][column].iloc[int(cell[1:]) - 2] == read


def test_an_entity_code_a_header_and_a_date_holding_one_are_read_too(tmp_path):
    sheets = set_cell(valid_sheets(), "Entity", "B2", "UNEP\u200b")
    set_cell(sheets, "Facilities", "D1", "quantity\u200b")
    set_cell(sheets, "Offsets", "F2", "2025-03-15\ufeff")
    set_cell(sheets, "Entity", "B4", "1250\u00ad")
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.entity["entity_code"] == "UNEP" and sub.entity["personnel"] == 1250
    assert sub.tables["Facilities"]["quantity"].iloc[0] == 2_400_000
    assert str(sub.tables["Offsets"]["retirement_date"].iloc[0])[:10] == "2025-03-15"


@pytest.mark.parametrize("lang", LANGS)
def test_a_wrong_code_still_shows_the_format_character_it_holds(tmp_path, lang):
    """Read without it, 'XYZ' is no country: the finding quotes the cell as it is, the
    character escaped, and still gives the hint on what shows ('Kenya': use KEN)."""
    sub = check_one(tmp_path, "Facilities", "B2", "XYZ\u200b", lang=lang)
    [found] = sub.findings
    assert (found.code, found.cell, found.value) == ("not-in-codelist", "B2", "XYZ\u200b")
    assert "'XYZ\\u200b'" in found.message
    [hinted] = check_one(tmp_path, "Facilities", "B2", "Kenya\u200b", lang=lang).findings
    assert "KEN" in hinted.message and "'Kenya\\u200b'" in hinted.message


def test_format_characters_are_dropped_where_codes_and_numbers_are_matched():
    assert i18n.fold("K\u00adE\u200bN\ufeff") == i18n.fold("KEN") == "ken"
    assert i18n.fold("Gaz\u2060 naturel") == "gaznaturel"
    assert number_from_text("1\u200b234,5", "fr") == (1234.5, False)
    text = "Gigiri compound"
    assert without_format_characters(text) is text  # ASCII: nothing to look at
    assert without_format_characters("Caf\u00e9\u200b") == "Caf\u00e9"  # letters kept


SHOWS_NOTHING = ["\u200b", "\u00ad", "\ufeff", "\u200b \u200e", "\u00a0\u2060"]


@pytest.mark.parametrize("typed", SHOWS_NOTHING, ids=[repr(t) for t in SHOWS_NOTHING])
@pytest.mark.parametrize("sheet,cell", [("Facilities", "D3"), ("Facilities", "B2"), ("Entity", "B5")])
def test_a_cell_holding_only_format_characters_is_an_empty_cell(tmp_path, typed, sheet, cell):
    """A zero-width space or a soft hyphen pasted alone shows a blank cell in Excel: the finding
    is the one for the cell left empty, never 'expected a number' of a value nobody can see."""
    expected = check_one(tmp_path, sheet, cell, None).findings
    found = check_one(tmp_path, sheet, cell, typed).findings
    assert [(f.code, f.cell, f.message) for f in found] == [(f.code, f.cell, f.message) for f in expected]
    assert [f.code for f in found] == ["missing-value"]


@pytest.mark.parametrize("typed", SHOWS_NOTHING, ids=[repr(t) for t in SHOWS_NOTHING])
def test_format_characters_alone_under_no_header_or_as_a_row_are_nothing(tmp_path, typed):
    """Nor are they a column's values under no header, nor a row of their own."""
    sheets = set_cell(valid_sheets(), "Facilities", "H2", typed)
    for column in "ABCDEFG":
        set_cell(sheets, "Facilities", f"{column}40", typed)
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    assert sub.findings == [], [f.message for f in sub.findings]
    [clean] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets())], jobs=1)
    assert len(sub.tables["Facilities"]) == len(clean.tables["Facilities"])


# --- B. a minus sign typed as another dash; -0 ---------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("minus", ["\u2212", "\u2013", "\ufe63", "\uff0d"], ids=["minus", "en-dash", "small", "wide"])
def test_a_minus_sign_typed_as_another_dash_is_a_minus(tmp_path, lang, minus):
    """'−1200' (a minus sign, as Word or a PDF writes it) is -1200: the same finding as '-1200'."""
    [expected] = check_one(tmp_path, "Facilities", "D2", "-1200", lang=lang).findings
    [found] = check_one(tmp_path, "Facilities", "D2", f"{minus}1200", lang=lang).findings
    assert (found.code, found.cell, found.value) == (expected.code, "D2", f"{minus}1200")
    assert found.code == "out-of-range"
    assert found.message == expected.message.replace("'-1200'", f"'{minus}1200'")


@pytest.mark.parametrize("text", ["\u20141200", "\u20101200", "1\u2212200"])
def test_an_em_dash_a_hyphen_or_a_minus_inside_is_no_number(tmp_path, text):
    assert number_from_text(text, "en") == (None, False)
    [found] = check_one(tmp_path, "Facilities", "D2", text).findings
    assert (found.code, found.value) == ("type-error", text)


@pytest.mark.parametrize("text,lang", [("-0", "en"), ("-0.0", "en"), ("-0,0", "fr"), ("\u22120", "es")])
def test_minus_zero_is_zero(text, lang):
    value, ambiguous = number_from_text(text, lang)
    assert value == 0 and math.copysign(1, value) == 1 and not ambiguous


def test_minus_zero_typed_in_a_cell_loads_as_zero(tmp_path):
    sub = check_one(tmp_path, "Facilities", "D3", "-0")
    assert sub.findings == [] and math.copysign(1, sub.tables["Facilities"]["quantity"].iloc[1]) == 1
    [found] = check_one(tmp_path, "Facilities", "D2", "-0").findings  # renewable above what was consumed
    assert "(0 kWh from" in found.message and "-0" not in found.message


# --- C. a 0 in a date cell --------------------------------------------------------------------------

EMPTY_DATE = {
    "en": "found 0 (the cell holds the number 0, not a date: Excel shows it as 00/01/1900).",
    "fr": "valeur trouvée\u00a0: 0 (la cellule contient le nombre 0, pas une date\u00a0: Excel l'affiche comme "
    "00/01/1900).",
    "es": "se encontró 0 (la celda contiene el número 0, no una fecha: Excel lo muestra como 00/01/1900).",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_zero_in_a_date_cell_is_shown_as_zero_and_no_date(tmp_path, lang):
    sub = check_one(tmp_path, "Offsets", "F2", 0, lang=lang, number_format="dd/mm/yyyy")
    [found] = sub.findings
    assert (found.code, found.severity, found.cell, found.value) == ("type-error", "error", "F2", "0")
    assert found.message.endswith(EMPTY_DATE[lang]), found.message
    assert "00:00:00" not in found.message


# --- D. '1.250' in a column of whole numbers ------------------------------------------------------

WHOLE = {
    "en": "'1.250' was read as 1250, not 1.25: this column takes whole numbers, so '.' can only separate thousands",
    "fr": "'1.250' a été lu comme 1250, et non 1,25\u00a0: cette colonne n'admet que des nombres entiers, donc '.'",
    "es": "'1.250' se leyó como 1250, no como 1,25: esta columna admite solo números enteros, así que '.'",
}


@pytest.mark.parametrize("lang", LANGS)
def test_thousands_after_a_dot_in_a_whole_number_column_are_thousands_said(tmp_path, lang):
    sub = check_one(tmp_path, "Entity", "B4", "1.250", lang=lang)
    [found] = sub.findings
    assert (found.code, found.severity, found.cell, found.value) == ("ambiguous-number", "warning", "B4", "1.250")
    assert found.message.startswith(WHOLE[lang]), found.message
    assert sub.is_valid and sub.entity["personnel"] == 1250


@pytest.mark.parametrize("text,value", [("12.500", 12500), ("1,250", 1250), ("1.250.000", 1250000)])
def test_other_thousands_in_a_whole_number_column(tmp_path, text, value):
    sub = check_one(tmp_path, "Entity", "B4", text, lang="fr")
    assert sub.is_valid and sub.entity["personnel"] == value
    assert number_from_text(text, "en", whole=True)[0] == value


@pytest.mark.parametrize("lang", LANGS)
def test_a_decimal_in_a_whole_number_column_is_still_an_error(tmp_path, lang):
    text = "1.5" if lang == "en" else "1,5"
    [found] = check_one(tmp_path, "Entity", "B4", text, lang=lang).findings
    assert (found.code, found.severity, found.value) == ("type-error", "error", text)


def test_thousands_after_a_dot_in_a_decimal_column_are_read_as_before(tmp_path):
    sub = check_one(tmp_path, "Facilities", "D3", "1.250")
    [found] = sub.findings
    assert found.code == "ambiguous-number" and "it was read as 1.25, with '.' as the decimal mark" in found.message
    assert sub.tables["Facilities"]["quantity"].iloc[1] == 1.25
    assert number_from_text("1.250", "en") == (1.25, True)


# --- E. what people type for "no figure", a span of years, a currency sign --------------------------

NO_FIGURE_HINT = {
    "en": "This is no figure: type 0 where there was none",
    "fr": "Ce n'est pas un chiffre\u00a0: saisissez 0 s'il n'y en a pas eu",
    "es": "Esto no es una cifra: escriba 0 si no hubo nada",
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("typed", ["n/a", "N/A.", "-", "\u2014", "--", "TBD", "nil", "néant", "S.O.", "sin datos", "?"])
def test_a_placeholder_for_no_figure_is_an_error_that_says_what_to_type(tmp_path, lang, typed):
    """'n/a' or '-' in a number cell is still refused (0 and 'not known' are different figures
    for the inventory), with the fix: 0 where there was none, the figure or an estimate."""
    [found] = check_one(tmp_path, "Facilities", "D3", typed, lang=lang).findings
    assert (found.code, found.severity, found.cell, found.value) == ("type-error", "error", "D3", typed)
    assert NO_FIGURE_HINT[lang] in found.message, found.message
    [optional] = check_one(tmp_path, "Facilities", "F2", typed, lang=lang).findings  # renewable kWh
    assert NO_FIGURE_HINT[lang] in optional.message


@pytest.mark.parametrize("typed", ["abc", "n/a 1200", "1200", "0"])
def test_other_texts_get_no_such_hint(tmp_path, typed):
    findings = check_one(tmp_path, "Facilities", "D3", typed).findings
    assert not any(NO_FIGURE_HINT["en"] in f.message for f in findings)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("typed", ["2024/25", "2024-2025", "FY2024-25", "2024 \u2013 25"])
def test_a_span_of_years_is_asked_as_one_calendar_year(tmp_path, lang, typed):
    [found] = check_one(tmp_path, "Entity", "B3", typed, lang=lang).findings
    assert (found.code, found.cell, found.value) == ("type-error", "B3", typed)
    assert "(2024)" in found.message and "2024/25" not in found.message.replace(typed, "")


@pytest.mark.parametrize("typed", ["$1,200", "\u20ac1200", "~1200", "\u22481200", ">1000"])
def test_a_currency_or_approximation_sign_is_told_to_go(tmp_path, typed):
    [found] = check_one(tmp_path, "Facilities", "D3", typed).findings
    assert found.code == "type-error" and "Type the number only" in found.message


# --- F. a unit the template does not take -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "sheet,cell,typed,conversion,unit",
    [
        ("Facilities", "E3", "gallons", "1 gal (US) = 3{sep}785 L", "litre"),
        ("Facilities", "E3", "Imperial Gallons", "1 gal (imp.) = 4{sep}546 L", "litre"),
        ("Facilities", "E2", "therms", "1 therm = 29{sep}31 kWh", "kwh"),
        ("Facilities", "E2", "MMBtu", "1 MMBtu = 293{sep}1 kWh", "kwh"),
        ("Waste", "F2", "lbs", "1 lb = 0{sep}4536 kg", "kg"),
        ("Water", "E2", "ccf", "1 ccf = 2{sep}832 m³", "m3"),
    ],
)
def test_a_unit_the_template_does_not_take_is_an_error_that_says_how_to_convert(
    tmp_path, lang, sheet, cell, typed, conversion, unit
):
    """A US bill in gallons or therms: refused (only the focal point knows which gallon the bill
    meant), with the conversion and the unit to choose, as the drop-down of the language shows it."""
    from schemas import contract

    [found] = check_one(tmp_path, sheet, cell, typed, lang=lang).findings
    assert (found.code, found.cell, found.value) == ("not-in-codelist", cell, typed)
    assert conversion.format(sep="." if lang == "en" else ",") in found.message, found.message
    codelist = contract.sheet(sheet).column("unit").codelist
    assert i18n.code_label(codelist, unit, lang) in found.message


def test_a_unit_converted_to_one_the_column_does_not_take_gets_no_conversion(tmp_path):
    """Waste is counted in kg or tonnes: 'gallons' there gets the usual list, no conversion to litres."""
    [found] = check_one(tmp_path, "Waste", "F2", "gallons").findings
    assert found.code == "not-in-codelist" and "Convert" not in found.message


def test_every_other_unit_converts_to_a_unit_of_the_template_and_is_none_of_its_own():
    from pipeline import codelists

    rows = i18n.other_units()
    assert len(rows) > 30
    for folded, row in rows.items():
        assert row["unit"] in codelists.codes("unit") and float(row["factor"]) > 0
        for codelist in ("unit", "waste_unit", "water_unit"):
            assert folded not in i18n.code_lookup(codelist), (folded, codelist)


# --- G. wording that fits every column --------------------------------------------------------------


@pytest.mark.parametrize("sheet,cell", [("Entity", "B5"), ("Entity", "B6"), ("Facilities", "D2"), ("Water", "D2")])
def test_a_negative_figure_is_told_to_be_positive_whatever_it_measures(tmp_path, sheet, cell):
    """A coverage share or a floor area is no consumption: the fix says what fits them all."""
    [found] = check_one(tmp_path, sheet, cell, -5).findings
    assert found.code == "out-of-range" and "consumption" not in found.message
    assert found.message.endswith("Type the figure as a positive number (0 where there was none).")


def test_the_electricity_a_renewable_figure_is_held_to_is_shown_as_people_write_it(tmp_path):
    """36 GJ is 10,000 kWh in the message, not the 10,000.000000008 of the float conversion."""
    sheets = set_cell(set_cell(valid_sheets(), "Facilities", "D2", 36), "Facilities", "E2", "gj")
    [sub] = check_files(
        [write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(sheets, "Facilities", "F2", 10001))], jobs=1
    )
    [found] = sub.findings
    assert "(10,000 kWh from" in found.message, found.message
    [exact] = check_files(
        [write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(sheets, "Facilities", "F2", 10000))], jobs=1
    )
    assert exact.findings == []


@pytest.mark.parametrize(
    "lang,said",
    [
        ("en", "personnel is required; the cell is empty."),
        ("fr", "personnel est obligatoire\u00a0; la cellule est vide."),
        ("es", "personnel es un dato obligatorio; la celda está vacía."),
    ],
)
def test_an_empty_required_field_is_named_as_its_row_writes_it(tmp_path, lang, said):
    """'this field is required' left the focal point to look left for which: the field is named,
    as column A writes it, as an empty required column is."""
    [found] = check_one(tmp_path, "Entity", "B4", None, lang=lang).findings
    assert (found.code, found.cell, found.message) == ("missing-value", "B4", said)


# --- H. a name where a code or an address is wanted ----------------------------------------------------


@pytest.mark.parametrize(
    "typed,code",
    [
        ("United Nations Environment Programme", "UNEP"),
        ("united nations environment programme ", "UNEP"),
        ("United Nations Enviroment Programme", "UNEP"),  # misspelt
        ("Department of Operational Support", "DOS"),  # without the list's note in brackets
    ],
)
def test_an_entity_typed_by_its_name_gets_its_code_in_the_hint(tmp_path, typed, code):
    [found] = check_one(tmp_path, "Entity", "B2", typed).findings
    assert found.code == "not-in-codelist" and found.message.endswith(f"For {typed.strip()} use {code}.")


def test_an_address_pasted_with_its_name_is_told_to_keep_the_address(tmp_path):
    for typed in (
        "Amina Otieno <amina.otieno@un.org>",
        '"Otieno, Amina" <mailto:amina.otieno@un.org>',
        "Otieno, Amina <amina.otieno@un.org>;",  # as Outlook copies a recipient
    ):
        [found] = check_one(tmp_path, "Entity", "B8", typed).findings
        assert found.code == "invalid-email" and found.message.endswith("Keep the address only: amina.otieno@un.org.")
    [other] = check_one(tmp_path, "Entity", "B8", "Amina <not an address>").findings
    assert "Keep the address only" not in other.message


# --- I. what people call a fuel, a mode or an energy ------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("typed", ["Gazole", "Gasóleo", "Diesel fuel"])
def test_diesel_in_french_or_spanish_in_a_vehicle_is_diesel(tmp_path, lang, typed):
    sub = check_one(tmp_path, "Vehicles", "C2", typed, lang=lang)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["Vehicles"]["fuel"].iloc[0] == "diesel"
    marine = check_one(tmp_path, "Vehicles", "C2", "Marine diesel", lang=lang)
    assert marine.tables["Vehicles"]["fuel"].iloc[0] == "marine_diesel"


@pytest.mark.parametrize("typed", ["Gasoil", "Gas oil", "GAS-OIL"])
def test_gas_oil_in_a_vehicle_is_asked_which_diesel_it_is(tmp_path, typed):
    """'Gasoil' is what French, Spanish and British drivers call road diesel, and a boat's marine gas
    oil ('Marine diesel / gas oil' in the drop-down): it read silently as marine diesel, priced with
    marine gas oil's factor. It is now an error that names both."""
    [found] = check_one(tmp_path, "Vehicles", "C2", typed).findings
    assert found.code == "not-in-codelist"
    assert found.message.endswith("Did you mean 'Diesel', 'Marine diesel / gas oil'?"), found.message


@pytest.mark.parametrize(
    "sheet,cell,typed,meant",
    [
        ("Facilities", "C3", "Propane", "Liquefied petroleum gas (LPG)"),
        ("Facilities", "C2", "Chilled water", "District cooling"),
        ("Facilities", "C2", "Solar PV", "Electricity (purchased or generated)"),
        ("Facilities", "C3", "Fuel oil", "Heating oil"),
        ("Vehicles", "C2", "Electric", "Electricity (charging)"),
        ("OtherTravel", "A2", "Uber", "Taxi"),
    ],
)
def test_what_people_call_a_code_s_thing_is_hinted_never_read(tmp_path, sheet, cell, typed, meant):
    [found] = check_one(tmp_path, sheet, cell, typed).findings
    assert found.code == "not-in-codelist" and found.message.endswith(f"Did you mean '{meant}'?"), found.message


def test_every_code_hint_names_a_code_of_its_list_and_is_no_word_read_as_a_code():
    from pipeline import codelists

    rows = list(csv.DictReader((Path(i18n.__file__).parent / "i18n" / "code_hints.csv").open(encoding="utf-8")))
    assert len(rows) > 50
    for row in rows:
        assert row["code"] in codelists.codes(row["codelist"]), row
        assert i18n.fold(row["text"]) not in i18n.code_lookup(row["codelist"]), row
    assert i18n.code_hints("vehicle_fuel")[i18n.fold("Gasoil")] == ("diesel", "marine_diesel")


def test_the_format_characters_dropped_are_exactly_unicodes_category_cf():
    """`cells.FORMAT_CHARACTERS` lists the ranges so that dropping them is one compiled pass; it
    must stay the Unicode of the Python that runs it."""
    import sys
    import unicodedata

    from pipeline.cells import FORMAT_CHARACTERS

    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(FORMAT_CHARACTERS.fullmatch(ch)) == (unicodedata.category(ch) == "Cf"), hex(code)


def test_the_fix_for_no_figure_asks_for_0_only_where_0_is_taken(tmp_path):
    """Personnel, trips, distances and credits must be above 0: 'type 0' would earn the next error."""
    [personnel] = check_one(tmp_path, "Entity", "B4", "n/a").findings
    assert "type 0" not in personnel.message and "above 0" in personnel.message, personnel.message
    [quantity] = check_one(tmp_path, "Facilities", "D3", "n/a").findings
    assert "type 0 where there was none" in quantity.message


def test_a_span_of_years_is_hinted_only_in_a_column_of_years(tmp_path):
    [volume] = check_one(tmp_path, "Water", "D2", "2024-05").findings
    assert volume.code == "type-error" and "calendar year" not in volume.message
    [vintage] = check_one(tmp_path, "Offsets", "D2", "2019/20").findings
    assert "calendar year" in vintage.message


def test_a_unit_is_converted_only_to_one_the_sheet_takes(tmp_path):
    """Vehicles take no MWh: 'GWh' there gets the list, not 'choose Megawatt-hour'."""
    [vehicles] = check_one(tmp_path, "Vehicles", "E2", "GWh").findings
    assert vehicles.code == "not-in-codelist" and "Convert" not in vehicles.message
    [facilities] = check_one(tmp_path, "Facilities", "E2", "GWh").findings
    assert "1 GWh = 1,000 MWh" in facilities.message


def test_a_renewable_figure_above_a_quantity_in_kwh_quotes_the_quantity_as_typed(tmp_path):
    sheets = set_cell(valid_sheets(), "Facilities", "D2", 123_456_789_012)
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(sheets, "Facilities", "F2", 2e11))
    [sub] = check_files([path], jobs=1)
    assert "(123,456,789,012 kWh from" in sub.findings[0].message, sub.findings[0].message


def test_an_address_hint_reads_a_long_hostile_cell_in_one_pass():
    """The pattern for 'Name <address>' is possessive: a cell of 32,767 characters with '<' and no
    '>' is refused at once (it took seconds, backtracking)."""
    from schemas.checks import _NAMED_ADDRESS

    hostile = "a<" + " " * 16_000 + "b" * 16_000
    assert _NAMED_ADDRESS.fullmatch(hostile) is None
    assert _NAMED_ADDRESS.fullmatch("Otieno, Amina <mailto: amina@un.org> ").group(1).strip() == "amina@un.org"


def test_no_word_of_a_label_reads_as_two_codes():
    """A label's words are read as its code ('gas oil' of 'Diesel / gas oil'): a word two labels of
    one list shared would read as whichever came first, silently, unless it is hinted instead."""
    from pipeline import codelists

    for path in sorted((Path(i18n.__file__).parent / "codelists").glob("*.csv")):
        rows = codelists.table(path.stem)
        if "label" not in rows[0] or path.stem in ("countries", "entities"):
            continue
        meanings: dict[str, set[str]] = {}
        for row in rows:
            for lang in LANGS:
                label = row.get("label" if lang == "en" else f"label_{lang}")
                for variant in (label, i18n.strip_note(label), *i18n.strip_note(label).split(" / ")) if label else ():
                    meanings.setdefault(i18n.fold(variant), set()).add(row["code"])
        hinted = i18n.code_hints(path.stem)
        shared = {word: codes for word, codes in meanings.items() if len(codes) > 1 and word not in hinted}
        assert not shared, (path.stem, shared)
