"""Workbooks as the programs focal points use write them: cells without references or quoted
otherwise, numbers in percent-formatted cells, sheets continued on a copied tab, Field/Value
sheets with columns inserted at their left."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.cells import cell_name, parse_cell
from pipeline.intake.normalise import read_normalised
from pipeline.intake.read import read_workbook
from pipeline.intake.validate import validate_files, validate_parsed
from schemas import i18n
from tests.builders import Rows, set_cell, valid_sheets, write_workbook
from tests.odd_files import members, repack, sheet_part


def check(path: Path, lang: str | None = None):
    [sub] = validate_files([path], jobs=1, lang=lang)
    return sub


def percent_workbook(path: Path, sheets: dict[str, Rows], formats: dict[tuple[str, str], str]) -> Path:
    """The sheets written, then cells given a number format, as Excel does when a percentage is
    typed (`formats`: (sheet, cell) -> format)."""
    write_workbook(path, sheets)
    wb = load_workbook(path)
    for (sheet, cell), number_format in formats.items():
        wb[sheet][cell].number_format = number_format
    wb.save(path)
    return path


def rewrite_sheets(path: Path, sheets: tuple[str, ...], change: Callable[[bytes], bytes]) -> Path:
    """The workbook with the XML of `sheets` rewritten by `change` (the OOXML zip, as a producer writes
    it): a program that calculates, so its workbook does not ask to be recalculated on opening, as
    openpyxl's does."""
    data = path.read_bytes()
    parts = members(data)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    for sheet in sheets:
        member = sheet_part(data, sheet)
        before = parts[member]
        parts[member] = change(before)
        assert parts[member] != before, f"{member} unchanged"
    path.write_bytes(repack(parts))
    return path


def value_at(rows: list[tuple[int, list[object]]], cell: str) -> object:
    """The value calamine read at `cell` (rows as `RawSheet.rows` holds them)."""
    position = parse_cell(cell)
    assert position is not None
    row, col = position
    [values] = [values for excel_row, values in rows if excel_row == row]
    return values[col - 1]


# --- A. percent-formatted cells however the cells are written ------------------------------------

_CELL_REF = re.compile(rb'(<c) r="[A-Z]+[0-9]+"')


def _without_cell_refs(xml: bytes) -> bytes:
    return _CELL_REF.sub(rb"\1", xml)


def _without_value_cell_refs(xml: bytes) -> bytes:  # column A keeps its r, B follows it
    return re.sub(rb'(<c) r="B[0-9]+"', rb"\1", xml)


def _without_any_refs(xml: bytes) -> bytes:  # rows too: each row follows the one before
    return re.sub(rb'(<row) r="[0-9]+"', rb"\1", _without_cell_refs(xml))


def _single_quotes(xml: bytes) -> bytes:
    return re.sub(rb'="([^"]*)"', rb"='\1'", xml)


def _spaced_single_quotes_without_refs(xml: bytes) -> bytes:
    return re.sub(rb' s="([0-9]+)"', rb" s = '\1'", _without_cell_refs(xml))


PRODUCERS = {
    "cells without r": _without_cell_refs,
    "value cells without r": _without_value_cell_refs,
    "rows and cells without r": _without_any_refs,
    "single quotes": _single_quotes,
    "s in single quotes, spaced, no r": _spaced_single_quotes_without_refs,
}


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_a_percent_cell_is_a_percent_however_its_cell_is_written(tmp_path, producer):
    sheets = valid_sheets()
    set_cell(sheets, "Entity", "B5", 0.925)
    set_cell(sheets, "EMS", "B4", 0.8)
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("Entity", "B5"): "0.0%", ("EMS", "B4"): "0%"})
    rewrite_sheets(path, ("Entity", "EMS"), PRODUCERS[producer])
    raw = read_workbook(path)
    # the percent cell found is the cell calamine reads the value of
    assert raw.sheets["Entity"].percent_cells == ["B5"] and raw.sheets["EMS"].percent_cells == ["B4"]
    assert value_at(raw.sheets["Entity"].rows, "B5") == 0.925 and value_at(raw.sheets["EMS"].rows, "B4") == 0.8
    sub = check(path)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.entity["reporting_coverage_percent"] == 92.5 and sub.ems["coverage_percent"] == 80


def test_cells_without_r_follow_the_row_r_across_a_gap(tmp_path):
    """A row left out (blank in Excel): the cells without r are in the row its <row r> names."""
    sheets = valid_sheets()
    sheets["Entity"].insert(4, [None, None])  # coverage moves to row 6; openpyxl writes no row 5
    set_cell(sheets, "Entity", "B6", 0.925)
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("Entity", "B6"): "0.0%"})
    rewrite_sheets(path, ("Entity",), _without_cell_refs)
    assert b'<row r="6"' in members(path.read_bytes())[sheet_part(path.read_bytes(), "Entity")]
    raw = read_workbook(path)
    assert raw.sheets["Entity"].percent_cells == ["B6"]
    assert value_at(raw.sheets["Entity"].rows, "B6") == 0.925
    sub = check(path)
    assert sub.findings == [] and sub.entity["reporting_coverage_percent"] == 92.5


def test_a_cell_without_r_after_a_referenced_cell_is_the_next_column(tmp_path):
    """`<c r="A4"/><c s="..">`: the unreferenced cell is B4, whatever the cells of the rows above."""
    sheets = valid_sheets()
    set_cell(sheets, "EMS", "B4", 0.8)
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("EMS", "B4"): "0%"})

    def only_b4_unreferenced(xml: bytes) -> bytes:
        return xml.replace(b'<c r="B4"', b"<c")

    rewrite_sheets(path, ("EMS",), only_b4_unreferenced)
    raw = read_workbook(path)
    assert raw.sheets["EMS"].percent_cells == ["B4"]
    assert check(path).ems["coverage_percent"] == 80


# --- B. a finding on a percent cell says what was read --------------------------------------------

WHOLE_NUMBER_IN_PERCENT_CELL = {
    "en": "expected a value of at most 100; found 8000%, as the cell holds 80 and is formatted as a percentage",
    "fr": "valeur trouvée\u00a0: 8000\u202f%, car la cellule contient 80 et est au format pourcentage",
    "es": "se encontró 8000\u202f%, ya que la celda contiene 80 y tiene formato de porcentaje",
}


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_a_whole_number_in_a_percent_cell_is_said_to_be_read_as_thousands_of_percent(tmp_path, lang):
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets(), {("EMS", "B4"): "0%"})  # 80: 8000 %
    [found] = check(path, lang).findings
    assert (found.code, found.sheet, found.cell, found.severity) == ("out-of-range", "EMS", "B4", "error")
    assert WHOLE_NUMBER_IN_PERCENT_CELL[lang] in found.message, found.message
    assert found.value == "80"  # what the cell holds; the message says how it was read


def test_a_fraction_in_a_percent_cell_is_quoted_with_its_percentage_in_the_language(tmp_path):
    sheets = set_cell(valid_sheets(), "Entity", "B5", 1.255)  # 125.5 %
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("Entity", "B5"): "0.0%"})
    [en] = check(path).findings
    assert "found 125.5%, as the cell holds 1.255 and is formatted as a percentage" in en.message, en.message
    [fr] = check(path, "fr").findings
    assert "125,5\u202f%, car la cellule contient 1,255 et est au format pourcentage" in fr.message, fr.message
    set_cell(sheets, "Entity", "B5", -0.05)  # -5 %
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("Entity", "B5"): "0.0%"})
    [es] = check(path, "es").findings
    said = "se encontró -5\u202f%, ya que la celda contiene -0,05 y tiene formato de porcentaje"
    assert said in es.message, es.message


def test_a_number_in_a_cell_without_percent_format_is_quoted_as_before(tmp_path):
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B4", 101))
    [found] = check(path).findings
    assert found.message == "expected a value of at most 100; found 101 (a share in percent)."
    assert found.value == "101"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_number_in_a_time_or_duration_cell_is_quoted_as_the_number_with_the_fix(tmp_path, lang):
    """Google Sheets' "Duration" format on a quantity, or a time format on a share: calamine reads
    a duration and a time of day, which the finding quoted as "2094614 days, 0:00:00" (English words
    in a French message) and "22:12:00", with no word of what to do. The duration is quoted as the
    number of days the cell holds, in the finding's language, and each is told to take the
    number format, as a date already was."""
    sheets = set_cell(set_cell(valid_sheets(), "Facilities", "D2", 2094614.5), "Entity", "B5", 0.925)
    path = percent_workbook(
        tmp_path / "UNEP_2024.xlsx", sheets, {("Facilities", "D2"): "[h]:mm:ss", ("Entity", "B5"): "h:mm"}
    )
    found = {f.cell: f for f in check(path, lang).findings}
    duration, time = found["D2"], found["B5"]
    assert duration.code == time.code == "type-error", (duration, time)
    number = "2094614,5" if lang == "fr" else "2094614.5"
    assert number in duration.message and "days" not in duration.message, duration.message
    assert duration.value == "2094614.5"
    assert "22:12:00" in time.message, time.message
    fix = {"en": "formatted as a time or a duration; format it as a number", "fr": "au format Heure ou Durée"}[lang]
    assert fix in duration.message and fix in time.message, (duration.message, time.message)


def test_a_percent_cell_is_quoted_the_same_after_crossing_processes(tmp_path):
    """Workers send the normalised workbook back pickled: the percent cell's record goes with it."""
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets(), {("EMS", "B4"): "0%"})
    parsed = pickle.loads(pickle.dumps(read_normalised(path, "fr")))
    [sub] = validate_parsed([parsed])
    [found] = sub.findings
    assert WHOLE_NUMBER_IN_PERCENT_CELL["fr"] in found.message


# --- C. a sheet continued on a copied tab ---------------------------------------------------------


def _with_copy(tab: str, lang: str = "en", rows: bool = True) -> dict[str, Rows]:
    """Valid sheets in `lang`'s tabs, plus `tab`: the Facilities header and, if `rows`, one more site."""
    sheets = {i18n.sheet_name(name, lang): rows_ for name, rows_ in valid_sheets().items()}
    facilities = sheets[i18n.sheet_name("Facilities", lang)]
    more = ["Arusha office", "TZA", "electricity", 1_200_000, "kwh", None, "measured"]
    sheets[tab] = [list(facilities[0]), more] if rows else [list(facilities[0])]
    return sheets


COPIES = [
    ("Facilities (2)", "en"),  # Excel
    ("Copy of Facilities", "en"),  # Google Sheets
    ("Facilities_2", "en"),  # LibreOffice
    ("Copy of Facilities (2)", "en"),  # a copy of a copy
    ("Installations (2)", "fr"),
    ("Copie de Installations", "fr"),
    ("Copia de Instalaciones", "es"),
    ("Instalaciones_3", "es"),
    ("Copy of Installations", "en"),  # the French tab's name in an English workbook
]


@pytest.mark.parametrize(("tab", "lang"), COPIES)
def test_a_sheet_continued_on_a_copied_tab_is_an_error(tmp_path, tab, lang):
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", _with_copy(tab, lang))
    sub = check(path)
    assert sub.lang == lang
    [found] = sub.findings
    assert (found.code, found.severity, found.sheet) == ("duplicate-sheet", "error", tab)
    assert not sub.is_valid
    own = i18n.sheet_name("Facilities", lang)
    assert f"'{tab}'" in found.message and f"'{own}'" in found.message


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        (
            "en",
            "the tab 'Facilities (2)' is a copy of the Facilities sheet: its rows are not read. Move them into "
            "the Facilities sheet itself, tab 'Facilities', and delete this tab: each sheet is one table, on one tab.",
        ),
        (
            "fr",
            "l'onglet 'Installations (2)' est une copie de la feuille Installations\u00a0: ses lignes ne sont "
            "pas lues. Déplacez-les dans la feuille Installations elle-même, onglet 'Installations', et supprimez "
            "cet onglet\u00a0: chaque feuille est un seul tableau, sur un seul onglet.",
        ),
        (
            "es",
            "la pestaña 'Instalaciones (2)' es una copia de la hoja Instalaciones: sus filas no se leen. Páselas a "
            "la propia hoja Instalaciones, pestaña 'Instalaciones', y elimine esta pestaña: cada hoja es una sola "
            "tabla, en una sola pestaña.",
        ),
    ],
)
def test_the_copied_tab_is_explained_in_the_workbooks_language(tmp_path, lang, text):
    tab = f"{i18n.sheet_name('Facilities', lang)} (2)"
    [found] = check(write_workbook(tmp_path / "UNEP_2024.xlsx", _with_copy(tab, lang))).findings
    assert found.message == text


@pytest.mark.parametrize("tab", ["Notes", "Facilities 2024", "Facilities_2024", "Instructions (2)", "Copy of Notes"])
def test_an_ordinary_extra_tab_stays_a_warning(tmp_path, tab):
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", _with_copy(tab)))
    assert [(f.code, f.severity, f.sheet) for f in sub.findings] == [("unknown-sheet", "warning", tab)]
    assert sub.is_valid


def test_a_copy_without_rows_loses_nothing_and_stays_a_warning(tmp_path):
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", _with_copy("Facilities (2)", rows=False)))
    assert [(f.code, f.severity) for f in sub.findings] == [("unknown-sheet", "warning")]
    assert sub.is_valid


def test_a_copy_of_a_missing_sheet_is_to_be_renamed(tmp_path):
    sheets = _with_copy("Copy of Facilities")
    sheets["Facilities (3)"] = [list(sheets["Facilities"][0]), ["Dodoma office", "TZA", "diesel", 100, "litre"]]
    del sheets["Facilities"]
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    by_code = {f.code: f for f in sub.findings}
    assert sorted(by_code) == ["duplicate-sheet", "missing-sheet"], [f.message for f in sub.findings]
    assert "Found 'Copy of Facilities' instead: rename it to 'Facilities'." in by_code["missing-sheet"].message
    copy = by_code["duplicate-sheet"]
    assert copy.sheet == "Facilities (3)" and "tab 'Copy of Facilities'" in copy.message


@pytest.mark.parametrize("tab", ["Facilities - Table 1", "Installations - Tableau 1", "Instalaciones - Tabla 2"])
def test_a_table_apple_numbers_exported_as_its_own_tab_is_to_be_renamed(tmp_path, tab):
    """Numbers exports a sheet holding two tables (a title and the data) as one tab per table,
    'Facilities - Table 1': every sheet was missing, and each such tab an unknown one, with no
    hint that the tab holding the figures was right there."""
    sheets = valid_sheets()
    sheets[tab] = sheets.pop("Facilities")
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    [missing] = sub.findings
    assert missing.code == "missing-sheet" and f"Found '{tab}' instead: rename it to 'Facilities'." in missing.message


def test_a_tab_name_longer_than_any_program_writes_is_not_looked_at(monkeypatch):
    """The copy patterns backtrack over a run of spaces: a crafted tab name of 160,000 spaces took
    50 s to look at. No program names a copied tab longer than COPY_NAME_LIMIT, so a longer name
    never reaches the patterns (it stays an ordinary extra tab)."""
    from pipeline.intake import normalise

    assert normalise._copy_of("Facilities (2)") == "Facilities"

    class Untouchable:
        def sub(self, *_args: object) -> str:
            raise AssertionError("a name beyond the limit reached the copy patterns")

    monkeypatch.setattr(normalise, "_COPY_SUFFIX", Untouchable())
    monkeypatch.setattr(normalise, "_COPY_PREFIX", Untouchable())
    assert normalise._copy_of("Facilities" + " " * 160_000 + "x") is None
    assert normalise._copy_of("Facilities" + " " * normalise.COPY_NAME_LIMIT + "(2)") is None


def as_libreoffice_resaves_booleans(xml: bytes) -> bytes:
    """Every boolean cell as LibreOffice writes one it opened from a workbook: the number 1 or 0 of
    the formula TRUE() or FALSE() (`<c t="n"><f aca="false">TRUE()</f><v>1</v></c>`)."""
    formula = {b"1": b"TRUE()", b"0": b"FALSE()"}
    return re.sub(
        rb'<c r="([A-Z]+[0-9]+)"([^>]*?) t="b"><v>([01])</v></c>',
        lambda m: b'<c r="%s"%s t="n"><f aca="false">%s</f><v>%s</v></c>' % (m[1], m[2], formula[m[3]], m[3]),
        xml,
    )


def test_a_yes_no_answer_libreoffice_saved_again_is_still_its_answer(tmp_path):
    """TRUE or FALSE typed in LibreOffice is a boolean cell; opened again and saved, LibreOffice
    writes it as the number 1 or 0 of the formula TRUE() or FALSE(), under a "TRUE";"TRUE";"FALSE"
    format. Every such cell was refused ("found 1") while it showed TRUE, and a row holding only
    an unticked box (0) became a row of missing values."""
    sheets = valid_sheets()
    answers = [True, True, False]
    for row, answer in enumerate(answers, start=2):
        set_cell(sheets, "AirTravel", f"F{row}", answer)
    set_cell(sheets, "EMS", "B5", True)
    sheets["AirTravel"].append([None, None, None, None, None, False, None])  # an unticked box alone
    path = rewrite_sheets(
        write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), ("AirTravel", "EMS"), as_libreoffice_resaves_booleans
    )
    assert (
        b'<f aca="false">FALSE()</f><v>0</v>' in members(path.read_bytes())[sheet_part(path.read_bytes(), "AirTravel")]
    )
    sub = check(path)
    assert sub.is_valid and not sub.findings, [f.message for f in sub.findings]
    assert sub.tables["AirTravel"]["round_trip"].tolist() == answers
    assert sub.ems["policy_adopted"] is True

    # a formula that is no boolean keeps its number, and is refused as before
    other = write_workbook(tmp_path / "other" / "UNEP_2024.xlsx", valid_sheets())
    one = b'<c r="F2" t="n"><f>1*1</f><v>1</v></c>'
    rewrite_sheets(other, ("AirTravel",), lambda xml: re.sub(rb'<c r="F2"[^>]*>.*?</c>', lambda _: one, xml, count=1))
    found = check(other).findings
    assert [(f.cell, f.code) for f in found] == [("F2", "not-in-codelist")], [f.message for f in found]


@pytest.mark.parametrize(("held", "number_format"), [(0.005, "0.0%"), ("0.5%", "General"), ("0,5 %", "General")])
def test_a_share_that_says_it_is_a_percentage_is_not_asked_whether_a_fraction_was_meant(tmp_path, held, number_format):
    """A cell formatted as a percentage showing 0.5 %, or text typed with its percent sign, is a
    percentage already: the fraction warning told it to type 50, which would make it 5000 %."""
    sheets = set_cell(valid_sheets(), "Entity", "B5", held)
    path = percent_workbook(tmp_path / "UNEP_2024.xlsx", sheets, {("Entity", "B5"): number_format})
    assert [f.code for f in check(path).findings] == [], [f.message for f in check(path).findings]


def _formula_saved_as(value: bytes) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        return re.sub(rb"(<f>17500\+17500</f>)(?:<v\s*/>|<v>[^<]*</v>)?", rb"\1<v>" + value + rb"</v>", xml)

    return change


@pytest.mark.parametrize("calc", [b'<calcPr calcId="124519" fullCalcOnLoad="1"/>', b'<calcPr fullCalcOnLoad="true"/>'])
def test_a_formula_saved_by_a_program_that_cannot_calculate_is_not_its_placeholder(tmp_path, calc):
    """xlsxwriter (pandas' other engine; rust_xlsxwriter, libxlsxwriter alike) saves every formula
    with 0 as its result and asks Excel to recalculate on opening (`fullCalcOnLoad`): 35,000 L
    of diesel written `=17500+17500` loaded as 0 L, without a finding."""
    sheets = set_cell(valid_sheets("UNEP"), "Facilities", "D3", "=17500+17500")
    path = rewrite_sheets(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), ("Facilities",), _formula_saved_as(b"0"))
    parts = members(path.read_bytes())
    parts["xl/workbook.xml"] = re.sub(rb"<calcPr[^>]*/>", calc, parts["xl/workbook.xml"])
    assert calc in parts["xl/workbook.xml"]
    path.write_bytes(repack(parts))
    sub = check(path)
    assert [(f.code, f.cell) for f in sub.findings if f.severity == "error"] == [("formula-without-value", "D3")]


def test_a_formula_excel_calculated_is_read_as_its_result(tmp_path):
    """Excel and LibreOffice save each formula's result and no request to recalculate."""
    sheets = set_cell(valid_sheets("UNEP"), "Facilities", "D3", "=17500+17500")
    path = rewrite_sheets(
        write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), ("Facilities",), _formula_saved_as(b"35000")
    )
    parts = members(path.read_bytes())
    parts["xl/workbook.xml"] = re.sub(rb"<calcPr[^>]*/>", b'<calcPr calcId="191029"/>', parts["xl/workbook.xml"])
    path.write_bytes(repack(parts))
    sub = check(path)
    assert sub.is_valid and not [f for f in sub.findings if f.code == "formula-without-value"]
    assert sub.tables["Facilities"]["quantity"].tolist()[1] == 35000


def test_a_package_whose_part_names_use_backslashes_is_read(tmp_path):
    """Windows PowerShell 5.1's Compress-Archive names zip entries with '\\': calamine reads such a
    package, but the guard looked for 'xl/workbook.xml' as written and refused it as holding no
    workbook."""
    sheets = valid_sheets("UNEP")
    plain = write_workbook(tmp_path / "plain" / "UNEP_2024.xlsx", sheets)
    parts = {name.replace("/", "\\"): body for name, body in members(plain.read_bytes()).items()}
    windows = tmp_path / "UNEP_2024.xlsx"
    windows.write_bytes(repack(parts))
    assert "xl\\workbook.xml" in members(windows.read_bytes())
    sub, expected = check(windows), check(plain)
    assert sub.is_valid and sub.readable, [f.message for f in sub.findings]
    for name, table in expected.tables.items():
        assert sub.tables[name].equals(table), name


@pytest.mark.parametrize(
    ("sheet", "column", "header", "written", "unit"),
    [
        ("Refrigerants", "refilled_kg", "Refilled (lbs)", "lbs", "kg"),
        ("AirTravel", "distance_km", "Distance (miles)", "miles", "km"),
        ("Facilities", "renewable_kwh", "Renewable electricity (MWh)", "MWh", "kWh"),
    ],
)
def test_a_header_naming_another_unit_is_told_to_convert_before_renaming(
    tmp_path, sheet, column, header, written, unit
):
    """'Refilled (lbs)' was told "rename the header to 'Refilled (kg)'" with no word of converting:
    done as told, pounds loaded as kilograms, miles as kilometres, MWh as kWh."""
    sheets = valid_sheets("UNEP")
    cell = f"{chr(ord('A') + sheets[sheet][0].index(column))}1"
    set_cell(sheets, sheet, cell, header)
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    [renamed] = [f for f in sub.findings if f.code == "missing-column" and f.value == header]
    assert renamed.cell == cell
    assert f"takes its figures in {unit}, not {written}. Convert the figures to {unit}, then rename" in renamed.message


@pytest.mark.parametrize(
    "header", ["Refiled (kg)", "Refilled (kilograms)", "Refilled (kilos)", "Refilled (as topped up)"]
)
def test_a_header_with_its_own_unit_or_a_note_is_told_only_to_rename(tmp_path, header):
    sheets = set_cell(valid_sheets("UNEP"), "Refrigerants", "D1", header)
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    [renamed] = [f for f in sub.findings if f.code == "missing-column"]
    assert "Convert" not in renamed.message and "Rename the header to 'Refilled (kg)'" in renamed.message


def test_a_field_value_sheet_whose_header_row_was_deleted_reads_its_first_field(tmp_path):
    """Row 1 of a Field/Value sheet was never looked at: with the header row deleted, 'Entity code'
    in A1 was reported missing ("add a row with 'Entity code' in column A"), the entity could not
    be read, and the reports were filed under a hash."""
    sheets = valid_sheets("UNEP")
    sheets["Entity"] = sheets["Entity"][1:]  # the rows moved up: A1 holds the first field
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.is_valid, [f.message for f in sub.findings if f.severity == "error"]
    assert sub.entity_code == "UNEP" and sub.reporting_year == 2024


def test_a_field_value_header_in_any_words_is_no_field(tmp_path):
    sheets = valid_sheets("UNEP")
    sheets["Entity"][0] = ["Field name", "What we report"]
    sub = check(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    assert sub.is_valid and not [f for f in sub.findings if f.sheet == "Entity"]


# --- D. a Field/Value sheet moved right by columns inserted at its left ----------------------------


def inserted(path: Path, columns: dict[str, int]) -> Path:
    """The workbook with `columns[sheet]` columns inserted at the left of each sheet, as Excel's
    Insert on column A leaves it: every cell as many columns to the right."""
    wb = load_workbook(path)
    for sheet, count in columns.items():
        if count:
            wb[sheet].insert_cols(1, count)
    wb.save(path)
    return path


@pytest.mark.parametrize("count", [1, 2])
def test_a_field_value_sheet_with_columns_inserted_at_its_left_is_read_where_its_fields_are(tmp_path, count):
    """A column inserted at the left of the Entity sheet (every field still there, names in B and
    values in C) gave seven missing-field errors saying to add 'Entity code' in column A. Its
    fields are read where they are, as a table is read wherever its headers are: no finding."""
    plain = check(write_workbook(tmp_path / "plain" / "UNEP_2024.xlsx", valid_sheets("UNEP")))
    path = inserted(write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP")), {"Entity": count, "EMS": count})
    sub = check(path)
    assert sub.findings == [], [f.message for f in sub.findings]
    assert sub.is_valid and sub.entity_code == "UNEP" and sub.reporting_year == 2024
    assert sub.entity == plain.entity and sub.ems == plain.ems and sub.entity["personnel"] == 1250
    values = "BCD"[count]
    assert sub.cells[("Entity", "personnel")] == f"{values}4" and sub.cells[("EMS", "status")] == f"{values}2"


def test_a_bad_value_of_a_shifted_field_value_sheet_is_reported_and_marked_at_its_cell(tmp_path):
    from pipeline.intake.annotate import annotate

    sheets = set_cell(valid_sheets("UNEP"), "Entity", "B4", "twelve")
    set_cell(sheets, "EMS", "B4", "#DIV/0!")  # an Excel error in a value cell
    path = inserted(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), {"Entity": 1, "EMS": 1})
    sub = check(path)
    found = [(f.sheet, f.cell, f.row, f.column, f.code) for f in sub.findings]
    assert found == [
        ("Entity", "C4", 4, "personnel", "type-error"),
        ("EMS", "C4", 4, "coverage_percent", "type-error"),
    ], [f.message for f in sub.findings]
    assert annotate(path, sub.findings, tmp_path / "annotated.xlsx", path.name) == "annotated"
    entity = load_workbook(tmp_path / "annotated.xlsx")["Entity"]
    assert entity["C4"].comment is not None and "twelve" in entity["C4"].comment.text
    assert entity["B4"].comment is None


def test_a_field_missing_from_a_shifted_sheet_is_to_be_added_where_its_fields_are(tmp_path):
    sheets = valid_sheets("UNEP")
    sheets["EMS"] = [row for row in sheets["EMS"] if row[0] != "status"]
    sheets["Entity"].append(["phone", "+254"])  # row 10: no field of the sheet
    path = inserted(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), {"Entity": 1, "EMS": 2})
    found = {(f.sheet, f.cell, f.code): f.message for f in check(path).findings}
    assert list(found) == [("Entity", "B10", "unknown-field"), ("EMS", "", "missing-field")]
    assert "add a row with 'Status' in column C and its value in column D" in found[("EMS", "", "missing-field")]


def test_a_stray_field_name_does_not_move_a_field_value_sheet(tmp_path):
    """The field names' column is one naming a few fields: a note beside the fields naming one
    (or two) does not take their place, nor does one left in column A of a sheet moved right."""
    sheets = set_cell(valid_sheets("UNEP"), "Entity", "D3", "Personnel (persons)")
    set_cell(sheets, "Entity", "E4", "Coverage (%)")
    set_cell(sheets, "Entity", "E5", "Reporting year")
    set_cell(sheets, "EMS", "D2", "Status")
    set_cell(sheets, "EMS", "D3", "Standard")
    assert check(write_workbook(tmp_path / "notes" / "UNEP_2024.xlsx", sheets)).findings == []
    sheets = valid_sheets("UNEP")
    path = inserted(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), {"Entity": 1})
    wb = load_workbook(path)
    wb["Entity"]["A12"], wb["Entity"]["A13"] = "Personnel (persons)", "Coverage (%)"
    wb.save(path)
    sub = check(path)
    assert sub.findings == [] and sub.entity["personnel"] == 1250


# Mistakes whose findings name a field's cell: its value (B), its name (A), or neither
SHIFT_MISTAKES: dict[str, Callable[[dict[str, Rows]], object]] = {
    "none": lambda s: None,
    "bad value": lambda s: set_cell(s, "Entity", "B4", "twelve"),
    "out of range": lambda s: set_cell(s, "EMS", "B4", 120),
    "unknown field": lambda s: s["Entity"].append(["phone", "+254"]),
    "field twice": lambda s: s["Entity"].append(["entity_code", "WFP"]),
    "field renamed": lambda s: set_cell(s, "Entity", "A4", "personnel:"),
    "field missing": lambda s: s.__setitem__("EMS", [r for r in s["EMS"] if r[0] != "status"]),
}


def _checked_in_process(path: Path):
    [sub] = validate_parsed([read_normalised(path)])
    return sub


def _moved(cell: str, by: int) -> str:
    if not cell or not by:
        return cell
    row, col = parse_cell(cell) or (0, 0)
    return cell_name(row, col + by)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3), st.integers(0, 3), st.sampled_from(sorted(SHIFT_MISTAKES)))
def test_the_findings_of_a_field_value_sheet_move_with_its_columns(tmp_path_factory, entity, ems, mistake):
    """Columns inserted at the left of Entity and EMS (0 to 3 each): the same findings as without
    them, on the cells moved as far right, and the same values read."""
    folder = tmp_path_factory.mktemp("shift")
    sheets = valid_sheets("UNEP")
    SHIFT_MISTAKES[mistake](sheets)
    plain = _checked_in_process(write_workbook(folder / "plain" / "UNEP_2024.xlsx", sheets))
    shift = {"Entity": entity, "EMS": ems}
    sub = _checked_in_process(inserted(write_workbook(folder / "UNEP_2024.xlsx", sheets), shift))
    moved = [
        (f.sheet, _moved(f.cell, shift.get(f.sheet, 0)), f.row, f.column, f.value, f.code, f.severity)
        for f in plain.findings
    ]
    assert [(f.sheet, f.cell, f.row, f.column, f.value, f.code, f.severity) for f in sub.findings] == moved
    assert (sub.entity, sub.ems, sub.is_valid) == (plain.entity, plain.ems, plain.is_valid)
    for f in sub.findings:
        if f.code == "missing-field" and not f.cell:
            at = shift[f.sheet]
            assert f"column {'ABCDE'[at]} and its value in column {'ABCDE'[at + 1]}" in f.message


def test_a_hidden_field_of_a_shifted_sheet_is_said_on_its_name(tmp_path):
    path = inserted(write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP")), {"Entity": 1})
    wb = load_workbook(path)
    wb["Entity"].row_dimensions[4].hidden = True
    wb.save(path)
    [found] = check(path).findings
    assert (found.sheet, found.cell, found.code) == ("Entity", "B4", "hidden-rows")
