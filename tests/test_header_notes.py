"""A header that is a column's name with more said after it: 'Quantity (kWh, L, m3)', 'Quantity
consumed'. It was reported as a required column missing from row 1 (no cell) and an unknown column
ignored, where 'Quantity (kWh)' got one error on its cell naming the column to rename it to."""

from __future__ import annotations

import pytest

from pipeline.api import check_files
from tests.builders import check_cell, set_cell, valid_sheets, write_workbook


@pytest.mark.parametrize(
    ("lang", "header", "named"),
    [
        ("en", "Quantity (kWh, L, m3)", "Quantity"),
        ("en", "Quantity consumed", "Quantity"),
        ("en", "Quantity in 2024", "Quantity"),
        ("fr", "Quantité\n(kWh, L, m3)", "Quantité"),
        ("es", "Cantidad consumida", "Cantidad"),
        ("en", "Quantity (kWh)", "Quantity"),
    ],
)
def test_a_header_that_begins_with_a_columns_name_is_told_to_be_renamed_on_its_cell(tmp_path, lang, header, named):
    sub = check_cell(tmp_path, "Facilities", "D1", header, lang=lang)
    found = [(f.cell, f.code, f.severity) for f in sub.findings]
    assert found == [("D1", "missing-column", "error")], sub.findings
    assert named in sub.findings[0].message


@pytest.mark.parametrize("header", ["Qty", "Amount", "Notes on quantity"])
def test_a_header_that_does_not_begin_so_is_still_unknown(tmp_path, header):
    sub = check_cell(tmp_path, "Facilities", "D1", header)
    assert sorted((f.cell, f.code) for f in sub.findings) == [("", "missing-column"), ("D1", "unknown-column")]


def test_an_extra_column_beginning_with_a_present_columns_name_stays_an_extra(tmp_path):
    """Last year's figures beside this year's: 'Quantity' is there, so 'Quantity 2023' is no rename."""
    sheets = set_cell(valid_sheets(), "Facilities", "H1", "Quantity 2023")
    set_cell(sheets, "Facilities", "H2", 2_300_000)
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("H1", "unknown-column", "warning")]


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        ("en", "Renewable %"),
        ("en", "renewable_share"),
        ("en", "Renewable share (%)"),
        ("en", "Renewable (%)"),
        ("fr", "Part renouvelable"),
    ],
)
def test_a_header_naming_a_share_is_never_told_to_become_a_column_of_an_amount(tmp_path, lang, header):
    """'Renewable %' in place of 'Renewable electricity (kWh)': renamed as told, its shares (30)
    would load as kWh and pass the check against the quantity. It is an extra column, ignored
    with its warning, as the contract says of an unknown column."""
    sub = check_cell(tmp_path, "Facilities", "F1", header, lang=lang)
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("F1", "unknown-column", "warning")]
    assert sub.is_valid


def test_a_share_header_still_stands_for_a_column_of_a_share(tmp_path):
    sub = check_cell(tmp_path, "Entity", "A5", "Coverage %")
    assert [(f.cell, f.code) for f in sub.findings] == [("A5", "missing-field")], sub.findings


def test_a_note_that_only_mentions_a_share_leaves_a_misspelt_header_its_column(tmp_path):
    sub = check_cell(tmp_path, "Facilities", "D1", "Quantiy (kWh; 50% estimated)")
    assert [(f.cell, f.code) for f in sub.findings] == [("D1", "missing-column")]
    assert "Quantity" in sub.findings[0].message
