"""Total rows whose label does not start with the word: a LibreOffice user's 'Nairobi total' with
=SUM(D2,D4) under the sites loaded, the sheet's electricity counted twice, with no finding."""

from __future__ import annotations

import re

import pytest

from pipeline.api import check_files
from tests.builders import valid_sheets, write_workbook


@pytest.mark.parametrize(
    "label",
    [
        "Nairobi total",
        "Site subtotal",
        "Sous-total Genève",
        "Total",
        "All sites",
        "Tous les sites",
        "Todos los sitios",
        "Σ",
        "∑ 2024",
        "Nairobi-total",
        "Gran total",
    ],
)
def test_a_total_row_labelled_otherwise_is_refused(tmp_path, label):
    sheets = valid_sheets()
    sheets["Facilities"].append([label, "KEN", "electricity", 2_400_000, "kwh", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    errors = [(f.cell, f.code, f.message) for f in sub.findings if f.is_error]
    assert [(cell, code) for cell, code, _ in errors] == [("A5", "inconsistent-row")], errors
    assert "count its figures twice" in errors[0][2] and label in errors[0][2]


@pytest.mark.parametrize(
    "site", ["TotalEnergies depot", "Sumatra office", "Totality house", "Summit building", "Lump sum store", "Nairobi"]
)
def test_a_site_whose_name_holds_such_letters_is_a_site(tmp_path, site):
    sheets = valid_sheets()
    sheets["Facilities"].append([site, "KEN", "diesel", 100, "litre", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    assert not [f for f in sub.findings if f.is_error], sub.findings


def with_formula(path, sheet: str, cell: str, formula: str, cached: float):
    """The workbook with `cell` of `sheet` holding `formula` and its cached value, as Excel and
    LibreOffice save a formula they computed."""
    from tests.test_producers import rewrite_sheets

    new = f'<c r="{cell}" t="n"><f>{formula}</f><v>{cached:g}</v></c>'.encode()
    return rewrite_sheets(
        path, (sheet,), lambda xml: re.sub(rb'<c r="' + cell.encode() + rb'"[^>]*(?:/>|>.*?</c>)', lambda _: new, xml)
    )


@pytest.mark.parametrize("formula", ["SUM(D2:D4)", "SUM(D2,D4)", "SUBTOTAL(9,D2:D4)", "D2+D3+D4", "SUM($D$2:$D$4)"])
def test_a_row_whose_figure_adds_up_the_column_above_is_a_total_whatever_its_label(tmp_path, formula):
    """A site typed again under the sites with =SUM of their figures loaded and doubled them."""
    sheets = valid_sheets()
    sheets["Facilities"] += [
        ["Gigiri annex", "KEN", "electricity", 1_000, "kwh", None, "measured"],
        ["Gigiri compound", "KEN", "electricity", 0, "kwh", None, "measured"],
    ]
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    with_formula(path, "Facilities", "D5", formula, 4_400_000)
    [sub] = check_files([path], jobs=1)
    errors = [(f.cell, f.code, f.value) for f in sub.findings if f.is_error]
    assert errors == [("D5", "inconsistent-row", f"={formula}")], errors


@pytest.mark.parametrize("formula", ["SUM(E2:E4)", "D2*1000", "SUM(Energy!D2:D4)", "SUM(D2:D6)", "SUM(D2:D4)/2", "D4"])
def test_a_formula_that_is_no_sum_of_its_column_above_is_a_figure(tmp_path, formula):
    sheets = valid_sheets()
    sheets["Facilities"] += [
        ["Gigiri annex", "KEN", "electricity", 1_000, "kwh", None, "measured"],
        ["Gigiri compound", "KEN", "electricity", 0, "kwh", None, "measured"],
    ]
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    with_formula(path, "Facilities", "D5", formula, 4_400)
    [sub] = check_files([path], jobs=1)
    assert not [f for f in sub.findings if f.is_error], [f.message for f in sub.findings]


@pytest.mark.parametrize(
    ("lang", "site", "kept"),
    [
        ("en", "Station Total Mombasa", "TotalEnergies Mombasa"),
        ("en", "Total Mombasa depot", "keep the row"),
        ("fr", "Station Total Mombasa", "gardez la ligne"),
        ("es", "Estación Total Mombasa", "conserve la fila"),
    ],
)
def test_a_site_named_with_the_word_total_is_told_how_to_keep_its_row(tmp_path, lang, site, kept):
    """A fuel station of the brand Total is a real site: the error still stops it (a total would
    count the sheet twice), but says how to keep the row, in the workbook's language."""
    sheets = valid_sheets()
    sheets["Facilities"].append([site, "KEN", "diesel", 35_000, "litre", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1, lang=lang)
    [error] = [f for f in sub.findings if f.is_error]
    assert (error.cell, error.code) == ("A5", "inconsistent-row") and site in error.message
    assert kept in error.message, error.message


@pytest.mark.parametrize("label", ["Total", "TOTAL 2024", "Grand total", "Total général", "Total of all sites", "Σ"])
def test_a_label_that_is_a_total_alone_says_only_to_delete_the_row(tmp_path, label):
    sheets = valid_sheets()
    sheets["Facilities"].append([label, "KEN", "electricity", 2_400_000, "kwh", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    [error] = [f for f in sub.findings if f.is_error]
    assert "Delete the row" in error.message and "TotalEnergies" not in error.message, error.message


@pytest.mark.parametrize("producer", ["cells without r", "rows and cells without r"])
@pytest.mark.parametrize("formula", ["SUM(D2:D4)", "D2+D3+D4", "SUBTOTAL(109,Table1[quantity])"])
def test_a_total_row_is_found_in_a_sheet_whose_cells_are_placed_by_position(tmp_path, producer, formula):
    """A program that writes no cell references (each cell follows the one before) takes the
    guard's exact walk: its sums of the column above are total rows as on the fast path."""
    from tests.test_producers import PRODUCERS, rewrite_sheets

    sheets = valid_sheets()
    sheets["Facilities"] += [
        ["Gigiri annex", "KEN", "electricity", 1_000, "kwh", None, "measured"],
        ["Gigiri compound", "KEN", "electricity", 0, "kwh", None, "measured"],
    ]
    # such a program writes each cell, a blank one empty: a cell left out would move the next one left
    sheets["Facilities"] = [["" if v is None else v for v in row] for row in sheets["Facilities"]]
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    with_formula(path, "Facilities", "D5", formula, 4_400_000)
    rewrite_sheets(path, ("Facilities",), PRODUCERS[producer])
    [sub] = check_files([path], jobs=1)
    errors = [(f.cell, f.code, f.value) for f in sub.findings if f.is_error]
    assert errors == [("D5", "inconsistent-row", f"={formula}")], errors
