"""The guard refuses every hostile family with a helpful message, quickly and in bounded memory,
and reports formulas without cached values and hidden sheets of the files it lets through."""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.errors import UnreadableFile
from pipeline.intake import guard
from pipeline.intake.guard import Limits, Refused
from tests import hostile
from tests.hostile import check

SAVE_AS = "Save As > Excel Workbook (*.xlsx)"


def refusal(path: Path, limits: Limits = guard.DEFAULT_LIMITS) -> Refused:
    """The guard's refusal of `path` (how fast it comes is measured in benchmarks/, not here)."""
    with pytest.raises(UnreadableFile) as caught:
        check(path, limits)
    assert isinstance(caught.value, Refused)
    return caught.value


def small_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Facilities"
    ws.append(["site", "country", "quantity"])
    ws.append(["Geneva", "CHE", 1200])
    wb.save(path)
    return path


# --- files that are not xlsx workbooks ------------------------------------------------------

NOT_XLSX = [
    (hostile.empty_file, "empty", "empty"),
    (hostile.random_bytes, "unknown-type", SAVE_AS),
    (hostile.csv_renamed, "text", "CSV"),
    (hostile.legacy_xls, "legacy-xls", "Excel 97-2003 workbook (.xls)"),
    (hostile.encrypted_ooxml, "encrypted", "remove the password"),
    (hostile.label_encrypted_ooxml, "encrypted-label", "a label that does not encrypt"),
    (hostile.ods_renamed, "ods", "OpenDocument spreadsheet (.ods)"),
    (hostile.xlsm_renamed, "macro", "macro-enabled"),
    (hostile.zip_without_workbook, "no-workbook", "xl/workbook.xml is missing"),
    (hostile.zipped_workbook, "zipped-workbook", "compressed (zip) folder holding 'UNEP_2024.xlsx'"),
]


@pytest.mark.parametrize(("build", "reason", "phrase"), NOT_XLSX, ids=[b.__name__ for b, _, _ in NOT_XLSX])
def test_not_an_xlsx_is_refused_with_the_fix(tmp_path, build, reason, phrase):
    error = refusal(build(tmp_path))
    assert error.reason == reason
    assert phrase in str(error)


def test_refusals_name_a_fix(tmp_path):
    for build, _, _ in NOT_XLSX:
        message = str(refusal(build(tmp_path)))
        assert any(fix in message for fix in ("Save As", "save", "Submit", "submit")), message


def test_a_macro_enabled_content_type_without_a_macro_is_read(tmp_path):
    """Excel declares every .xlsm macro-enabled, macros or not: one saved without a macro was
    refused as macro-enabled, though nothing in it runs (decided: a macro-free .xlsm loads). A
    macro part still refuses it, whatever the content type says."""
    sheets = {"Entity": hostile.one_cell_sheet("A1")}
    path = hostile.minimal_xlsx(tmp_path / "m.xlsm", sheets, workbook_content_type=hostile.MACRO_WORKBOOK_CT)
    guard.check_bytes(path.read_bytes())  # no refusal
    for member in ("xl/vbaProject.bin", "xl/macrosheets/sheet1.xml"):
        extra = {member: b"<x/>"}
        for content_type in (hostile.MACRO_WORKBOOK_CT, None):
            kwargs = {"workbook_content_type": content_type} if content_type else {}
            built = hostile.minimal_xlsx(tmp_path / "v.xlsm", sheets, extra_members=extra, **kwargs)
            assert refusal(built).reason == "macro", (member, content_type)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "html"),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>', "xml-2003"),
        ("site;quantity\nGenève;12\n".encode("latin-1"), "text"),
    ],
)
def test_other_renamed_files(tmp_path, content, reason):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    assert refusal(path).reason == reason


def test_word_document_renamed(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    error = refusal(path)
    assert error.reason == "other-office" and "Word" in str(error)


def test_missing_file(tmp_path):
    assert refusal(tmp_path / "nowhere.xlsx").reason == "not-found"


# --- damaged and ambiguous zip packages -----------------------------------------------------


def test_truncated_file(tmp_path):
    path = small_workbook(tmp_path / "w.xlsx")
    path.write_bytes(path.read_bytes()[:-100])
    assert refusal(path).reason == "damaged-zip"


@pytest.mark.parametrize("where", ["before", "after"])
def test_data_around_the_zip_is_refused(tmp_path, where):
    # zipfile reads such files happily; a reader that looks for the zip differently might not
    path = small_workbook(tmp_path / "w.xlsx")
    junk = b"MZ" + b"\0" * 510
    path.write_bytes(junk + path.read_bytes() if where == "before" else path.read_bytes() + junk)
    assert zipfile.ZipFile(path).namelist()
    error = refusal(path)
    assert error.reason == ("unknown-type" if where == "before" else "damaged-zip")


def test_corrupted_member_fails_its_checksum(tmp_path):
    path = small_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert refusal(path).reason == "damaged-zip"


def test_member_names_differing_only_in_case(tmp_path):
    # calamine finds parts ignoring case: which copy it reads would be a guess
    path = small_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("XL/worksheets/SHEET1.xml", hostile.one_cell_sheet("XFD1048576"))
    error = refusal(path)
    assert error.reason == "damaged-zip" and "twice" in str(error)


def test_encrypted_zip_member(tmp_path):
    path = small_workbook(tmp_path / "w.xlsx")
    data = bytearray(path.read_bytes())
    directory = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))  # the last member's entry
    data[directory + 8] |= 0x1  # general purpose flag: encrypted
    path.write_bytes(bytes(data))
    error = refusal(path)
    assert error.reason == "encrypted-zip" and "password" in str(error)


def test_too_many_members(tmp_path):
    path = small_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(30):
            zf.writestr(f"xl/media/image{i}.png", b"")
    error = refusal(path, Limits(max_members=20))
    assert error.reason == "too-many-members"


# --- decompression bombs --------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "honest": hostile.zip_bomb(folder, inflated_mb=300),
        "lying": hostile.lying_zip_bomb(folder, inflated_mb=300),
    }


def test_zip_bomb_refused_from_the_directory(bombs):
    path = bombs["honest"]
    assert path.stat().st_size < 3 * 2**20  # 300 MiB inflated, about 2 MB on disk
    error = refusal(path, Limits(max_total_uncompressed_bytes=200 * 2**20))
    assert error.reason == "bomb-total" and "300 MB" in str(error)
    # under the default total (1 GiB, room for a million-row sheet) its ratio gives it away, as early
    assert refusal(path).reason == "bomb-ratio"


def test_zip_bomb_refused_by_ratio_below_the_total(tmp_path):
    path = hostile.zip_bomb(tmp_path, inflated_mb=150)
    error = refusal(path)
    assert error.reason == "bomb-ratio" and "sheet 'Entity'" in str(error)


def test_lying_zip_bomb_stopped_while_streaming(bombs):
    path = bombs["lying"]
    with zipfile.ZipFile(path) as zf:  # the directory looks harmless
        assert zf.getinfo(hostile.SHEET1).file_size == 4096
    error = refusal(path)
    assert error.reason == "bomb-lying" and "4,096 bytes" in str(error)


MEASURE = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1024 * 2**20, 1024 * 2**20))
from pipeline.intake import guard
from tests.hostile import check
try:
    check(sys.argv[1])
    reason = None
except guard.Refused as exc:
    reason = exc.reason
# VmHWM: this process's peak resident memory (ru_maxrss would carry over the parent's from fork)
peak_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({"reason": reason, "peak_mb": peak_kb / 1024}))
"""


def measure_in_subprocess(path: Path) -> dict:
    """guard.check in a fresh process capped at 1 GiB of address space; its refusal and peak memory."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_lying_bomb_streams_in_bounded_memory(tmp_path):
    # declared 150 MiB (under every directory limit), really 300 MiB: the guard inflates up to
    # the declared size, one chunk at a time, and stops there
    path = hostile.lying_zip_bomb(tmp_path, inflated_mb=300, declared_bytes=150 * 2**20, member="xl/sharedStrings.xml")
    result = measure_in_subprocess(path)
    assert result["reason"] == "bomb-lying"
    assert result["peak_mb"] < 120  # the interpreter alone is ~30 MB; 150 MB were inflated


def test_lying_bomb_in_a_sheet_stops_at_the_row_limit(tmp_path):
    path = hostile.lying_zip_bomb(tmp_path, inflated_mb=300, declared_bytes=150 * 2**20)
    result = measure_in_subprocess(path)
    assert result["reason"] == "extent"
    assert result["peak_mb"] < 120


def test_xml_bomb_refused_before_parsing(tmp_path):
    error = refusal(hostile.xml_bomb(tmp_path))
    assert error.reason == "xml-entities" and "xl/sharedStrings.xml" in str(error)


def test_doctype_in_a_sheet_is_refused(tmp_path):
    sheet = hostile.BILLION_LAUGHS.replace("<sst", "<worksheet").replace("</sst>", "</worksheet>")
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"Entity": sheet})
    assert refusal(path).reason == "xml-entities"


def test_utf16_xml_is_refused(tmp_path):
    sheet = hostile.one_cell_sheet("A1").replace("UTF-8", "UTF-16")
    path = tmp_path / "w.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in hostile.package_parts({"Entity": sheet}).items():
            zf.writestr(name, text.encode("utf-16") if name.endswith("sheet1.xml") else text.encode())
    assert refusal(path).reason == "xml-encoding"


def test_announced_shared_strings_are_bounded(tmp_path):
    assert refusal(hostile.shared_strings_count_bomb(tmp_path)).reason == "shared-strings"


def test_many_cells_referring_to_a_small_shared_string_table_are_fine(tmp_path):
    """Excel's `count` is the number of cells that use the table (five million in a million-row
    export with five text columns); only `uniqueCount`, the table's size, is bounded."""
    sst = f'<?xml version="1.0"?><sst xmlns="{hostile.MAIN_NS}" count="5006547" uniqueCount="1"><si><t>x</t></si></sst>'
    cells = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = hostile.minimal_xlsx(tmp_path / "many_refs.xlsx", {"Entity": hostile.sheet_xml(cells)}, shared_strings=sst)
    check(path)  # no refusal


# --- sheet extents --------------------------------------------------------------------------


def test_far_cell_refused_with_sheet_and_cell(tmp_path):
    path = hostile.far_cell(tmp_path)
    assert path.stat().st_size < 5000
    error = refusal(path)
    assert error.reason == "extent"
    assert "'Entity'" in str(error) and "XFD1048576" in str(error) and "Delete the unused rows" in str(error)


def test_lying_dimension_does_not_hide_a_far_cell(tmp_path):
    error = refusal(hostile.lying_dimension(tmp_path))
    assert error.reason == "sparse-extent" and "900,000 rows" in str(error) and "only 2 cells" in str(error)


def test_absurd_dimension_alone_is_refused(tmp_path):
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.one_cell_sheet("A1", dimension="A1:XFD1048576")})
    assert refusal(path).reason == "extent"
    assert check(path, Limits(check_dimension=False)).last_cells == {"S": "A1"}


@pytest.mark.parametrize(
    ("cell", "accepted"),
    [
        ("GR1", True),
        ("GS1", False),
        ("A1048576", True),
        ("A1048577", False),
        ("P1048576", True),
        ("Q1048576", False),
    ],
)
def test_extent_bounds(tmp_path, cell, accepted):
    # 200 columns (GR), Excel's 1,048,576 rows, 16 x 1,048,576 cells from A1 (P1048576); the
    # density rule is lifted here, as one cell alone in such an extent is refused by it
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.one_cell_sheet(cell)})
    dense_enough = Limits(extent_allowance_cells=2**40)
    if accepted:
        assert check(path, dense_enough).last_cells == {"S": cell}
    else:
        assert refusal(path, dense_enough).reason == "extent"


def test_the_furthest_row_is_the_highest_number_whatever_its_zeros(tmp_path):
    # "A0007" is row 7: the furthest of rows 0007, 12 and 9 is 12 (not the longest text)
    rows = '<row r="7"><c r="A0007"><v>1</v></c></row><row r="9"><c r="B9"><v>1</v></c></row>'
    rows += '<row r="12"><c r="A12"><v>1</v></c></row>'
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert check(path, Limits(check_dimension=False)).last_cells == {"S": "B12"}


def test_a_million_rows_are_not_absurd_when_the_cells_are_there(tmp_path):
    # the bound follows the cells present, not a row count: 3 columns x 10 rows hold 30 cells
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in "ABC") + "</row>" for r in range(1, 11)
    )
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    small = Limits(extent_allowance_cells=10, max_empty_per_cell=1)
    assert check(path, small).last_cells == {"S": "C10"}
    # one more cell far below: 3 x 40 = 120 cells of extent for 31 present (at most 10 + 31 x 1)
    far = rows + '<row r="40"><c r="A40"><v>1</v></c></row>'
    path = hostile.minimal_xlsx(tmp_path / "far.xlsx", {"S": hostile.sheet_xml(far)})
    error = refusal(path, small)
    assert error.reason == "sparse-extent" and "C40" in str(error) and "31 cells" in str(error)
    # the same far cell, written without references (the exact walk counts cells too)
    positional = far.replace(' r="A40"', "").replace('<row r="40">', '<row r="40" >')
    path = hostile.minimal_xlsx(tmp_path / "walk.xlsx", {"S": hostile.sheet_xml(positional)})
    assert refusal(path, small).reason == "sparse-extent"


def test_the_default_density_rule_refuses_a_lone_far_cell(tmp_path):
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.one_cell_sheet("H500000")})
    assert refusal(path).reason == "sparse-extent"  # 4 million cells of extent for one cell


@pytest.mark.parametrize(
    "cells",
    [
        '<row r="1"><c r="A1"><v>1</v></c><c r="xfd1"><v>1</v></c></row>',  # lower case, as calamine accepts
        '<row r="1"><c r="A1"><v>1</v></c><x:c xmlns:x="urn:x" r="A1048577"><v>1</v></x:c></row>',  # any prefix
        '<row r="1"><c r="A1"><v>1</v></c><c s="1" r="A1048577"><v>1</v></c></row>',  # r not first
        "<row>" + "<c><v>1</v></c>" * 201 + "</row>",  # no r: positions follow calamine's counting
        '<row r="1048577"><c><v>1</v></c></row>',
    ],
    ids=["lower-case", "prefixed", "r-not-first", "no-r-columns", "no-r-row"],
)
def test_unusual_cell_markup_cannot_hide_a_far_cell(tmp_path, cells):
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(cells)})
    assert refusal(path).reason == "extent"


def test_sheet_part_not_named_xml_is_scanned_too(tmp_path):
    path = hostile.renamed_sheet_part(tmp_path / "w.xlsx", hostile.one_cell_sheet("XFD1048576"))
    error = refusal(path)
    assert error.reason == "extent" and "'S'" in str(error)


def test_limits_are_configurable(tmp_path):
    path = small_workbook(tmp_path / "w.xlsx")
    assert check(path)
    error = refusal(path, Limits(max_rows=1))
    assert error.reason == "extent" and "'Facilities'" in str(error)


# --- what the guard reports -----------------------------------------------------------------


def test_report_of_a_plain_workbook(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Entity"
    wb["Entity"]["B7"] = 1
    wb.create_sheet("Facilities")
    wb.create_sheet("Water")
    wb.save(tmp_path / "w.xlsx")
    report = check(tmp_path / "w.xlsx")
    data = (tmp_path / "w.xlsx").read_bytes()
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.size_bytes == len(data)
    assert report.sheet_names == ["Entity", "Facilities", "Water"]
    assert report.hidden_sheets == []
    assert report.formula_cells_without_value == {}
    assert report.last_cells["Entity"] == "B7"
    assert guard.check_bytes(data) == report


def test_hidden_sheets_are_reported(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Entity"
    wb.create_sheet("Lists").sheet_state = "hidden"
    wb.create_sheet("Secret").sheet_state = "veryHidden"
    wb.create_sheet("Water")
    wb.save(tmp_path / "w.xlsx")
    assert check(tmp_path / "w.xlsx").hidden_sheets == ["Lists", "Secret"]


def test_openpyxl_formula_has_no_cached_value(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Facilities"
    ws["A1"] = "quantity"
    ws["D2"] = "=1+1"
    wb.create_sheet("Water")["C5"] = "=SUM(A1:A3)"
    wb.save(tmp_path / "w.xlsx")
    report = check(tmp_path / "w.xlsx")
    assert report.formula_cells_without_value == {"Facilities": ["D2"], "Water": ["C5"]}


FORMULA_ROWS = (
    '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="2"><c r="D2"><f>SUM(A1:A3)</f><v>6</v></c></row>'  # Excel: cached value
    '<row r="3"><c r="D3" t="str"><f>""</f><v></v></c></row>'  # cached empty text
    '<row r="4"><c r="D4"><f>1+1</f></c></row>'  # no <v> at all
    '<row r="5"><c r="D5"><f t="shared" si="0" ref="D5:E6">A1</f><v/></c></row>'  # openpyxl style
    '<row r="6"><c r="D6"><f t="shared" si="0"/><v>3</v></c><c r="E6"><f t="shared" si="0"/></c></row>'
    '<row r="7"><c r="F7"><f>1</f><v></v></c><c r="G7" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
)


@pytest.mark.parametrize("markup", ["plain", "positional"])
def test_formula_cells_without_value(tmp_path, markup):
    rows = FORMULA_ROWS if markup == "plain" else FORMULA_ROWS.replace(' r="', '  r="')  # forces the exact walk
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert check(path).formula_cells_without_value == {"S": ["D4", "D5", "E6", "F7"]}


def test_formula_cells_without_r_get_their_position(tmp_path):
    rows = (
        "<row><c><v>1</v></c><c><f>1</f></c></row><row/>"
        '<row><c/><c/><c t="str"><f>x</f><v></v></c><c><f>2</f></c></row>'
    )
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    report = check(path)
    assert report.formula_cells_without_value == {"S": ["B1", "D3"]}
    assert report.last_cells == {"S": "D3"}


def test_formulas_found_across_stream_windows(tmp_path):
    # a 3 MB sheet: scanned in 1 MiB windows, every formula cell found once
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>site {i} with some padding text</t></is></c>'
        f'<c r="B{i}"><f>A{i}*2</f><v/></c><c r="C{i}"><f>B{i}</f><v>{i}</v></c></row>'
        for i in range(1, 20001)
    )
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    cells = check(path).formula_cells_without_value["S"]
    assert cells == [f"B{i}" for i in range(1, 20001)]


def test_typical_workbook_passes_the_guard(tmp_path):
    path = hostile.typical_workbook(tmp_path / "typical.xlsx")
    report = check(path)
    assert len(report.sheet_names) == 10 and report.formula_cells_without_value == {}


def test_refused_survives_pickling():
    import pickle

    error = guard.refuse("empty")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, Refused) and copy.reason == "empty" and str(copy) == str(error)


def test_zip64_end_record_is_understood(tmp_path):
    # large zips end with a zip64 end record; the guard must find the directory through it
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"Entity": hostile.one_cell_sheet("B2")})
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    entries, directory_bytes, directory_offset = struct.unpack_from("<HLL", data, end + 10)
    zip64_end = struct.pack(
        "<4sQHHLLQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, directory_bytes, directory_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(data[:end] + zip64_end + locator + end_record)
    assert len(zipfile.ZipFile(path).namelist()) == entries
    assert check(path).last_cells == {"Entity": "B2"}


def test_error_cells_are_reported_with_their_error(tmp_path):
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="D2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c s="3" t=\'e\' r="E2"><v>#N/A</v></c></row>'
        '<row r="3"><c r="D3" t="str"><f>"e"</f><v>e</v></c></row>'
    )
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert check(path).error_cells == {"S": {"D2": "#DIV/0!", "E2": "#N/A"}}


def test_binary_workbook_is_called_binary_not_macro_enabled(tmp_path):
    """Excel declares every .xlsb "sheet.binary.macroEnabled", with or without macros: the fix for
    the focal point is to save as .xlsx, and the message says what the file is."""
    path = tmp_path / "Book1.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.bin" '
            'ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
        zf.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    error = refusal(path)
    assert error.reason == "xlsb" and "binary workbook (.xlsb)" in str(error) and "macro" not in str(error)


def test_a_real_xls_is_not_said_to_be_renamed(tmp_path):
    path = hostile.legacy_xls(tmp_path)
    message = str(refusal(path))
    assert "renamed" not in message and "97-2003" in message


CELL_TAGS = [
    '<c r="A1">',
    '<c r="XFD1048576"/>',
    '<c r="B22" t="s">',
    '<c  r="C3">',  # two spaces
    '<c s="1" r="D4">',  # r not first
    "<c/>",
    "<c>",
    "<c\tr='E5'>",
    '<x:c r="F6">',
    '<col min="1"/>',
    "<cols>",
    '<c r="AAAA1">',
    '<c r="A12345678">',
    '<c r="a1">',
    "<v>1</v></c>",
    '<row r="9">',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CELL_TAGS), max_size=40))
def test_the_fast_path_takes_the_cells_two_patterns_found(tags):
    """One pass finds what the rows pattern and the cell-start pattern found in two: the rows of
    the cells written <c r="A1", and whether any other cell tag needs the exact walk."""
    window = "".join(tags).encode()
    rows = re.findall(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"', window)
    starts = re.findall(rb"<c[\s/>]", window)
    found = guard._CELL_ROW_OR_ODD.findall(window)
    assert (b"" in found) == (len(rows) != len(starts))
    if b"" not in found:
        assert found == rows


PLAIN_ROWS = "".join(
    f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="B{i}" t="s"><v>0</v></c></row>' for i in range(1, 40001)
)


@pytest.mark.parametrize(
    ("marker", "seen"),
    [
        ('<c r="C20000" t="e"><v>#REF!</v></c>', lambda r: r.error_cells == {"S": {"C20000": "#REF!"}}),
        ("<c r=\"C20000\" t='e'><v>#N/A</v></c>", lambda r: r.error_cells == {"S": {"C20000": "#N/A"}}),
        ('<c r="C20000"><f>A1+1</f></c>', lambda r: r.formula_cells_without_value == {"S": ["C20000"]}),
        ('<x:c r="Z20000" xmlns:x="x"><v>1</v></x:c>', lambda r: r.last_cells == {"S": "Z40000"}),
        ('<mergeCell ref="A1:C5000"/>', lambda r: r.range_cells == {"S": 15000}),
        ('<hyperlink ref="A1:D1000"/>', lambda r: r.range_cells == {"S": 4000}),
    ],
)
def test_a_rare_tag_in_the_middle_of_a_long_sheet_is_found(tmp_path, marker, seen):
    """The guard looks for a rare byte of each rare tag before the tag itself: a tag between
    ordinary rows, windows away from the start and the end of the part, is still found."""
    rows = PLAIN_ROWS.replace('<row r="20000">', f'<row r="20000">{marker}', 1)
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert seen(check(path))


def test_a_doctype_in_the_middle_of_a_long_sheet_is_refused(tmp_path):
    rows = PLAIN_ROWS.replace('<row r="20000">', '<!DOCTYPE x [<!ENTITY e "e">]><row r="20000">', 1)
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    with pytest.raises(Refused) as refused:
        check(path)
    assert refused.value.reason == "xml-entities"


def test_merged_ranges_are_reported_from_top_left_to_bottom_right(tmp_path):
    """Merged ranges (not hyperlinks, not one-cell merges) as written, whichever corner comes first:
    validation says an empty cell in one is empty because it is merged."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="C9"><v>1</v></c></row>'
    tail = (
        '<mergeCells count="3"><mergeCell ref="A2:A4"/><mergeCell ref="C9:B7"/><mergeCell ref="D5"/></mergeCells>'
        '<hyperlinks><hyperlink ref="A1:C1" r:id="rId1"/></hyperlinks>'
    )
    xml = hostile.sheet_xml(rows).replace("</sheetData>", "</sheetData>" + tail)
    path = hostile.minimal_xlsx(tmp_path / "m.xlsx", {"S": xml, "T": hostile.sheet_xml(rows)})
    report = check(path)
    assert report.merged_ranges == {"S": ["A2:A4", "B7:C9"]}
    assert report.range_cells == {"S": 6}  # B7:C9, the largest range of either kind


def test_merged_ranges_kept_are_bounded(tmp_path):
    merges = "".join(f'<mergeCell ref="A{2 * i + 1}:B{2 * i + 2}"/>' for i in range(guard.MAX_MERGED_RANGES + 50))
    xml = hostile.sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>').replace(
        "</sheetData>", f"</sheetData><mergeCells>{merges}</mergeCells>"
    )
    path = hostile.minimal_xlsx(tmp_path / "m.xlsx", {"S": xml})
    report = check(path)
    assert len(report.merged_ranges["S"]) == guard.MAX_MERGED_RANGES
    assert report.merged_ranges["S"][0] == "A1:B2"


def test_merged_ranges_beyond_excels_grid_are_not_kept(tmp_path):
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    merges = '<mergeCell ref="B1:ZZZZZZZ4"/><mergeCell ref="A2:A9999999"/><mergeCell ref="A2:XFD1048576"/>'
    xml = hostile.sheet_xml(rows).replace("</sheetData>", f"</sheetData><mergeCells>{merges}</mergeCells>")
    report = check(hostile.minimal_xlsx(tmp_path / "m.xlsx", {"S": xml}))
    assert report.merged_ranges == {"S": ["A2:XFD1048576"]}


HIDDEN_ROWS = (
    '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="2" hidden="1"><c r="A2"><v>1</v></c></row>'
    '<row r="3" hidden="true"><c r="A3"><v>1</v></c></row>'
    '<row r="5" hidden="0"><c r="A5"><v>1</v></c></row>'
    '<row r="6" hidden="false"><c r="A6"><v>1</v></c></row>'
    "<row r='8' ht='15' hidden = '1'><c r=\"A8\"><v>1</v></c></row>"
    '<x:row r="9" hidden="1"/>'
)


def test_hidden_rows_are_reported_as_runs(tmp_path):
    """Excel writes hidden="1", LibreOffice "true" (and "false" on every other row); any quoting
    and prefix; "0" and "false" are not hidden."""
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(HIDDEN_ROWS)})
    assert check(path).hidden_rows == {"S": [(2, 3), (8, 9)]}


def test_hidden_rows_of_cells_placed_by_position(tmp_path):
    """Cells without r: the exact walk places rows as calamine does, after the previous one."""
    rows = (
        '<row><c><v>1</v></c></row><row hidden="1"><c><v>1</v></c></row><row r="7" hidden="true"><c><v>2</v></c></row>'
    )
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert check(path).hidden_rows == {"S": [(2, 2), (7, 7)]}


def test_a_sheet_without_hidden_rows_reports_none(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.active.row_dimensions[1].height = 30  # a row with attributes, none of them hidden
    wb.save(tmp_path / "w.xlsx")
    assert check(tmp_path / "w.xlsx").hidden_rows == {}


def test_hidden_runs_kept_are_bounded(tmp_path):
    rows = "".join(f'<row r="{2 * i + 1}" hidden="1"><c r="A{2 * i + 1}"><v>1</v></c></row>' for i in range(12_000))
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    runs = check(path).hidden_rows["S"]
    assert len(runs) == guard.MAX_HIDDEN_RUNS
    assert runs[:2] == [(1, 1), (3, 3)]


@pytest.mark.parametrize("cells", ['<c r="A1"><v>1</v></c>', "<c><v>1</v></c>"])
def test_a_row_number_of_thousands_of_digits_is_refused_or_ignored(tmp_path, cells):
    """A number longer than any of Excel's rows: never an integer conversion error. With cells
    placed by r the row's own number is ignored; placed by position, it is a damaged part."""
    rows = f'<row r="1">{cells}</row><row r="{"9" * 5000}" hidden="1">{cells}</row>'
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    if "r=" in cells:
        assert check(path).hidden_rows == {}
    else:
        with pytest.raises(Refused) as raised:
            check(path)
        assert raised.value.reason == "damaged-part"


# --- where the guard and calamine could read two different packages -------------------------


def _rezip(path: Path, rename: dict[str, str] | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """The package at `path` written again, members renamed and added as given."""
    out = path.with_name("re_" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr((rename or {}).get(info.filename, info.filename), src.read(info))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out


def test_a_part_named_otherwise_in_its_local_header_is_refused(tmp_path):
    """Python's zipfile (which reads the percent formats) trusts the local header's name, calamine
    the directory's: a package whose two names differ is damaged, not an internal error."""
    path = small_workbook(tmp_path / "w.xlsx")
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04" + bytes(26)[:0])  # the first member's local header
    name_len = struct.unpack_from("<H", data, local + 26)[0]
    data[local + 30] ^= 0x20  # one letter of its name changes case there only
    path.write_bytes(bytes(data))
    assert name_len > 0
    error = refusal(path)
    assert error.reason == "damaged-zip" and "named otherwise" in str(error)


@pytest.mark.parametrize(("flag", "reason"), [(0x20, "compression"), (0x40, "encrypted-zip")])
def test_zip_flags_no_spreadsheet_program_writes_are_refused(tmp_path, flag, reason):
    path = small_workbook(tmp_path / "w.xlsx")
    data = bytearray(path.read_bytes())
    directory = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    data[directory + 8] |= flag
    path.write_bytes(bytes(data))
    assert refusal(path).reason == reason


def test_a_second_copy_of_a_part_under_backslashes_is_refused(tmp_path):
    """calamine reads 'xl\\\\worksheets\\\\sheet1.xml' as xl/worksheets/sheet1.xml (the last copy
    wins): two parts of one name, whichever way the slashes lean, are refused."""
    path = _rezip(small_workbook(tmp_path / "w.xlsx"), extra={"xl\\worksheets\\sheet1.xml": b"<x/>"})
    error = refusal(path)
    assert error.reason == "damaged-zip" and "twice" in str(error)


def test_a_sheet_part_named_with_backslashes_is_scanned_as_the_sheet(tmp_path):
    """The only copy under backslashes is the sheet calamine reads: the guard scans it as such."""
    sheet = hostile.one_cell_sheet("XFD1048576").encode()
    path = _rezip(
        small_workbook(tmp_path / "w.xlsx"), rename={"xl/worksheets/sheet1.xml": "xl\\worksheets\\sheet1.xml"}
    )
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts["xl\\worksheets\\sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    assert refusal(path).reason in ("extent", "sparse-extent")


@pytest.mark.parametrize(
    ("target", "part"),
    [
        ("/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("xl/worksheets/sheet1.xml", "xl/xl/worksheets/sheet1.xml"),
    ],
)
def test_relationship_targets_resolve_as_calamine_resolves_them(target, part):
    assert guard._calamine_part(target) == part


@pytest.mark.parametrize(
    "sst",
    [
        '<!-- <x> --><sst xmlns="{ns}" uniqueCount="4000000000"></sst>',
        '<wrap><sst xmlns="{ns}" uniqueCount="4000000000"></sst></wrap>',
        '<!-- <x> --><sst xmlns="{ns}" uniqueCount="18446744073709551615"></sst>',
        '<sst xmlns="{ns}" uniqueCount="' + "9" * 5000 + '"></sst>',
    ],
)
def test_every_shared_string_table_tag_is_bounded_not_only_the_root(tmp_path, sst):
    """calamine reserves room at the first <sst> anywhere: a comment or a wrapper before it no
    longer hides its count, and a count of thousands of digits is refused, not a conversion error."""
    text = '<?xml version="1.0" encoding="UTF-8"?>' + sst.replace("{ns}", hostile.MAIN_NS)
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.one_cell_sheet("A1")}, shared_strings=text)
    error = refusal(path)
    assert error.reason == ("shared-strings-digits" if "9" * 100 in sst else "shared-strings")


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B9" r="XFD1048576"><v>1</v></c>',
        '<c r="B9" s="1" r="XFD1048576"><v>1</v></c>',
        "<c r=\"B9\" r='XFD1048576'><v>1</v></c>",
        '<c r="B9"\tr="XFD1048576"><v>1</v></c>',
        '<c r="B9" r ="XFD1048576"><v>1</v></c>',
    ],
)
def test_a_cell_with_two_references_is_refused(tmp_path, cell):
    """Not XML (an attribute twice); calamine takes the last reference, the guard read the first."""
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(f'<row r="1">{cell}</row>')})
    error = refusal(path)
    assert error.reason == "damaged-part" and "two references" in str(error)


@pytest.mark.parametrize(
    "tag",
    [
        '<c r="A1" s="1" t="s">',
        '<c r="A1" t="s" s="1">',
        '<c r="A1" s="3"/>',
        '<c r="A1" cm="1" t="str">',
        '<c r="A1" vm="1">',
        '<c r="A1" ph="1" s="2">',
        '<c r="A1">',
    ],
)
def test_cells_as_spreadsheet_programs_write_them_stay_on_the_fast_path(tag):
    window = f'<row r="1">{tag}<v>0</v></c></row>'.replace("/><v>0</v></c>", "/>").encode()
    assert guard._CELL_ROW_OR_ODD.findall(window) == [b"1"]


def test_a_damaged_reference_is_quoted_as_text(tmp_path):
    rows = '<row><c><v>1</v></c></row><row><c r="B' + "9" * 30 + '"><v>1</v></c></row>'
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    message = str(refusal(path))
    assert "'B9999999999999999999...'" in message and "b'" not in message


def test_many_sheets_each_just_within_its_allowance_are_refused_together(tmp_path):
    """Each of 40 sheets holds a cell at A1 and one at GR5000 (a million cells of grid for two):
    each is within its own allowance, the workbook is not (calamine builds every grid)."""
    sheet = hostile.sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row><row r="5000"><c r="GR5000"><v>1</v></c></row>')
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {f"S{i}": sheet for i in range(40)})
    error = refusal(path)
    assert error.reason == "workbook-extent" and "sheets of the workbook together" in str(error)
    few = hostile.minimal_xlsx(tmp_path / "few.xlsx", {f"S{i}": sheet for i in range(5)})
    assert check(few).sheet_names == [f"S{i}" for i in range(5)]


# --- what is damaged, said in the language of the refusal -----------------------------------


def _checksum_broken(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _part_twice(path: Path) -> None:
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("XL/worksheets/SHEET1.xml", hostile.one_cell_sheet("A1"))


def _rewritten(path: Path, change: dict[str, bytes | None]) -> None:
    """The package at `path` with members replaced (bytes) or dropped (None)."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts.update({name: data for name, data in change.items() if data is not None})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if change.get(name, b"") is not None:
                zf.writestr(name, data)


def _not_xml(path: Path) -> None:
    _rewritten(path, {"xl/workbook.xml": b'<?xml version="1.0"?>\n<workbook><sheets><sheet></workbook>'})


def _sheet_part_missing(path: Path) -> None:
    _rewritten(path, {"xl/worksheets/sheet1.xml": None})


DAMAGED = {  # how the file is damaged -> (reason, the part or sheet the detail names)
    _checksum_broken: ("damaged-zip", "xl/worksheets/sheet1.xml"),
    _part_twice: ("damaged-zip", "SHEET1.xml"),
    _not_xml: ("damaged-part", "xl/workbook.xml"),
    _sheet_part_missing: ("damaged-part", "'Facilities' (xl/worksheets/sheet1.xml)"),
}


@pytest.mark.parametrize("lang", ["fr", "es"])
@pytest.mark.parametrize("damage", list(DAMAGED), ids=lambda f: f.__name__.strip("_"))
def test_what_is_damaged_is_said_in_the_language_of_the_refusal(tmp_path, damage, lang):
    """The refusal's detail was an English sentence inside a French or Spanish message."""
    from pipeline import catalogue

    path = small_workbook(tmp_path / "w.xlsx")
    damage(path)
    error = refusal(path)
    reason, named = DAMAGED[damage]
    assert error.reason == reason
    detail = error.params["detail"]
    assert isinstance(detail, catalogue.Message) and detail.id.startswith("unreadable-file.detail.")
    english, shown = detail.render("en"), catalogue.text(error.message_id, lang, **error.params)
    assert detail.render(lang) in shown and named in shown
    assert english not in shown and english.split()[:2] != shown.split(": ", 1)[-1].split()[:2]


def test_a_bomb_names_its_sheet_in_the_language_of_the_refusal(tmp_path):
    from pipeline import catalogue

    error = refusal(hostile.zip_bomb(tmp_path, inflated_mb=150))
    assert error.reason == "bomb-ratio"
    assert catalogue.text(error.message_id, "fr", **error.params).startswith("La feuille 'Entity' (")
    assert catalogue.text(error.message_id, "es", **error.params).startswith("La hoja 'Entity' (")
    assert "sheet 'Entity'" in str(error)


# --- the workbook's folder, its sheets' links, cells and values as calamine reads them ----------

OFFICE_DOCUMENT = f"{hostile.REL_NS}/officeDocument"


def _package_rels(*targets: str) -> bytes:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{OFFICE_DOCUMENT}" Target="{target}"/>' for i, target in enumerate(targets)
    )
    return f'<Relationships xmlns="{hostile.PKG_REL_NS}">{rels}</Relationships>'.encode()


def _elsewhere(path: Path, *targets: str) -> Path:
    """A workbook whose xl/ sheet is plain and whose copy under book/ holds a cell at XFD1048576;
    _rels/.rels names `targets` as the workbook (none: no _rels/.rels at all)."""
    parts = {k: v.encode() for k, v in hostile.package_parts({"S": hostile.one_cell_sheet("A1")}).items()}
    parts["book/workbook.xml"] = parts["xl/workbook.xml"]
    parts["book/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"]
    parts["book/worksheets/sheet1.xml"] = hostile.one_cell_sheet("XFD1048576").encode()
    if targets:
        parts["_rels/.rels"] = _package_rels(*targets)
    else:
        del parts["_rels/.rels"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("targets", "detail"),
    [
        (("book/workbook.xml",), "names 'book/workbook.xml' as its workbook"),
        (("xl/workbook.xml", "book/workbook.xml"), "names 'book/workbook.xml'"),  # calamine takes the last
        (("book/workbook.xml", "xl/workbook.xml"), "names 'book/workbook.xml'"),
        (("workbook.xml",), "names 'workbook.xml'"),  # the package's root
        (("./xl/workbook.xml",), "names './xl/workbook.xml'"),
        (("//xl/workbook.xml",), "names '//xl/workbook.xml'"),
        ((), "(_rels/.rels) is missing"),
    ],
)
def test_a_workbook_calamine_would_read_elsewhere_than_xl_is_refused(tmp_path, targets, detail):
    """calamine reads the sheets, shared strings and styles from the folder _rels/.rels names:
    a book/ copy got past every check of xl/ (a far cell crashed the reader)."""
    error = refusal(_elsewhere(tmp_path / "w.xlsx", *targets))
    assert error.reason == "damaged-part" and detail in str(error)


@pytest.mark.parametrize("target", ["xl/workbook.xml", "/xl/workbook.xml", "XL/Workbook.xml", "/XL/workbook.xml"])
def test_the_workbook_in_xl_is_read_however_its_name_is_written(tmp_path, target):
    import python_calamine

    path = _elsewhere(tmp_path / "w.xlsx", target)
    assert check(path).last_cells == {"S": "A1"}
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.get_sheet_by_name("S").to_python() == [[1.0]]  # calamine reads xl/ too


def test_a_package_naming_no_workbook_is_refused(tmp_path):
    path = _elsewhere(tmp_path / "w.xlsx", "xl/workbook.xml")
    _rewritten(path, {"_rels/.rels": _package_rels("xl/workbook.xml").replace(b"officeDocument", b"thumbnail")})
    error = refusal(path)
    assert error.reason == "damaged-part" and "does not say where its workbook is" in str(error)


def _linked(path: Path, attributes: str) -> Path:
    """A workbook of two sheets, S (rId1: plain) and T (rId2: a far cell), whose sheet S carries `attributes`."""
    sheets = {"S": hostile.one_cell_sheet("A1"), "T": hostile.one_cell_sheet("XFD1048576")}
    parts = hostile.package_parts(sheets)
    parts["xl/workbook.xml"] = (
        parts["xl/workbook.xml"]
        .replace('<sheet name="T" sheetId="2" r:id="rId2"/>', "")
        .replace('r:id="rId1"', attributes)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


@pytest.mark.parametrize("attributes", ['r:id="rId1" id="rId2"', 'id="rId2" r:id="rId1"', 'r:id="rId1" xml:id="rId2"'])
def test_a_sheet_linked_twice_is_refused(tmp_path, attributes):
    """calamine links a sheet by any attribute named id and keeps the last; the guard read r:id
    only, so it scanned one part and calamine read another."""
    error = refusal(_linked(tmp_path / "w.xlsx", attributes))
    assert error.reason == "damaged-part" and "'S' is linked twice" in str(error)


def test_a_sheet_linked_by_a_plain_id_is_the_part_calamine_reads(tmp_path):
    assert refusal(_linked(tmp_path / "w.xlsx", 'id="rId2"')).reason in ("extent", "sparse-extent")
    assert check(_linked(tmp_path / "v.xlsx", 'id="rId1"')).sheet_parts == {"S": "xl/worksheets/sheet1.xml"}


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"><c r="A1"><v>1</v></c><c r="D0"><v>1</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></c><c r="$D$1"><v>1</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></c><c r="D 1"><v>1</v></c></row>',
        '<row r="0"><c><v>1</v></c></row>',
        '<row r="2x"><c><v>1</v></c></row>',
        '<row r="-1"><c><v>1</v></c></row>',
        '<row r=""><c><v>1</v></c></row>',
    ],
    ids=["cell-D0", "cell-dollars", "cell-space", "row-0", "row-2x", "row-minus", "row-empty"],
)
def test_references_calamine_refuses_are_refused_by_the_guard(tmp_path, rows):
    """They passed the guard and ended as calamine's own English ('Range is missing the expected
    row component')."""
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    error = refusal(path)
    assert error.reason == "damaged-part" and ("reference" in str(error) or "number" in str(error))


@pytest.mark.parametrize(
    ("rows", "last"),
    [
        ('<row r="1"><c r="a1"><v>1</v></c><c r="d02"><v>1</v></c></row>', "D2"),
        ('<row r="A3"><c><v>1</v></c></row>', "A3"),  # calamine reads the row's digits
        ('<row r="03"><c><v>1</v></c></row>', "A3"),
    ],
)
def test_references_calamine_reads_are_placed_where_it_reads_them(tmp_path, rows, last):
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    assert check(path).last_cells == {"S": last}


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A1"><v><![CDATA[2400000]]></v></c>',
        '<c r="A1"><v>&#50;400000</v></c>',
        '<c r="A1" t="n"><v>24<!-- x -->00000</v></c>',
        '<c r="A1"><v>24<?x y?>00000</v></c>',
        '<c r="A1" t="str"><v><![CDATA[2400000]]></v></c>',
        "<c><v><![CDATA[2400000]]></v></c>",  # the walk
        '<c t="s"><v>&#48;</v></c>',
    ],
)
def test_values_calamine_would_read_wrong_are_refused(tmp_path, cell):
    """Valid XML no spreadsheet program writes: calamine read these as empty or as 24."""
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(f'<row r="1">{cell}</row>')})
    error = refusal(path)
    assert error.reason == "damaged-part" and "the cell A1 of sheet 'S'" in str(error) and "CDATA" in str(error)


def test_markup_at_the_start_of_a_window_is_found_in_its_value(tmp_path):
    """The stream is cut before the last '<' of each chunk: a value's CDATA may begin the window
    after the one its <v> ends, on the fast path and in the walk."""
    for ref in (' r="B1"', ""):
        value = f"<c{ref}><v><![CDATA[" + "1" * 1000 + "]]></v></c>"
        head = hostile.sheet_xml('<row r="1"><c t="inlineStr"><is><t>')
        size = guard.CHUNK - 100 - len(head) - len("</t></is></c>")
        filler = "".join(random.Random(size).choices(string.ascii_letters, k=size))  # no zip bomb
        text = hostile.sheet_xml(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{filler}</t></is></c>{value}</row>')
        cdata = text.index("<![CDATA[")
        assert cdata < guard.CHUNK < cdata + 1000  # the first window ends right before it
        path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": text})
        assert "the cell B1 of sheet 'S'" in str(refusal(path))


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A1" t="str"><v>&#50;400000 R&amp;D</v></c>',  # calamine unescapes the text of a formula's result
        '<c r="A1" t="inlineStr"><is><t>&#50;4<![CDATA[00]]></t></is></c>',
        '<c r="A1"><f>A2&amp;"x"</f><v>2</v></c>',
    ],
)
def test_references_where_calamine_reads_them_are_fine(tmp_path, cell):
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(f'<row r="1">{cell}</row>')})
    assert check(path).sheet_names == ["S"]


@pytest.mark.parametrize("error", ["#SPILL!", "#CALC!", "#GETTING_DATA", "#BLOCKED!", "#FIELD!", "#BUSY!", " #N/A"])
def test_error_values_calamine_does_not_read_are_reported_for_a_copy(tmp_path, error):
    """calamine refused the whole workbook for one #SPILL!: the guard names the part to copy with #N/A instead."""
    cells = f'<c r="A1"><v>1</v></c><c r="B1" t="e"><f>SEQUENCE(3)</f><v>{error}</v></c>'
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(f'<row r="1">{cells}</row>')})
    report = check(path)
    assert report.other_error_parts == ["xl/worksheets/sheet1.xml"]
    assert report.error_cells == {"S": {"B1": error.strip()}}


def test_classic_error_values_need_no_copy(tmp_path):
    cells = '<c r="A1" t="e"><v>#N/A</v></c><c r="B1" t="e"><v>#DIV/0!</v></c><c r="C1" t="e"><v/></c>'
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(f'<row r="1">{cells}</row>')})
    assert check(path).other_error_parts == []


def test_the_copy_changes_only_the_error_values_calamine_does_not_read():
    import io

    sheet = (
        b'<row r="1"><c r="A1" t="e"><v>#SPILL!</v></c><c r="B1" t="e"><v>#N/A</v></c>'
        b"<c r='C1' t='e'><f>X</f><x:v>#CALC!</x:v></c><c r=\"D1\"><v>#SPILL!</v></c><c t=\"e\"/>"
        b'<c r="E1" t="str"><v>#SPILL!</v></c></row>'
    )
    out = io.BytesIO()
    guard.classic_errors(io.BytesIO(sheet), out)
    assert out.getvalue() == sheet.replace(b'#SPILL!</v></c><c r="B1"', b'#N/A</v></c><c r="B1"', 1).replace(
        b"#CALC!", b"#N/A"
    )


# --- parts Excel writes in UTF-16 -----------------------------------------------------------

DATA_MASHUP = (
    '<?xml version="1.0" encoding="utf-16"?><DataMashup xmlns="http://schemas.microsoft.com/DataMashup">'
    "AAAAAEUDAABQSwMEFAACAAgA</DataMashup>"
)


def test_a_power_query_definition_in_utf16_is_accepted(tmp_path):
    """Excel stores a Power Query (customXml/item1.xml, the DataMashup) as UTF-16 with its mark:
    every workbook with a query was refused as 'not UTF-8 encoded XML, as Excel writes it'."""
    path = small_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("customXml/item1.xml", DATA_MASHUP.encode("utf-16"))
        zf.writestr("customXml/itemProps1.xml", '<?xml version="1.0" encoding="UTF-8"?><ds:datastoreItem/>')
    report = check(path)
    assert report.sheet_names == ["Facilities"]


@pytest.mark.parametrize(
    ("member", "text", "reason"),
    [
        ("customXml/item1.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "xml-entities"),
        ("xl/worksheets/sheet1.xml", None, "xml-encoding"),  # a part calamine reads: UTF-8 only, as before
        ("docProps/custom.xml", '<?xml version="1.0" encoding="utf-16"?><Properties/>', "xml-encoding"),
    ],
)
def test_utf16_is_accepted_only_in_custom_xml_and_scanned_there(tmp_path, member, text, reason):
    path = small_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts[member] = (text if text is not None else parts[member].decode("utf-8")).encode("utf-16")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    assert refusal(path).reason == reason


LINKED_ROWS = (
    '<row r="1"><c r="A1" t="e" vm="1"><v>#VALUE!</v></c><c r="B1" t="e"><v>#VALUE!</v></c>'
    '<c r="C1" vm="2" t="e"><f>A1.Population</f><v>#FIELD!</v></c></row>'
)


@pytest.mark.parametrize("markup", ["plain", "positional"])
def test_linked_data_type_cells_are_told_from_failed_formulas(tmp_path, markup):
    """A Geography or Stocks cell is stored as #VALUE! with a `vm` attribute: it was reported as a
    failed formula, though the focal point sees "Austria" and no formula."""
    rows = LINKED_ROWS if markup == "plain" else LINKED_ROWS.replace(' r="', '  r="')  # forces the exact walk
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": hostile.sheet_xml(rows)})
    report = check(path)
    assert report.error_cells == {"S": {"A1": "#VALUE!", "B1": "#VALUE!", "C1": "#FIELD!"}}
    assert report.linked_cells == {"S": ["A1", "C1"]}


def _relocated(source: Path, path: Path, rel_type: str, new_part: str | None, new_target: str) -> Path:
    """`source` as a writer with its own layout would store it: the part of the workbook's first
    relationship of `rel_type` moved to `new_part` (unless None), the relationship naming it as
    `new_target`."""
    with zipfile.ZipFile(source) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = members[rels_name].decode("utf-8")
    element = next(m.group(0) for m in re.finditer(r"<Relationship\b[^>]*>", rels) if f'/{rel_type}"' in m.group(0))
    old_target = re.search(r'Target="([^"]+)"', element).group(1)  # type: ignore[union-attr]
    old_part = old_target.lstrip("/") if old_target.startswith("/") else "xl/" + old_target
    rels = rels.replace(element, element.replace(f'Target="{old_target}"', f'Target="{new_target}"'))
    members[rels_name] = rels.encode("utf-8")
    if new_part is not None:
        members[new_part] = members.pop(old_part)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_parts_where_the_reader_cannot_find_them_are_refused_for_what_they_are(tmp_path):
    """Shared texts or cell formats a writer stores elsewhere than xl/sharedStrings.xml and
    xl/styles.xml (named so by the workbook's relationships, which OPC allows) are read by calamine
    from the fixed place: the texts were refused as "damaged", and without its formats a workbook
    lost its dates and read 92.5 % as 0.925. A sheet named by './' or '../' was "missing". Each is
    refused for what it is, naming the part, with the way out."""
    from tests.builders import valid_sheets, write_workbook

    styled = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets())
    texts = hostile.minimal_xlsx(
        tmp_path / "texts.xlsx",
        {"Entity": hostile.sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')},
        shared_strings=f'<sst xmlns="{hostile.MAIN_NS}" count="1" uniqueCount="1"><si><t>Field</t></si></sst>',
    )
    for source in (styled, texts):
        check(source)  # as written: read
    cases = [
        (texts, "sharedStrings", "xl/strings/shared1.xml", "strings/shared1.xml", "part-elsewhere", "its shared texts"),
        (styled, "styles", "xl/style/st1.xml", "/xl/style/st1.xml", "part-elsewhere", "its cell formats"),
        (styled, "worksheet", None, "./worksheets/sheet1.xml", "target-unresolved", "a relative path"),
        (styled, "worksheet", None, "../xl/worksheets/sheet1.xml", "target-unresolved", "a relative path"),
    ]
    for source, rel_type, part, target, reason, said in cases:
        path = _relocated(source, tmp_path / "moved.xlsx", rel_type, part, target)
        refused = refusal(path)
        message = str(refused)
        assert refused.reason == reason and said in message and SAVE_AS in message, message
        assert f"'{part or target}'" in message, message
    for target in ("/xl/styles.xml", "styles.xml", "STYLES.xml"):  # the usual place, however named
        check(_relocated(styled, tmp_path / "same.xlsx", "styles", None, target))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 16_384), st.lists(st.integers(1, 16_384), min_size=1, max_size=12))
def test_the_search_beyond_the_furthest_column_finds_exactly_the_cells_further_right(furthest, columns):
    """A window is searched for a cell right of the furthest column so far before its columns are
    listed: the search finds one exactly when a listed column is further right."""
    window = "".join(f'<c r="{guard.column_letter(c)}{i + 1}" t="s"><v>0</v></c>' for i, c in enumerate(columns))
    further = [c for c in columns if c > furthest]
    found = guard._beyond(furthest).search(window.encode())
    assert bool(found) is bool(further)
    if found:  # the first cell further right, its letters
        assert guard.column_number(found.group(1).decode()) == further[0]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 60), st.lists(st.integers(1, 230), min_size=1, max_size=5)),
        min_size=1,
        max_size=30,
    ),
    cuts=st.lists(st.integers(0, 3_000), max_size=12),
    dimension=st.sampled_from(["", "A1:C3", "A1:ZZ9"]),
    limits=st.sampled_from([Limits(), Limits(max_rows=40), Limits(max_cells=2_000), Limits(max_columns=100)]),
)
@example(rows=[(1, [151]), (50, [1])], cuts=[50], dimension="", limits=Limits(max_rows=40))  # refused at A50
@example(rows=[(1, list(range(1, 101))), (2, [120])], cuts=[], dimension="", limits=Limits())  # 100 steps right
def test_the_fast_path_lists_columns_only_when_needed_and_reaches_the_same_cell(rows, cuts, dimension, limits):
    """The fast path, which lists a window's columns only when a cell lies right of every cell
    before, reaches the furthest cell it reached when it listed them in every window, and is
    refused naming the same cell; what it lets through, the exact walk reaches too. (A refusal
    of the walk names the first cell too far, the fast path the window's furthest.)"""
    xml = (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>"
    for row, cols in rows:
        cells = "".join(f'<c r="{guard.column_letter(c)}{row}"><v>1</v></c>' for c in cols)
        xml += f'<row r="{row}">{cells}</row>'
    data = (xml + "</sheetData>").encode()
    # windows end before a '<', as the guard cuts them
    starts = sorted({0, *(data.find(b"<", min(c, len(data) - 1)) for c in cuts)} - {-1})
    windows = [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]

    def scan(positional: bool = False) -> tuple[int, int, int] | str:
        sheet = guard._SheetScan("S", limits, positional=positional)
        try:
            for w in windows:
                assert sheet.feed(w)
            sheet.finish()
        except Refused as refused:
            return f"{refused.reason}: {refused}"
        return sheet.max_row, sheet.max_col, sheet.cells

    fast = scan()
    with mock.patch.object(guard._SheetScan, "_furthest_column", lambda self, window: guard._window_column(window)):
        assert scan() == fast  # every window's columns listed, as before
    if not isinstance(fast, str):
        assert scan(positional=True) == fast
