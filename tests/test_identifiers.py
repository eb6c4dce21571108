"""Registry identifiers Excel took for numbers: a project id or a serial typed without an
apostrophe is shown in scientific notation and kept to 15 digits, the rest lost for good."""

from __future__ import annotations

import pytest

from pipeline.api import check_files
from tests.builders import set_cell, valid_sheets, write_workbook


def offsets_with(tmp_path, cell: str, value: object):
    sheets = set_cell(valid_sheets(), "Offsets", cell, value)
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    return sub


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("B2", 12345678901234567890),  # a number cell: Excel holds 1.2345678901234568e19
        ("B2", "1.23457E+19"),  # the text Excel shows, pasted back as text
        ("B2", "1,23457E+19"),  # as a French or Spanish Excel shows it
        ("B2", 1234567890123456),  # sixteen digits: one more than Excel keeps
        ("C2", 1.2345678901234567e19),
        ("C2", " 9.87654E+21 "),
    ],
)
def test_an_identifier_excel_rounded_is_refused_with_how_to_type_it(tmp_path, cell, value):
    sub = offsets_with(tmp_path, cell, value)
    errors = [f for f in sub.findings if f.is_error]
    assert [(f.sheet, f.cell, f.code) for f in errors] == [("Offsets", cell, "type-error")], errors
    assert "15 digits" in errors[0].message and "apostrophe" in errors[0].message


@pytest.mark.parametrize(
    ("cell", "value"), [("B2", 1234567), ("B2", "VCS-1234"), ("B2", "123456789012345678901"), ("B2", "1E5-project")]
)
def test_an_identifier_of_digits_typed_as_text_or_short_is_kept(tmp_path, cell, value):
    sub = offsets_with(tmp_path, cell, value)
    assert not [f for f in sub.findings if f.is_error], sub.findings


def test_the_message_is_in_the_workbooks_language(tmp_path):
    sheets = set_cell(valid_sheets(), "Offsets", "B2", "1,23457E+19")
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1, lang="fr")
    [error] = [f for f in sub.findings if f.is_error]
    assert "notation scientifique" in error.message and "apostrophe" in error.message
