"""Registry identifiers Excel took for numbers: a project id or a serial typed without an
apostrophe is shown in scientific notation and kept to 15 digits, the rest lost for good."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("between", ["\n", "; ", ", ", "\r\n"])
def test_two_serial_ranges_in_one_cell_are_one_range_per_row(tmp_path, between):
    """Two blocks typed in one cell (Alt+Enter, or a list) were read as one serial whose numbers ran
    together: the error said "correct the quantity", and once it was, the first block was never
    compared with other entities' claims."""
    value = f"CER-UNEP-2024-000001-005000{between}CER-UNEP-2024-005001-006000"
    sub = offsets_with(tmp_path, "C2", value)
    errors = [(f.cell, f.code) for f in sub.findings if f.severity == "error"]
    assert errors == [("C2", "type-error")], errors
    [found] = [f for f in sub.findings if f.severity == "error"]
    assert "holds 2 serial ranges" in found.message and "one serial range per row" in found.message


@pytest.mark.parametrize(
    "value", ["CER-UNEP-2024-000001-005000", "1,234,567", "GS1-1-IN-GS2445-16-2018-19136-22500-22511"]
)
def test_one_serial_or_a_grouped_number_is_one(value):
    from pipeline import serials

    assert serials.several(value) == 0


SERIAL_CHARACTERS = "0123456789-ABCxyz ;,\n\r\t\u00ad\u2013\u2212\uff0d\u0410\u0415\u0391\u00e9\u200b\u00b2\u0661\uff11"


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet=SERIAL_CHARACTERS, max_size=40), st.text(max_size=20), st.integers()))
def test_the_quick_answers_on_serials_are_those_of_the_whole_reading(value):
    """`several` answers at once for a text with nothing between two ranges, and
    `foreign_characters` for an ASCII one: what the whole reading of the value gives."""
    from pipeline import serials

    parts = (
        [p for p in serials._BETWEEN_RANGES.split(value) if serials._looks_like_a_serial(p)]
        if type(value) is str
        else []
    )
    assert serials.several(value) == (len(parts) if len(parts) > 1 else 0)
    found = [
        ch for ch in dict.fromkeys(serials.normalise(value)) if not ch.isascii() and unicodedata.category(ch)[0] in "LN"
    ]
    assert serials.foreign_characters(value) == found
