"""Every rule of the submission contract: a workbook with one mistake, and the exact cell reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline import api, catalogue, codelists
from pipeline.api import check_files
from pipeline.cells import cell_name
from pipeline.intake.normalise import ParsedSheet
from schemas import i18n
from tests.builders import example_rows, fill, set_cell, valid_sheets, write_workbook

YEAR = 2024


def check_one(tmp_path: Path, sheets) -> list:
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    return sub


def test_valid_workbook_has_no_findings(tmp_path):
    sub = check_one(tmp_path, valid_sheets())
    assert sub.findings == []
    assert sub.is_valid
    assert sub.entity["entity_code"] == "UNEP" and sub.entity["personnel"] == 1250
    assert list(sub.tables["Facilities"]["quantity"]) == [2_400_000, 35_000, 12_000]
    assert list(sub.tables["Facilities"]["source_row"]) == [2, 3, 4]
    assert sub.ems["status"] == "certified" and sub.ems["policy_adopted"] is True


# (sheet, cell, value typed by the focal point, expected code)
MISTAKES = [
    ("Entity", "B2", "UNEPX", "not-in-codelist"),
    ("Entity", "B3", 2007, "out-of-range"),
    ("Entity", "B3", dt.date.today().year + 1, "out-of-range"),
    ("Entity", "B3", "2024.5", "type-error"),
    ("Entity", "B4", 0, "out-of-range"),
    ("Entity", "B4", "twelve", "type-error"),
    ("Entity", "B4", 12.5, "type-error"),
    ("Entity", "B5", 120, "out-of-range"),
    ("Entity", "B6", -1, "out-of-range"),
    ("Entity", "B7", "   ", "missing-value"),
    ("Entity", "B8", "amina.otieno.un.org", "invalid-email"),
    ("Entity", "B9", None, "missing-value"),
    ("Facilities", "A2", None, "missing-value"),
    ("Facilities", "B2", "Kenya", "not-in-codelist"),
    ("Facilities", "C2", "solar", "not-in-codelist"),
    ("Facilities", "D2", "approx. 500", "type-error"),
    ("Facilities", "D2", "1.200.5", "type-error"),  # two points: no way to read it
    ("Facilities", "D2", -5, "out-of-range"),
    ("Facilities", "D2", "-5", "out-of-range"),
    ("Facilities", "E2", "litre", "unit-mismatch"),
    ("Facilities", "E3", "kwh", "unit-mismatch"),
    ("Facilities", "F2", 3_000_000, "out-of-range"),
    ("Facilities", "F3", 10, "inconsistent-row"),
    ("Facilities", "G2", "guess", "not-in-codelist"),
    ("Refrigerants", "C2", "r999", "not-in-codelist"),
    ("Refrigerants", "D2", -1, "out-of-range"),
    ("Vehicles", "C2", "hydrogen", "not-in-codelist"),
    ("Vehicles", "E2", "kwh", "unit-mismatch"),
    ("AirTravel", "A2", "XXX", "not-in-codelist"),
    ("AirTravel", "B2", None, "missing-value"),
    ("AirTravel", "B2", "NBO", "inconsistent-row"),
    ("AirTravel", "C2", 6000, "inconsistent-row"),
    ("AirTravel", "C4", None, "missing-value"),
    ("AirTravel", "C4", 0, "out-of-range"),
    ("AirTravel", "D2", "economy plus", "not-in-codelist"),
    ("AirTravel", "E2", 0, "out-of-range"),
    ("AirTravel", "E2", 2.5, "type-error"),
    ("AirTravel", "F2", "maybe", "not-in-codelist"),
    ("OtherTravel", "A2", "plane", "not-in-codelist"),
    ("OtherTravel", "B2", "abc", "type-error"),
    ("Offsets", "A2", "voluntary", "not-in-codelist"),
    ("Offsets", "B2", None, "missing-value"),
    ("Offsets", "D2", 1999, "out-of-range"),
    ("Offsets", "D2", YEAR + 2, "out-of-range"),
    ("Offsets", "E2", 0, "out-of-range"),
    ("Offsets", "F2", dt.date(YEAR - 1, 12, 31), "out-of-range"),
    ("Offsets", "F2", "31/02/2025", "type-error"),  # no 31 February
    ("Waste", "C2", "textiles", "not-in-codelist"),
    ("Waste", "D2", "burnt", "not-in-codelist"),
    ("Waste", "F2", "lbs", "not-in-codelist"),
    ("Water", "C2", "sea", "not-in-codelist"),
    ("Water", "E2", "gallon", "not-in-codelist"),
    ("Water", "F2", None, "missing-value"),
    ("EMS", "B2", "done", "not-in-codelist"),
    ("EMS", "B3", "none", "inconsistent-row"),
    ("EMS", "B4", 101, "out-of-range"),
    ("EMS", "B5", "perhaps", "not-in-codelist"),
    ("EMS", "B6", "next year", "type-error"),
]


@pytest.mark.parametrize("sheet,cell,value,code", MISTAKES, ids=[f"{s}!{c}={v!r}" for s, c, v, _ in MISTAKES])
def test_each_mistake_is_reported_on_its_cell(tmp_path, sheet, cell, value, code):
    sub = check_one(tmp_path, set_cell(valid_sheets(), sheet, cell, value))
    assert not sub.is_valid
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [(sheet, cell, code)]
    [f] = sub.findings
    assert f.severity == "error" and f.file == "UNEP_2024.xlsx"
    assert f.row == int(cell[1:])
    assert f.message.strip()
    assert sub.tables == {}, "a submission with errors yields no typed tables to load"


# Spellings the contract accepts: they must validate clean.
ACCEPTED = [
    ("Entity", "B2", " unep "),
    ("Entity", "B4", "1 250"),
    ("Entity", "B6", None),
    ("Facilities", "B2", " ken"),
    ("Facilities", "C4", "Natural Gas"),
    ("Facilities", "C4", "natural-gas"),
    ("Facilities", "D2", "2 400 000"),
    ("Facilities", "D2", "2,400,000.5"),
    ("Facilities", "E2", "KWh"),
    ("Facilities", "G2", "Measured"),
    ("AirTravel", "A2", "nbo "),
    ("AirTravel", "D2", "Premium Economy"),
    ("AirTravel", "F2", "YES"),
    ("Offsets", "F2", f"{YEAR + 1}-03-15"),
    ("Offsets", "D2", YEAR + 1),
    ("EMS", "B2", "Certified"),
    ("EMS", "B6", None),
]


@pytest.mark.parametrize("sheet,cell,value", ACCEPTED, ids=[f"{s}!{c}={v!r}" for s, c, v in ACCEPTED])
def test_accepted_spellings_validate_clean(tmp_path, sheet, cell, value):
    sub = check_one(tmp_path, set_cell(valid_sheets(), sheet, cell, value))
    assert sub.findings == []


def test_text_numbers_and_codes_are_typed_for_loading(tmp_path):
    sheets = set_cell(valid_sheets(), "Facilities", "D2", "2 400 000")
    set_cell(sheets, "Facilities", "C4", "Natural Gas")
    set_cell(sheets, "AirTravel", "F2", "Yes")
    sub = check_one(tmp_path, sheets)
    facilities = sub.tables["Facilities"]
    assert facilities.loc[0, "quantity"] == 2_400_000.0
    assert facilities.loc[2, "energy_type"] == "natural_gas"
    assert bool(sub.tables["AirTravel"].loc[0, "round_trip"]) is True
    assert sub.tables["Offsets"].loc[0, "retirement_date"].date() == dt.date(YEAR + 1, 3, 15)


def test_messages_name_value_and_fix(tmp_path):
    sheets = set_cell(valid_sheets(), "Facilities", "E2", "litre")
    set_cell(sheets, "Facilities", "B3", "Kenya")
    sub = check_one(tmp_path, sheets)
    by_cell = {f.cell: f for f in sub.findings}
    assert by_cell["E2"].message == (
        "expected one of 'Kilowatt-hour', 'Megawatt-hour', 'Gigajoule' for 'Electricity (purchased or generated)'; "
        "found 'litre'."
    )
    assert by_cell["E2"].value == "litre" and by_cell["E2"].column == "unit"
    assert "use KEN" in by_cell["B3"].message


def test_missing_and_renamed_sheets(tmp_path):
    sheets = valid_sheets()
    del sheets["Water"]
    sheets["AirTravel 2025"] = sheets.pop("AirTravel")
    sub = check_one(tmp_path, sheets)
    missing = [f for f in sub.findings if f.code == "missing-sheet"]
    assert {f.sheet for f in missing} == {"AirTravel", "Water"}
    air = next(f for f in missing if f.sheet == "AirTravel")
    assert "rename it to 'AirTravel'" in air.message and "AirTravel, Water" in air.message
    assert "'AirTravel 2025'" in air.message
    assert not any(f.code == "unknown-sheet" for f in sub.findings), "the renamed sheet is explained once"


def test_headers_ignore_case_and_spaces_but_nothing_else(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"][0][3] = "  Quantity "
    assert check_one(tmp_path, sheets).findings == []
    sheets["Facilities"][0][3] = "qty"
    sheets["Facilities"][0].append("notes")  # like no column ("comments" is the Comment column misspelt)
    sub = check_one(tmp_path, sheets)
    codes = {(f.code, f.severity, f.cell) for f in sub.findings}
    assert ("missing-column", "error", "") in codes
    assert ("unknown-column", "warning", "D1") in codes
    assert ("unknown-column", "warning", "H1") in codes
    # the missing column is reported once, not on every row
    assert [f.code for f in sub.findings].count("missing-column") == 1
    assert not any(f.code == "missing-value" for f in sub.findings)


def test_columns_in_any_order_and_optional_column_absent(tmp_path):
    sheets = valid_sheets()
    sheets["Water"] = [[row[i] for i in (5, 4, 3, 2, 1, 0)] for row in sheets["Water"]]
    sheets["Facilities"] = [row[:5] + row[6:] for row in sheets["Facilities"]]
    sub = check_one(tmp_path, sheets)
    assert sub.findings == []
    assert sub.tables["Facilities"]["renewable_kwh"].isna().all()


def test_fields_in_any_order_missing_and_unknown(tmp_path):
    sheets = valid_sheets()
    entity = sheets["Entity"]
    sheets["Entity"] = [entity[0]] + list(reversed(entity[1:]))
    assert check_one(tmp_path, sheets).findings == []
    sheets["Entity"] = [r for r in sheets["Entity"] if r[0] != "personnel"] + [["phone", "+254"]]
    sub = check_one(tmp_path, sheets)
    assert [(f.code, f.severity) for f in sub.findings] == [("missing-field", "error"), ("unknown-field", "warning")]
    assert sub.findings[1].cell == "A9"


def test_blank_rows_are_skipped_and_empty_sheets_are_fine(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"].insert(2, [None] * 7)
    sheets["Facilities"].insert(3, ["", " ", None, None, None, None, None])
    sheets["Vehicles"] = sheets["Vehicles"][:1]
    sub = check_one(tmp_path, sheets)
    assert sub.findings == []
    assert list(sub.tables["Facilities"]["source_row"]) == [2, 5, 6]
    assert sub.tables["Vehicles"].empty


def test_a_yes_no_answer_typed_as_true_or_false_is_read_as_yes_or_no(tmp_path):
    """TRUE or FALSE typed in Excel or LibreOffice (VRAI, VERDADERO), or a Google Sheets checkbox,
    is a boolean cell: yes or no. A 1 or a 0 is no answer of the list."""
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "F2", True)
    set_cell(sheets, "AirTravel", "F3", False)
    set_cell(sheets, "AirTravel", "F4", 1)
    sub = check_one(tmp_path, sheets)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("AirTravel", "F4", "not-in-codelist")]
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "F2", False)
    set_cell(sheets, "AirTravel", "F4", True)
    [row] = [r for r in sheets["EMS"] if r[0] == "policy_adopted"]
    row[1] = False
    sub = check_one(tmp_path, sheets)
    assert sub.findings == []
    assert list(sub.tables["AirTravel"]["round_trip"]) == [False, True, True]
    assert sub.ems["policy_adopted"] is False


def test_an_error_or_a_formula_in_a_column_that_is_not_read_is_ignored_with_it(tmp_path):
    """A focal point's own column (notes, a lookup showing #N/A) is ignored, with a warning on its
    header: so are its Excel errors and formulas without a saved value. In a column that is
    read, they are errors, as before."""
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "H1", "Notes")
    set_cell(sheets, "Facilities", "H2", "#N/A")
    set_cell(sheets, "Facilities", "H3", "=1/0")
    set_cell(sheets, "Facilities", "J4", "#REF!")  # no header at all
    [row] = [r for r in sheets["EMS"] if r[0] == "standard"]
    row.extend(["#DIV/0!", "=A1"])  # beside a field's value
    sub = check_one(tmp_path, sheets)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("Facilities", "H1", "unknown-column")]
    assert sub.is_valid
    set_cell(sheets, "Facilities", "D3", "#N/A")
    set_cell(sheets, "Facilities", "G4", "=1/0")
    [row] = [r for r in sheets["EMS"] if r[0] == "coverage_percent"]
    row[1] = "#VALUE!"
    sub = check_one(tmp_path, sheets)
    errors = sorted((f.sheet, f.cell, f.code, f.column) for f in sub.findings if f.is_error)
    headers = dict(zip(sheets["Facilities"][0], "ABCDEFG", strict=False))
    assert [(sheet, cell, code) for sheet, cell, code, _ in errors] == [
        ("EMS", "B4", "type-error"),
        ("Facilities", "D3", "type-error"),
        ("Facilities", "G4", "formula-without-value"),
    ]
    # named by their header as written, or their field's name, as every other finding on a cell
    assert [column for *_, column in errors] == [
        "coverage_percent",
        next(h for h, letter in headers.items() if letter == "D"),
        next(h for h, letter in headers.items() if letter == "G"),
    ]


def test_a_misspelt_header_of_an_optional_column_is_an_error_not_a_silent_loss(tmp_path):
    """'Renewable electricty (kWh)' for the optional renewable column: its figures would be
    dropped with no more than a warning. It is an error on the header naming the column, as for
    a required one; a header like nothing of the sheet stays a warning."""
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "F1", "Renewable electricty (kWh)")
    set_cell(sheets, "Facilities", "H1", "Notes")
    sub = check_one(tmp_path, sheets)
    found = [(f.cell, f.code, f.severity) for f in sub.findings]
    assert found == [("F1", "missing-column", "error"), ("H1", "unknown-column", "warning")]
    assert "'Renewable electricity (kWh)'" in sub.findings[0].message and "required" not in sub.findings[0].message
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "H1", "Renewable electricty (kWh)")  # the column itself is there
    sub = check_one(tmp_path, sheets)
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("H1", "unknown-column", "warning")]


def test_error_rows_keep_their_excel_row_after_blank_rows(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"].insert(1, [None] * 7)
    set_cell(sheets, "Facilities", "D5", -1)
    sub = check_one(tmp_path, sheets)
    assert [(f.cell, f.code) for f in sub.findings] == [("D5", "out-of-range")]


def test_duplicate_serial_within_a_workbook(tmp_path):
    sheets = valid_sheets()
    sheets["Offsets"].append(list(sheets["Offsets"][1]))
    sub = check_one(tmp_path, sheets)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("Offsets", "C3", "duplicate-serial")]


def test_a_serial_range_too_long_to_read_is_its_own_error(tmp_path):
    """A serial of 32,767 characters in 16,384 parts (Excel's longest cell) made reading it take
    half a gigabyte per row. A serial beyond 200 characters or 32 parts is an error on its cell,
    never read; the serials of real registries pass."""
    import resource

    sheets = valid_sheets()
    row = list(sheets["Offsets"][1])
    verra = "10097-186290133-186290232-VCS-VCU-263-VER-BR-14-1686-01012017-31122017-0"
    cdm = "BR-5-123456-1-1-0-1234 - BR-5-123999-1-1-0-1234"
    credits = {verra: 100, cdm: 544}  # the ranges' counts: 1 credit = 1 tCO2e
    for serial in ("-".join(["1"] * 16_383) + "-x", "a" * 201, "-".join(["12"] * 33), verra, cdm, "1" * 200):
        sheets["Offsets"].append([*row[:2], serial, row[3], credits.get(serial, row[4]), *row[5:]])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sub = check_one(tmp_path, sheets)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: far below 0.5 GB
    assert [(f.cell, f.code) for f in sub.findings] == [
        ("C3", "out-of-range"),
        ("C4", "out-of-range"),
        ("C5", "out-of-range"),
    ]
    assert "this one has 32767 characters in 16384 parts" in sub.findings[0].message


def test_formula_without_cached_value(tmp_path):
    sub = check_one(tmp_path, set_cell(valid_sheets(), "Facilities", "D2", "=1200*2"))
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("Facilities", "D2", "formula-without-value")]


def test_many_workbooks_validated_together_keep_their_findings_apart(tmp_path):
    good = write_workbook(tmp_path / "good.xlsx", valid_sheets("UNEP"))
    bad = write_workbook(tmp_path / "bad.xlsx", set_cell(valid_sheets("WFP"), "Water", "D2", -3))
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook at all")
    subs = check_files([good, bad, junk, tmp_path / "absent.xlsx"], jobs=2)
    assert [s.file_name for s in subs] == ["good.xlsx", "bad.xlsx", "junk.xlsx", "absent.xlsx"]
    assert subs[0].is_valid and subs[0].findings == []
    assert [(f.file, f.cell) for f in subs[1].findings] == [("bad.xlsx", "D2")]
    assert [f.code for f in subs[2].findings] == ["unreadable-file"]
    assert [f.code for f in subs[3].findings] == ["unreadable-file"]
    assert subs[1].key == "WFP_2024" and subs[2].key == "junk"


def test_excel_error_cell_is_reported_as_such(tmp_path):
    """openpyxl stores '#DIV/0!' as an error cell (t="e"); calamine reads it as empty."""
    sub = check_one(tmp_path, set_cell(valid_sheets(), "Facilities", "D3", "#DIV/0!"))
    assert [(f.sheet, f.cell, f.code, f.value) for f in sub.findings] == [("Facilities", "D3", "type-error", "#DIV/0!")]
    assert "Excel error #DIV/0!" in sub.findings[0].message


def test_unknown_template_version_is_a_warning(tmp_path):
    sub = check_one(tmp_path, set_cell(valid_sheets(), "Entity", "B9", "2019.3"))
    assert [(f.cell, f.code, f.severity) for f in sub.findings] == [("B9", "unknown-template-version", "warning")]
    assert sub.is_valid and "2025.1" in sub.findings[0].message


def _raising_on(sheet: str, check_name: str, trigger: object, monkeypatch, *, column: str, of: str | None = None):
    """Make one check of a sheet model raise whenever the values it is given in `column` hold
    `trigger`; elsewhere it answers as before. `of`: the column whose check it is (None: a check
    across columns, given the whole frame)."""
    import schemas

    schema = schemas.schemas()[sheet]
    [check] = [c for c in (schema.checks if of is None else schema.columns[of].checks) if c.name == check_name]
    original = check._check_fn

    def raising(data):
        values = data[column] if of is None else data
        if (values == trigger).any():
            raise RecursionError("maximum recursion depth exceeded")
        return original(data)

    monkeypatch.setattr(check, "_check_fn", raising)


def test_a_rule_that_raises_rejects_only_the_workbook_it_raises_on(tmp_path, monkeypatch):
    """A rule across columns that raises on one workbook's rows is that workbook's error
    (`rule-not-checked`, on its sheet): never a silent pass, and the other workbooks validated
    with it are checked by the same rule as ever (the one with a unit mismatch keeps its finding)."""
    _raising_on("Facilities", "unit-facilities_unit", "Boom site", monkeypatch, column="site")
    boom = write_workbook(tmp_path / "boom.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "A3", "Boom site"))
    good = write_workbook(tmp_path / "good.xlsx", valid_sheets("WFP"))
    wrong = write_workbook(tmp_path / "wrong.xlsx", set_cell(valid_sheets("UNDP"), "Facilities", "E3", "kwh"))
    subs = check_files([good, boom, wrong], jobs=2)
    assert subs[0].is_valid and subs[0].findings == []
    assert not subs[1].is_valid
    assert [(f.sheet, f.cell, f.code, f.severity) for f in subs[1].findings] == [
        ("Facilities", "E2", "rule-not-checked", "error")
    ]
    assert "unit-facilities_unit" in subs[1].findings[0].message
    assert "RecursionError" in subs[1].findings[0].message
    assert [(f.cell, f.code) for f in subs[2].findings] == [("E3", "unit-mismatch")]


def test_a_column_rule_that_raises_is_reported_on_the_columns_first_filled_cell(tmp_path, monkeypatch):
    """A column's rule that raises on one value: the workbook holding it gets one finding (in the
    language asked for) on the column's first filled cell; a workbook validated with it is
    checked as ever."""
    _raising_on("Water", "ge-0", 999, monkeypatch, column="volume", of="volume")
    sheets = valid_sheets("UNEP")
    sheets["Water"] += [["Geneva office", "CHE", "municipal", None, "m3", "estimated"]]
    sheets["Water"] += [["Geneva office", "CHE", "municipal", 999, "m3", "estimated"]]
    boom = write_workbook(tmp_path / "boom.xlsx", sheets)
    wrong = write_workbook(tmp_path / "wrong.xlsx", set_cell(valid_sheets("WFP"), "Water", "D2", -3))
    subs = check_files([boom, wrong], jobs=1, lang="fr")
    assert [(f.cell, f.code, f.severity) for f in subs[0].findings if f.code != "missing-value"] == [
        ("D2", "rule-not-checked", "error")
    ]
    [raised] = [f for f in subs[0].findings if f.code == "rule-not-checked"]
    assert raised.message.startswith("la règle ge-0 de cette colonne n'a pas pu être vérifiée")
    assert [(f.cell, f.code) for f in subs[1].findings] == [("D2", "out-of-range")]


def test_a_fault_of_the_pipeline_on_one_workbook_is_that_workbooks_verdict(tmp_path, monkeypatch):
    """An exception while validating (a fault of the pipeline, not a finding) on one workbook's
    rows: that workbook gets the unreadable-file.internal-error finding, and the workbooks
    validated with it come out exactly as they do without it."""
    from pipeline.intake import coerce

    original = coerce.typed_table

    def failing(frame, spec, **kwargs):
        if "site" in frame.columns and (frame["site"] == "Boom site").any():
            raise OverflowError("int too large to convert")
        return original(frame, spec, **kwargs)

    good = write_workbook(tmp_path / "good.xlsx", valid_sheets("WFP"))
    wrong = write_workbook(tmp_path / "wrong.xlsx", set_cell(valid_sheets("UNDP"), "Water", "D2", -3))
    alone = check_files([good, wrong], jobs=1)
    monkeypatch.setattr(coerce, "typed_table", failing)
    boom = write_workbook(tmp_path / "boom.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "A3", "Boom site"))
    subs = check_files([good, boom, wrong], jobs=2)
    assert [s.file_name for s in subs] == ["good.xlsx", "boom.xlsx", "wrong.xlsx"]
    assert not subs[1].is_valid and not subs[1].readable
    assert [f.code for f in subs[1].findings] == ["unreadable-file"]
    assert "OverflowError: int too large to convert" in subs[1].findings[0].message
    assert subs[1].sha256 and subs[1].size_bytes == boom.stat().st_size
    for before, after in zip(alone, [subs[0], subs[2]], strict=True):
        assert after.findings == before.findings and after.is_valid == before.is_valid
        assert after.entity == before.entity
        for sheet in before.tables:
            assert after.tables[sheet].equals(before.tables[sheet])


def test_validating_runs_the_sheet_models_without_importing_pandera(tmp_path):
    """The sheet models are held as the parts of their pandera models that validation uses, so a
    `gtb validate` does not import pandera; `to_pandera()` still gives each as pandera's own."""
    import subprocess
    import sys

    path = write_workbook(tmp_path / "WFP_2024.xlsx", set_cell(valid_sheets(), "Facilities", "E2", "litre"))
    code = (
        "import sys; from pathlib import Path; from pipeline.api import check_files; "
        f"[sub] = check_files([Path({str(path)!r})], jobs=1); "
        "print(sorted({f.code for f in sub.findings}), 'pandera' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['unit-mismatch'] False"

    import pandera.pandas as pa

    import schemas

    for name, model in schemas.schemas().items():
        theirs = model.to_pandera()
        assert isinstance(theirs, pa.DataFrameSchema) and theirs.name == name
        assert list(theirs.columns) == list(model.columns)
        assert [c.name for c in theirs.checks] == [c.name for c in model.checks]


def _merged(path: Path, sheet: str, *ranges: str) -> Path:
    """Merge cells as a focal point does in Excel (Home > Merge & Center): openpyxl, like Excel,
    keeps the value of the top-left cell only."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for cells in ranges:
        wb[sheet].merge_cells(cells)
    wb.save(path)
    return path


def test_an_empty_cell_of_merged_cells_is_said_to_be_merged(tmp_path):
    """A site typed once over its rows and merged: each row below the first is empty to every
    reader, and the finding says why and how to fix it, on the cell, with the header as written."""
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "A1", "Site")
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "Facilities", "A2:A3", "B3:B4")
    [sub] = check_files([path], jobs=1)
    found = sorted((f.sheet, f.cell, f.code, f.message) for f in sub.findings if f.is_error)
    assert [(sheet, cell, code) for sheet, cell, code, _ in found] == [
        ("Facilities", "A3", "missing-value"),
        ("Facilities", "B4", "missing-value"),
    ]
    assert "Site is required" in found[0][3] and "merged cells A2:A3" in found[0][3] and "in A2 only" in found[0][3]
    assert "merged cells B3:B4" in found[1][3] and "in B3 only" in found[1][3]


def test_an_empty_cell_outside_merged_cells_is_said_to_be_empty(tmp_path):
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "A4", None)
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "Facilities", "A2:A3", "F3:F4")
    [sub] = check_files([path], jobs=1)
    errors = {f.cell: (f.code, f.message) for f in sub.findings if f.is_error}
    assert sorted(errors) == ["A3", "A4"]  # F4 (renewable kWh) may be empty, merged or not
    assert errors["A3"][0] == errors["A4"][0] == "missing-value"
    assert "merged cells A2:A3" in errors["A3"][1] and "merged" not in errors["A4"][1]


RECTANGLES = st.lists(
    st.tuples(st.integers(1, 12), st.integers(1, 6), st.integers(0, 4), st.integers(0, 2)), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(RECTANGLES)
def test_the_merged_range_of_a_cell_is_found_as_by_looking_at_every_range(rectangles):
    """Ranges that do not overlap (Excel refuses to merge over a merge): a cell is in one, other
    than at its top-left, exactly when looking at every range says so; a range over the header
    row (row 1 of a table sheet) keeps a header, not the rows' value, and is not said."""
    kept: list[tuple[int, int, int, int]] = []
    for top, left, tall, wide in rectangles:
        box = (top, left, top + tall, left + wide)
        if (tall or wide) and not any(
            box[0] <= k[2] and k[0] <= box[2] and box[1] <= k[3] and k[1] <= box[3] for k in kept
        ):
            kept.append(box)
    texts = [f"{cell_name(top, left)}:{cell_name(bottom, right)}" for top, left, bottom, right in kept]
    sheet = ParsedSheet("Facilities", True, {}, merged=tuple(texts))
    for row in range(1, 18):
        for col in range(1, 10):
            cell = cell_name(row, col)
            expected = next(
                (
                    (text, text.split(":")[0])
                    for (top, left, bottom, right), text in zip(kept, texts, strict=True)
                    if top <= row <= bottom and left <= col <= right and (row, col) != (top, left) and top > 1
                ),
                None,
            )
            assert sheet.merged_range(cell) == expected, cell


def test_a_route_airport_merged_over_its_flights_is_said_to_be_merged(tmp_path):
    """The same route over two cabin classes, its origin merged: the flight below has a destination
    and no origin to every reader, and is told why."""
    sheets = valid_sheets()
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "AirTravel", "A2:A3")
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.is_error]
    assert (found.sheet, found.cell, found.code) == ("AirTravel", "A3", "missing-value")
    assert "merged cells A2:A3" in found.message and "in A2 only" in found.message


def test_a_merge_over_the_header_is_not_said_to_hold_the_rows_value(tmp_path):
    """A1:A2 merged keeps the header 'site' in A1: typing it into A2 is not the fix."""
    sheets = valid_sheets()
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "Facilities", "A1:A2")
    [sub] = check_files([path], jobs=1)
    errors = [f for f in sub.findings if f.is_error and f.cell == "A2"]
    assert [f.code for f in errors] == ["missing-value"]
    assert "merged" not in errors[0].message


def test_merged_ranges_of_any_width_are_looked_up_in_bounded_work():
    """A range as wide as Excel's grid, and ten thousand more: the lookup holds a bounded number
    of (column, range) pairs and answers at once."""
    import time

    start = time.process_time()
    whole = ParsedSheet("Facilities", True, {}, merged=("A2:XFD1048576",))
    assert whole.merged_range("C7") == ("A2:XFD1048576", "A2") and whole.merged_range("A2") is None
    many = ParsedSheet("Facilities", True, {}, merged=tuple(f"A{2 * i + 2}:GR{2 * i + 3}" for i in range(10_000)))
    assert many.merged_range("C7") == ("A6:GR7", "A6")
    assert len(many._merged_lookup) <= 200_000
    assert time.process_time() - start < 5  # not a timing test: a loop over every column would take minutes


def test_a_route_merged_whole_over_its_flights_is_said_on_its_airport(tmp_path):
    """Both airports merged over two cabin classes: the second flight has no route to any reader;
    the finding is on its origin, saying the cells are merged."""
    sheets = valid_sheets()
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "AirTravel", "A2:A3", "B2:B3")
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.is_error]
    assert (found.sheet, found.cell, found.code, found.column) == ("AirTravel", "A3", "missing-value", "origin")
    assert "merged cells A2:A3" in found.message
    sheets = valid_sheets()
    set_cell(sheets, "AirTravel", "A3", None)
    set_cell(sheets, "AirTravel", "B3", None)
    [sub] = check_files([write_workbook(tmp_path / "plain" / "UNEP_2024.xlsx", sheets)], jobs=1)
    [found] = [f for f in sub.findings if f.is_error]
    assert (found.cell, found.code) == ("C3", "missing-value") and "each flight needs a route" in found.message


def test_figures_under_a_header_merged_over_them_are_said_not_to_be_read(tmp_path):
    """'unit' centred over E1:F1 as a focal point lays a header out: F1 is empty to every reader,
    so the renewable kWh under it would be lost without a word. One error, on F1, says why."""
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "F1", None)
    set_cell(sheets, "Facilities", "F3", 1_000)
    path = _merged(write_workbook(tmp_path / "UNEP_2024.xlsx", sheets), "Facilities", "E1:F1")
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.code in ("missing-column", "unknown-column")]
    assert (found.sheet, found.cell, found.code, found.is_error) == ("Facilities", "F1", "missing-column", True)
    assert "merged cells E1:F1" in found.message and "in E1 only" in found.message
    assert "the first in F2; 2 in all" in found.message, found.message


def test_values_under_an_empty_header_are_said_not_to_be_read(tmp_path):
    """A note typed beside the table, two columns right of the last header: a warning on the
    header cell of its column; an empty header over empty cells says nothing."""
    sheets = valid_sheets()
    set_cell(sheets, "Facilities", "I3", "estimated from the invoices")
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    found = [f for f in sub.findings if f.code == "unknown-column"]
    assert [(f.cell, f.severity) for f in found] == [("I1", "warning")]
    assert "column I has values (the first in I3; 1 in all) but no header in I1" in found[0].message
    assert sub.is_valid


def test_a_row_shifted_one_column_right_is_not_also_said_to_be_headerless(tmp_path):
    """The values of a row typed one column to the right reach past the last header: that row is
    reported as shifted, and not again as values without a header."""
    sheets = valid_sheets()
    sheets["Facilities"][2] = [None, *sheets["Facilities"][2]]
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    codes = {f.code for f in sub.findings}
    assert "shifted-columns" in codes and "unknown-column" not in codes and "missing-column" not in codes


def test_a_table_whose_headers_are_a_row_lower_is_not_said_to_be_headerless(tmp_path):
    sheets = valid_sheets()
    sheets["Facilities"].insert(0, [])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    assert sub.findings and not any("no header" in f.message for f in sub.findings)


HEADERS = st.lists(st.sampled_from(["site", "country", "quantity", None, "", "  "]), min_size=1, max_size=6)
ROWS = st.lists(st.lists(st.sampled_from([None, 1, "x"]), max_size=8), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(HEADERS, ROWS, st.sets(st.integers(2, 7)), st.booleans())
def test_values_without_a_header_are_said_once_per_column(headers, rows, shifted, merged):
    """Whatever the widths of the header and of the rows: one finding per column whose header is
    empty and that holds a value in a row not reported as shifted, on its header cell, counting
    those values; an error where a merge from A1 over the header row covers it."""
    from pipeline.intake.normalise import _headerless_findings, _Headers
    from pipeline.intake.workbook import RawSheet

    raw = RawSheet(
        "Facilities",
        list(headers),
        [(i + 2, list(values)) for i, values in enumerate(rows)],
        merged_ranges=["A1:C1"] if merged else [],
    )
    found = _Headers(positions={"site": 0})
    findings = _headerless_findings(raw, found, "f.xlsx", set(shifted))
    expected = {}
    for position in range(max(len(values) for values in rows)):
        if position < len(headers) and headers[position] and headers[position].strip():
            continue
        used = [i + 2 for i, values in enumerate(rows) if position < len(values) and values[position] is not None]
        used = [row for row in used if row not in shifted]
        if used:
            code = "missing-column" if merged and position < 3 else "unknown-column"
            expected[cell_name(1, position + 1)] = (code, f"{cell_name(used[0], position + 1)}; {len(used)} in all")
    assert {f.cell: f.code for f in findings} == {cell: code for cell, (code, _) in expected.items()}
    for f in findings:
        assert expected[f.cell][1] in f.message


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "ok"),
    [
        ("Offsets", "F2", dt.date(2025, 12, 31), True),  # in the year after the reporting year 2024
        ("Offsets", "F2", dt.date(2026, 1, 1), False),
        ("Offsets", "F2", "01/03/2206", False),  # a slip of the keyboard, read day first
        ("EMS", "B6", dt.date(2025, 6, 30), True),
        ("EMS", "B6", dt.date(2099, 1, 1), False),
    ],
)
def test_a_date_later_than_the_year_after_the_reporting_year_is_out_of_range(tmp_path, sheet, cell, value, ok):
    """A retirement may fall in the year after the reporting year, and so may the last management
    review a workbook sent then reports; a date after that year has not happened yet."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, value))
    [sub] = check_files([path], jobs=1)
    errors = [(f.sheet, f.cell, f.code, f.message) for f in sub.findings if f.is_error]
    if ok:
        assert errors == []
    else:
        [(found_sheet, found_cell, code, message)] = errors
        assert (found_sheet, found_cell, code) == (sheet, cell, "out-of-range")
        assert "on or before 2025-12-31 (the reporting year 2024 or the year after)" in message


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("amina.otieno@un.org", True),
        ("amina.otieno@un.org\u200b", False),  # a zero-width space carried over from a web page
        ("amina.otieno@un.org_x0000_", False),  # a NUL, as a spreadsheet escapes it in XML
        ("amina\u202e.otieno@un.org", False),  # a right-to-left override
        ("\u00a0amina.otieno@un.org ", True),  # spaces around the address are not part of it
    ],
)
def test_an_email_holding_an_unseen_character_is_invalid(tmp_path, email, ok):
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Entity", "B8", email))
    [sub] = check_files([path], jobs=1)
    codes = [(f.cell, f.code) for f in sub.findings if f.is_error]
    assert codes == ([] if ok else [("B8", "invalid-email")])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("KEM", ("KEN", "KHM", "YEM", "FIN")),  # one letter off, and Kemi's airport (Finland)
        ("KNE", ("KEN", "KNA", "MNE")),  # two letters swapped
        ("GVA", ("GHA", "LVA", "CHE")),  # a duty station's airport: Geneva
        ("K\u0415N", ("KEN",)),  # a Cyrillic Е
        ("KE", ("KEN",)),
        ("Suisse", ("CHE",)),
        ("Alemania", ("DEU",)),
        ("Keyna", ("KEN",)),
        ("XYZ", ()),
        # as the UN writes them, in English, French and Spanish, where the drop-down says
        # 'Korea, Republic of'; the first part alone where it names one country only
        ("Republic of Korea", ("KOR",)),
        ("République de Corée", ("KOR",)),
        ("República de Corea", ("KOR",)),
        ("Korea", ("KOR", "PRK")),  # the first words of two names: both
        ("Virgin Islands", ("VGB", "VIR")),
        ("Îles Vierges", ("VGB", "VIR")),  # 'Îles Vierges britanniques', 'Îles Vierges, États-Unis'
        ("Islas Vírgenes", ("VGB", "VIR")),
        ("Saint", ()),  # seven countries: too many to list, and no look-alike ('Spain') instead
        ("Dominican", ("DOM",)),  # not Dominica
        ("United Republic of Tanzania", ("TZA",)),
        ("Tanzania", ("TZA",)),
        ("Democratic Republic of the Congo", ("COD",)),
        ("Iran (Islamic Republic of)", ("IRN",)),
        ("Bolivia (Plurinational State of)", ("BOL",)),
        ("State of Palestine", ("PSE",)),
        ("United Kingdom of Great Britain and Northern Ireland", ("GBR",)),
        # common and former names (schemas/i18n/country_names.csv)
        ("South Korea", ("KOR",)),
        ("Ivory Coast", ("CIV",)),
        ("Russia", ("RUS",)),
        ("DRC", ("COD",)),
    ],
)
def test_a_country_hint_names_only_countries_the_value_may_mean(typed, meant):
    from schemas.checks import country_guesses

    assert country_guesses(typed) == meant


def test_a_name_cut_short_is_hinted_as_its_country_or_not_at_all():
    """The first words of any country's name in any language ('Bosnia', 'Îles Vierges') get a
    hint that names that country among at most four, or no hint: never only another country."""
    from schemas import i18n
    from schemas.checks import _country_names, country_guesses

    for lang in i18n.LANGS:
        for code, name in i18n.country_names(lang).items():
            words = name.replace(",", " ").split()
            for n in range(1, len(words)):
                start = " ".join(words[:n])
                if len(i18n.fold(start)) < 4 or i18n.fold(start) in _country_names():  # 'Guinea' is one
                    continue
                guesses = country_guesses(start)
                assert len(guesses) <= 4, start
                assert guesses == () or code in guesses, (start, code, guesses)


def test_every_country_name_of_the_hints_names_a_country_of_the_list_and_no_code():
    from schemas import i18n

    rows = i18n.country_aliases()
    assert rows and all(row["code"] in codelists.codes("countries") for row in rows)
    assert not {i18n.fold(row["text"]) for row in rows} & {i18n.fold(c) for c in codelists.codes("countries")}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(codelists.codes("countries"))), st.data())
def test_a_code_one_letter_off_is_among_the_guesses_unless_they_are_too_many(code, data):
    """A typo of one letter in a country code: the code meant is among the guesses, or there are
    too many codes one letter off to guess; a guess is never a code two letters off."""
    from schemas import i18n
    from schemas.checks import _country_names, country_guesses

    at = data.draw(st.integers(0, 2))
    letter = data.draw(st.sampled_from([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != code[at]]))
    typo = code[:at] + letter + code[at + 1 :]
    if typo in codelists.codes("countries"):
        return
    guesses = country_guesses(typo)
    if named := _country_names().get(i18n.fold(typo)):  # 'DRC', one letter off GRC, is a name of COD
        assert guesses == (named,)
        return
    airport = codelists.airport_countries().get(typo)
    assert code in guesses or len(guesses) == 0
    for guess in guesses:
        assert guess == airport or sum(a != b for a, b in zip(guess, typo, strict=True)) <= 2


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "hint"),
    [
        ("Facilities", "D2", "2400 kWh", "the unit goes in its own column"),  # a sheet with a unit column
        ("Entity", "B4", "1 250 persons", "Type the number only, without words or units."),
        ("Refrigerants", "D2", "12 kg", "Type the number only, without words or units."),
        ("Facilities", "D2", "1,2E6", "Use a point for decimals"),  # a decimal comma in scientific notation
    ],
)
def test_a_number_typed_with_words_is_told_where_the_words_go(tmp_path, sheet, cell, typed, hint):
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, typed))
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.is_error]
    assert (found.cell, found.code) == (cell, "type-error") and hint in found.message, found.message
    assert ("own column" in found.message) == (sheet == "Facilities" and "kWh" in typed)


@pytest.mark.parametrize("label", ["Total", "TOTAL 2024", "Grand total", "Sous-total", "Total général", "Suma"])
def test_a_total_row_is_refused_as_counting_its_figures_twice(tmp_path, label):
    """A focal point adds a total below the sites, every column filled as on the rows above: loaded,
    it would double the sheet's energy. Sites whose names only begin like a total are sites."""
    sheets = valid_sheets()
    sheets["Facilities"].append([label, "KEN", "electricity", 2_400_000, "kwh", None, "measured"])
    sheets["Facilities"].append(["TotalEnergies depot", "KEN", "diesel", 100, "litre", None, "measured"])
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    errors = [(f.cell, f.code, f.message) for f in sub.findings if f.is_error]
    assert [(cell, code) for cell, code, _ in errors] == [("A5", "inconsistent-row")]
    assert "count its figures twice" in errors[0][2] and label in errors[0][2]


def test_findings_of_one_rule_on_one_column_are_listed_up_to_a_bound_and_the_rest_counted(tmp_path):
    """1,200 rows that each miss their energy type: 1,000 listed one by one, then one warning
    counting the 200 others (a sheet of 300,000 such rows made 1.5 million findings and took
    minutes and gigabytes to report). Another column's few findings are all listed."""
    from pipeline.intake.validate import SAME_FINDINGS_LISTED

    sheets = valid_sheets()
    rows = [
        ["Gigiri compound", "KEN", None, 100 + n, "kwh", None, "measured"] for n in range(SAME_FINDINGS_LISTED + 200)
    ]
    sheets["Facilities"] += rows  # no row a copy of another (`duplicate-row`)
    sheets["Facilities"][5][1] = "KEM"
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    [sub] = check_files([path], jobs=1)
    empty = [f for f in sub.findings if f.code == "missing-value"]
    more = [f for f in sub.findings if f.code == "more-findings"]
    assert len(empty) == SAME_FINDINGS_LISTED and {f.cell[0] for f in empty} == {"C"}
    assert [(f.sheet, f.cell, f.severity) for f in more] == [("Facilities", "", "warning")]
    assert "200 more cells of the column energy_type" in more[0].message
    assert [f.cell for f in sub.findings if f.code == "not-in-codelist"] == ["B6"]
    assert not sub.is_valid


def _hide(path: Path, rows: dict[str, list[int]]) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for sheet, numbers in rows.items():
        for number in numbers:
            wb[sheet].row_dimensions[number].hidden = True
    wb.save(path)
    return path


def test_hidden_rows_with_data_are_one_warning_per_sheet(tmp_path):
    """Rows hidden by hand or by a filter count like the others: one warning per sheet names
    them, in the workbook's language; empty hidden rows and unread sheets say nothing."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets())
    _hide(path, {"AirTravel": [2, 3, 60], "Entity": [3], "Water": [40]})
    [sub] = check_files([path])
    hidden = {f.sheet: f for f in sub.findings if f.code == "hidden-rows"}
    assert set(hidden) == {"AirTravel", "Entity"}
    assert all(f.severity == "warning" for f in hidden.values())
    assert (hidden["AirTravel"].cell, hidden["AirTravel"].row) == ("A2", 2)
    assert hidden["AirTravel"].message.startswith("rows 2-3 of this sheet are hidden")
    assert "(2 rows)" in hidden["AirTravel"].message
    assert hidden["Entity"].message.startswith("row 3 of this sheet is hidden")
    assert sub.is_valid
    [sub_fr] = check_files([path], lang="fr")
    assert any(f.message.startswith("les lignes 2-3 de cette feuille sont masquées") for f in sub_fr.findings)


def _runs(rows: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for row in sorted(rows):
        if runs and runs[-1][1] + 1 == row:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return runs


@settings(max_examples=300, deadline=None)
@given(st.sets(st.integers(1, 80)), st.sets(st.integers(2, 80)))
def test_hidden_rows_finding_counts_the_hidden_rows_read(hidden, data_rows):
    """Whatever rows are hidden (in runs, as the guard reports them) and read: the count is the
    rows read that are hidden, the cell the first of them, and the runs of them listed, ten at
    most, then "..."."""
    from pipeline.intake.normalise import HIDDEN_RUNS_SHOWN, _hidden_rows_finding
    from pipeline.intake.workbook import RawSheet

    raw = RawSheet("AirTravel", [], [], hidden_rows=[(a, b) for a, b in _runs(list(hidden))])
    parsed = ParsedSheet("AirTravel", True, {}, index=sorted(data_rows))
    found = _hidden_rows_finding(raw, parsed, "AirTravel", "f.xlsx")
    expected = sorted(hidden & data_rows)
    if not expected:
        assert found is None
        return
    assert found is not None
    assert (found.cell, found.row) == (f"A{expected[0]}", expected[0])
    runs = _runs(expected)
    listed = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:HIDDEN_RUNS_SHOWN])
    listed += ", ..." if len(runs) > HIDDEN_RUNS_SHOWN else ""
    if len(expected) == 1:
        assert found.message.startswith(f"row {listed} of this sheet is hidden")
    else:
        assert found.message.startswith(f"rows {listed} of this sheet are hidden")
        assert f"({len(expected)} rows)" in found.message


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), st.integers(0, 10**5), st.one_of(st.integers(-5, 2 * 10**5), st.floats(0, 10**5)))
def test_a_serial_ranges_quantity_is_its_count_of_credits(first, extra, quantity):
    """1 credit = 1 tCO2e: a row whose serial is a range of two credits or more retires exactly
    as many tonnes; a quantity out of its own bounds is its own error and not compared."""
    import pandas as pd

    from schemas.offsets import _quantity_matches_range

    last = first + extra
    serial = f"CER-UNEP-2024-{first:07d}-{last:07d}"
    frame = pd.DataFrame({"serial_range": [serial, "CER-UNEP-2024-0000042"], "quantity_tco2e": [quantity, quantity]})
    ok = list(_quantity_matches_range(frame))
    credits = extra + 1
    compared = credits >= 2 and 0 < quantity <= 100_000_000  # columns.csv: above 0, at most 100 Mt
    assert ok == [not compared or quantity == credits, True]  # a single serial is never compared


def test_a_range_of_credits_with_another_quantity_is_an_error_on_the_quantity(tmp_path):
    sheets = valid_sheets()
    column = sheets["Offsets"][0].index("quantity_tco2e")
    sheets["Offsets"][1][column] = 1_000_000  # the range holds 5,000
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)])
    [found] = [f for f in sub.findings if f.code == "inconsistent-row"]
    assert (found.sheet, found.cell, found.severity) == ("Offsets", "E2", "error")
    assert "holds 5,000 credits" in found.message and "1000000" in found.message
    sheets["Offsets"][1][column] = 5000
    [sub] = check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)])
    assert sub.is_valid


def _held(sheets, sheet: str, cell: str) -> object:
    """What a cell of `sheets` (as `write_workbook` writes them) holds; None when empty."""
    letters = cell.rstrip("0123456789")
    row, column = int(cell[len(letters) :]) - 1, sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(letters)))
    values = sheets[sheet][row] if row < len(sheets[sheet]) else []
    return values[column - 1] if column <= len(values) else None


def test_a_row_shifted_by_a_cell_left_out_or_added_is_named_by_its_first_cell_that_is_off(tmp_path):
    """A cell left out (the country, the distance): the values sit one column too far left, and
    the first cell that is off is the one holding the first misplaced value (B3, C2), not the
    cell after it; a cell added (before the country): the added cell (B2). The finding's cell,
    value and column are that cell's as in the workbook, and its message names the same cell,
    the value and the header it sits under."""
    sheets = valid_sheets()
    row = sheets["Facilities"][2]  # Gigiri compound, KEN, diesel, ...
    sheets["Facilities"][2] = [row[0], *row[2:]]  # the country left out
    row = sheets["Facilities"][1]
    sheets["Facilities"][1] = [row[0], None, *row[1:]]  # an empty cell added before the country
    row = sheets["AirTravel"][1]  # NBO, GVA, (no distance), economy, ...
    sheets["AirTravel"][1] = [*row[:2], *row[3:]]  # the distance cell left out
    sub = check_one(tmp_path, sheets)
    found = {(f.sheet, f.cell): f for f in sub.findings}
    assert sorted(found) == [("AirTravel", "C2"), ("Facilities", "B2"), ("Facilities", "B3")], sub.findings
    assert {f.code for f in sub.findings} == {"shifted-columns"}
    expected = {
        ("Facilities", "B3"): ("country", "diesel", "left", "'diesel' is under 'country', where 'energy_type'"),
        ("AirTravel", "C2"): (
            "distance_km",
            "economy",
            "left",
            "'economy' is under 'distance_km', where 'cabin_class'",
        ),
        ("Facilities", "B2"): ("country", "", "right", "'KEN' is under 'energy_type', where 'country'"),
    }
    for (sheet, cell), (column, value, side, words) in expected.items():
        f = found[sheet, cell]
        assert (f.column, f.value) == (column, value), f
        assert f.value == ("" if _held(sheets, sheet, cell) is None else _held(sheets, sheet, cell))
        assert f.column == sheets[sheet][0][ord(cell[0]) - 65]  # the header over the cell
        assert f.message.startswith(
            f"from {cell} on, the values of row {f.row} seem to sit one column too far to the {side}"
        )
        assert words in f.message, f.message


@pytest.mark.parametrize(
    ("above", "cell", "words"),
    [
        ([["Facilities 2024"]], "A2", "are in row 2, not in row 1 (A2 holds 'site'): delete row 1, above them"),
        ([[]], "A2", "are in row 2, not in row 1 (A2 holds 'site'): delete row 1, above them"),
        ([["Facilities 2024"], []], "A3", "are in row 3, not in row 1 (A3 holds 'site'): delete rows 1 to 2"),
        ([[None, None, "UNEP, year 2024"]], "A2", "are in row 2, not in row 1 (A2 holds 'site')"),
    ],
)
def test_a_table_pasted_below_a_title_or_an_empty_row_is_one_error_naming_its_header_row(tmp_path, above, cell, words):
    """A title or an empty row above the headers: one error on the first header, saying in which
    row the headers are and which rows to delete; not an error for every column missing from row
    1, nor the title taken for an unknown column. The sheet's rows are not read until then, and
    say nothing more (their columns are not known)."""
    sheets = valid_sheets()
    sheets["Facilities"] = above + sheets["Facilities"]
    sub = check_one(tmp_path, sheets)
    [found] = sub.findings
    assert (found.sheet, found.cell, found.row, found.code, found.is_error) == (
        "Facilities",
        cell,
        int(cell[1:]),
        "missing-column",
        True,
    )
    assert (found.column, found.value) == ("site", "site")
    assert found.message.startswith("the headers of Facilities ") and words in found.message, found.message
    assert not sub.is_valid


def test_headers_a_row_lower_are_said_in_the_workbooks_language(tmp_path):
    """The French template's Installations sheet with a title typed above its headers."""
    path = fill(
        api.template("UNEP", YEAR, tmp_path / "UNEP_2024_fr.xlsx", lang="fr"), example_rows("UNEP", YEAR), lang="fr"
    )
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Facilities", "fr")]
    ws.insert_rows(1)
    ws["A1"] = "Installations de l'UNEP en 2024"
    wb.save(path)
    [sub] = check_files([path], jobs=1)
    [found] = sub.findings
    site = i18n.header("Facilities", "site", "fr")
    assert (found.sheet, found.cell, found.code, found.value) == ("Installations", "A2", "missing-column", site)
    assert found.message == catalogue.text(
        "missing-column.headers-lower", "fr", sheet="Installations", line=2, above=1, cell="A2", value=repr(site)
    )
    assert "sont à la ligne 2, et non à la ligne 1" in found.message and "supprimez la ligne 1" in found.message


def test_a_field_name_retyped_with_a_colon_is_one_error_on_its_cell_saying_to_rename_it(tmp_path):
    """'personnel:' for the personnel field is told as a misspelt table header is ('Quantity:'):
    one error on the field name's cell naming the field it looks like, not an error without a
    cell asking to add a row that is there plus a warning calling it unknown. So is an optional
    field's name ('floor_area_m2 :'), whose value would otherwise be lost without a word; a name
    like no field stays a warning."""
    sheets = valid_sheets()
    set_cell(sheets, "Entity", "A4", "personnel:")
    set_cell(sheets, "Entity", "A6", "floor_area_m2 :")
    set_cell(sheets, "EMS", "A7", "phone")
    set_cell(sheets, "EMS", "B7", "+254")
    sub = check_one(tmp_path, sheets)
    found = [(f.sheet, f.cell, f.row, f.code, f.severity, f.column, f.value) for f in sub.findings]
    assert found == [
        ("Entity", "A4", 4, "missing-field", "error", "personnel:", "personnel:"),
        ("Entity", "A6", 6, "missing-field", "error", "floor_area_m2 :", "floor_area_m2 :"),
        ("EMS", "A7", 7, "unknown-field", "warning", "phone", "phone"),
    ]
    personnel, floor = sub.findings[0].message, sub.findings[1].message
    assert personnel == (
        "the field name 'personnel:' in A4 is not one of the fields of Entity; it looks like "
        "'Personnel (persons)', which is required. Rename the field to 'Personnel (persons)'."
    )
    assert "Rename the field to 'Floor area (m²)': otherwise its value is not read" in floor, floor
    assert "required" not in floor


def test_a_field_name_retyped_with_a_colon_is_said_in_the_workbooks_language(tmp_path):
    """'Couverture (%) :', the French space before the colon, in the French template's Entité sheet."""
    path = fill(
        api.template("UNEP", YEAR, tmp_path / "UNEP_2024_fr.xlsx", lang="fr"), example_rows("UNEP", YEAR), lang="fr"
    )
    wb = load_workbook(path)
    ws = wb[i18n.sheet_name("Entity", "fr")]
    coverage = i18n.header("Entity", "reporting_coverage_percent", "fr")
    [cell] = [c for c in ws["A"] if c.value == coverage]
    cell.value = f"{coverage} :"
    wb.save(path)
    [sub] = check_files([path], jobs=1)
    [found] = sub.findings
    where = f"A{cell.row}"
    assert (found.sheet, found.cell, found.code, found.value) == ("Entité", where, "missing-field", f"{coverage} :")
    assert found.message == catalogue.text(
        "missing-field.renamed", "fr", value=repr(f"{coverage} :"), cell=where, sheet="Entité", wanted=coverage
    )
    assert f"Renommez le champ en '{coverage}'" in found.message and "obligatoire" in found.message


def test_rows_of_unticked_checkboxes_below_the_data_are_blank_and_a_false_in_a_data_row_is_read(tmp_path):
    """Excel 365's cell checkboxes put over a whole column leave an unticked box, a FALSE cell, in
    every row below the data: those rows are blank, as empty rows are (they gave four
    missing-value errors each). A FALSE among a row's figures is read as before: no."""
    sheets = valid_sheets()
    sheets["AirTravel"][3][5] = False  # the distance-only flight: a boolean 'no' in a data row
    sheets["AirTravel"] += [[None, None, None, None, None, False] for _ in range(120)]
    sheets["AirTravel"][0].append("comment")
    sheets["AirTravel"].append([None, None, None, None, None, False, None, False])  # two boxes, both unticked
    sheets["Facilities"][0].append("comment")
    sheets["Facilities"].append([None, None, None, None, None, None, None, False])  # a box in the comment column
    sub = check_one(tmp_path, sheets)
    assert sub.findings == [] and sub.is_valid
    assert list(sub.tables["AirTravel"]["source_row"]) == [2, 3, 4]
    assert list(sub.tables["AirTravel"]["round_trip"]) == [True, True, False]
    assert list(sub.tables["Facilities"]["source_row"]) == [2, 3, 4]


@pytest.mark.parametrize(
    ("ticked", "message"),
    [
        ([6], "row 6 holds nothing but a ticked checkbox (TRUE)"),
        ([6, 7, 8, 10], "rows 6-8, 10 hold nothing but ticked checkboxes (TRUE), 4 rows in all"),
    ],
)
def test_rows_of_a_ticked_checkbox_alone_are_one_finding(tmp_path, ticked, message):
    """A ticked box in a row otherwise empty (a box ticked by mistake, or the row's figures
    deleted): one error for the sheet, on the first such box, not four missing values a row; the
    unticked boxes around it say nothing."""
    sheets = valid_sheets()
    sheets["AirTravel"] += [[None, None, None, None, None, row in ticked] for row in range(5, 31)]
    sub = check_one(tmp_path, sheets)
    assert [(f.sheet, f.cell, f.code, f.severity, f.value) for f in sub.findings] == [
        ("AirTravel", f"F{ticked[0]}", "inconsistent-row", "error", "True")
    ]
    assert sub.findings[0].message.startswith(message), sub.findings[0].message
    assert "untick" in sub.findings[0].message


def _total_row(sheet: str, at: str, label: object, figures: dict[str, object]) -> list[object]:
    """A row of `sheet` holding `label` under the column `at` and `figures` under theirs (contract names)."""
    names = valid_sheets()[sheet][0]
    return [label if name == at else figures.get(name) for name in names]


@pytest.mark.parametrize(
    ("sheet", "at", "label", "figures"),
    [
        ("Vehicles", "country", "Total", {"quantity": 18_000}),
        ("Vehicles", "vehicle_type", "TOTAL 2024", {"quantity": 18_000}),  # the first text of the row
        ("AirTravel", "origin", "Total", {"trips": 58}),
        ("AirTravel", "origin", "Grand total", {"trips": 58, "cabin_class": "economy", "data_quality": "measured"}),
        ("OtherTravel", "mode", "Sum:", {"passenger_km": 33_000}),
        ("Offsets", "standard", "Totales", {"quantity_tco2e": 5000}),
        ("Waste", "site", "Sous-total", {"quantity": 30_120}),
        ("Facilities", "site", "Total", {"quantity": "=SUBTOTAL(109,D2:D4)", "renewable_kwh": 600_000}),
    ],
)
def test_a_total_row_on_any_table_sheet_is_one_finding_and_nothing_else(tmp_path, sheet, at, label, figures):
    """An Excel table's totals row ('Total' in its first column, SUBTOTALs under the figures), or a
    total typed below the data, on any table sheet: one `inconsistent-row` error on its label, and
    no other finding on the row: no country, airport or mode 'Total' not in its list, no missing
    value, no formula without its value (the copy's SUBTOTAL was never calculated). A focal point
    told to fill in the empty cells would have had the total counted twice."""
    sheets = valid_sheets()
    sheets[sheet].append(_total_row(sheet, at, label, figures))
    row = len(sheets[sheet])
    sub = check_one(tmp_path, sheets)
    letter = "ABCDEFGHI"[sheets[sheet][0].index(at)]
    assert [(f.sheet, f.cell, f.code, f.value) for f in sub.findings] == [
        (sheet, f"{letter}{row}", "inconsistent-row", label)
    ]
    assert "count its figures twice" in sub.findings[0].message and repr(label) in sub.findings[0].message


def test_a_total_in_a_first_column_not_read_is_a_total_row(tmp_path):
    """A column of the focal point's own before the table ('No.': 1, 2, 3), its totals row's label
    in it: the row is a total all the same, though no column read names it."""
    sheets = valid_sheets()
    sheets["Facilities"] = [["No.", *sheets["Facilities"][0]]] + [
        [number, *row] for number, row in enumerate(sheets["Facilities"][1:], start=1)
    ]
    sheets["Facilities"].append(["Total", None, None, None, 2_447_000, None, 600_000, None])
    sheets["Facilities"].append(["Sum", None, None, None, None, None, False, None])  # an unticked box: blank
    sub = check_one(tmp_path, sheets)
    errors = [(f.sheet, f.cell, f.code, f.value) for f in sub.findings if f.is_error]
    assert errors == [("Facilities", "A5", "inconsistent-row", "Total")]


def test_a_site_named_like_a_total_is_a_total_row_wherever_the_site_column_is(tmp_path):
    """Columns moved so that the country comes before the site: a site named like a total is a
    total row all the same, as it was wherever the site column stood."""
    sheets = valid_sheets()
    sheets["Water"] = [[row[1], row[0], *row[2:]] for row in sheets["Water"]]
    sheets["Water"].append(["KEN", "Grand total", "municipal", 61_000, "m3", "measured"])
    sub = check_one(tmp_path, sheets)
    assert [(f.sheet, f.cell, f.code, f.value) for f in sub.findings] == [
        ("Water", "B3", "inconsistent-row", "Grand total")
    ]


def test_names_that_only_look_like_a_total_are_read(tmp_path):
    """The airport SUM (Sumter) is a route's origin, not a total; a site 'TotalEnergies depot' or
    'Sumatra office' is a site; a comment 'Total for the year' beside a row's figures is a comment."""
    sheets = valid_sheets()
    sheets["AirTravel"].append(["SUM", "ATL", None, "economy", 2, "no", "measured"])
    sheets["Waste"].append(["TotalEnergies depot", "KEN", "mixed", "landfill", 3, "tonne", "measured"])
    sheets["Water"].append(["Sumatra office", "IDN", "municipal", 400, "m3", "estimated"])
    sheets["OtherTravel"][0].append("comment")
    sheets["OtherTravel"].append(["rail", 1200, "measured", "Total for the year"])
    sub = check_one(tmp_path, sheets)
    assert sub.findings == [] and sub.is_valid
    assert list(sub.tables["AirTravel"]["origin"])[-1] == "SUM"
    assert len(sub.tables["Waste"]) == 3 and len(sub.tables["Water"]) == 2 and len(sub.tables["OtherTravel"]) == 3


def test_total_rows_are_listed_up_to_the_bound_of_findings_of_one_kind(tmp_path):
    """A sheet of 1,005 rows named like a total (a hostile or broken file): 1,000 listed, the other
    5 counted in one warning, as for any rule; nothing else said of them."""
    from pipeline.intake.validate import SAME_FINDINGS_LISTED

    sheets = valid_sheets()
    sheets["OtherTravel"] += [["Total", 100] for _ in range(SAME_FINDINGS_LISTED + 5)]
    sub = check_one(tmp_path, sheets)
    assert {f.code for f in sub.findings} == {"inconsistent-row", "more-findings"}
    totals = [f for f in sub.findings if f.code == "inconsistent-row"]
    assert len(totals) == SAME_FINDINGS_LISTED and {f.cell for f in totals} == {f"A{r}" for r in range(4, 1004)}
    [more] = [f for f in sub.findings if f.code == "more-findings"]
    assert (more.sheet, more.severity) == ("OtherTravel", "warning") and "5 more cells" in more.message


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("IL\u041e", "type it again as ILO"),  # a Cyrillic О: the quote looks like ILO
        ("UN\u0395P", "type it again as UNEP"),  # a Greek Ε
        ("\uff29\uff2c\uff2f", "Did you mean ILO?"),  # full-width letters
        ("UNPE", "Did you mean UNEP?"),
    ],
)
def test_an_entity_code_typed_with_look_alike_letters_is_told_how_to_type_it(tmp_path, typed, said):
    """'ILО' with a Cyrillic О was answered "found 'ILО'. Did you mean ILO?", which reads as the
    same code twice; a full-width 'ＩＬＯ' got no suggestion at all."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "Entity", "B2", typed))
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.code == "not-in-codelist"]
    assert found.cell == "B2" and said in found.message, found.message


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "code"),
    [("AirTravel", "A2", "'LHR", "LHR"), ("Facilities", "B2", "\u2019KEN", "KEN"), ("Entity", "B2", "'UNEP", "UNEP")],
)
def test_a_code_pasted_with_its_apostrophe_is_told_to_lose_it(tmp_path, sheet, cell, typed, code):
    """A travel agency's CSV pasted as text keeps the apostrophe that forced a cell to text: `'LHR`
    was refused as no airport, with no word of the apostrophe a spreadsheet hides."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), sheet, cell, typed))
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.code == "not-in-codelist"]
    assert found.cell == cell and "remove it, and type " + code + " alone" in found.message, found.message
    assert "city" not in found.message and "Did you mean" not in found.message


@pytest.mark.parametrize(("held", "said"), [(46068, "2026-02-15"), (45000, "2023-03-15")])
def test_a_date_that_lost_its_format_is_said_to_be_that_date(tmp_path, held, said):
    """A date pasted as values (or saved by a program that keeps no styles) is a bare number:
    'expected a date; found 46068' left the focal point to guess that 46068 is 15 February 2026."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B6", held))
    [sub] = check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.code == "type-error"]
    assert found.cell == "B6" and f"this number is {said}" in found.message, found.message
    other = write_workbook(tmp_path / "n" / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B6", 12))
    [sub] = check_files([other], jobs=1)
    [found] = [f for f in sub.findings if f.code == "type-error"]
    assert "this number is" not in found.message  # 12 is no date of this century


@pytest.mark.parametrize(
    "typed",
    [
        "2025-03-15T00:00:00",
        "2025-03-15 10:30:00",  # a date-time cell's text: its day, as a date-time cell is read
        "2025-03-15T00:00:00Z",
        "2025-03-15T00:00:00.000Z",  # a program's toISOString of midnight in universal time
        "2025-03-15T10:30:00+01:00",  # a time in its own zone: the day as written
        "2025-03-15T23:59-05:00",
    ],
)
def test_an_iso_date_and_time_typed_as_text_is_read_as_its_day(tmp_path, typed):
    """Date-times as programs write them as text (a CSV export, a JSON-fed sheet) were refused as
    "expected a date", the time zone's too, though an Excel date-time cell is read as its day."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B6", typed))
    [sub] = check_files([path], jobs=1)
    assert sub.is_valid and sub.findings == [], sub.findings
    assert sub.ems["last_management_review"] == dt.date(2025, 3, 15)


@pytest.mark.parametrize(
    ("typed", "days"),
    [("2025-03-14T23:00:00.000Z", "2025-03-14 or 2025-03-15"), ("2025-03-15T05:00:00Z", "2025-03-14 or 2025-03-15")],
)
def test_a_date_and_time_in_universal_time_is_asked_which_day_was_meant(tmp_path, typed, days):
    """A date and time in universal time that is not midnight may be another day where it was
    written (local midnight of the 15th in Geneva is 23:00 on the 14th in UTC): it is no date,
    and the focal point is told to type the day meant, with the two it may be."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B6", typed))
    [sub] = check_files([path], jobs=1)
    [found] = sub.findings
    assert (found.code, found.cell) == ("type-error", "B6") and "universal time (UTC)" in found.message
    assert f"type the date alone, as meant ({days})" in found.message, found.message
    for bad in ("2025-02-30T00:00:00", "2025-03-15T25:00:00", "2025-03-15T10:30:00 UTC+1"):
        path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets(), "EMS", "B6", bad))
        [sub] = check_files([path], jobs=1)
        assert [f.code for f in sub.findings] == ["type-error"], (bad, sub.findings)


def test_a_date_that_lost_its_format_in_a_1904_workbook_is_said_to_be_its_own_date(tmp_path):
    """A workbook of the 1904 date system (old Excel for Mac) counts its days from 1904-01-01: its
    bare 44198 is 2025-01-03, and the hint said 2021-01-02 (the 1900 system's day). Its dates that
    kept their format are read as the days they are, and a workbook of the 1900 system checked
    beside it keeps its own count."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    mac = write_workbook(tmp_path / "mac" / "UNEP_2024.xlsx", valid_sheets())
    wb = load_workbook(mac)
    wb.epoch = CALENDAR_MAC_1904
    wb.save(mac)  # its dates (the Offsets' retirement date) stored as days from 1904
    assert b'date1904="1"' in zipfile.ZipFile(mac).read("xl/workbook.xml")
    [sub] = check_files([mac], jobs=1)
    assert sub.is_valid and [d.date() for d in sub.tables["Offsets"]["retirement_date"]] == [dt.date(2025, 3, 15)]
    wb["EMS"]["B6"] = 44198  # a date that lost its format
    wb["EMS"]["B6"].number_format = "General"
    wb.save(mac)
    windows = write_workbook(tmp_path / "win" / "WFP_2024.xlsx", set_cell(valid_sheets("WFP"), "EMS", "B6", 44198))
    subs = {sub.entity_code: sub for sub in check_files([mac, windows], jobs=1)}
    [found] = [f for f in subs["UNEP"].findings if f.code == "type-error"]
    assert found.cell == "B6" and "this number is 2025-01-03" in found.message, found.message
    [found] = [f for f in subs["WFP"].findings if f.code == "type-error"]
    assert "this number is 2021-01-02" in found.message, found.message


def _claiming(path: Path, entity: str, serial: str) -> Path:
    return write_workbook(path, set_cell(valid_sheets(entity), "Offsets", "C2", serial))


def test_validate_says_of_serials_and_entity_years_claimed_twice_what_gtb_run_would(tmp_path):
    """A workbook gtb validate calls valid is not then rejected by gtb run for a serial or an
    entity-year claimed elsewhere: among the files checked together, and with --db against the
    serials loaded there (the portal's check of an upload too)."""
    serial = valid_sheets("UNEP")["Offsets"][1][2]
    unep = _claiming(tmp_path / "a" / "UNEP_2024.xlsx", "UNEP", serial)
    undp = _claiming(tmp_path / "b" / "UNDP_2024.xlsx", "UNDP", serial)
    subs = api.validate([unep, undp], report_dir=tmp_path / "reports")
    assert [f.code for f in subs[0].findings] == []  # the first in path order keeps its serial
    assert [(f.sheet, f.cell, f.code) for f in subs[1].findings] == [("Offsets", "C2", "duplicate-serial")]
    assert "UNEP 2024" in subs[1].findings[0].message

    # two workbooks of one entity-year: without the warehouse, which one a run would read again
    # is not known (a loaded workbook and its correction are no duplicate): nothing is said
    other = write_workbook(tmp_path / "c" / "UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Entity", "B4", 999))
    assert [s.is_valid for s in api.validate([unep, other], report_dir=tmp_path / "reports")] == [True, True]

    inputs = tmp_path / "inputs" / "submissions"
    inputs.mkdir(parents=True)
    (inputs / "UNDP_2024.xlsx").write_bytes(undp.read_bytes())
    db = tmp_path / "gtb.duckdb"
    assert len(api.run(tmp_path / "inputs", db, tmp_path / "out").loaded) == 1
    [alone] = api.validate([unep], report_dir=tmp_path / "reports", db=db)
    assert [(f.cell, f.code) for f in alone.findings] == [("C2", "duplicate-serial")]
    assert "UNDP 2024" in alone.findings[0].message
    for reviewer in (None, api.reviewer()):  # a focal point's upload: whose serial it is, is not said
        check = api.check_upload(unep, tmp_path / "portal", "UNEP", 2024, db=db, reviewer=reviewer)
        [found] = check.submission.findings
        assert (found.cell, found.code) == ("C2", "duplicate-serial")
        assert "another entity" in found.message and "UNDP" not in found.message, found.message
        issues = (check.folder / "issues.csv").read_text(encoding="utf-8")
        assert "UNDP" not in issues and "another entity" in issues
    [own] = api.validate([undp], report_dir=tmp_path / "reports", db=db)  # the holder's correction
    assert own.is_valid, [f.message for f in own.findings]
    # with the warehouse: two new workbooks of one entity-year are duplicates, as for gtb run; a
    # loaded workbook beside its correction is not (the run reads only the correction)
    fixed = write_workbook(tmp_path / "d" / "UNDP_2024_v2.xlsx", set_cell(valid_sheets("UNDP"), "Entity", "B4", 999))
    both = api.validate([undp, fixed], report_dir=tmp_path / "reports", db=db)
    assert [s.is_valid for s in both] == [True, True], [f.message for s in both for f in s.findings]
    wfp = write_workbook(tmp_path / "e" / "WFP_2024.xlsx", valid_sheets("WFP"))
    wfp2 = write_workbook(tmp_path / "f" / "WFP_2024.xlsx", set_cell(valid_sheets("WFP"), "Entity", "B4", 999))
    new = api.validate([wfp, wfp2], report_dir=tmp_path / "reports", db=db)
    assert [[f.code for f in s.findings] for s in new] == [["duplicate-submission"]] * 2
    assert "were checked together" in new[0].findings[0].message
