"""The workbook in English, French and Spanish: templates, reading, messages, cells as people type them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.styles import NamedStyle
from python_calamine import CalamineWorkbook

from pipeline import api, catalogue, codelists
from pipeline.cli import main
from pipeline.intake.reading import date_from_text, number_from_text
from pipeline.intake.template import dropdown_items, reporting_cycle, template
from pipeline.intake.validate import validate_files
from schemas import contract, i18n
from tests.builders import example_rows, fill, set_cell, valid_sheets, write_workbook

YEAR = 2024


def check(path: Path, lang: str | None = None):
    [sub] = validate_files([path], jobs=1, lang=lang)
    return sub


def filled(tmp_path: Path, lang: str, labels: bool, entity: str = "UNEP") -> Path:
    path = template(entity, YEAR, tmp_path / f"{entity}_{YEAR}_{lang}.xlsx", lang=lang)
    return fill(path, example_rows(entity, YEAR), lang=lang, labels=labels)


def emissions_of(tmp_path: Path, workbook: Path, name: str) -> list[tuple]:
    inputs = tmp_path / name / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    (inputs / "history").mkdir()
    (inputs / "submissions" / workbook.name).write_bytes(workbook.read_bytes())
    db = tmp_path / name / "gtb.duckdb"
    result = api.run(inputs, db, tmp_path / name / "out", jobs=1)
    assert result.loaded == [workbook.name], result.rejected
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT sheet, source_row, factor_id, activity_quantity, emissions_tco2e FROM emissions ORDER BY 1, 2"
        ).fetchall()


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_workbook_filled_by_labels_loads_the_same_emissions_as_in_english(tmp_path, lang):
    english = filled(tmp_path, "en", labels=False)
    local = filled(tmp_path, lang, labels=True)
    sub = check(local)
    assert sub.findings == [] and sub.lang == lang
    assert emissions_of(tmp_path, local, lang) == emissions_of(tmp_path, english, "en")


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_a_template_filled_with_the_codes_validates_too(tmp_path, lang):
    sub = check(filled(tmp_path, lang, labels=False))
    assert sub.findings == [], [f.message for f in sub.findings]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("fr", "valeurs négatives"), ("es", "valores negativos"), ("en", "negative values")],
)
def test_messages_come_in_the_workbook_language(tmp_path, lang, words):
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", lang)]
    ws["D2"] = -5
    wb.save(path)
    [found] = check(path).findings
    assert found.code == "out-of-range" and found.sheet == i18n.sheet_name("Facilities", lang) and found.cell == "D2"
    assert words in found.message.lower(), found.message
    [english] = check(path, lang="en").findings  # --lang overrides
    assert "negative values" in english.message


def test_validate_command_takes_lang(tmp_path, capsys):
    path = filled(tmp_path, "fr", labels=True)
    wb = load_workbook(path)
    wb[i18n.sheet_name("Water", "fr")]["D2"] = "beaucoup"
    wb.save(path)
    assert main(["validate", str(path), "--report-dir", str(tmp_path / "r")]) == 1
    issues = next((tmp_path / "r").glob("*/issues.csv")).read_text(encoding="utf-8")
    assert "Eau,D2" in issues and "nombre" in issues
    assert main(["validate", str(path), "--report-dir", str(tmp_path / "r2"), "--lang", "es"]) == 1
    issues = next((tmp_path / "r2").glob("*/issues.csv")).read_text(encoding="utf-8")
    assert "número" in issues


def test_every_message_has_all_three_languages():
    for message_id in catalogue.ids():
        for lang in i18n.LANGS:
            assert catalogue.raw_template(message_id, lang), (message_id, lang)


# --- the template -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_template_speaks_the_language(tmp_path, lang):
    path = template("UNEP", YEAR, tmp_path / "mine.xlsx", lang=lang)
    wb = load_workbook(path)
    names = [i18n.sheet_name(s.name, lang) for s in contract.sheets()]
    assert wb.sheetnames == [i18n.sheet_name("Instructions", lang), *names, "Lists"]
    facilities = wb[i18n.sheet_name("Facilities", lang)]
    headers = [c.value for c in facilities[1]]
    assert headers == [i18n.header("Facilities", c.name, lang) for c in contract.sheet("Facilities").columns]
    assert any("(kWh)" in h for h in headers), "headers carry their unit"
    required = {c.name: c.required for c in contract.sheet("Facilities").columns}
    for cell, column in zip(facilities[1], required, strict=True):
        assert (cell.font.color.rgb == "00FFFFFF") == required[column], column  # required: white on dark
    energy = next(dv for dv in facilities.data_validations.dataValidation if "C2" in str(dv.sqref))
    items = dropdown_items(contract.sheet("Facilities"), contract.sheet("Facilities").column("energy_type"), lang)
    assert "natural_gas" not in items and i18n.code_label("energy_type", "natural_gas", lang) in items
    assert energy.formula1.startswith(("'Lists'!", '"'))
    lists = wb["Lists"]
    countries = [c.value for c in next(col for col in lists.iter_cols() if col[0].value == "countries")[1:]]
    assert i18n.code_label("countries", "KEN", lang) in countries and "KEN" not in countries
    text = " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value)
    assert "mine.xlsx" in text, "the instructions name the file written"
    cycle = reporting_cycle()
    assert cycle is not None and cycle.contact_email in text
    # the cycle's deadline is the deadline of the year it collects only
    collected = template("UNEP", cycle.open_year, tmp_path / "open.xlsx", lang=lang)
    said = " ".join(str(c.value) for row in load_workbook(collected).worksheets[0].iter_rows() for c in row if c.value)
    assert cycle.deadline.isoformat() in said and (cycle.open_year == YEAR or cycle.deadline.isoformat() not in text)
    # whom to ask, in the workbook's language: "Preguntas: the Greening the Blue team" in Spanish
    assert cycle.contact_in(lang) in text and (lang == "en" or "the Greening" not in text), text
    assert len(list(wb.worksheets[0].iter_rows())) < 80, "instructions short enough to read"


def test_french_country_names_are_french(tmp_path):
    assert i18n.code_label("countries", "CHE", "fr") == "Suisse (CHE)"
    assert i18n.code_label("countries", "CHE", "es") == "Suiza (CHE)"
    assert i18n.code_label("energy_type", "natural_gas", "fr") != i18n.code_label("energy_type", "natural_gas", "en")


def codelists_of(sheet: str) -> set[str]:
    """The codes of every code list a sheet's columns take (not the countries: 'KEN' is a label's part)."""
    lists = {c.codelist for c in contract.sheet(sheet).columns if c.codelist and c.codelist != "countries"}
    return set().union(*(set(codelists.codes(name)) for name in lists))


def test_last_year_sheet_is_read_only_and_ignored(tmp_path):
    inputs = tmp_path / "inputs"
    (inputs / "history").mkdir(parents=True)
    write_workbook(inputs / "submissions" / "UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    path = api.template("UNEP", YEAR, tmp_path / "t.xlsx", lang="fr", db=db)
    wb = load_workbook(path)
    sheet = i18n.sheet_name("LastYear", "fr")
    assert sheet in wb.sheetnames and wb[sheet].protection.sheet
    values = [c.value for row in wb[sheet].iter_rows() for c in row if c.value is not None]
    assert "Gigiri compound" in values and 1250 in values
    assert any(isinstance(v, str) and "2023" in v for v in values)
    # every source and unit in French: a waste source was its codes ('paper_cardboard / recycling'),
    # the units English ('flights', 'passenger-km')
    rows = [[c.value for c in row] for row in wb[sheet].iter_rows()]
    sheets = {i18n.sheet_name(name, "fr"): name for name in contract.sheet_names()}
    sources = [(sheets[row[0]], row[1], row[3]) for row in rows if row[0] in sheets and isinstance(row[3], str)]
    assert {"Waste", "AirTravel", "Facilities"} <= {name for name, _, _ in sources}, sources
    codes = set().union(*(codelists_of(name) for name, _, _ in sources))
    for name, label, unit in sources:
        assert not set(re.split(r" / ", label)) & codes, (name, label)
        assert unit in {i18n.text(key, "fr") for key in i18n.text_keys() if key.startswith("unit.")}, unit
    streams, treatments = (
        {i18n.code_label(n, c, "fr") for c in codelists.codes(n)} for n in ("waste_stream", "waste_treatment")
    )
    waste = [label for name, label, _ in sources if name == "Waste"]
    assert all(any(f"{s} / {t}" == label for s in streams for t in treatments) for label in waste), waste
    fill(path, example_rows("UNEP", YEAR), lang="fr", labels=True)
    assert check(path).findings == [], "the validator ignores the last-year sheet"
    no_db = template("UNEP", YEAR, tmp_path / "u.xlsx", lang="fr")
    assert sheet not in load_workbook(no_db).sheetnames


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_a_first_workbooks_last_year_sheet_shows_the_published_totals(tmp_path, lang):
    """An entity whose years so far are published totals (a history file) got no Last year sheet:
    its focal point filled in the first workbook with nothing to compare it with, though the
    review compares it with those totals. The sheet now shows them, by group, said as published;
    a loaded workbook of a later year than the totals is shown instead."""
    inputs = tmp_path / "inputs"
    (inputs / "history").mkdir(parents=True)
    (inputs / "submissions").mkdir()
    (inputs / "history" / "totals.csv").write_text(
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,"
        "waste_tonnes,water_m3\nUNEP,2021,1100,310,95,40,0,3,\nUNEP,2022,1200,300,100,50,0,4,600\n"
    )
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    sheet = i18n.sheet_name("LastYear", lang)
    wb = load_workbook(api.template("UNEP", 2024, tmp_path / "t.xlsx", lang=lang, db=db))
    assert wb[sheet].protection.sheet
    rows = [[c.value for c in row] for row in wb[sheet].iter_rows()]
    assert rows[0][0] == i18n.text("lastyear.title-published", lang, entity="UNEP", year=2022)
    assert rows[1][0] == i18n.text("lastyear.intro-published", lang, year=2022)
    every = i18n.text("lastyear.all-sources", lang)
    by_sheet = {row[0]: row[1:5] for row in rows if row[1] == every}
    assert by_sheet[i18n.sheet_name("Facilities", lang)] == [every, None, None, 300]
    assert by_sheet[i18n.sheet_name("AirTravel", lang)] == [every, None, None, 100]
    assert by_sheet[i18n.sheet_name("Waste", lang)] == [every, 4, i18n.text("unit.tonne", lang), None]
    assert by_sheet[i18n.sheet_name("Water", lang)][1] == 600
    assert [row[1] for row in rows[3:5]] == [1200, 450], "personnel and total emissions"
    assert i18n.text("lastyear.sites", lang) not in [row[0] for row in rows], "published totals name no site"
    fill(wb_path := tmp_path / "t.xlsx", example_rows("UNEP", 2024), lang=lang, labels=True)
    assert check(wb_path).findings == [], "the validator ignores the sheet"
    write_workbook(inputs / "submissions" / "UNEP_2023.xlsx", valid_sheets("UNEP", 2023))
    api.run(inputs, db, tmp_path / "out", jobs=1)
    later = load_workbook(api.template("UNEP", 2024, tmp_path / "u.xlsx", lang=lang, db=db))
    [title] = [row[0] for row in later[sheet].iter_rows(values_only=True)][:1]
    assert title == i18n.text("lastyear.title", lang, entity="UNEP", year=2023), "the workbook, later than the totals"


def test_last_years_rental_cars_are_in_the_unit_they_were_priced_in(tmp_path):
    """A rental car is priced per vehicle-km from factor set gtb-2026.1 (2025 on), per passenger-km
    before: the Last year sheet says which, as the figure was counted."""
    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    for year in (2024, 2025):
        sheets = valid_sheets("UNEP", year)
        sheets["OtherTravel"].append(["car_rental", 4_000, "measured"])
        write_workbook(inputs / "submissions" / f"UNEP_{year}.xlsx", sheets)
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    sheet = i18n.sheet_name("LastYear", "en")
    for year, unit in ((2025, "passenger-km"), (2026, "vehicle-km")):
        wb = load_workbook(api.template("UNEP", year, tmp_path / f"t{year}.xlsx", lang="en", db=db))
        rows = [[c.value for c in row] for row in wb[sheet].iter_rows()]
        [rental] = [row for row in rows if row[1] == i18n.code_label("travel_mode", "car_rental", "en")]
        [rail] = [row for row in rows if row[1] == i18n.code_label("travel_mode", "rail", "en")]
        assert (rental[2], rental[3], rail[3]) == (4_000, unit, "passenger-km"), year
    french = load_workbook(api.template("UNEP", 2026, tmp_path / "fr.xlsx", lang="fr", db=db))
    units = [row[3] for row in french[i18n.sheet_name("LastYear", "fr")].iter_rows(values_only=True)]
    assert "véhicules-km" in units and "passagers-km" in units


def test_an_upload_for_another_entity_or_year_is_told_in_the_workbooks_language(tmp_path):
    path = template("UNEP", YEAR, tmp_path / "t.xlsx", lang="fr")
    fill(path, example_rows("UNEP", YEAR), lang="fr", labels=True)
    done = api.check_upload(path, tmp_path / "reports", "WFP", YEAR + 1)
    mismatches = {f.code: f for f in done.submission.findings}
    assert set(mismatches) == {"entity-mismatch", "year-mismatch"}
    tab = i18n.sheet_name("Entity", "fr")
    for code, column in (("entity-mismatch", "entity_code"), ("year-mismatch", "reporting_year")):
        found = mismatches[code]
        header = i18n.header("Entity", column, "fr")  # the field as the workbook names it
        assert found.sheet == tab and found.column == header and found.cell and found.row == int(found.cell[1:])
        # a workbook of a year before the collected one is told to go to SUN, not to be relabelled
        message_id = "year-mismatch.portal-earlier" if code == "year-mismatch" else f"{code}.portal"
        assert found.message == catalogue.text(message_id, "fr", **_mismatch_params(code))


def _mismatch_params(code: str) -> dict[str, object]:
    if code == "entity-mismatch":
        return {"entity": "UNEP", "expected": "WFP"}
    return {"year": YEAR, "expected": YEAR + 1}


# --- cells read as people type them --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "value", "ambiguous"),
    [
        ("1.234", "en", 1.234, True),
        ("1.234", "fr", 1234, True),
        ("1,234", "en", 1234, True),
        ("1,234", "fr", 1.234, True),
        ("1,234", "es", 1.234, True),
        ("2.450.000", "en", 2450000, False),
        ("2.450.000", "es", 2450000, False),
        ("1 200", "fr", 1200, False),
        ("1\u202f200,5", "fr", 1200.5, False),
        ("1.234,5", "en", 1234.5, False),
        ("1,234.5", "es", 1234.5, False),
        ("0,5", "en", 0.5, False),
        ("0,250", "en", 0.25, False),  # no thousands start with 0: a quarter in any language
        ("0.250", "fr", 0.25, False),
        ("-0.125", "es", -0.125, False),
        ("0,250,000", "en", None, False),
        ("12", "es", 12, False),
        ("approx. 500", "en", None, False),
        ("1,23,456", "en", None, False),
    ],
)
def test_numbers_typed_as_text(text, lang, value, ambiguous):
    assert number_from_text(text, lang) == (value, ambiguous if value is not None else False)


@given(
    st.integers(min_value=1, max_value=999),
    st.sampled_from(["en", "fr", "es"]),
    st.sampled_from([".", ","]),
    st.booleans(),
)
def test_a_number_that_starts_with_zero_is_never_read_as_thousands(digits, lang, separator, negative):
    text = f"{'-' if negative else ''}0{separator}{digits:03d}"
    value, ambiguous = number_from_text(text, lang)
    assert value == float(text.replace(",", ".")) and not ambiguous


@pytest.mark.parametrize(
    ("text", "date", "doubt"),
    [
        ("15/03/2026", dt.date(2026, 3, 15), ""),
        ("03/15/2026", dt.date(2026, 3, 15), "month-first"),  # read so, and said: the contract is day first
        ("03/04/2026", dt.date(2026, 4, 3), "day-month"),
        ("12.12.2025", dt.date(2025, 12, 12), ""),
        ("13/13/2025", None, ""),
        ("31/02/2026", None, ""),
        ("2026", None, ""),
    ],
)
def test_dates_typed_as_text(text, date, doubt):
    assert date_from_text(text) == (date, doubt)


def findings_for(tmp_path, sheets, lang=None):
    return check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang).findings


def test_percent_typed_with_a_sign_is_a_percent(tmp_path):
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Entity", "B5", "85%")))
    assert sub.findings == [] and sub.entity["reporting_coverage_percent"] == 85


def test_a_fraction_in_a_percent_formatted_cell_is_a_percent(tmp_path):
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Entity", "B5", 0.85))
    wb = load_workbook(path)
    wb["Entity"]["B5"].number_format = "0%"  # what Excel does when 85% is typed
    wb["EMS"]["B4"] = 0.8
    wb["EMS"]["B4"].style = NamedStyle(name="pc", number_format="0.0%")
    wb.save(path)
    sub = check(path)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.entity["reporting_coverage_percent"] == 85 and sub.ems["coverage_percent"] == 80
    wb = load_workbook(path)
    wb["Entity"]["B5"].number_format = "General"  # 0.85 without the format stays 0.85 %
    wb.save(path)
    assert check(path).entity["reporting_coverage_percent"] == 0.85


def test_a_date_only_month_first_reads_is_read_so_and_said_in_the_language(tmp_path):
    """11/13/2024: no 13th month, so month first; whoever typed it writes dates the US way, and a
    warning says the column's other dates may have been read the wrong way round."""
    sheets = set_cell(valid_sheets("UNEP", 2024), "Offsets", "F2", "02/13/2025")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    [warned] = sub.findings
    assert (warned.code, warned.severity, warned.cell, warned.value) == (
        "ambiguous-date",
        "warning",
        "F2",
        "02/13/2025",
    )
    assert "read month first, as 2025-02-13" in warned.message and "no month 13" in warned.message
    assert sub.is_valid and str(sub.tables["Offsets"]["retirement_date"].iloc[0])[:10] == "2025-02-13"
    [fr] = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "fr").findings
    assert "lu mois en premier, soit le 2025-02-13" in fr.message


def test_ambiguous_number_is_read_by_language_and_warned(tmp_path):
    sheets = set_cell(valid_sheets(), "Water", "D2", "61.000")
    [en] = findings_for(tmp_path, sheets)
    assert (en.code, en.severity, en.cell) == ("ambiguous-number", "warning", "D2") and "61" in en.message
    fr_path = filled(tmp_path, "fr", labels=True)
    wb = load_workbook(fr_path)
    wb[i18n.sheet_name("Water", "fr")]["D2"] = "61.000"
    wb.save(fr_path)
    sub = check(fr_path)
    [fr] = sub.findings
    assert fr.code == "ambiguous-number" and "lu comme 61000" in fr.message and "tapez 61 " in fr.message
    assert sub.tables["Water"]["volume"].iloc[0] == 61000


def test_codes_typed_with_spaces_symbols_and_other_words(tmp_path):
    sheets = valid_sheets()
    sheets = set_cell(sheets, "EMS", "B3", "ISO 14001")
    sheets = set_cell(sheets, "Water", "E2", "m³")
    sheets = set_cell(sheets, "AirTravel", "F2", "Y")
    sheets = set_cell(sheets, "AirTravel", "F3", "Oui")
    sheets = set_cell(sheets, "EMS", "B5", "Sí")
    sheets = set_cell(sheets, "Facilities", "C3", "Gasóleo")
    sheets = set_cell(sheets, "Facilities", "B4", "Suisse (CHE)")
    sheets = set_cell(sheets, "Offsets", "F2", "15/03/2025")
    sheets = set_cell(sheets, "Facilities", "C4", "gaz naturel")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.findings == [], [(f.cell, f.message) for f in sub.findings]
    assert sub.ems["standard"] == "iso14001" and sub.tables["Water"]["unit"].iloc[0] == "m3"
    assert list(sub.tables["AirTravel"]["round_trip"][:2]) == [True, True]
    assert sub.tables["Facilities"]["country"].iloc[2] == "CHE"


def test_the_words_french_and_spanish_focal_points_type_for_drop_down_values(tmp_path):
    """The column's help says 'Mesurée' / 'Estimada', and each was an error on every row; 'oeuvre'
    is how an AZERTY keyboard types 'œuvre', and the French EMS labels said SGE on a sheet called
    SME. A label of earlier templates is still read."""
    sheets = valid_sheets()
    quality = sheets["Facilities"][0].index("data_quality")
    typed = {2: "Mesurée", 3: "Estimée", 4: "medida"}
    for row, text in typed.items():
        sheets = set_cell(sheets, "Facilities", f"{chr(ord('A') + quality)}{row}", text)
    sheets = set_cell(sheets, "EMS", "B2", "SME mis en oeuvre")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.findings == [], [(f.cell, f.message) for f in sub.findings]
    assert list(sub.tables["Facilities"]["data_quality"][:3]) == ["measured", "estimated", "measured"]
    assert sub.ems["status"] == "implemented"
    for old in (
        "SGE mis en œuvre",
        "SGE certifié (ISO 14001 ou EMAS)",
        "Aucun système de gestion de l'environnement (SGE)",
    ):
        found = check(write_workbook(tmp_path / "old.xlsx", set_cell(valid_sheets(), "EMS", "B2", old)))
        assert not [f for f in found.findings if f.cell == "B2"], (old, found.findings)
    assert i18n.fold("Mis en Œuvre") == i18n.fold("mis en oeuvre") and i18n.fold("Cæsar") == "caesar"


TYPED_FOR_A_CODE = [  # what focal points type for a drop-down value: plurals, abbreviations, usual words
    ("Facilities", "E2", "Kilowattheures", "unit", "kwh"),
    ("Facilities", "E2", "kilovatios hora", "unit", "kwh"),
    ("Refrigerants", "C2", "Propano", "gas", "r290"),
    ("Refrigerants", "C2", "ammoniac", "gas", "r717"),
    ("Vehicles", "C2", "Bencina", "fuel", "petrol"),
    ("AirTravel", "D2", "Turista", "cabin_class", "economy"),
    ("Offsets", "A2", "MDP", "standard", "cer"),
    ("Waste", "C3", "Papier", "waste_stream", "paper_cardboard"),
    ("Waste", "C2", "DEEE", "waste_stream", "e_waste"),
    ("Waste", "D2", "Décharge", "treatment", "landfill"),
]


@pytest.mark.parametrize(("sheet", "cell", "typed", "column", "code"), TYPED_FOR_A_CODE)
def test_the_usual_words_for_a_drop_down_value_are_read(tmp_path, sheet, cell, typed, column, code):
    """An audit found each of these refused with no suggestion, though the drop-down's label
    holds the word ('R-290 (propane)', 'Papier et carton') or names the thing another way."""
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, typed)))
    assert sub.findings == [], [(f.cell, f.message) for f in sub.findings]
    assert sub.tables[sheet][column].iloc[int(cell[1:]) - 2] == code


def test_o_and_s_for_yes_are_asked_about_never_read(tmp_path):
    """O/N and S/N are how French and Spanish forms abbreviate yes and no: 'O' was asked "did you
    mean 'Non'?" (following it halves the row's flights). It is asked whether it means yes, and
    not read as yes: a letter O may be a 0 (no) mistyped, and would double the row's flights."""
    for typed, lang, said in (("O", "fr", "Vouliez-vous dire 'Oui'"), ("s", "es", "¿Quiso decir 'Sí'")):
        [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "F2", typed), lang)
        assert found.code == "not-in-codelist" and said in found.message and "dire 'Non'" not in found.message, found


def test_french_fuel_for_heating_oil_is_suggested(tmp_path):
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "Facilities", "C2", "Fuel"), "fr")
    assert found.code == "not-in-codelist" and "Vouliez-vous dire 'Fioul domestique'" in found.message, found.message


def test_a_percentage_in_a_message_is_written_as_the_language_writes_it():
    from pipeline.catalogue import SignedPercent

    assert [SignedPercent(0.674).render(lang) for lang in ("en", "fr", "es")] == ["+67%", "+67\u202f%", "+67\u202f%"]
    assert SignedPercent(-12.5).render("fr") == "-1\u202f250\u202f%" and SignedPercent(11.0).render() == "+1,100%"


def test_a_value_not_understood_is_quoted_as_typed(tmp_path):
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "Facilities", "C2", "Électricité verte"))
    assert found.code == "not-in-codelist" and found.value == "Électricité verte"


def test_renamed_or_misspelt_header_is_one_finding_on_its_cell(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"][0][2] = "enrgy typ"
    findings = findings_for(tmp_path, sheets)
    assert [(f.code, f.cell) for f in findings] == [("missing-column", "C1")]
    assert "'Energy type'" in findings[0].message and "'enrgy typ'" in findings[0].message
    sheets["Facilities"][0][2] = "Type d'énergie"  # a French header in an English workbook: read
    assert findings_for(tmp_path, sheets) == []


def test_french_sheet_names_in_an_english_workbook_are_read(tmp_path):
    sheets = valid_sheets()
    sheets["Installations"] = sheets.pop("Facilities")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.findings == [] and len(sub.tables["Facilities"]) == 3


def test_headers_never_lead_two_ways():
    """Every header folds to one column of its sheet, in every language at once."""
    from schemas.i18n import fold

    for spec in (s for s in contract.sheets() if s.layout != "csv"):
        seen: dict[str, str] = {}
        for column in spec.columns:
            for lang in i18n.LANGS:
                header = i18n.header(spec.name, column.name, lang)
                assert seen.setdefault(fold(header), column.name) == column.name, (spec.name, header)


def _label_owners(name: str) -> dict[str, set[str]]:
    from pipeline import codelists

    owners: dict[str, set[str]] = {}
    for row in codelists.table(name):
        for lang in i18n.LANGS:
            label = row.get("label" if lang == "en" else f"label_{lang}") or ""
            for variant in (label, i18n.strip_note(label), *i18n.strip_note(label).split(" / ")):
                if variant:
                    owners.setdefault(i18n.fold(variant), set()).add(row["code"])
    return owners


def test_labels_never_lead_two_ways():
    """Every label (and each part of 'A / B') of an enumeration folds to one code only."""
    for name in {c.codelist for s in contract.sheets() for c in s.columns if c.dtype in ("enum", "yesno")}:
        assert name
        clashes = {k: v for k, v in _label_owners(name).items() if len(v) > 1}
        assert not clashes, (name, clashes)


def test_sheet_names_never_lead_two_ways_and_suit_excel():
    tabs: dict[str, str] = {}
    for sheet in [*contract.sheet_names(), "Instructions", "Lists", "LastYear"]:
        for lang in i18n.LANGS:
            name = i18n.sheet_name(sheet, lang)
            assert tabs.setdefault(i18n.fold(name), sheet) == sheet
            assert len(name) <= 31 and not set("[]:*?/\\") & set(name)


def test_a_city_typed_for_an_airport_gets_its_codes(tmp_path):
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "A2", "Nairobi"))
    assert found.code == "not-in-codelist" and "Nairobi is a city: its airport codes are NBO, WIL." in found.message
    for typed in ("Genève", "Ginebra", "GENEVE"):  # its name in French or Spanish, with or without accents
        [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "B2", typed), "fr")
        assert f"{typed} est une ville\u00a0: ses codes d'aéroport sont GVA." in found.message, found.message
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "B2", "Nueva York"), "es")
    assert "Nueva York es una ciudad: sus códigos de aeropuerto son JFK, EWR, LGA." in found.message, found.message
    for typed in ("Nouvelle Delhi", "nouvelle-delhi", "Nouvelle‑Delhi"):  # the hyphen left out, or another one
        [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "B2", typed), "fr")
        assert f"{typed} est une ville : ses codes d'aéroport sont DEL." in found.message, found.message
    known = codelists.airport_cities()
    for row in i18n.city_names():  # every name leads to a city the airport reference knows
        assert codelists.city_key(row["city"]) in known, row


def test_a_city_code_typed_for_an_airport_gets_the_airports_to_choose_from(tmp_path):
    """'LON' and 'NYC' are the IATA codes of all of a city's airports together, which a booking
    shows: they were told what to do for a place without a known airport (give a distance)."""
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "A2", "LON"))
    assert found.code == "not-in-codelist" and found.cell == "A2"
    assert (
        "LON is the IATA code of all of London's airports together, not of one airport: "
        "give the airport flown from or to (LHR, LGW, STN, LTN, LCY, SEN)."
    ) in found.message, found.message
    assert "without a known airport" not in found.message
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "B2", "nyc"), "fr")
    assert "NYC n'est pas un aéroport mais le code IATA regroupant tous les aéroports d'une ville (New York)" in (
        found.message
    ), found.message
    assert "(JFK, EWR, LGA)" in found.message and "sans aéroport connu" not in found.message
    [found] = findings_for(tmp_path, set_cell(valid_sheets(), "AirTravel", "B2", "TYO"), "es")
    assert "conjunto de los aeropuertos de Tokio" in found.message and "(HND, NRT)" in found.message
    for row in i18n.metro_areas().values():  # each is a city code, never an airport's, and its airports are known
        assert row["code"] not in codelists.airports(), row
        assert all(code in codelists.airports() for code in row["airports"].split()), row


def test_spanish_annotated_summary(tmp_path):
    path = filled(tmp_path, "es", labels=True)
    wb = load_workbook(path)
    wb[i18n.sheet_name("Facilities", "es")]["D2"] = "mucho"
    wb.save(path)
    assert main(["validate", str(path), "--report-dir", str(tmp_path / "r")]) == 1
    annotated = load_workbook(next((tmp_path / "r").glob("*/annotated.xlsx")))
    summary = annotated.worksheets[0]
    assert summary.title == "Resumen de la verificación"
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Errores" in texts and "mensaje" in texts and "error" in texts
    assert any("se esperaba un número" in t for t in texts), texts
    assert annotated.sheetnames[1:] == load_workbook(path).sheetnames


@pytest.mark.parametrize("side", ["right", "left"])
def test_a_row_shifted_by_one_column_is_one_finding(tmp_path, side):
    sheets = valid_sheets()
    row = sheets["Facilities"][1]
    if side == "right":  # an empty cell added before the country: every value from B on moves right
        sheets["Facilities"][1] = [row[0], None, *row[1:]]
    else:  # the country left out: every value from C on moves left, the first into B
        sheets["Facilities"][1] = [row[0], *row[2:]]
    findings = findings_for(tmp_path, sheets)
    [shift] = [f for f in findings if f.row == 2]
    assert shift.code == "shifted-columns" and shift.severity == "error"
    assert f"too far to the {side}" in shift.message
    assert shift.cell == "B2", shift.message  # the first cell that is off, either way
    assert [f for f in findings if f.row != 2] == [], "the other rows are fine"


def test_a_row_with_two_mistakes_is_not_taken_for_a_shift(tmp_path):
    sheets = set_cell(set_cell(valid_sheets(), "Facilities", "C2", "sunshine"), "Facilities", "G2", "guess")
    codes = sorted(f.code for f in findings_for(tmp_path, sheets))
    assert codes == ["not-in-codelist", "not-in-codelist"]


def test_two_tabs_for_one_sheet_are_an_error_not_a_tab_silently_dropped(tmp_path):
    """'Facilities' (its header only) and 'Installations' (the French tab, with the figures): the
    second was called "not part of the template" and its rows dropped. Now both are named, and
    the focal point keeps the one with the figures."""
    sheets = valid_sheets()
    sheets["Installations"] = sheets["Facilities"]
    sheets["Facilities"] = sheets["Facilities"][:1]
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    sub = check(path)
    found = [(f.sheet, f.code, f.severity) for f in sub.findings]
    assert found == [("Installations", "duplicate-sheet", "error")]
    assert "'Facilities'" in sub.findings[0].message and "'Installations'" in sub.findings[0].message


@pytest.mark.parametrize("tab", ["Fac\u200bilities", "F\u0430cilities", "\u0399nstallations", "Facilities\u00ad"])
def test_a_tab_named_with_unseen_or_look_alike_letters_is_its_sheet(tmp_path, tab):
    """A second Facilities tab whose name held a zero-width space, a soft hyphen or a Cyrillic
    or Greek letter drawn as a Latin one was an unknown tab: a warning, and its rows dropped."""
    sheets = valid_sheets()
    sheets[tab] = sheets["Facilities"]
    sheets["Facilities"] = sheets["Facilities"][:1]
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert [(f.sheet, f.code, f.severity) for f in sub.findings] == [(tab, "duplicate-sheet", "error")]
    alone = valid_sheets()
    alone[tab] = alone.pop("Facilities")
    sub = check(write_workbook(tmp_path / "UNEP_2024_alone.xlsx", alone))
    assert sub.is_valid and not sub.findings, [f.message for f in sub.findings]
    assert len(sub.tables["Facilities"]) == len(valid_sheets()["Facilities"]) - 1


@pytest.mark.parametrize("kind", ["chart sheet", "blank sheet"])
def test_an_empty_tab_named_like_a_sheet_before_it_does_not_take_its_place(tmp_path, kind):
    """A chart sheet (or a blank sheet) named 'F\u0430cilities' before the Facilities tab was read
    as the Facilities sheet: besides the two-tabs error, one missing-column error per column of
    the empty tab, and the figures' tab called the second. The tab with the figures holds the
    sheet; the empty one is the tab named twice."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets())
    wb = load_workbook(path)
    tab = "F\u0430cilities"
    if kind == "chart sheet":
        wb.create_chartsheet(tab, 0)
    else:
        wb.create_sheet(tab, 0)
    wb.save(path)
    sub = check(path)
    found = [(f.sheet, f.code, f.severity) for f in sub.findings]
    assert found == [(tab, "duplicate-sheet", "error")], [f.message for f in sub.findings]
    assert sub.tabs["Facilities"] == "Facilities"


@pytest.mark.parametrize("tab", ["Entity", "Ent\u200bity", "\u0415ntity"])
def test_a_percent_on_a_look_alike_entity_tab_is_read_as_a_percent(tmp_path, tab):
    """The tab was taken for the Entity sheet, but its percent formats were looked up by its plain
    folded name: 92.5 % coverage loaded as 0.925 without a word."""
    sheets = valid_sheets()
    for row in sheets["Entity"]:
        if row[0] == "reporting_coverage_percent":
            row[1] = 0.925
    sheets = {(tab if name == "Entity" else name): rows for name, rows in sheets.items()}
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    wb = load_workbook(path)
    for row in wb[tab].iter_rows():
        if row[0].value == "reporting_coverage_percent":
            row[1].number_format = "0.0%"
    wb.save(path)
    sub = check(path)
    assert sub.is_valid and sub.entity["reporting_coverage_percent"] == pytest.approx(92.5)


@pytest.mark.parametrize(("lang", "words"), [("en", "linked data type"), ("fr", "type de données lié")])
def test_a_country_turned_into_a_geography_data_type_is_explained(tmp_path, lang, words):
    from tests import odd_files

    source = write_workbook(tmp_path / "src.xlsx", valid_sheets())
    data = odd_files.edit(
        source.read_bytes(),
        odd_files.sheet_part(source.read_bytes(), "Facilities"),
        lambda xml: re.sub(rb'<c r="B2"[^>]*>.*?</c>', b'<c r="B2" t="e" vm="1"><v>#VALUE!</v></c>', xml, count=1),
    )
    path = tmp_path / "UNEP_2024.xlsx"
    path.write_bytes(data)
    sub = check(path, lang)
    [found] = [f for f in sub.findings if f.cell == "B2"]
    assert found.code == "type-error" and words in found.message and "#VALUE!" in found.message


def test_every_bound_note_of_the_workbook_is_written_in_french_and_spanish():
    """The reason a figure is out of range ("no UN entity has more than about 100,000
    personnel") is part of the finding: a French or Spanish finding gives it in its language."""
    from schemas.i18n import BoundNote

    for spec in contract.sheets():
        for col in spec.columns:
            if col.bound_note:
                note = BoundNote(spec.name, col.name, col.bound_note)
                assert note.render("en") == col.bound_note
                for lang in ("fr", "es"):
                    assert note.render(lang) not in ("", col.bound_note), (spec.name, col.name, lang)


def test_a_french_workbook_gives_the_reason_of_a_bound_in_french(tmp_path):
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "C4", 30_000)  # beyond half the Earth's circumference
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [found] = check(path, lang="fr").findings
    assert "20\u202f100" in found.message and "le long de la surface" in found.message
    assert "along the surface" not in found.message


@pytest.mark.parametrize(("lang", "said"), [("en", "2.5"), ("fr", "2,5"), ("es", "2,5")])
@pytest.mark.parametrize("held", [2.5, 30_000.25])
def test_a_number_a_cell_holds_is_quoted_with_the_languages_decimal_mark(tmp_path, lang, said, held):
    """French and Spanish findings quoted the cell's number the English way ('valeur trouvée :
    2.5'), beside a bound written the French way ('au plus 20 100'): a Spanish reader takes 1.234
    for a thousand. The number is quoted as the cell shows it in General format, with the
    language's decimal mark, every digit kept."""
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "E2", held)  # trips: a whole number
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [found] = check(path, lang=lang).findings
    digits = str(held).replace(".", said[1])
    assert found.code == "type-error" and digits in found.message, found.message
    if lang != "en":
        assert str(held) not in found.message, found.message
    assert found.value == str(held)  # the value column keeps what the cell holds


def test_a_code_outside_its_list_is_answered_with_the_drop_downs_labels_in_its_language(tmp_path):
    """The finding lists what the drop-down offers in the workbook's language ('Oui', 'Non'), not
    the contract's codes (yes, no); a suggestion is made for a misspelt text only."""
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "F2", "peut-être")
    set_cell(sheets, "AirTravel", "D3", "economie")
    set_cell(sheets, "AirTravel", "D4", 12)
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    found = {f.cell: f.message for f in check(path, lang="fr").findings}
    assert "'Oui', 'Non'" in found["F2"] and "yes, no" not in found["F2"]
    assert "Vouliez-vous dire 'Économique'" in found["D3"]
    assert "Vouliez-vous dire" not in found["D4"]


@pytest.mark.parametrize(("lang", "words"), [("fr", "cellules fusionnées A2:A3"), ("es", "celdas combinadas A2:A3")])
def test_merged_cells_are_explained_in_the_workbook_language(tmp_path, lang, words):
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", lang)]
    for column in "BCDEFG":  # a second row for the same site, whose name is then merged over both
        ws[f"{column}3"] = ws[f"{column}2"].value
    ws.merge_cells("A2:A3")  # Excel keeps the top-left value only
    wb.save(path)
    [found] = check(path).findings
    assert (found.code, found.cell) == ("missing-value", "A3")
    assert words in found.message and ws["A1"].value in found.message, found.message


@pytest.mark.parametrize(
    ("lang", "words"),
    [("fr", "cellules fusionnées E1:F1"), ("es", "celdas combinadas E1:F1")],
)
def test_a_header_merged_over_figures_is_explained_in_the_workbook_language(tmp_path, lang, words):
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", lang)]
    ws["F2"] = 1000  # renewable kWh, under a header then merged into the unit's
    ws["F1"] = None
    ws.merge_cells("E1:F1")
    wb.save(path)
    found = [f for f in check(path).findings if f.cell == "F1"]
    assert [f.code for f in found] == ["missing-column"]
    assert words in found[0].message and "F2" in found[0].message, found[0].message


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_findings_across_workbooks_name_the_column_as_the_workbook_heads_it(tmp_path, lang):
    """issues.csv's column is the header as written: a cross-check's finding (a file named like
    another year, two workbooks for one entity-year) too, not the contract's `entity_code`."""
    from pipeline.intake.cross_checks import cross_submission_findings, folder_and_name_findings

    first = filled(tmp_path, lang, labels=True)
    named_wfp = tmp_path / f"UNEP_{YEAR - 1}.xlsx"  # a file named for another year: a warning
    named_wfp.write_bytes(first.read_bytes())
    changed = fill(
        template("UNEP", YEAR, tmp_path / "other.xlsx", lang=lang),
        {**example_rows("UNEP", YEAR), "Water": []},
        tmp_path / f"UNEP_{YEAR}_b.xlsx",
        lang=lang,
        labels=True,
    )
    subs = validate_files([named_wfp, changed], jobs=1)
    folder_and_name_findings(subs)
    cross_submission_findings(subs)
    header = i18n.header("Entity", "entity_code", lang)
    found = {(f.code, f.column) for s in subs for f in s.findings if f.code != "missing-value"}
    named_year = ("file-name-mismatch", i18n.header("Entity", "reporting_year", lang))
    assert named_year in found and ("duplicate-submission", header) in found, found
    assert all(column != "entity_code" for _, column in found)


# --- numbers with both separators, totals in three languages, hints that fit -------------------------


@pytest.mark.parametrize(
    ("text", "value", "ambiguous"),
    [
        ("1.234,567", 1234.567, False),  # dot thousands, comma decimals: three decimals too
        ("1,234.567", 1234.567, False),
        ("1.234.567,891", 1234567.891, False),
        ("1,234,567.891", 1234567.891, False),
        ("-1.234,567", -1234.567, False),
        ("1.234,567.891", None, False),  # a decimal mark twice: no number
        ("1,234.567,891", None, False),
    ],
)
@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_a_number_with_both_separators_is_read_in_every_language(text, value, ambiguous, lang):
    assert number_from_text(text, lang) == (value, ambiguous)


@pytest.mark.parametrize(("lang", "value"), [("en", 1.234), ("fr", 1234), ("es", 1234)])
def test_a_single_separator_before_three_digits_stays_ambiguous(lang, value):
    assert number_from_text("1.234", lang) == (value, True)


@given(
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["en", "fr", "es"]),
    st.booleans(),
)
def test_a_number_grouped_in_english_or_european_style_is_read_as_the_number(units, decimals, lang, european):
    """Any non-negative number with up to three decimals, written with thousands separators the
    English way (1,234,567.891) or the French and Spanish way (1.234.567,891): read as that
    number in a language that writes numbers so, and in any language, without doubt, when both
    separators appear."""
    number = Decimal(units).scaleb(-decimals)
    text = f"{number:,.{decimals}f}"
    if european:
        text = text.translate(str.maketrans(",.", ".,"))
    value, ambiguous = number_from_text(text, lang)
    both = "," in text and "." in text
    if both or (lang == "en") != european:
        assert value == float(number), (text, lang)
    if both:
        assert not ambiguous, text


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_number_with_thousands_and_three_decimals_loads_as_written(tmp_path, lang):
    """'1.234,567' as Spanish and French write 1234.567: read so, not refused with a hint to use a
    point (which, followed, gave '1.234.567', a thousand times the figure)."""
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", lang)]
    ws["D2"], ws["F2"] = "1.234.567,891", "1.234,567"  # kWh of electricity, and of it renewable
    wb.save(path)
    sub = check(path)
    assert sub.findings == [], [f.message for f in sub.findings]
    facilities = sub.tables["Facilities"]
    assert (facilities["quantity"].iloc[0], facilities["renewable_kwh"].iloc[0]) == (1234567.891, 1234.567)


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_decimal_comma_in_scientific_notation_is_read_in_french_and_spanish(tmp_path, lang):
    """'1,2E6', as French or Spanish Excel shows 1 200 000 in a narrow column: read as '1,2' is,
    not refused with a hint to use a point; in English it stays an error with that hint."""
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    wb[i18n.sheet_name("Facilities", lang)]["D2"] = "1,2E6"
    wb.save(path)
    sub = check(path)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.tables["Facilities"]["quantity"].iloc[0] == 1_200_000
    [english] = check(path, lang="en").findings
    assert (english.code, english.cell) == ("type-error", "D2") and "Use a point for decimals" in english.message


@pytest.mark.parametrize(
    "text", ["1,2E6", "-1,25e-3", "1.234,5", "1.234.567,891", "12,5", "0,25", "1,2E6 ", "1.234,5 kWh"]
)
def test_the_hint_to_use_a_point_is_never_given_for_what_french_and_spanish_read(text):
    """The decimal-comma hint names texts French and Spanish workbooks read as numbers: they never
    reach the checks there, so a French or Spanish finding never tells to use a point for them."""
    from schemas.checks import _number_hint

    hint = _number_hint(text)
    if isinstance(hint, catalogue.Message) and hint.id == "hint.decimal-comma":
        for lang in ("fr", "es"):
            assert number_from_text(text, lang)[0] is not None, (text, lang)


TOTALS = ["Somme :", "Somme\u00a0:", "Totaux", "Totals", "Totales", "Sum:", "Suma:", "Subtotal", "Sous-total :"]
TOTALS += ["Sous-totaux", "Grand Total:", "Gran total", "Somme totale"]


@pytest.mark.parametrize("label", TOTALS)
def test_a_total_row_named_in_any_of_the_three_languages_is_refused(tmp_path, label):
    """A total copied below the sites in French, Spanish or English ('Somme :', 'Totaux', 'Sum:',
    'Suma:'): loaded as a site, it doubled the sheet's figures; refused as 'Total :' is."""
    sheets = valid_sheets()
    sheets["Facilities"].append([label, "KEN", "electricity", 2_400_000, "kwh", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    sub = check(path)
    assert not sub.is_valid
    [found] = [f for f in sub.findings if f.is_error]
    assert (found.code, found.cell) == ("inconsistent-row", "A5")
    assert "count its figures twice" in found.message and catalogue.quoted(label) in found.message
    [french] = [f for f in check(path, lang="fr").findings if f.is_error]
    assert (french.code, french.cell) == ("inconsistent-row", "A5") and "compterait ses chiffres" in french.message


def test_sites_whose_names_only_begin_like_a_total_load_as_sites(tmp_path):
    names = ["Sumatra office", "TotalEnergies depot", "Sommet des Nations", "Summit house", "Totalité annex"]
    sheets = valid_sheets()
    for name in names:
        sheets["Facilities"].append([name, "IDN", "diesel", 100, "litre", None, "measured"])
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.findings == [], [f.message for f in sub.findings]
    assert list(sub.tables["Facilities"]["site"][-len(names) :]) == names


@pytest.mark.parametrize(
    ("lang", "grouped"),
    [("en", r"estimate of \d{1,3}(,\d{3})+ kg"), ("fr", "\\(\\d{1,3}(\u202f\\d{3})+ kg\\)")]
    + [("es", r"\(\d{1,3}(\.\d{3})+ kg\)")],
)
def test_the_icao_estimate_is_written_as_the_finding_language_writes_numbers(tmp_path, lang, grouped):
    """The pipeline's estimate of a long first-class flight, over a thousand kg: 1,646 in English,
    1 646 in French, 1.646 in Spanish (not '1,646', a decimal in French and Spanish), in a year
    whose set uses the calculator's figure (2025)."""
    sheets = valid_sheets("UNEP", 2025)
    sheets["AirTravel"][0].append("icec_co2_kg")
    sheets["AirTravel"][1] = ["JFK", "SYD", None, "first", 1, "no", "measured", 100]
    path = write_workbook(tmp_path / "UNEP_2025.xlsx", sheets)
    [found] = check(path, lang=lang).findings
    assert (found.code, found.cell, found.severity) == ("implausible-value", "H2", "warning")
    assert re.search(grouped, found.message), found.message
    if lang != "en":
        assert not re.search(r"\d,\d{3} kg", found.message), found.message


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "Remove 'mailto:'"),
        ("fr", "Supprimez «\u00a0mailto:\u00a0»"),
        ("es", "Elimine «mailto:»"),
    ],
)
def test_an_email_pasted_from_a_link_is_refused_with_its_prefix_named(tmp_path, lang, words):
    """'mailto:amina.otieno@un.org', an address copied from a link: not loaded with its prefix, an
    error that says to keep the address only."""
    sheets = set_cell(valid_sheets(), "Entity", "B8", "mailto:amina.otieno@un.org")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang)
    assert not sub.is_valid
    [found] = sub.findings
    assert (found.code, found.cell, found.severity) == ("invalid-email", "B8", "error")
    assert words in found.message and found.message.endswith("amina.otieno@un.org."), found.message


@pytest.mark.parametrize(
    "address",
    ["amina.otieno@un.org?subject=GHG", "mailto:amina.otieno@un.org?subject=GHG", "amina.otieno@un.org>", "a@un.o"],
)
def test_an_address_with_more_than_an_address_is_refused(tmp_path, address):
    """A link's query or a bracket after the domain, or a one-letter domain: no address to write to."""
    sheets = set_cell(valid_sheets(), "Entity", "B8", address)
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert [(f.code, f.cell) for f in sub.findings] == [("invalid-email", "B8")]


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "Type the number only, without words or units."), ("fr", "sans mots ni unité")]
)
def test_a_unit_typed_beside_a_figure_without_a_unit_column_is_told_to_go(tmp_path, lang, words):
    """'20000 kWh' in 'Renewable electricity (kWh)': that column's unit is in its header, the
    sheet's Unit column is the quantity's; the hint says to type the number only."""
    sheets = set_cell(valid_sheets(), "Facilities", "F2", "20000 kWh")
    [found] = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang).findings
    assert (found.code, found.cell) == ("type-error", "F2")
    assert words in found.message and "own column" not in found.message and "propre colonne" not in found.message


@pytest.mark.parametrize(
    ("lang", "typed", "words"),
    [
        ("en", "twelve thousand", "Type the number in digits (12000), not in words."),
        ("fr", "douze mille", "Saisissez le nombre en chiffres (12000), et non en toutes lettres."),
        ("es", "doce mil", "Escriba el número en cifras (12000), no en letras."),
        ("fr", "voir l'annexe", "Saisissez le nombre en chiffres (12000)"),
        ("en", "NaN", "This is no figure"),  # a program's 'not a number': no figure, not a word
    ],
)
def test_a_number_written_in_words_is_told_to_be_typed_in_digits(tmp_path, lang, typed, words):
    """'douze mille' in a figure's cell: no unit to move and no decimal comma to mend, so the
    finding said only what it expected and what it found; it now says what to type."""
    sheets = set_cell(valid_sheets(), "Facilities", "D2", typed)
    [found] = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang).findings
    assert (found.code, found.cell) == ("type-error", "D2") and words in found.message, found.message


@pytest.mark.parametrize(
    ("lang", "words", "not_said"),
    [
        ("en", "type it again as NBO on a Latin keyboard layout", "leave 'From (airport code)'"),
        ("fr", "saisissez-la de nouveau, NBO, avec un clavier latin", "laissez vides"),
        ("es", "vuelva a escribirlo, NBO, con un teclado latino", "deje vacías"),
    ],
)
def test_an_airport_typed_with_look_alike_letters_is_told_to_be_typed_again(tmp_path, lang, words, not_said):
    """'NВО' with a Cyrillic В and О: the same hint as a country so typed, not the advice for a
    place without a known airport (its airport is known)."""
    sheets = set_cell(valid_sheets(), "AirTravel", "A2", "N\u0412\u041e")
    [found] = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang).findings
    assert (found.code, found.cell) == ("not-in-codelist", "A2")
    assert words in found.message and not_said not in found.message, found.message
    unknown = write_workbook(
        tmp_path / "unknown" / "UNEP_2024.xlsx", set_cell(valid_sheets(), "AirTravel", "A2", "QQQ")
    )
    [found] = check(unknown, lang).findings
    assert (found.code, found.cell) == ("not-in-codelist", "A2") and not_said in found.message, found.message


@pytest.mark.parametrize(
    ("lang", "label", "total_words", "box_words"),
    [
        ("fr", "Somme :", "compterait ses chiffres deux fois", "la ligne 5 ne contient qu'une case cochée (VRAI)"),
        ("es", "Suma:", "contaría sus cifras dos veces", "la fila 5 solo contiene una casilla marcada (VERDADERO)"),
    ],
)
def test_a_total_row_and_a_ticked_box_alone_are_said_in_the_workbooks_language(
    tmp_path, lang, label, total_words, box_words
):
    """A French or Spanish workbook: a total under the modes of travel ('Somme :', a sheet without
    sites) and Excel 365 checkboxes over the return-trip column, one ticked in a row otherwise
    empty. One finding each, in the workbook's language; the unticked boxes say nothing."""
    path = filled(tmp_path, lang, labels=True)
    wb = load_workbook(path)
    travel = wb[i18n.sheet_name("OtherTravel", lang)]
    travel.cell(row=3, column=1, value=label)
    travel.cell(row=3, column=2, value=5200)
    air = wb[i18n.sheet_name("AirTravel", lang)]
    [box] = [c.column for c in air[1] if c.value == i18n.header("AirTravel", "round_trip", lang)]
    for row in range(3, 41):
        air.cell(row=row, column=box, value=row == 5)
    wb.save(path)
    sub = check(path)
    letter = air.cell(row=5, column=box).column_letter
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [
        (air.title, f"{letter}5", "inconsistent-row"),
        (travel.title, "A3", "inconsistent-row"),
    ]
    assert sub.findings[0].message.startswith(box_words), sub.findings[0].message
    assert total_words in sub.findings[1].message and repr(label) in sub.findings[1].message


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize(("sheet", "cell"), [("Entity", "B5"), ("EMS", "B4")])
def test_a_share_below_1_percent_is_asked_whether_a_fraction_was_meant(tmp_path, lang, sheet, cell):
    """85 % typed in LibreOffice into the template's coverage cell (number format 0.0) is stored as
    0.85: read as 0.85 % with no word, and loaded so. A share above 0 and below 1 % is a warning
    that says which percentage the fraction would be; the workbook still loads."""
    sheets = set_cell(valid_sheets(), sheet, cell, 0.85)
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), lang=lang)
    [found] = sub.findings
    assert (found.sheet, found.cell, found.code, found.severity) == (sheet, cell, "implausible-value", "warning")
    sign = "\u202f%" if lang == "fr" else "%"  # French (and Spanish) put a narrow no-break space before it
    assert f"85{sign}" in found.message and ("0,85" if lang == "fr" else "0.85") + sign in found.message, found.message
    assert sub.is_valid
    for fine in (0, 1, 1.5, 85):
        assert not check(
            write_workbook(tmp_path / f"ok{fine}" / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, fine))
        ).findings


def test_last_years_site_names_are_shown_as_the_console_shows_them(tmp_path):
    """The Last year sheet dropped an ESC in a site name unseen, wrote a right-to-left override raw
    and an '_x0041_' that Excel reads as 'A': the focal point saw another name than was loaded.
    Each is now shown as an escape, as the findings show it."""
    inputs = tmp_path / "inputs"
    (inputs / "history").mkdir(parents=True)
    sheets = valid_sheets("UNEP", 2023)
    names = ["_x001B_[31mRED", "Annex \u202eNEK", "_x005F_x0041_BC"]  # an ESC, an override, '_x0041_BC'
    for row, name in enumerate(names, start=2):
        sheets = set_cell(sheets, "Facilities", f"A{row}", name)
    write_workbook(inputs / "submissions" / "UNEP_2023.xlsx", sheets)
    db = tmp_path / "gtb.duckdb"
    api.run(inputs, db, tmp_path / "out", jobs=1)
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = {r[0] for r in con.execute("SELECT DISTINCT site FROM facilities_activity").fetchall()}
    assert {"\x1b[31mRED", "Annex \u202eNEK", "_x0041_BC"} <= loaded, loaded
    path = api.template("UNEP", YEAR, tmp_path / "t.xlsx", lang="en", db=db)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(i18n.sheet_name("LastYear", "en")).to_python()
    shown = {str(row[0]) for row in rows}
    assert {"\\x1b[31mRED", "Annex \\u202eNEK", "\\x5fx0041_BC"} <= shown, shown
