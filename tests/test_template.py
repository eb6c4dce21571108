"""The blank submission workbook: sheets, headers, drop-downs and help follow the contract."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline import TEMPLATE_VERSION, codelists
from pipeline.intake.template import (
    INLINE_LIST_LIMIT,
    LAST_DATA_ROW,
    resolve_bound,
    template,
)
from schemas import contract, i18n
from tests.builders import example_rows, fill

YEAR = 2024


@pytest.fixture(scope="module")
def path(tmp_path_factory) -> Path:
    return template("unep", YEAR, tmp_path_factory.mktemp("tpl") / "UNEP_2024_submission.xlsx")


@pytest.fixture(scope="module")
def wb(path):
    return load_workbook(path)


def validations_at(ws, coordinate: str) -> list[DataValidation]:
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


def list_items(wb, dv: DataValidation) -> list[str]:
    """The codes a list validation offers: inline '"a,b"' or a range on the Lists sheet."""
    source = dv.formula1
    if source.startswith('"'):
        return source.strip('"').split(",")
    sheet, rng = source.split("!")
    assert sheet.strip("'") == "Lists"
    cells = wb[sheet.strip("'")][rng.replace("$", "")]
    return [row[0].value for row in cells]


def expected_codes(sheet: contract.SheetSpec, col: contract.ColumnSpec) -> list[str]:
    """Independent of the template: unit columns offer the units of their compatibility table."""
    tables = {"Facilities": "facilities_unit", "Vehicles": "vehicle_unit"}
    if col.codelist == "unit" and sheet.name in tables:
        units = codelists.allowed_units(tables[sheet.name]).values()
        return sorted({u for group in units for u in group})
    return sorted(codelists.codes(col.codelist))


def test_sheets_in_contract_order_between_instructions_and_hidden_lists(wb):
    assert wb.sheetnames == ["Instructions", *contract.sheet_names(), "Lists"]
    assert wb["Lists"].sheet_state == "hidden"
    assert all(wb[name].sheet_state == "visible" for name in contract.sheet_names())
    assert wb.active.title == "Instructions"


def test_table_headers_are_the_contract_columns_in_order(wb):
    for sheet in contract.sheets():
        ws = wb[sheet.name]
        if sheet.is_table:
            header = [c.value for c in ws[1]]
            assert header == [i18n.header(sheet.name, c, "en") for c in sheet.names], sheet.name
            for cell, col in zip(ws[1], sheet.columns, strict=True):  # required bold, optional italic
                assert (cell.font.b, cell.font.i) == ((True, False) if col.required else (False, True)), col.name
        else:
            assert [ws["A1"].value, ws["B1"].value] == ["Field", "Value"]
            fields = [ws.cell(row=r, column=1).value for r in range(2, 2 + len(sheet.columns))]
            assert fields == [i18n.header(sheet.name, c, "en") for c in sheet.names], sheet.name
            assert ws.cell(row=2 + len(sheet.columns), column=1).value is None
        assert ws.freeze_panes == "A2", sheet.name


def test_every_enumeration_column_has_the_right_drop_down(wb):
    """Every coded column offers exactly its codes, each as its label ('Natural gas',
    'Kenya (KEN)'), and each label leads back to its code."""
    checked = 0
    for sheet in contract.sheets():
        ws = wb[sheet.name]
        for idx, col in enumerate(sheet.columns):
            if not col.codelist or col.codelist == "airports":
                continue
            coords = [f"{chr(65 + idx)}2", f"{chr(65 + idx)}{LAST_DATA_ROW}"] if sheet.is_table else [f"B{idx + 2}"]
            for coordinate in coords:
                lists = [dv for dv in validations_at(ws, coordinate) if dv.type == "list"]
                assert len(lists) == 1, f"{sheet.name}.{col.name} at {coordinate}"
                items = list_items(wb, lists[0])
                codes = sorted(_code_of(col, item) for item in items)
                assert codes == expected_codes(sheet, col), f"{sheet.name}.{col.name}"
                assert len(lists[0].formula1) <= INLINE_LIST_LIMIT
            checked += 1
    assert checked >= 30


def _code_of(col: contract.ColumnSpec, item: str) -> str:
    if col.codelist in ("countries", "entities"):
        return i18n.code_in_brackets(item) or item
    assert col.codelist
    return i18n.code_lookup(col.codelist)[i18n.fold(item)]


def test_validation_messages_fit_excel_limits(wb):
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            assert dv.error and len(dv.error) <= 225, (ws.title, dv.sqref)
            assert len(dv.errorTitle) <= 32
            assert dv.type != "list" or len(dv.formula1) <= INLINE_LIST_LIMIT


def test_a_value_typed_outside_a_drop_down_is_asked_about_not_refused(wb):
    """The contract's codes (KEN, kwh, natural_gas) and the words in another language, which the
    pipeline reads, are not the drop-downs' labels: Excel asks to keep them (warning style) rather
    than refusing them, as it does for numbers typed as text; the message says so."""
    lists = [dv for ws in wb.worksheets for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) > 10
    assert {dv.errorStyle for dv in lists} == {"warning"}
    assert all("KEN" in dv.error and "Yes" in dv.error for dv in lists)


def test_lists_sheet_holds_the_full_country_and_entity_lists(wb):
    ws = wb["Lists"]
    columns = {ws.cell(row=1, column=c).value: c for c in range(1, ws.max_column + 1)}
    for name in ("countries", "entities"):
        col = columns[name]
        values = [ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)]
        values = [v for v in values if v is not None]
        labels = [i18n.code_label(name, code, "en") for code in codelists.codes(name)]
        # the countries in the order of their names (a reader looks for Switzerland under S)
        assert values == (sorted(labels, key=i18n.fold) if name == "countries" else labels)
    assert "Kenya (KEN)" in [ws.cell(row=r, column=columns["countries"]).value for r in range(2, ws.max_row + 1)]
    assert len(codelists.codes("countries")) > 240
    country_dv = [dv for dv in validations_at(wb["Facilities"], "B2") if dv.type == "list"][0]
    assert country_dv.formula1.startswith("'Lists'!$")


def test_numeric_columns_are_checked_with_their_bounds(wb):
    quantity = [dv for dv in validations_at(wb["Facilities"], "D500") if dv.type == "decimal"]
    assert len(quantity) == 1 and (quantity[0].operator, quantity[0].formula1, quantity[0].formula2) == (
        "between",
        "0",
        "1000000000000",  # every number has an upper bound (columns.csv), written in full
    )
    trips = [dv for dv in validations_at(wb["AirTravel"], "E2") if dv.type == "whole"]
    assert (trips[0].operator, trips[0].formula1, trips[0].formula2) == ("between", "1", "10000000")
    year = [dv for dv in validations_at(wb["Entity"], "B3") if dv.type == "whole"][0]
    assert (year.operator, year.formula1, year.formula2) == ("between", "2008", str(dt.date.today().year))
    vintage = [dv for dv in validations_at(wb["Offsets"], "D2") if dv.type == "whole"][0]
    assert (vintage.formula1, vintage.formula2) == ("2000", str(YEAR + 1))
    # '> 0' (columns.csv's gt): Excel warns at 0, as the pipeline refuses it
    personnel = [dv for dv in validations_at(wb["Entity"], "B4") if dv.type == "whole"][0]
    assert (personnel.operator, personnel.formula1, personnel.formula2) == ("between", "1", "2000000")
    for sheet, cell in (("AirTravel", "C2"), ("AirTravel", "G2"), ("Offsets", "E2")):
        [above] = [dv for dv in validations_at(wb[sheet], cell) if dv.type == "decimal"]
        assert above.operator == "between" and 0 < float(above.formula1) <= 1e-9, (sheet, cell, above.formula1)
    retired = [dv for dv in validations_at(wb["Offsets"], "F2") if dv.type == "date"][0]
    assert (retired.operator, retired.formula1, retired.formula2) == (
        "between",
        f"DATE({YEAR},1,1)",
        f"DATE({YEAR + 1},12,31)",  # a retirement may fall in the year after the reporting year, not later
    )
    assert validations_at(wb["Facilities"], f"D{LAST_DATA_ROW}") and LAST_DATA_ROW == 1_048_576  # every row
    assert not validations_at(wb["Facilities"], "D1")  # never the header


def test_header_comments_give_meaning_requirement_and_rule(wb):
    for sheet in contract.sheets():
        if not sheet.is_table:
            continue
        for idx, col in enumerate(sheet.columns, start=1):
            note = wb[sheet.name].cell(row=1, column=idx).comment
            assert note is not None, f"{sheet.name}.{col.name}"
            assert i18n.column_help(sheet.name, col.name, "en") in note.text
            assert ("required" if col.required else "optional") in note.text
            assert "What is accepted: " in note.text
    assert "a number, from 0 to 1,000,000,000,000" in wb["Facilities"]["D1"].comment.text
    assert "a unit of the list that suits the energy type" in wb["Facilities"]["E1"].comment.text
    assert "(kg)" in wb["Refrigerants"]["D1"].value


def test_entity_sheet_is_prefilled_and_help_column_explains(wb):
    ws = wb["Entity"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    header = {c: i18n.header("Entity", c, "en") for c in contract.sheet("Entity").names}
    assert values[header["entity_code"]] == "UNEP"
    assert values[header["reporting_year"]] == YEAR
    assert values[header["template_version"]] == TEMPLATE_VERSION
    assert values[header["personnel"]] is None
    assert ws["C1"].value == "Help"
    assert "a whole number, more than 0" in ws["C4"].value


def test_instructions_explain_the_workbook_in_plain_words(wb):
    text = "\n".join(str(c.value) for row in wb["Instructions"].iter_rows() for c in row if c.value is not None)
    for needle in (
        "UNEP",
        str(YEAR),
        TEMPLATE_VERSION,
        "UNEP_2024_submission.xlsx",
        "1 200",
        "Passenger-km",
        "Refrigerant",
        "240000",
    ):
        assert needle in text, needle
    for sheet in contract.sheets():
        assert i18n.sheet_purpose(sheet.name, "en") in text
    for jargon in ("scope 1", "ISO 3166", "alpha-3", "Field | Value", "HCFC"):
        assert jargon not in text, jargon


def test_workbook_properties(wb):
    assert wb.properties.creator == "Greening the Blue pipeline"
    assert "UNEP" in wb.properties.title and str(YEAR) in wb.properties.title


def test_default_output_is_entity_year_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = template("UN-HABITAT", 2010)
    assert out == Path("UN-HABITAT_2010_submission.xlsx")
    assert (tmp_path / out).is_file()


@pytest.mark.parametrize(
    ("entity", "year", "lang", "message"),
    [
        ("NOPE", YEAR, "en", "unknown entity code 'NOPE'"),
        ("UNEP", 2007, "en", "from 2008 to"),
        ("UNEP", dt.date.today().year + 1, "en", "out of range"),
        ("UNEP", "2024", "en", "out of range"),
        ("UNEP", YEAR, "de", "supported: en, fr, es"),
    ],
)
def test_invalid_arguments_raise(tmp_path, entity, year, lang, message):
    with pytest.raises(ValueError, match=message):
        template(entity, year, tmp_path / "x.xlsx", lang=lang)
    assert not (tmp_path / "x.xlsx").exists()


def test_resolve_bound_reads_symbolic_bounds():
    assert resolve_bound("2008", YEAR) == 2008
    assert resolve_bound("reporting_year+1", YEAR) == YEAR + 1
    assert resolve_bound("reporting_year-01-01", YEAR) == dt.date(YEAR, 1, 1)
    assert resolve_bound("reporting_year+1-12-31", YEAR) == dt.date(YEAR + 1, 12, 31)
    assert resolve_bound("current_year", YEAR) == dt.date.today().year
    assert resolve_bound("0.5", YEAR) == 0.5


def test_example_rows_are_valid_codes_of_the_contract():
    rows = example_rows()
    assert set(rows) == set(contract.sheet_names())
    for sheet in contract.sheets():
        for item in rows[sheet.name]:
            assert set(item) == set(sheet.names), sheet.name
            for col in sheet.columns:
                value = item[col.name]
                if col.required and not (
                    sheet.name == "AirTravel" and col.name in ("origin", "destination", "distance_km")
                ):
                    assert value not in (None, ""), f"{sheet.name}.{col.name}"
                if value is not None and col.codelist:
                    assert value in codelists.codes(col.codelist), f"{sheet.name}.{col.name}={value}"
    air = rows["AirTravel"][0]
    assert (air["origin"], air["destination"], air["distance_km"]) == ("NBO", "GVA", None)
    facilities = rows["Facilities"][0]
    assert facilities["unit"] in codelists.allowed_units("facilities_unit")[facilities["energy_type"]]


def test_fill_writes_example_rows_under_the_headers(path, tmp_path):
    out = fill(path, example_rows(), tmp_path / "filled.xlsx")
    wb = load_workbook(out)
    assert wb["Facilities"]["C2"].value == "electricity"
    assert wb["AirTravel"]["A2"].value == "NBO"
    ems = {wb["EMS"].cell(row=r, column=1).value: wb["EMS"].cell(row=r, column=2).value for r in range(2, 7)}
    assert ems["Status"] == "certified" and ems["Policy adopted?"] == "yes"
    assert load_workbook(path)["Facilities"]["C2"].value is None  # the template itself is untouched


def test_a_template_that_cannot_be_written_is_one_line_and_never_half_a_file(tmp_path, capsys, monkeypatch):
    """A full disk: one line and exit 2 (there was a traceback after the message), and the file
    already at the path is left whole, with no temporary file beside it. A device is written into
    as asked, never replaced; a link is followed."""
    import os
    import stat

    from pipeline.cli import main

    if os.path.exists("/dev/full"):
        assert main(["template", "UNEP", "2024", "-o", "/dev/full"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode), "the device is still a device"
    target = tmp_path / "UNEP_2024.xlsx"
    target.write_bytes(b"last week's template")

    def no_space(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    assert main(["template", "UNEP", "2024", "-o", str(target)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert target.read_bytes() == b"last week's template" and [p.name for p in tmp_path.iterdir()] == [target.name]
    monkeypatch.undo()
    link = tmp_path / "latest.xlsx"
    link.symlink_to(target)
    assert main(["template", "UNEP", "2024", "-o", str(link)]) == 0
    assert link.is_symlink() and target.read_bytes()[:2] == b"PK"


def test_the_template_version_is_one_the_contract_lists():
    """Bumping TEMPLATE_VERSION without adding it to its code list would have every new template
    told `unknown-template-version`: the list must name the version the templates carry."""
    assert TEMPLATE_VERSION in codelists.codes("template_version")


def test_a_template_of_another_year_than_the_cycles_gives_no_deadline_of_the_cycles(tmp_path):
    """`gtb template UNEP 2024` while the cycle collects 2026 printed the 2026 deadline on the
    2024 workbook; a late or corrected workbook of another year points to the team's letter."""
    import datetime as dt

    from pipeline.cycle import Cycle

    cycle = Cycle(YEAR + 2, dt.date(YEAR + 3, 3, 31), "SUN", "sun@example.org", tmp_path / "c.toml")

    def said(year: int) -> str:
        book = load_workbook(template("UNEP", year, tmp_path / f"UNEP_{year}.xlsx", cycle=cycle))
        return " ".join(str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value is not None)

    assert f"{YEAR + 3}-03-31" in said(YEAR + 2)
    assert f"{YEAR + 3}-03-31" not in said(YEAR) and "the date in the Greening the Blue team's letter" in said(YEAR)
