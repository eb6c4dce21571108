"""Reading workbooks into plain values, and reading many in worker processes that may crash."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from pipeline.errors import UnreadableFile
from pipeline.intake.guard import Limits, Refused
from pipeline.intake.read import read_many, read_workbook
from pipeline.intake.workbook import RawWorkbook
from pipeline.workers import ReaderFailed
from tests import hostile


def workbook(path: Path, sheets: dict[str, dict[str, object]], hidden: tuple[str, ...] = ()) -> Path:
    """An openpyxl workbook: sheet name -> {cell: value}."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, cells in sheets.items():
        ws = wb.create_sheet(name)
        for ref, value in cells.items():
            ws[ref] = value
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


# --- one workbook ---------------------------------------------------------------------------


def test_values_and_excel_row_numbers(tmp_path):
    path = workbook(
        tmp_path / "UNEP_2024.xlsx",
        {
            "Facilities": {
                "A1": "site",
                "B1": "quantity",
                "C1": "date",
                "D1": "flag",
                "E1": "note",
                "A2": "Geneva",
                "B2": 1200,
                "C2": dt.date(2024, 3, 1),
                "D2": True,
                # row 3 blank
                "A4": "Nairobi",
                "B4": 12.5,
                "C4": dt.datetime(2024, 3, 1, 14, 30),
                "E4": "   ",
                "B6": 2024.0,
            }
        },
    )
    wb = read_workbook(path)
    assert isinstance(wb, RawWorkbook)
    assert wb.file_name == "UNEP_2024.xlsx" and wb.size_bytes == path.stat().st_size and len(wb.sha256) == 64
    sheet = wb.sheets["Facilities"]
    assert sheet.header == ["site", "quantity", "date", "flag", "note"]
    assert sheet.rows == [
        (2, ["Geneva", 1200, dt.date(2024, 3, 1), True, None]),
        (4, ["Nairobi", 12.5, dt.datetime(2024, 3, 1, 14, 30), None, None]),
        (6, [None, 2024, None, None, None]),
    ]
    assert type(sheet.rows[0][1][1]) is int and type(sheet.rows[1][1][1]) is float
    assert sheet.formula_cells_without_value == [] and sheet.hidden is False


def test_data_starting_at_b3_keeps_excel_positions(tmp_path):
    # calamine drops leading empty rows and columns unless told not to
    path = workbook(tmp_path / "w.xlsx", {"S": {"B3": "site", "C3": "country", "B5": "Geneva", "C5": "CHE"}})
    sheet = read_workbook(path).sheets["S"]
    assert sheet.header == [None, None, None]
    assert sheet.rows == [(3, [None, "site", "country"]), (5, [None, "Geneva", "CHE"])]


def test_sheets_in_workbook_order_with_empty_and_hidden(tmp_path):
    path = workbook(
        tmp_path / "w.xlsx",
        {
            "Entity": {"A1": "Field", "B1": "Value", "A2": "entity_code", "B2": "UNEP"},
            "Waste": {},
            "Lists": {"A1": "x"},
        },
        hidden=("Lists",),
    )
    wb = read_workbook(path)
    assert list(wb.sheets) == ["Entity", "Waste", "Lists"]
    assert wb.sheets["Entity"].rows == [(2, ["entity_code", "UNEP"])]
    assert wb.sheets["Waste"].header == [] and wb.sheets["Waste"].rows == []
    assert wb.sheets["Lists"].hidden and not wb.sheets["Entity"].hidden


def test_formula_without_cached_value(tmp_path):
    path = workbook(tmp_path / "w.xlsx", {"Facilities": {"A1": "quantity", "A2": 5, "D2": "=1+1"}})
    sheet = read_workbook(path).sheets["Facilities"]
    assert sheet.formula_cells_without_value == ["D2"]
    # the formula reads as empty; calamine leaves empty cells out of the sheet width
    assert sheet.rows == [(2, [5])]


def test_merged_cells_hold_the_value_top_left(tmp_path):
    path = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["B2"] = "header", "merged"
    ws.merge_cells("B2:C3")
    wb.save(path)
    assert read_workbook(path).sheets["S"].rows == [(2, [None, "merged"])]


def test_chartsheet_reads_as_empty(tmp_path):
    path = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb["Data"]["A1"] = "x"
    wb.create_chartsheet("Chart")
    wb.save(path)
    wb = read_workbook(path)
    assert list(wb.sheets) == ["Data", "Chart"] and wb.sheets["Chart"].rows == []


def test_sheet_part_not_named_xml(tmp_path):
    # calamine reads whatever part the workbook names, so the guard scans that part too
    path = hostile.renamed_sheet_part(tmp_path / "w.xlsx", hostile.one_cell_sheet("B2", value="7"))
    assert read_workbook(path).sheets["S"].rows == [(2, [None, 7])]


def test_typical_workbook(tmp_path):
    path = hostile.typical_workbook(tmp_path / "typical.xlsx")
    wb = read_workbook(path)
    assert len(wb.sheets) == 10
    assert sum(len(s.rows) for s in wb.sheets.values() if s.header[:1] != ["Field"]) == 2000


def test_hostile_files_never_reach_calamine(tmp_path, monkeypatch):
    def calamine_must_not_run(*args, **kwargs):
        raise AssertionError("calamine was given a hostile file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", calamine_must_not_run)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", calamine_must_not_run)
    for build in (hostile.far_cell, hostile.shared_strings_count_bomb, hostile.xml_bomb, hostile.xlsm_renamed):
        with pytest.raises(Refused):
            read_workbook(build(tmp_path))


def test_calamine_errors_become_unreadable_file(tmp_path):
    # well-formed zip and XML the guard accepts, but not a worksheet calamine understands
    sheet = hostile.sheet_xml('<row r="1"><c r="A1"><bogus/></c></row>')
    path = hostile.minimal_xlsx(tmp_path / "w.xlsx", {"S": sheet})
    with pytest.raises(UnreadableFile, match="could not be read"):
        read_workbook(path)


# --- many workbooks in worker processes -----------------------------------------------------


def test_read_many_mixes_good_and_hostile_files(tmp_path):
    good = [
        workbook(tmp_path / f"good{i}.xlsx", {"Entity": {"A1": "Field", "A2": "personnel", "B2": 100 + i}})
        for i in range(3)
    ]
    bad = [
        hostile.empty_file(tmp_path),
        hostile.csv_renamed(tmp_path),
        hostile.legacy_xls(tmp_path),
        hostile.encrypted_ooxml(tmp_path),
        hostile.ods_renamed(tmp_path),
        hostile.xlsm_renamed(tmp_path),
        hostile.zip_without_workbook(tmp_path),
        hostile.zip_bomb(tmp_path),
        hostile.xml_bomb(tmp_path),
        hostile.far_cell(tmp_path),
        hostile.lying_dimension(tmp_path),
        hostile.shared_strings_count_bomb(tmp_path),
    ]
    results = dict(read_many(good + bad, jobs=2))
    assert set(results) == set(good + bad)
    for i, path in enumerate(good):
        assert isinstance(results[path], RawWorkbook)
        assert results[path].sheets["Entity"].rows == [(2, ["personnel", 100 + i])]
    for path in bad:
        assert isinstance(results[path], Refused), path.name  # the guard's reason survives the pipe
        assert results[path].reason


def test_a_crashing_worker_costs_only_its_file(tmp_path):
    names = ["a.xlsx", "abort_first.xlsx", "b.xlsx", "c.xlsx", "abort_again.xlsx", "d.xlsx"]
    paths = [tmp_path / name for name in names]
    results = dict(read_many(paths, jobs=2, work=hostile.crash_on_abort_name))
    assert {p.name: r for p, r in results.items() if not isinstance(r, Exception)} == {
        n: n for n in names if not n.startswith("abort")
    }
    for name in ("abort_first.xlsx", "abort_again.xlsx"):
        failure = results[tmp_path / name]
        assert isinstance(failure, ReaderFailed) and failure.kind == "crashed"
        assert "crashed" in str(failure) and "SIGABRT" in str(failure)


def test_calamine_really_aborts_on_the_far_cell(tmp_path):
    # what the guard prevents: unguarded, calamine allocates the whole grid and kills the process
    good = workbook(tmp_path / "good.xlsx", {"S": {"A1": 1, "B2": 2}})
    results = dict(read_many([good, hostile.far_cell(tmp_path)], jobs=2, work=hostile.calamine_unguarded))
    assert results[good] == 4
    failure = results[tmp_path / "far_cell.xlsx"]
    assert isinstance(failure, ReaderFailed) and failure.kind == "crashed"
    assert "memory allocation" in failure.detail  # Rust's last words, kept off the console


def test_timeout_stops_a_hanging_reader(tmp_path):
    paths = [tmp_path / "a.xlsx", tmp_path / "slow.xlsx", tmp_path / "b.xlsx"]
    start = time.perf_counter()
    results = dict(read_many(paths, jobs=2, work=hostile.sleep_on_slow_name, limits=Limits(reader_timeout_s=1)))
    assert time.perf_counter() - start < 30  # the reader hangs for 60 s: stopped, not waited for
    assert results[paths[0]] == "a.xlsx" and results[paths[2]] == "b.xlsx"
    failure = results[paths[1]]
    assert isinstance(failure, ReaderFailed) and failure.kind == "timeout"
    assert "longer than 1 s" in str(failure)


def test_memory_limit_of_the_workers(tmp_path):
    paths = [hostile.empty_file(tmp_path), tmp_path / "hog.xlsx"]
    paths[1].write_bytes(b"x")
    limits = Limits(reader_memory_bytes=512 * 2**20)
    results = dict(read_many(paths, jobs=2, work=hostile.hog_on_hog_name, limits=limits))
    assert results[paths[0]] == 0
    failure = results[paths[1]]
    assert isinstance(failure, ReaderFailed) and failure.kind == "out-of-memory"
    assert "0.5 GB" in str(failure)


def test_unexpected_errors_in_the_worker_are_reported_with_traceback(tmp_path):
    paths = [tmp_path / "bug.xlsx", tmp_path / "fine.xlsx"]
    results = dict(read_many(paths, jobs=1, work=hostile.fail_on_bug_name))
    assert results[paths[1]] == "fine.xlsx"
    failure = results[paths[0]]
    assert isinstance(failure, ReaderFailed) and failure.kind == "internal-error"
    assert "KeyError" in str(failure) and "fail_on_bug_name" in failure.detail


def test_files_are_spread_over_the_workers(tmp_path):
    paths = [tmp_path / f"w{i}.xlsx" for i in range(4)]
    pids = {pid for _, pid in read_many(paths, jobs=2, work=hostile.pid_after_nap)}
    assert len(pids) == 2 and os.getpid() not in pids


def test_default_work_passes_the_limits(tmp_path):
    path = workbook(tmp_path / "w.xlsx", {"S": {"A1": "x", "A5": "y"}})
    [(_, result)] = read_many([path], limits=Limits(max_rows=3))
    assert isinstance(result, Refused) and result.reason == "extent"


def test_nothing_to_read():
    assert list(read_many([], jobs=2)) == []


def test_workers_are_gone_afterwards(tmp_path):
    paths = [tmp_path / f"w{i}.xlsx" for i in range(3)]
    pids = {pid for _, pid in read_many(paths, jobs=2, work=hostile.pid_after_nap)}
    time.sleep(0.2)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_reader_failed_survives_pickling():
    import pickle

    error = ReaderFailed("timeout", {"timeout_s": 5}, "detail")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, str(copy), copy.detail) == ("timeout", str(error), "detail")


@pytest.mark.parametrize("styles_name", ["xl/styles.xml", "xl/Styles.xml", "xl\\styles.xml"])
def test_percent_cells_are_found_whatever_the_styles_part_is_named_as_calamine_finds_it(tmp_path, styles_name):
    """calamine finds the styles part in any case and with '\\\\' for '/': a 0.925 formatted as a
    percentage is read as 92.5 % there too, never silently as 0.925."""
    import io as io_module
    import zipfile

    import openpyxl

    from pipeline.intake.formats import percent_cells

    wb = openpyxl.Workbook()
    wb.active.title = "Entity"
    wb.active["B5"] = 0.925
    wb.active["B5"].number_format = "0%"
    buffer = io_module.BytesIO()
    wb.save(buffer)
    out = io_module.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(styles_name if info.filename == "xl/styles.xml" else info.filename, src.read(info))
    assert percent_cells(out.getvalue(), {"Entity": "xl/worksheets/sheet1.xml"}, 2**24) == {"Entity": ["B5"]}


@pytest.mark.parametrize("builtin", [9, 10, 67, 68])
def test_percent_cells_are_found_by_each_built_in_percent_format(tmp_path, builtin):
    """A workbook may name a built-in number format by its number alone: 9 and 10 are "0%" and
    "0.00%", 67 and 68 the Thai locale's "t0%" and "t0.00%"; 92.5 % held as 0.925 under 67 was
    read as 0.925 %, with a warning only."""
    import io as io_module
    import zipfile

    import openpyxl

    from pipeline.intake.formats import percent_cells

    wb = openpyxl.Workbook()
    wb.active.title = "Entity"
    wb.active["B5"] = 0.925
    wb.active["B5"].number_format = "0%"  # built-in 9, named by its number
    wb.active["B6"] = 0.5
    buffer = io_module.BytesIO()
    wb.save(buffer)
    out = io_module.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/styles.xml":
                assert b'numFmtId="9"' in data
                data = data.replace(b'numFmtId="9"', f'numFmtId="{builtin}"'.encode())
            dst.writestr(info.filename, data)
    assert percent_cells(out.getvalue(), {"Entity": "xl/worksheets/sheet1.xml"}, 2**24) == {"Entity": ["B5"]}


# --- what calamine refuses, read or said in the focal point's language ----------------------


def _spilled(path: Path, cells: dict[str, str]) -> Path:
    """A valid submission whose Facilities cells `cells` (ref -> error) hold Excel 365 error values."""
    from tests import odd_files
    from tests.builders import valid_sheets, write_workbook

    data = write_workbook(path, valid_sheets("UNEP")).read_bytes()
    part = odd_files.sheet_part(data, "Facilities")

    def change(xml: bytes) -> bytes:
        for ref, error in cells.items():
            new = f'<c r="{ref}" t="e"><f>_xlfn.UNIQUE(A2:A4)</f><v>{error}</v></c>'.encode()
            xml, count = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', new, xml, count=1)
            if not count:  # a column of the focal point's own, beside the last cell of the row
                row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode()
                end = re.search(rb'<row r="' + row + rb'"[^>]*>.*?(</row>)', xml, flags=re.S)
                assert end is not None
                xml = xml[: end.start(1)] + new + xml[end.start(1) :]
        return xml

    data = odd_files.edit(data, part, change)
    # as Excel saves it: its results, and no request to recalculate on opening (openpyxl's)
    path.write_bytes(odd_files.edit(data, "xl/workbook.xml", lambda xml: xml.replace(b' fullCalcOnLoad="1"', b"")))
    return path


def test_excel_365_error_values_are_read_as_error_cells_not_refused(tmp_path):
    """calamine refused the whole workbook ('Unsupported cell error value') for one #SPILL!."""
    path = _spilled(tmp_path / "UNEP_2024.xlsx", {"H2": "#SPILL!", "D3": "#CALC!"})
    raw = read_workbook(path)
    sheet = raw.sheets["Facilities"]
    assert sheet.error_cells == {"H2": "#SPILL!", "D3": "#CALC!"}
    assert dict(sheet.rows)[3][3] is None and dict(sheet.rows)[2][7] is None
    assert raw.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # of the file, not of the copy read
    assert read_workbook(path, overlap=True) == raw


def test_an_excel_365_error_is_a_finding_where_read_and_ignored_elsewhere(tmp_path):
    from pipeline import catalogue
    from pipeline.api import check_files

    ignored = _spilled(tmp_path / "UNEP_2024.xlsx", {"H2": "#SPILL!"})
    [sub] = check_files([ignored], jobs=1)
    assert sub.is_valid and not [f for f in sub.findings if f.code in ("type-error", "unreadable-file")]
    read = _spilled(tmp_path / "WFP_2024.xlsx", {"D3": "#SPILL!"})
    [sub] = check_files([read], jobs=1, lang="fr")
    [error] = [f for f in sub.findings if f.is_error]
    assert (error.sheet, error.cell, error.code, error.value) == ("Facilities", "D3", "type-error", "#SPILL!")
    assert error.message == catalogue.text("type-error.excel-error", "fr", error="#SPILL!")
    assert "l'erreur Excel #SPILL!" in error.message


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        ('<c r="D2" t="s"><v>0</v></c>', "refers to a shared text that does not exist ('0')"),
        ('<c r="D2" t="s"><v>-1</v></c>', "refers to a shared text that does not exist ('-1')"),
        ('<c r="D2" t="s"><v>abc</v></c>', "refers to a shared text that does not exist ('abc')"),
        ('<c r="D2" t="b"><v>yes</v></c>', "is a true/false cell holding 'yes'"),
        ('<c r="D2" t="n"><v>abc</v></c>', "is a number cell holding 'abc'"),
        ('<c r="D2" t="n"><v> 24 </v></c>', "is a number cell holding ' 24 '"),
        ('<c r="D2" t="x"><v>1</v></c>', "has the unknown type 'x'"),
    ],
)
def test_a_cell_calamine_refuses_is_named_in_the_language_of_the_refusal(tmp_path, cell, said):
    """calamine's own English ('Cell string index not found in shared strings table'), without a
    cell, reached the focal point inside a French message."""
    from pipeline import catalogue
    from tests import odd_files
    from tests.builders import valid_sheets, write_workbook

    data = write_workbook(tmp_path / "w.xlsx", valid_sheets("UNEP")).read_bytes()
    part = odd_files.sheet_part(data, "Facilities")
    path = tmp_path / "w.xlsx"
    path.write_bytes(odd_files.edit(data, part, lambda xml: re.sub(rb'<c r="D2".*?</c>', cell.encode(), xml, count=1)))
    with pytest.raises(Refused) as raised:
        read_workbook(path)
    error = raised.value
    assert error.reason == "damaged-part" and f"the cell D2 of sheet 'Facilities' {said}" in str(error)
    french = catalogue.text(error.message_id, "fr", **error.params)
    assert "la cellule D2 de la feuille 'Facilities'" in french and "cell" not in french.replace("cellule", "")
    with pytest.raises(Refused) as overlapped:
        read_workbook(path, overlap=True)
    assert (overlapped.value.message_id, overlapped.value.params) == (error.message_id, error.params)
