"""Rows under the data that are no data: an Excel table's Total Row whose label is blank (its
figures SUBTOTALs of structured references), the headers repeated under the data (two blocks
pasted one under the other, in any of the template's languages), and a note typed alone in a row.
Each was a missing-value, type or code-list error per cell, or loaded as a row of data."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.table import Table

from pipeline.api import check_files
from pipeline.intake.guard import table_column
from pipeline.intake.template import template
from schemas import i18n
from tests.builders import example_rows, fill, valid_sheets, write_workbook
from tests.test_total_rows import with_formula

FACILITIES = ["site", "country", "energy_type", "quantity", "unit", "renewable_kwh", "data_quality", "comment"]


def findings(path: Path) -> list[tuple[str, str, str, str]]:
    [sub] = check_files([path], jobs=1)
    return [(f.cell, f.code, f.severity, f.message) for f in sub.findings]


def as_table(path: Path, sheet: str, ref: str, totals: bool = True) -> Path:
    """The sheet's cells `ref` made an Excel table (Home > Format as Table), with its Total Row
    ticked: the table's last row is its totals row."""
    wb = load_workbook(path)
    ws = wb[sheet]
    table = Table(displayName="Table1", ref=ref, totalsRowCount=1 if totals else None)
    table._initialise_columns()
    for column, cell in zip(table.tableColumns, ws[1], strict=False):
        column.name = str(cell.value)
    ws.add_table(table)
    wb.save(path)
    return path


# --- 1. an Excel table's Total Row with a blank label ----------------------------------------------


def a_table_with_a_total_row(tmp_path: Path, formulas: dict[str, str]) -> Path:
    """valid_sheets' Facilities as an Excel table whose Total Row (row 5) has a blank label and the
    formulas given, each with the value Excel saves with it."""
    sheets = valid_sheets()
    sheets["Facilities"].append([0 if f"{letter}5" in formulas else None for letter in "ABCDEFG"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    as_table(path, "Facilities", "A1:G5")
    for cell, formula in formulas.items():
        with_formula(path, "Facilities", cell, formula, 2_447_000)
    return path


@pytest.mark.parametrize(
    "formula",
    [
        "SUBTOTAL(109,Table1[quantity])",
        "SUBTOTAL(109,[quantity])",
        "SUM(Table1[quantity])",
        "SUBTOTAL(109,Table1[[#Data],[quantity]])",
        "SUBTOTAL(109,Table1[[quantity]])",
        "AGGREGATE(9,4,Table1[Quantity])",
        "_xlfn.AGGREGATE(9,4,Table1[Quantity])",  # as Excel stores AGGREGATE
        "SUBTOTAL(101,Table1[quantity])",
    ],
)
def test_a_total_row_of_structured_references_with_a_blank_label_is_one_total_finding(tmp_path, formula):
    path = a_table_with_a_total_row(tmp_path, {"D5": formula})
    found = findings(path)
    assert [(cell, code, severity) for cell, code, severity, _ in found] == [("D5", "inconsistent-row", "error")], found
    assert f"'={formula}'" in found[0][3] and "count its figures twice" in found[0][3]


def test_a_total_row_counting_its_sites_is_one_finding_on_its_first_formula(tmp_path):
    path = a_table_with_a_total_row(
        tmp_path, {"A5": "SUBTOTAL(103,Table1[site])", "D5": "SUBTOTAL(109,Table1[quantity])"}
    )
    assert [(cell, code) for cell, code, _, _ in findings(path)] == [("A5", "inconsistent-row")]


@pytest.mark.parametrize(
    "formula",
    [
        "Table1[[#This Row],[quantity]]",
        "[@quantity]",
        "Table1[@quantity]*2",
        "SUM(Table1[[#This Row],[quantity]])",
        "SUM(Table1[renewable_kwh])",
        "SUBTOTAL(109,Table1[quantity])/2",
        "SUM(Table1[[#Totals],[quantity]])",
    ],
)
def test_a_structured_reference_that_is_no_total_of_its_column_is_a_figure(tmp_path, formula):
    """A row's own figure ([@quantity]), another column's sum, a total scaled: a row of data."""
    sheets = valid_sheets()
    sheets["Facilities"].append(["Gigiri annex", "KEN", "electricity", 0, "kwh", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    as_table(path, "Facilities", "A1:G5", totals=False)
    with_formula(path, "Facilities", "D5", formula, 1_000)
    assert findings(path) == []


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_a_total_row_never_calculated_is_a_total_not_a_formula_without_value(tmp_path, lang):
    """openpyxl saves formulas without their value: the row is blank but for its SUBTOTAL, and was
    reported as a formula to recalculate, to be refused as a total once recalculated."""
    path = template("UNEP", 2024, tmp_path / "UNEP_2024.xlsx", lang=lang)
    fill(path, example_rows("UNEP", 2024), lang=lang)
    tab = i18n.sheet_name("Facilities", lang)
    quantity = i18n.header("Facilities", "quantity", lang)
    wb = load_workbook(path)
    wb[tab]["D3"] = f"=SUBTOTAL(109,Table1[{quantity}])"
    wb.save(path)
    as_table(path, tab, "A1:H3")
    found = findings(path)
    assert [(cell, code) for cell, code, _, _ in found] == [("D3", "inconsistent-row")], found
    assert quantity in found[0][3]


def test_a_table_column_is_read_from_a_formula_as_excel_writes_it():
    assert table_column(b"SUBTOTAL(109,Table1[Quantity])") == "Quantity"
    assert table_column("SUBTOTAL(109,Tableau1[[#Data],[Quantit\u00e9]])") == "Quantit\u00e9"
    assert table_column(b"SUBTOTAL(109,Table1[Renewable electricity (kWh)])") == "Renewable electricity (kWh)"
    assert table_column(b"SUM(Table1[R&amp;D '[x']])") == "R&D [x]"  # XML and Excel's escapes
    assert table_column(b"_xlfn.AGGREGATE(9,4,Table1[Quantity])") == "Quantity"  # the prefix Excel stores
    assert table_column("_XLFN.aggregate(9,4,Table1[[#Data],[Quantity]])") == "Quantity"
    for other in [
        b"SUM(D2:D4)",
        b"SUM(Table1[#Data])",
        b"SUM(Table1[[quantity]:[unit]])",
        b"SUM([1]!T[q])",
        b"_xlfn._xlfn.AGGREGATE(9,4,Table1[Quantity])",
        b"_xlfn.AGGREGATE(9,4,Table1[@Quantity])",
    ]:
        assert table_column(other) is None, other


# --- 2. the headers repeated under the data ---------------------------------------------------------


def with_rows(tmp_path: Path, lang: str, rows: list[list[object]]) -> Path:
    """The template in `lang`, filled in, with `rows` added under Facilities' data (from row 3)."""
    path = template("UNEP", 2024, tmp_path / "UNEP_2024.xlsx", lang=lang)
    fill(path, example_rows("UNEP", 2024), lang=lang)
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", lang)]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return path


@pytest.mark.parametrize(("lang", "pasted"), [("en", "en"), ("fr", "fr"), ("es", "es"), ("en", "fr"), ("fr", "es")])
def test_the_headers_repeated_under_the_data_are_one_warning_and_the_rows_below_are_read(tmp_path, lang, pasted):
    headers = [i18n.header("Facilities", column, pasted) for column in FACILITIES]
    path = with_rows(tmp_path, lang, [headers, ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "measured"]])
    found = findings(path)
    assert [(cell, code, severity) for cell, code, severity, _ in found] == [("A3", "repeated-headers", "warning")]
    assert repr(headers[0]) in found[0][3]


@pytest.mark.parametrize("retyped", [str.upper, str.lower, lambda h: f" {h} "])
def test_headers_retyped_under_the_data_are_found_as_well(tmp_path, retyped):
    headers = [retyped(i18n.header("Facilities", column, "en")) for column in FACILITIES]
    path = with_rows(tmp_path, "en", [headers, ["Geneva office", "CHE", "natural_gas", 12_000, "m3", None, "measured"]])
    found = findings(path)
    assert [(cell, code, severity) for cell, code, severity, _ in found] == [("A3", "repeated-headers", "warning")]


def test_headers_repeated_in_other_columns_are_an_error_on_the_first_out_of_its_column(tmp_path):
    """A block pasted with its columns in another order: its rows are read under row 1's headers."""
    headers = [i18n.header("Facilities", column, "en") for column in FACILITIES]
    headers[3], headers[4] = headers[4], headers[3]
    path = with_rows(tmp_path, "en", [headers, ["Geneva office", "CHE", "natural_gas", "m3", 12_000, None, "measured"]])
    found = findings(path)
    assert ("D3", "inconsistent-row", "error") in [(cell, code, severity) for cell, code, severity, _ in found]
    [message] = [m for cell, _, _, m in found if cell == "D3"]
    assert "not in the columns of row 1: 'Unit' is in D3, under 'Quantity' in row 1" in message
    assert not [f for f in found if f[0][1:] == "3" and f[0] != "D3"], found


def with_headers_pasted(tmp_path: Path, headers: list[str]) -> list[tuple[str, str, str, str]]:
    """The findings of valid_sheets' Facilities (row 1 without the optional Comment) with a block
    pasted under its data (from row 5): `headers`, then a row of data with a comment in H."""
    sheets = valid_sheets()
    data: list[object] = ["Geneva office", "CHE", "natural_gas", 13_000, "m3", None, "estimated", "boiler"]  # no copy
    sheets["Facilities"] += [headers, data]
    return findings(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))


def test_headers_pasted_with_a_column_row_1_lacks_are_one_warning_when_the_others_are_in_their_place(tmp_path):
    """The pasted block has the Comment column, which row 1 lacks: its values are not read (the
    unknown column says so) and every column read is in its place, so the rows below are read
    right; the header row is the warning, not an error of values going to the wrong columns."""
    found = with_headers_pasted(tmp_path, [i18n.header("Facilities", column, "en") for column in FACILITIES])
    assert [(cell, code, severity) for cell, code, severity, _ in found] == [
        ("H1", "unknown-column", "warning"),
        ("A5", "repeated-headers", "warning"),
    ], found


def test_a_header_of_a_column_row_1_lacks_over_a_column_read_is_out_of_its_column(tmp_path):
    """'Comment' pasted over row 1's data_quality (G): the comments below would be read as data
    qualities."""
    headers = [i18n.header("Facilities", column, "en") for column in FACILITIES[:6]] + ["Comment"]
    found = with_headers_pasted(tmp_path, headers)
    assert ("G5", "inconsistent-row", "error") in [(cell, code, severity) for cell, code, severity, _ in found]
    [message] = [m for cell, _, _, m in found if cell == "G5"]
    assert "'Comment' is in G5, under 'data_quality' in row 1" in message


@pytest.mark.parametrize(
    "row",
    [
        ["Site", "KEN", "electricity", 1_000, "kwh", None, "measured"],  # a site named Site
        ["Site", "KEN", "Energy type", 1_000, "kwh", None, "measured"],
    ],
)
def test_a_row_of_data_holding_a_header_is_no_repeated_header_row(tmp_path, row):
    found = findings(with_rows(tmp_path, "en", [row]))
    assert "repeated-headers" not in {code for _, code, _, _ in found}
    assert all("repeats the headers" not in message for _, _, _, message in found)


# --- 3. a note typed alone in a row ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "column", "cell"), [("en", 1, "A3"), ("en", 2, "B3"), ("fr", 1, "A3"), ("es", 8, "H3"), ("en", 4, "D3")]
)
def test_a_note_alone_in_a_row_is_one_error_on_its_cell(tmp_path, lang, column, cell):
    note = [None] * (column - 1) + ["Source: invoices from the landlord"]
    found = findings(with_rows(tmp_path, lang, [note]))
    assert [(c, code, severity) for c, code, severity, _ in found] == [(cell, "inconsistent-row", "error")], found
    assert "'Source: invoices from the landlord'" in found[0][3]
    assert repr(i18n.header("Facilities", "comment", lang)) in found[0][3]


def test_a_note_says_where_it_belongs():
    from pipeline.intake.findings import finding

    text = finding(
        "inconsistent-row.note-row", line=9, cell="A9", value="Source: invoices", comment="'Comment'"
    ).message
    assert text.startswith("row 9 holds nothing but 'Source: invoices' in A9, so it is read as a row of data")
    assert "put it in the 'Comment' column of the row it is about" in text


@pytest.mark.parametrize("value", ["CHE", "Measured", 12_000, "1 200 kWh"])
def test_a_value_of_data_alone_in_a_row_is_no_note(tmp_path, value):
    """A code of its column's list, or a figure: the row's empty cells are said, as before."""
    column = {"CHE": 2, "Measured": 7, 12_000: 4, "1 200 kWh": 4}[value]
    row = [None] * (column - 1) + [value]
    found = findings(with_rows(tmp_path, "en", [row]))
    codes = {code for _, code, _, _ in found}
    assert "missing-value" in codes and "inconsistent-row" not in codes, found


def test_the_rows_of_one_value_alone_are_decided_once_per_distinct_value(tmp_path, monkeypatch):
    """A drop-down value filled down far past the data, and a note pasted on many rows: each
    distinct text of a column is looked up in its list once, not once per row (60,000 rows of
    'Measured' took three times as long to read), with the same findings."""
    from pipeline.intake import normalise
    from pipeline.intake.read import read_workbook

    looked_up: list[tuple[str, str]] = []
    a_code = normalise._a_code

    def counted(text, col):
        looked_up.append((text, col.name))
        return a_code(text, col)

    monkeypatch.setattr(normalise, "_a_code", counted)
    sheets = valid_sheets()
    measured: list[object] = [None] * 6 + ["Measured"]
    estimated: list[object] = [None] * 6 + ["Estimated"]
    sheets["Facilities"] += [measured] * 300 + [["see annex"]] * 3 + [estimated] * 300
    raw = read_workbook(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets))
    found = [(f.cell, f.code, f.severity, f.message) for f in normalise.normalise(raw).findings]  # in this process
    assert len(looked_up) == len(set(looked_up)), sorted(set(looked_up))
    assert {("Measured", "data_quality"), ("see annex", "site"), ("Estimated", "data_quality")} <= set(looked_up)
    assert [(cell, code) for cell, code, _, _ in found] == [(f"A{row}", "inconsistent-row") for row in (305, 306, 307)]


@pytest.mark.parametrize("sheet", ["Refrigerants", "Offsets", "AirTravel"])
def test_a_blank_table_tab_is_a_sheet_with_nothing_to_report(tmp_path, sheet):
    """The contract: "every table sheet may be empty (nothing to report) but must exist". A tab
    cleared of everything, its headers too, was five or more missing columns and a rejection; it is
    now an empty sheet, as a tab holding its headers alone is. A tab with a value but no headers
    still misses its columns, and a blank Field/Value sheet its fields."""
    from openpyxl import load_workbook

    from pipeline.api import check_files
    from tests.builders import valid_sheets, write_workbook

    path = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets())
    wb = load_workbook(path)
    wb[sheet].delete_rows(1, wb[sheet].max_row)
    wb.save(path)
    [sub] = check_files([path], jobs=1)
    assert sub.findings == [] and sub.is_valid, [f.message for f in sub.findings]
    assert sub.tables[sheet].empty

    wb[sheet]["C3"] = "R-410A"
    wb.save(path)
    [sub] = check_files([path], jobs=1)
    assert "missing-column" in {f.code for f in sub.findings if f.sheet == sheet}

    del wb[sheet]["C3"]
    wb["Entity"].delete_rows(1, wb["Entity"].max_row)
    wb.save(path)
    [sub] = check_files([path], jobs=1)
    assert {f.sheet for f in sub.findings} == {"Entity"} and not sub.is_valid  # its required fields
