"""`gtb run`: every load path, on real workbooks in a real inputs folder and a real database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipeline import api
from pipeline.cli import main
from tests import processes
from tests.builders import set_cell, valid_sheets, write_workbook

YEAR = 2024


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "inputs" / "submissions").mkdir(parents=True)
    (tmp_path / "inputs" / "history").mkdir()
    return tmp_path / "inputs"


def run(inputs: Path, tmp: Path | None = None):
    tmp = tmp or inputs.parent
    return api.run(inputs, tmp / "out" / "gtb.duckdb", tmp / "out", jobs=1)


def query(inputs: Path, sql: str, params=None):
    with duckdb.connect(str(inputs.parent / "out" / "gtb.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def submit(inputs: Path, name: str, sheets) -> Path:
    path = inputs / "submissions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_workbook(path, sheets)


def test_first_load_then_unchanged_rerun(inputs):
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "2024/WFP_2024.xlsx", valid_sheets("WFP"))
    first = run(inputs)
    assert sorted(first.loaded) == ["UNEP_2024.xlsx", "WFP_2024.xlsx"] and not first.had_errors
    assert query(inputs, "SELECT entity_code, status FROM submissions ORDER BY entity_code") == [
        ("UNEP", "loaded"),
        ("WFP", "loaded"),
    ]
    assert query(inputs, "SELECT count(*) FROM facilities_activity") == [(6,)]
    # every activity row of an emitting sheet has exactly one emissions row, with its factor named
    assert query(
        inputs, "SELECT count(*), count(DISTINCT factor_id) > 5, bool_and(factor_set = 'gtb-2025.1') FROM emissions"
    ) == [(22, True, True)]

    again = run(inputs)
    assert again.loaded == [] and sorted(again.unchanged) == ["UNEP_2024.xlsx", "WFP_2024.xlsx"]
    assert query(inputs, "SELECT count(*) FROM submissions") == [(2,)]
    assert query(inputs, "SELECT count(*) FROM facilities_activity") == [(6,)]
    assert query(inputs, "SELECT count(*), max(files_unchanged) FROM runs") == [(2, 2)]


def test_a_file_taken_out_while_the_run_waits_for_the_warehouse_is_not_read_nor_rejected(inputs, monkeypatch, capsys):
    """The run lists the inputs, then waits for the warehouse's lock; meanwhile an analyst asks the
    portal for a correction, which takes the accepted file out of the inputs. The run used to
    record it as rejected ('file not found'), with a report folder, and exit 1: a false rejection
    of an entity-year. A file gone is no longer the inputs': said, not read, not recorded."""
    from pipeline.warehouse import db

    kept = submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    taken = submit(inputs, "2024/WFP_2024_portal-1.xlsx", valid_sheets("WFP"))
    connect = db.connect

    def connect_after_a_correction(path, *args, **kwargs):
        taken.unlink()  # while the run waited for the lock
        return connect(path, *args, **kwargs)

    monkeypatch.setattr(db, "connect", connect_after_a_correction)
    out = inputs.parent / "out"
    code = main(["run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out), "--jobs", "1"])
    said = " ".join(capsys.readouterr().out.split())
    assert code == 0, said
    assert query(inputs, "SELECT file_name, status FROM submissions") == [(kept.name, "loaded")]
    assert query(inputs, "SELECT files_seen FROM runs") == [(1,)]
    assert "before this run could read it): submissions/2024/WFP_2024_portal-1.xlsx" in said
    assert not list((out / "validation").glob("WFP*")), "no report folder of a file never read"


def test_the_portals_private_copy_of_the_warehouse_is_taken_while_no_run_can_write(inputs, monkeypatch):
    """The upload checker (`Reviewer`) copies the warehouse and its WAL into a private file. It
    checked the file under a reader's lock, let go, then copied: a run taking the lock in between
    could write or checkpoint mid-copy, and one comparison would read a torn or stale copy. While
    it copies, a writer in another process now cannot open the warehouse."""
    import shutil

    from pipeline.run import Reviewer

    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    db = inputs.parent / "out" / "gtb.duckdb"
    writer = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    opened_meanwhile: list[int] = []
    copyfile = shutil.copyfile

    def copy_while_a_writer_tries(source, target, *args, **kwargs):
        if not opened_meanwhile:
            opened_meanwhile.append(
                subprocess.run([sys.executable, "-c", writer, str(db)], capture_output=True).returncode
            )
        return copyfile(source, target, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_while_a_writer_tries)
    with Reviewer() as reviewer:
        con = reviewer._connection(db)
        assert con.execute("SELECT count(*) FROM submissions").fetchone() == (1,)
    assert opened_meanwhile == [1], "a writer opened the warehouse while it was being copied"


def test_resubmission_replaces_and_keeps_history(inputs):
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    corrected = set_cell(valid_sheets("UNEP"), "Facilities", "D2", 1_000_000)
    submit(inputs, "2024/UNEP_2024_v2.xlsx", corrected)
    result = run(inputs)
    assert result.loaded == ["UNEP_2024_v2.xlsx"] and result.superseded == 1
    rows = query(
        inputs, "SELECT submission_id, file_name, status, superseded_by FROM submissions ORDER BY submission_id"
    )
    assert rows == [(1, "UNEP_2024.xlsx", "superseded", 2), (2, "UNEP_2024_v2.xlsx", "loaded", None)]
    # the indicator views only see the loaded one; the superseded rows stay for the record
    assert query(inputs, "SELECT count(*) FROM loaded_submissions") == [(1,)]
    assert query(inputs, "SELECT count(*) FROM facilities_activity") == [(6,)]
    assert query(inputs, "SELECT quantity FROM facilities_activity WHERE submission_id = 2 AND source_row = 2") == [
        (1_000_000.0,)
    ]
    # the summary gives the entity-year's total and per capita before and after, each beside its twin
    [change] = result.changes
    totals = {
        sid: (total, per_capita)
        for sid, total, per_capita in query(
            inputs,
            "SELECT s.submission_id, sum(e.emissions_tco2e), sum(e.emissions_tco2e) / any_value(r.personnel) "
            "FROM emissions e JOIN submissions s USING (submission_id) JOIN entity_reports r USING (submission_id) "
            "WHERE NOT e.is_optional GROUP BY ALL",
        )
    }
    assert (change.entity, change.year) == ("UNEP", 2024) and totals[1][0] != totals[2][0]
    assert (change.total_before, change.total_after) == pytest.approx((totals[1][0], totals[2][0]))
    assert (change.per_capita_before, change.per_capita_after) == pytest.approx((totals[1][1], totals[2][1]))


def test_an_earlier_version_sent_back_under_another_name_is_named_not_passed_over(inputs):
    """The first version sent again as a new file (to go back to it) has the bytes of a superseded
    submission: it is not loaded again, and the run says so and how to go back, instead of
    counting it "unchanged" without a word. The first version left where it was is not named."""
    import shutil

    from pipeline.run import summary_lines

    first = submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    submit(inputs, "UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", 1_000_000))
    assert run(inputs).superseded == 1
    shutil.copy(first, inputs / "submissions" / "UNEP_2024_v3.xlsx")
    result = run(inputs)
    assert result.loaded == [] and result.superseded_again == [("UNEP_2024_v3.xlsx", "UNEP_2024.xlsx")]
    text = "\n".join(line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb"))
    assert "UNEP_2024_v3.xlsx: the same bytes as UNEP_2024.xlsx, which a later submission replaced" in text
    assert "UNEP_2024.xlsx: the same bytes" not in text
    assert query(inputs, "SELECT file_name FROM submissions WHERE status = 'loaded'") == [("UNEP_2024_v2.xlsx",)]


def test_an_earlier_version_sent_back_under_its_own_name_is_named_too(inputs):
    first = valid_sheets("UNEP")
    path = submit(inputs, "UNEP_2024.xlsx", first)
    original = path.read_bytes()
    run(inputs)
    submit(inputs, "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", 1_000_000))
    assert run(inputs).superseded == 1
    path.write_bytes(original)  # the first version back, under the name both had
    result = run(inputs)
    assert result.loaded == [] and result.superseded_again == [("UNEP_2024.xlsx", "UNEP_2024.xlsx")]
    assert query(inputs, "SELECT count(*) FROM submissions WHERE status = 'loaded'") == [(1,)]


def test_rejected_file_beside_valid_one(inputs, capsys):
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "WFP_2024.xlsx", set_cell(valid_sheets("WFP"), "Facilities", "E2", "litre"))
    (inputs / "submissions" / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    code = main(
        [
            "run",
            "--inputs",
            str(inputs),
            "--db",
            str(inputs.parent / "out" / "gtb.duckdb"),
            "--outputs",
            str(inputs.parent / "out"),
            "--jobs",
            "1",
        ]
    )
    assert code == 1
    assert query(inputs, "SELECT file_name, status, error_count FROM submissions ORDER BY file_name") == [
        ("UNEP_2024.xlsx", "loaded", 0),
        ("WFP_2024.xlsx", "rejected", 1),
        ("broken.xlsx", "rejected", 1),
    ]
    assert query(inputs, "SELECT count(*) FROM facilities_activity") == [(3,)], "the rejected file loads nothing"
    report = inputs.parent / "out" / "validation" / "WFP_2024"
    assert (report / "issues.csv").read_text().count("unit-mismatch") == 1
    assert (report / "annotated.xlsx").exists()
    clean = load_workbook(inputs.parent / "out" / "validation" / "UNEP_2024" / "annotated.xlsx")
    assert len(clean.sheetnames) == 1 and clean.active["B3"].value == 0  # the summary alone: no error
    (broken,) = (inputs.parent / "out" / "validation").glob("broken_*")  # the stem and a short hash
    assert (broken / "issues.csv").exists()
    out = capsys.readouterr().out
    assert "1 loaded" in out and "2 rejected" in out and "WFP_2024" in out
    assert query(
        inputs,
        "SELECT cell, code FROM findings JOIN submissions USING (submission_id) WHERE file_name = 'WFP_2024.xlsx'",
    ) == [("E2", "unit-mismatch")]


def test_duplicate_serial_across_entities_and_years(inputs):
    unep = valid_sheets("UNEP")
    submit(inputs, "UNEP_2024.xlsx", unep)
    run(inputs)
    wfp = valid_sheets("WFP")
    wfp["Offsets"].append(
        ["gold_standard", "GS-77", " " + unep["Offsets"][1][2].lower() + " ", YEAR, 5000, "2025-01-10"]
    )
    submit(inputs, "WFP_2024.xlsx", wfp)
    result = run(inputs)
    assert result.loaded == [] and [r[0] for r in result.rejected] == ["WFP_2024.xlsx"]
    [(cell, code, message)] = query(inputs, "SELECT cell, code, message FROM findings WHERE code = 'duplicate-serial'")
    assert (cell, code) == ("C3", "duplicate-serial") and "UNEP 2024" in message
    # a resubmission of the owner may keep its own serials
    submit(inputs, "UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", 5))
    assert run(inputs).loaded == ["UNEP_2024_v2.xlsx"]


def test_duplicate_serial_within_one_run_rejects_the_later_file(inputs):
    a, b = valid_sheets("UNEP"), valid_sheets("WFP")
    b["Offsets"][1][2] = a["Offsets"][1][2]
    submit(inputs, "a/UNEP_2024.xlsx", a)
    submit(inputs, "b/WFP_2024.xlsx", b)
    result = run(inputs)
    assert result.loaded == ["UNEP_2024.xlsx"] and [r[0] for r in result.rejected] == ["WFP_2024.xlsx"]


@pytest.mark.parametrize("replacement_fails", [False, True])
def test_a_block_freed_by_a_resubmission_of_the_same_run_is_free(inputs, replacement_fails):
    """UNEP claimed WFP's block by mistake; one run brings UNEP's corrected workbook and WFP's. The
    correction supersedes UNEP's serials, so WFP's block loads. Should the correction itself be
    rejected, UNEP's loaded serials stay, and WFP's block is still claimed by them."""
    block = valid_sheets("UNEP")["Offsets"][1][2]
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    (inputs / "submissions" / "UNEP_2024.xlsx").unlink()
    corrected = valid_sheets("UNEP")
    corrected["Offsets"][1][2] = block.replace("000001", "900001")
    if replacement_fails:
        corrected = set_cell(corrected, "Water", "D2", -5)
    submit(inputs, "UNEP_2024_corrected.xlsx", corrected)
    wfp = valid_sheets("WFP")
    wfp["Offsets"][1][2] = block
    submit(inputs, "WFP_2024.xlsx", wfp)
    result = run(inputs)
    if replacement_fails:
        assert result.loaded == [] and sorted(r[0] for r in result.rejected) == [
            "UNEP_2024_corrected.xlsx",
            "WFP_2024.xlsx",
        ]
        assert query(inputs, "SELECT count(*) FROM findings WHERE code = 'duplicate-serial'") == [(1,)]
    else:
        assert sorted(result.loaded) == ["UNEP_2024_corrected.xlsx", "WFP_2024.xlsx"] and result.superseded == 1
    holders = query(
        inputs,
        "SELECT s.entity_code FROM offsets o JOIN submissions s USING (submission_id) "
        "WHERE s.status = 'loaded' AND o.serial_range = ?",
        [block],
    )
    assert holders == ([("UNEP",)] if replacement_fails else [("WFP",)])


@pytest.mark.parametrize("wfp_name", ["a_WFP_2024.xlsx", "z_WFP_2024.xlsx"])
def test_an_owners_correction_keeps_its_serials_whatever_the_file_names(inputs, wfp_name):
    """UNEP's block is loaded; one run brings UNEP's correction (keeping the block) and WFP's
    workbook claiming it. WFP is refused and the correction loads, whichever file sorts first."""
    block = valid_sheets("UNEP")["Offsets"][1][2]
    submit(inputs, "m_UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    submit(inputs, "n_UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", 5))
    wfp = valid_sheets("WFP")
    wfp["Offsets"][1][2] = block
    submit(inputs, wfp_name, wfp)
    result = run(inputs)
    assert result.loaded == ["n_UNEP_2024_v2.xlsx"] and [r[0] for r in result.rejected] == [wfp_name]


def test_a_serial_typed_with_look_alike_letters_is_the_same_credit_block(inputs):
    """'KE' typed in a Cyrillic (КЕ) or Greek (ΚΕ) layout, or with a NUL after it: one block,
    claimed once; a serial with a letter drawn like a Latin one but not read as it is refused."""
    serial = "KE-5-2025-000001-000500"
    for entity, typed in [
        ("UNEP", serial),
        ("WFP", "\u041a\u0415" + serial[2:]),
        ("UNDP", serial + "_x0000_"),
    ]:  # a NUL: _x0000_ in the XML
        sheets = valid_sheets(entity)
        sheets["Offsets"][1][2] = typed
        sheets["Offsets"][1][4] = 500  # the range's credits
        submit(inputs, f"{entity}_2024.xlsx", sheets)
    cherokee = valid_sheets("UNICEF")
    cherokee["Offsets"][1][2] = "K\u13ac-9-2025-000001-000500"
    cherokee["Offsets"][1][4] = 500
    submit(inputs, "UNICEF_2024.xlsx", cherokee)
    result = run(inputs)
    claimants = {"UNEP_2024.xlsx", "WFP_2024.xlsx", "UNDP_2024.xlsx"}
    [first] = result.loaded  # the first file to claim the block (files are read in order of their names)
    assert first in claimants and {r[0] for r in result.rejected} == claimants - {first} | {"UNICEF_2024.xlsx"}
    found = query(inputs, "SELECT file_name, code, message FROM findings JOIN submissions USING (submission_id)")
    assert {(f, c) for f, c, _ in found if f != "UNICEF_2024.xlsx"} == {
        (name, "duplicate-serial") for name in claimants - {first}
    }
    [(message,)] = [(m,) for f, c, m in found if f == "UNICEF_2024.xlsx"]
    assert "U+13AC" in message and "letters A to Z" in message


def test_two_workbooks_for_one_entity_year_in_one_run(inputs):
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "UNEP_2024_other.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", 7))
    result = run(inputs)
    assert result.loaded == []
    assert sorted(r[0] for r in result.rejected) == ["UNEP_2024.xlsx", "UNEP_2024_other.xlsx"]
    assert query(inputs, "SELECT count(*) FROM findings WHERE code = 'duplicate-submission'") == [(2,)]
    # byte-identical copies are one submission, not a conflict
    (inputs / "submissions" / "UNEP_2024_other.xlsx").unlink()
    (inputs / "submissions" / "copy").mkdir()
    (inputs / "submissions" / "copy" / "UNEP_2024.xlsx").write_bytes(
        (inputs / "submissions" / "UNEP_2024.xlsx").read_bytes()
    )
    again = run(inputs)
    assert again.loaded == ["UNEP_2024.xlsx"] and again.unchanged == ["UNEP_2024.xlsx"] and not again.had_errors
    assert again.copies == [("submissions/copy/UNEP_2024.xlsx", "submissions/UNEP_2024.xlsx")]  # and named so
    from pipeline.run import summary_lines

    lines = [line.plain for line in summary_lines(again, inputs.parent / "out" / "gtb.duckdb")]
    assert "  submissions/copy/UNEP_2024.xlsx: the same bytes as submissions/UNEP_2024.xlsx, read once" in lines


def test_still_rejected_file_is_not_recorded_twice(inputs):
    submit(inputs, "WFP_2024.xlsx", set_cell(valid_sheets("WFP"), "Water", "D2", -1))
    assert run(inputs).had_errors
    second = run(inputs)
    assert second.had_errors and [r[0] for r in second.rejected] == ["WFP_2024.xlsx"]
    assert query(inputs, "SELECT count(*) FROM submissions") == [(1,)]


def test_history_and_workbook_for_one_entity_year(inputs):
    (inputs / "history" / "totals.csv").write_text(
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,waste_tonnes,water_m3\n"
        "UNEP,2010,1000,4000,3000,1000,0,,\n"
        "UNEP,2024,999,1,1,1,0,,\n"
    )
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    assert query(inputs, "SELECT year, data_source, personnel FROM entity_year ORDER BY year") == [
        (2010, "history", 1000),
        (2024, "workbook", 1250),
    ]
    assert query(inputs, "SELECT count(*) FROM history_totals") == [(2,)], "the history row is kept, the workbook wins"


def test_bad_history_row_is_reported_and_nothing_of_that_file_loads(inputs):
    (inputs / "history" / "good.csv").write_text(
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,waste_tonnes,water_m3\n"
        "WFP,2010,500,10,10,10,0,5,100\n"
    )
    (inputs / "history" / "bad.csv").write_text(
        "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,waste_tonnes,water_m3\n"
        "UNEP,2010,1000,4000,3000,1000,0,,\n"
        "UNEP,2011,1000,lots,3000,1000,0,,\n"
    )
    result = run(inputs)
    assert result.had_errors
    assert query(inputs, "SELECT entity_code, year FROM history_totals") == [("WFP", 2010)]
    issues = (inputs.parent / "out" / "validation" / "history_bad" / "issues.csv").read_text()
    assert "bad.csv,,,3,facilities_tco2e,lots,type-error" in issues


HISTORY_HEAD = (
    "entity_code,year,personnel,facilities_tco2e,air_travel_tco2e,other_travel_tco2e,offsets_tco2e,"
    "waste_tonnes,water_m3\n"
)


@pytest.mark.parametrize("left", ["", "\n,,,,,,,,\n\n"])
def test_a_history_file_cut_to_its_header_keeps_the_rows_it_loaded(inputs, left):
    """A known history file saved again with its header alone (an export that wrote no rows) is
    refused and its rows stay; before, its rows were replaced by none, without a word."""
    totals = inputs / "history" / "totals.csv"
    totals.write_text(HISTORY_HEAD + "UNEP,2010,1000,4000,3000,1000,0,,\nWFP,2010,500,10,10,10,0,5,100\n")
    assert run(inputs).history_rows == 2
    totals.write_text(HISTORY_HEAD + left)
    result = run(inputs)
    assert result.had_errors and [name for name, _, _ in result.history_rejected] == ["totals.csv"]
    assert query(inputs, "SELECT entity_code FROM history_totals ORDER BY 1") == [("UNEP",), ("WFP",)]
    issues = (inputs.parent / "out" / "validation" / "history_totals" / "issues.csv").read_text()
    assert "unreadable-file" in issues and "no row of totals" in issues


def test_rows_a_changed_history_file_no_longer_holds_are_removed_and_said(inputs, capsys):
    totals = inputs / "history" / "totals.csv"
    totals.write_text(HISTORY_HEAD + "UNEP,2010,1000,4000,3000,1000,0,,\nWFP,2010,500,10,10,10,0,5,100\n")
    run(inputs)
    totals.write_text(HISTORY_HEAD + "UNEP,2010,1000,4000,3000,1000,0,,\n")
    result = run(inputs)
    assert result.history_removed == [("totals.csv", 1)] and result.history_rows == 1
    assert query(inputs, "SELECT entity_code FROM history_totals") == [("UNEP",)]
    from pipeline.run import summary_lines

    text = "\n".join(line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb"))
    assert "totals.csv: 1 row loaded from it before no longer in it, removed" in text


def test_history_files_the_run_does_not_read_are_named(inputs):
    """History is read from the .csv files of the history folder, in any case; a file in a
    sub-folder or of another kind is named in the summary instead of being passed over."""
    history = inputs / "history"
    (history / "PUBLISHED_TOTALS.CSV").write_text(HISTORY_HEAD + "CBD,2014,100,10,20,30,0,,\n")
    (history / "2015").mkdir()
    (history / "2015" / "totals.csv").write_text(HISTORY_HEAD + "CBD,2015,100,10,20,30,0,,\n")
    (history / "totals_2016.txt").write_text(HISTORY_HEAD + "CBD,2016,100,10,20,30,0,,\n")
    (history / ".DS_Store").write_bytes(b"\0")
    result = run(inputs)
    assert query(inputs, "SELECT year FROM history_totals") == [(2014,)]
    assert result.history_not_read == ["history/2015/totals.csv", "history/totals_2016.txt"]
    from pipeline.run import summary_lines

    text = "\n".join(line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb"))
    assert "not read (history takes the .csv files of the history folder itself): history/2015/totals.csv" in text


def test_a_history_file_the_csv_reader_refuses_is_that_files_error(inputs, monkeypatch):
    """A history CSV with a field beyond the csv module's limit (128 KiB), and one the checks
    fail on with an exception (a fault of the pipeline): each is its own file's error, with
    its issues.csv; the workbooks and the other history file load as ever."""
    import csv

    from pipeline.intake import history

    limit = csv.field_size_limit(128 * 1024)  # as in a gtb process (frictionless, which tests use, lifts it)
    try:
        _history_files_that_fail(inputs, monkeypatch, history)
    finally:
        csv.field_size_limit(limit)


def _history_files_that_fail(inputs: Path, monkeypatch, history) -> None:
    head = ",".join(history.header()) + "\n"
    (inputs / "history" / "good.csv").write_text(head + "WFP,2010,500,10,10,10,0,5,100\n")
    (inputs / "history" / "long.csv").write_text(head + 'UNEP,2010,1000,"' + "9" * 200_000 + '",3000,1000,0,,\n')
    (inputs / "history" / "fault.csv").write_text(head + "UNDP,2010,1000,4000,3000,1000,0,,\n")
    original = history.typed_column

    def failing(column, dtype):
        if (column == "UNDP").any():
            raise ValueError("a fault of the pipeline")
        return original(column, dtype)

    monkeypatch.setattr(history, "typed_column", failing)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    result = run(inputs)
    assert result.loaded == ["UNEP_2024.xlsx"] and result.had_errors
    assert sorted(name for name, _, _ in result.history_rejected) == ["fault.csv", "long.csv"]
    assert query(inputs, "SELECT entity_code, year FROM history_totals") == [("WFP", 2010)]
    out = inputs.parent / "out" / "validation"
    assert "cannot be read as CSV (field larger than field limit" in (out / "history_long" / "issues.csv").read_text()
    assert "ValueError: a fault of the pipeline" in (out / "history_fault" / "issues.csv").read_text()


def test_a_valid_workbook_for_a_year_without_factors_is_rejected_alone(inputs, capsys):
    """Reporting years start in 2008 but factor sets are pinned from 2010: such a workbook is
    valid by the contract and cannot be priced. It gets its own error, on the reporting year,
    from `gtb validate` as from `gtb run`, and the other workbooks load (it ended the run)."""
    early = submit(inputs, "WFP_2008.xlsx", valid_sheets("WFP", 2008))
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    result = run(inputs)
    assert result.loaded == ["UNEP_2024.xlsx"]
    assert [name for name, _, _ in result.rejected] == ["WFP_2008.xlsx"]
    issues = (inputs.parent / "out" / "validation" / "WFP_2008" / "issues.csv").read_text()
    assert "WFP_2008.xlsx,Entity,B3,3,reporting_year,2008,out-of-range,error," in issues
    assert "no emission factors are chosen yet for 2008 (years with factors: 2010-2030)" in issues
    assert main(["validate", str(early), "--report-dir", str(inputs.parent / "v")]) == 1
    assert "out-of-range" in capsys.readouterr().out


def test_file_and_folder_names_that_are_not_utf8_are_recorded_escaped(inputs):
    """Linux allows any bytes in a name; Python holds those that are not UTF-8 as lone
    surrogates, which the database refused, ending the run for every workbook. Each is recorded
    and reported with its bytes escaped, and the workbooks and history file load."""
    import os

    from pipeline.intake import history

    folder = os.fsencode(inputs / "submissions")
    plain = submit(inputs, "plain.xlsx", valid_sheets("WFP"))
    os.rename(os.fsencode(plain), folder + b"/WFP_2024_\xff.xlsx")
    other = submit(inputs, "other.xlsx", valid_sheets("UNEP"))
    os.mkdir(folder + b"/\xfe")
    os.rename(os.fsencode(other), folder + b"/\xfe/UNEP_2024.xlsx")
    bad = submit(inputs, "bad.xlsx", set_cell(valid_sheets("UNDP"), "Water", "D2", -3))
    os.rename(os.fsencode(bad), folder + b"/UNDP_2024_\xfa.xlsx")
    head = ",".join(history.header()) + "\n"
    (inputs / "history" / "x.csv").write_text(head + "WFP,2010,500,10,10,10,0,5,100\n")
    os.rename(os.fsencode(inputs / "history" / "x.csv"), os.fsencode(inputs / "history") + b"/h\xff.csv")
    result = run(inputs)
    assert sorted(result.loaded) == ["UNEP_2024.xlsx", "WFP_2024_\\xff.xlsx"]
    assert [name for name, _, _ in result.rejected] == ["UNDP_2024_\\xfa.xlsx"]
    assert query(inputs, "SELECT file_path FROM submissions ORDER BY 1") == [
        ("submissions/UNDP_2024_\\xfa.xlsx",),
        ("submissions/WFP_2024_\\xff.xlsx",),
        ("submissions/\\xfe/UNEP_2024.xlsx",),
    ]
    assert query(inputs, "SELECT DISTINCT source_file FROM history_totals") == [("h\\xff.csv",)]
    issues = (inputs.parent / "out" / "validation" / "UNDP_2024" / "issues.csv").read_text()
    assert "UNDP_2024_\\xfa.xlsx,Water,D2" in issues
    assert sorted(run(inputs).unchanged) == ["UNEP_2024.xlsx", "WFP_2024_\\xff.xlsx"]  # a rerun knows them


def test_history_entries_that_are_no_regular_file_are_their_own_error(inputs):
    """A pipe, a link to /dev/zero and a folder, each named like a history CSV: the pipe blocked
    the run forever and the device filled the memory. Each is now its own error, not read, and
    the workbook and the history file beside them load."""
    import os

    from pipeline.intake import history

    head = ",".join(history.header()) + "\n"
    (inputs / "history" / "good.csv").write_text(head + "WFP,2010,500,10,10,10,0,5,100\n")
    os.mkfifo(inputs / "history" / "pipe.csv")
    os.symlink("/dev/zero", inputs / "history" / "zero.csv")
    (inputs / "history" / "folder.csv").mkdir()
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    out = inputs.parent / "out"
    command = [sys.executable, "-m", "pipeline.cli", "run", "--inputs", str(inputs), "--outputs", str(out)]
    proc = subprocess.run(
        [*command, "--db", str(out / "gtb.duckdb"), "--jobs", "1"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "1 workbook: 1 loaded" in proc.stdout and "history: 1 row loaded" in proc.stdout
    for name in ("pipe", "zero", "folder"):
        issues = (out / "validation" / f"history_{name}" / "issues.csv").read_text()
        assert "this is not a regular file" in issues, name


def test_everything_named_like_a_workbook_is_read_or_reported(inputs, monkeypatch):
    """A workbook named .XLSX loads; a folder and a broken link named like workbooks, and a
    folder that cannot be listed, each get their own unreadable-file finding: skipped, they left
    their entity silently missing."""
    import os

    submit(inputs, "UNDP_2024.XLSX", valid_sheets("UNDP"))
    (inputs / "submissions" / "WFP_2024.xlsx").mkdir()
    os.symlink(inputs / "gone.xlsx", inputs / "submissions" / "UNEP_2024.xlsx")
    closed = inputs / "submissions" / "2024"
    submit(inputs, "2024/FAO_2024.xlsx", valid_sheets("FAO"))
    listing = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(closed):
            raise PermissionError(13, "Permission denied", str(closed))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run(inputs)
    assert result.loaded == ["UNDP_2024.XLSX"]
    assert sorted(name for name, _, _ in result.rejected) == ["2024", "UNEP_2024.xlsx", "WFP_2024.xlsx"]
    found = dict(query(inputs, "SELECT file_name, message FROM findings JOIN submissions USING (submission_id)"))
    assert set(found) == {"2024", "UNEP_2024.xlsx", "WFP_2024.xlsx"}
    assert "not a regular file" in found["WFP_2024.xlsx"] and "not a regular file" in found["2024"]
    assert found["UNEP_2024.xlsx"].startswith("file not found")


def test_a_pipe_named_like_a_workbook_is_reported_not_waited_for(inputs):
    import os

    os.mkfifo(inputs / "submissions" / "WFP_2024.xlsx")
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    out = inputs.parent / "out"
    command = [sys.executable, "-m", "pipeline.cli", "run", "--inputs", str(inputs), "--outputs", str(out)]
    proc = subprocess.run([*command, "--db", str(out / "gtb.duckdb")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "2 workbooks: 1 loaded" in proc.stdout and "rejected WFP_2024.xlsx" in proc.stdout


def test_a_tiny_denominator_gives_no_infinite_indicator(inputs, capsys):
    """A floor area of 5e-324 m2 (the bound is >= 0) and a 2010 history total of 1e-320 tCO2e
    made the intensity and the change since 2010 infinite, and `gtb indicators --json` refused
    them for the whole system. A figure that is no finite number is NULL, as one that cannot
    be computed."""
    import json

    from pipeline.intake import history

    head = ",".join(history.header()) + "\n"
    (inputs / "history" / "h.csv").write_text(head + "UNEP,2010,1000,1e-320,0,0,0,,\n")
    submit(inputs, "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Entity", "B6", 5e-324))
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    run(inputs)
    db = str(inputs.parent / "out" / "gtb.duckdb")
    capsys.readouterr()
    assert main(["indicators", "--year", "2024", "--db", db, "--json"]) == 0
    system = json.loads(capsys.readouterr().out)
    assert system["total_change_since_2010"] is None and system["total_tco2e"] > 0
    assert main(["indicators", "--year", "2024", "--entity", "UNEP", "--db", db, "--json"]) == 0
    unep = json.loads(capsys.readouterr().out)
    assert unep["facility_intensity_kgco2e_per_m2"] is None and unep["per_capita_tco2e"] > 0
    assert unep["total_change_since_2010"] is None
    assert main(["indicators", "--year", "2024", "--entity", "WFP", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["facility_intensity_kgco2e_per_m2"] > 0


def test_findings_are_printed_in_the_order_of_issues_csv(inputs, capsys):
    """A finding of the cross-checks (the reporting year without factors, on the Entity sheet)
    comes before one of validation on a later sheet, on the console as in issues.csv."""
    sheets = valid_sheets("WFP", 2009)
    sheets["Offsets"].append([*sheets["Offsets"][1][:2], "-".join(["7"] * 40), *sheets["Offsets"][1][3:]])
    path = submit(inputs, "WFP_2009.xlsx", sheets)
    assert main(["validate", str(path), "--report-dir", str(inputs.parent / "v")]) == 1
    printed = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("  error")]
    assert printed == ["Entity!B3", "Offsets!C3"]
    run(inputs)
    assert "Entity!B3: no emission factors are chosen yet for 2009" in capsys.readouterr().out


def test_hand_computed_emissions_name_their_factors(inputs):
    sheets = valid_sheets("UNEP")
    sheets["Facilities"] = [
        sheets["Facilities"][0],
        ["HQ", "KEN", "electricity", 10_000, "kwh", 2_000, "measured"],
        ["HQ", "KEN", "natural_gas", 1_000, "m3", None, "measured"],
    ]
    sheets["Refrigerants"] = [
        sheets["Refrigerants"][0],
        ["HQ", "KEN", "r410a", 10, "measured"],
        ["HQ", "KEN", "r22", 2, "measured"],
    ]
    sheets["Vehicles"] = [sheets["Vehicles"][0], ["KEN", "suv", "diesel", 1_000, "litre", "measured"]]
    sheets["AirTravel"] = [sheets["AirTravel"][0], [None, None, 1_000, "economy", 1, "no", "measured"]]
    sheets["OtherTravel"] = [sheets["OtherTravel"][0], ["rail", 1_000, "measured"]]
    submit(inputs, "UNEP_2024.xlsx", sheets)
    run(inputs)
    rows = {
        (sheet, row): (factor_id, region, tco2e, market, scope, category, optional)
        for sheet, row, factor_id, region, tco2e, market, scope, category, optional in query(
            inputs,
            "SELECT sheet, source_row, factor_id, factor_region, emissions_tco2e, market_emissions_tco2e, "
            "scope, gtb_category, is_optional FROM emissions",
        )
    }
    # Kenya grid 0.070492 kg/kWh (Ember via codecarbon); market-based counts the 2,000 renewable kWh at zero
    assert rows[("Facilities", 2)][:2] == ("grid.electricity.kwh", "KEN")
    assert rows[("Facilities", 2)][2] == pytest.approx(10_000 * 0.070492 / 1000)
    assert rows[("Facilities", 2)][3] == pytest.approx(8_000 * 0.070492 / 1000)
    assert rows[("Facilities", 2)][4:6] == (2, "facilities")
    # natural gas: 1,000 m3 x 11.1432998097 kWh/m3 x 0.184318926 kg/kWh (DESNZ 2023)
    assert rows[("Facilities", 3)][0] == "fuel.natural_gas.kwh"
    assert rows[("Facilities", 3)][2] == pytest.approx(1_000 * 11.1432998097 * 0.184318926 / 1000)
    # refrigerants: AR5 GWP; R-22 is an HCFC, optional
    assert rows[("Refrigerants", 2)][0::2][:2] == ("refrigerant.r410a.kg", pytest.approx(10 * 1923.5 / 1000))
    assert rows[("Refrigerants", 3)][2] == pytest.approx(2 * 1760 / 1000) and rows[("Refrigerants", 3)][6] is True
    # vehicles: diesel 2.659371737 kg/litre, scope 1, other travel
    assert rows[("Vehicles", 2)][0] == "vehicle.diesel.litre"
    assert rows[("Vehicles", 2)][2] == pytest.approx(2.659371737) and rows[("Vehicles", 2)][4:6] == (1, "other_travel")
    # air: 1,000 km great circle -> medium haul, +100 km ICAO correction, 0.0991018519 kg/pkm
    assert rows[("AirTravel", 2)][0] == "air.medium_haul.economy.passenger_km"
    assert rows[("AirTravel", 2)][2] == pytest.approx(1_100 * 0.0991018519 / 1000)
    # rail 0.035462964 kg/pkm
    assert rows[("OtherTravel", 2)][0] == "travel.rail.passenger_km"
    assert rows[("OtherTravel", 2)][2] == pytest.approx(1_000 * 0.035462964 / 1000)
    # every factor used exists, with its source, in the warehouse
    assert query(
        inputs,
        "SELECT count(*) FROM emissions e LEFT JOIN emission_factors f USING (factor_set, factor_id) "
        "WHERE f.source_url IS NULL OR f.factor_id IS NULL",
    ) == [(0,)]


def _holding(db: Path, seconds: float, read_only: bool) -> subprocess.Popen:
    """Another process that has the database open for `seconds` (a writer's lock, or a reader's)."""
    code = (
        f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only={read_only}); "
        f"print('ready', flush=True); time.sleep({seconds}); c.close()"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


@pytest.mark.parametrize("read_only", [True, False])
def test_a_run_waits_for_a_short_hold_of_the_database(inputs, capsys, read_only):
    """A page of the portal, `gtb status` or another program reading the warehouse for a moment
    made a run fail at once ("in use by another run") though no run was going on."""
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = inputs.parent / "out" / "gtb.duckdb"
    run(inputs)
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    holder = _holding(db, 1.0, read_only)
    try:
        code = main(["run", "--inputs", str(inputs), "--db", str(db), "--outputs", str(inputs.parent / "out")])
        assert holder.poll() is not None  # the run opened the database once the other let go
    finally:
        holder.kill()
        holder.wait()
    assert code == 0, capsys.readouterr().err
    assert query(inputs, "SELECT count(DISTINCT entity_code) FROM submissions WHERE status = 'loaded'") == [(2,)]


def test_a_reader_waits_for_a_short_write(inputs, capsys):
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = inputs.parent / "out" / "gtb.duckdb"
    run(inputs)
    holder = _holding(db, 0.5, read_only=False)
    try:
        code = main(["status", "--year", "2024", "--db", str(db)])
    finally:
        holder.kill()
        holder.wait()
    assert code == 0 and "UNEP" in capsys.readouterr().out


def test_a_database_grown_by_a_writer_while_the_check_waits_is_whole(tmp_path):
    """The check took the file's size, then waited for a writer's lock: the writer grew the file
    and let go, and the header then counted blocks the old size did not hold, so a warehouse in
    use by `gtb run` read as "damaged ... restore it from a backup" on the tracker and in
    `gtb status`."""
    from pipeline.warehouse.db import check_file

    db = tmp_path / "gtb.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE kept AS SELECT range AS i FROM range(10)")
    before = db.stat().st_size
    code = (
        "import duckdb, time; "
        f"c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(0.5); "
        "c.execute('CREATE TABLE grown AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(300000)'); "
        "c.execute('CHECKPOINT'); c.close()"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        check_file(db, wait="read")  # waits for the writer, then finds the file whole
    finally:
        writer.wait(timeout=60)
    assert db.stat().st_size > before, "the writer grew the file during the wait"


def test_locked_database_exits_2_with_one_line(inputs, capsys, monkeypatch):
    from pipeline.warehouse import db as warehouse_db

    monkeypatch.setitem(warehouse_db.LOCK_WAIT_S, "write", 0.5)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = inputs.parent / "out" / "gtb.duckdb"
    run(inputs)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        code = main(["run", "--inputs", str(inputs), "--db", str(db), "--outputs", str(inputs.parent / "out")])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "database is in use by another run or program" in err
    assert "Traceback" not in err


def test_corrupt_database_is_reported_not_overwritten(inputs, capsys):
    db = inputs.parent / "out" / "gtb.duckdb"
    db.parent.mkdir(parents=True)
    garbage = b"this is not a duckdb file" * 100
    db.write_bytes(garbage)
    code = main(["run", "--inputs", str(inputs), "--db", str(db), "--outputs", str(inputs.parent / "out")])
    assert code == 2
    assert db.read_bytes() == garbage
    err = capsys.readouterr().err
    assert "not a readable DuckDB database" in err and err.count("\n") == 1


def test_missing_inputs_folder_exits_2(tmp_path, capsys):
    code = main(["run", "--inputs", str(tmp_path / "nowhere"), "--db", str(tmp_path / "gtb.duckdb")])
    assert code == 2 and "inputs folder not found" in capsys.readouterr().err


# A run in its own process, paused where the test says: the script patches in its own pause
# (production code carries no test hook), prints a line when it gets there, and sleeps.
PAUSED_RUN = """\
import time
{patch}
from pipeline.cli import entry
entry()
"""
# inside the load transaction, after the emissions are written
PAUSE_IN_TRANSACTION = """\
from pipeline.emissions import calculate as c
real = c.calculate
def paused(*a, **k):
    n = real(*a, **k)
    print('paused', flush=True)
    time.sleep(60)
    return n
c.calculate = paused
"""
# while the workers read: the reading thread holds the first file read, the others wait
PAUSE_WHILE_READING = """\
from pipeline.intake import ahead
real = ahead.Reading._deliver
def paused(self, path, result):
    print('paused', flush=True)
    time.sleep(60)
    return real(self, path, result)
ahead.Reading._deliver = paused
"""


def _paused_run(inputs: Path, patch: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`gtb run --jobs 2` on `inputs` in its own process, once it has paused at `patch`'s pause."""
    out = inputs.parent / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_RUN.format(patch=patch), "run", "--inputs", str(inputs)]
        + ["--db", str(out / "gtb.duckdb"), "--outputs", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and "paused" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    if "paused" not in line:
        proc.kill()
        pytest.fail(f"the run did not reach its pause: {proc.communicate()[1]}")
    return proc


def _content(db: Path) -> dict[str, list]:
    """Every row of every table of the warehouse."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}


def test_killed_run_leaves_database_as_before(inputs):
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = inputs.parent / "out" / "gtb.duckdb"
    run(inputs)
    before = _content(db)
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    proc = _paused_run(inputs, PAUSE_IN_TRANSACTION)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert _content(db) == before
    # and the next run completes normally
    assert run(inputs).loaded == ["WFP_2024.xlsx"]


@pytest.mark.skipif(not processes.AVAILABLE, reason="the processes are looked up in /proc")
@pytest.mark.parametrize("pause", [PAUSE_WHILE_READING, PAUSE_IN_TRANSACTION], ids=["reading", "loading"])
@pytest.mark.parametrize(
    "sent, said", [(signal.SIGTERM, "gtb: stopped (SIGTERM)"), (signal.SIGINT, "gtb: interrupted")], ids=["term", "int"]
)
def test_a_run_stopped_by_sigterm_or_ctrl_c_leaves_nothing_behind(inputs, tmp_path, pause, sent, said):
    """`kill`, `docker stop`, systemd or a CI timeout send SIGTERM: the run ended at once, saying
    nothing, with exit code -15. It now ends as after Ctrl-C: one line, exit code 2, the warehouse
    as it was. And either way the readers' worker processes are stopped and their log files
    removed: Ctrl-C while the workers read left the reading thread running, its workers to end by
    themselves and their log files in the temporary folder, as the process ends without its
    teardown."""
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = inputs.parent / "out" / "gtb.duckdb"
    run(inputs)
    before = _content(db)
    for entity in ("WFP", "UNDP", "UNHCR", "ITC"):
        submit(inputs, f"{entity}_2024.xlsx", valid_sheets(entity))
    temp = tmp_path / "temp"  # the run's own temporary folder: nothing else writes there
    temp.mkdir()
    proc = _paused_run(inputs, pause, env={**os.environ, "TMPDIR": str(temp)})
    started = processes.descendants(proc.pid)
    assert started, "the run has its fork server, if not its workers, running"
    if pause is PAUSE_WHILE_READING:  # the workers are reading: each has its log file
        assert list(temp.glob("gtb-reader-*.log")), list(temp.iterdir())
    proc.send_signal(sent)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (2, said + "\n")
    assert _content(db) == before
    assert not processes.left_after(started, 30)
    assert list(temp.iterdir()) == []  # no log file, nor the fork server's folder (pymp-*)
    assert run(inputs).loaded == ["ITC_2024.xlsx", "UNDP_2024.xlsx", "UNHCR_2024.xlsx", "WFP_2024.xlsx"]


def test_every_table_and_column_is_documented(inputs):
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    assert query(inputs, "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL") == []
    assert (
        query(
            inputs,
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE comment IS NULL AND NOT internal AND table_name IN (SELECT table_name FROM duckdb_tables())",
        )
        == []
    )


def test_rejected_file_is_replaced_by_a_valid_resubmission(inputs):
    submit(inputs, "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -1))
    assert run(inputs).had_errors
    submit(inputs, "UNEP_2024_v2.xlsx", valid_sheets("UNEP"))
    second = run(inputs)
    assert second.loaded == ["UNEP_2024_v2.xlsx"] and second.replaced == ["UNEP_2024.xlsx"] and not second.had_errors
    from pipeline.run import summary_lines

    counts = summary_lines(second, inputs.parent / "out" / "gtb.duckdb")[0].plain  # they add up to the files seen
    assert counts.startswith("2 workbooks: 1 loaded, 0 unchanged, 0 rejected, 1 replaced, 0 superseded"), counts
    third = run(inputs)  # the replaced file is not read again, and the run is clean
    assert sorted(third.unchanged) == ["UNEP_2024.xlsx", "UNEP_2024_v2.xlsx"] and not third.had_errors
    assert query(inputs, "SELECT file_name, status, superseded_by FROM submissions ORDER BY submission_id") == [
        ("UNEP_2024.xlsx", "rejected", 2),
        ("UNEP_2024_v2.xlsx", "loaded", None),
    ]


def test_year_without_a_factor_pin_is_rejected_until_it_is_pinned(inputs, tmp_path, monkeypatch, capsys):
    """A workbook of a year no factor set is pinned for is rejected with its own error (it ended
    the run, loading nothing); pinned, the next run reads it again and loads it."""
    from pipeline.reference import factors

    pins = tmp_path / "pins.csv"
    pins.write_text("year,factor_set,notes\n2023,gtb-2025.1,only 2023\n")
    monkeypatch.setattr(factors, "PINS_PATH", pins)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "WFP_2023.xlsx", valid_sheets("WFP", 2023))
    out = inputs.parent / "out"
    args = ["run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out), "--jobs", "1"]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert "1 loaded" in printed and "no emission factors are chosen yet for 2024 (years with factors: 2023)" in printed
    assert query(inputs, "SELECT file_name, status FROM submissions ORDER BY 1") == [
        ("UNEP_2024.xlsx", "rejected"),
        ("WFP_2023.xlsx", "loaded"),
    ]
    pins.write_text("year,factor_set,notes\n2023,gtb-2025.1,\n2024,gtb-2025.1,\n")
    assert main(args) == 0
    assert query(inputs, "SELECT file_name FROM submissions WHERE status = 'loaded' ORDER BY 1") == [
        ("UNEP_2024.xlsx",),
        ("WFP_2023.xlsx",),
    ]


def test_a_resubmission_after_a_recalculation_follows_the_years_restated_set(inputs, capsys):
    """2024 restated with gtb-2026.1 (`gtb recalculate`), still pinned to gtb-2025.1: WFP's
    correction is calculated with the year's set, not the pin, and its identical flights cost
    what UNEP's do."""
    from pipeline import api

    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    run(inputs)
    api.recalculate(2024, "gtb-2026.1", "restated", db=inputs.parent / "out" / "gtb.duckdb")
    corrected = valid_sheets("WFP")
    corrected["Entity"][3][1] = 1300
    submit(inputs, "WFP_2024_v2.xlsx", corrected)
    assert run(inputs).loaded == ["WFP_2024_v2.xlsx"]
    rows = query(
        inputs,
        """SELECT s.entity_code, string_agg(DISTINCT e.factor_set, ','),
                  list(e.emissions_tco2e ORDER BY e.source_row) FILTER (WHERE e.sheet = 'AirTravel')
           FROM emissions e JOIN submissions s USING (submission_id) WHERE s.status = 'loaded'
           GROUP BY ALL ORDER BY 1""",
    )
    assert [(code, sets) for code, sets, _ in rows] == [("UNEP", "gtb-2026.1"), ("WFP", "gtb-2026.1")]
    # row by row, not summed: a sum's last bit follows the order DuckDB's threads add in
    assert rows[0][2] == rows[1][2] and rows[0][2]
    assert "mixes factor sets" not in capsys.readouterr().out


def test_a_restated_year_is_converted_with_its_new_set_as_it_is_priced(inputs, tmp_path, monkeypatch):
    """A factor set whose unit conversions or flown-distance correction differ from the year's
    pin: `gtb recalculate` converts the loaded rows with it too (not only prices them), and a
    correction loaded afterwards is converted with the year's restated set, not its pin."""
    import shutil

    from pipeline import api
    from pipeline.reference import factors

    sets = tmp_path / "factors"
    shutil.copytree(factors.FACTORS_DIR, sets)
    restated = sets / "gtb-2099.1"
    shutil.copytree(sets / "gtb-2026.1", restated)
    conversions = restated / "conversions.csv"
    text = conversions.read_text(encoding="utf-8")
    assert text.count("Facilities,natural_gas,m3,kwh,11.1432998097,") == 1
    conversions.write_text(text.replace("natural_gas,m3,kwh,11.1432998097,", "natural_gas,m3,kwh,10.0,"), "utf-8")
    correction = restated / "air_gcd_correction.csv"
    correction.write_text(correction.read_text(encoding="utf-8").replace("\n550,5500,100,", "\n550,5500,0,"), "utf-8")
    monkeypatch.setattr(factors, "FACTORS_DIR", sets)

    submit(inputs, "UNEP_2025.xlsx", valid_sheets("UNEP", 2025))
    run(inputs)
    gas = "SELECT canonical_quantity FROM facilities_activity JOIN submissions s USING (submission_id) "
    gas += "WHERE energy_type_code = 'natural_gas' AND s.status = 'loaded' ORDER BY entity_code"
    flown = "SELECT flight_distance_km FROM air_travel_activity JOIN submissions s USING (submission_id) "
    flown += "WHERE distance_km = 850 AND s.status = 'loaded' ORDER BY entity_code"
    assert query(inputs, gas) == [(12_000 * 11.1432998097,)] and query(inputs, flown) == [(950.0,)]

    api.recalculate(2025, "gtb-2099.1", "restated", db=inputs.parent / "out" / "gtb.duckdb")
    assert query(inputs, gas) == [(120_000.0,)] and query(inputs, flown) == [(850.0,)]
    priced = """SELECT e.activity_quantity, e.factor_set FROM emissions e JOIN facilities_activity f
                USING (submission_id, source_row) WHERE e.sheet = 'Facilities' AND f.energy_type_code = 'natural_gas'"""
    assert query(inputs, priced) == [(120_000.0, "gtb-2099.1")]

    submit(inputs, "WFP_2025.xlsx", valid_sheets("WFP", 2025))
    assert run(inputs).loaded == ["WFP_2025.xlsx"]
    assert query(inputs, gas) == [(120_000.0,), (120_000.0,)] and query(inputs, flown) == [(850.0,), (850.0,)]


def test_a_year_whose_workbooks_use_two_sets_is_said(inputs, tmp_path, monkeypatch, capsys):
    """The pin of 2024 changed after UNEP's workbook loaded: WFP's loads with the new pin, and the
    run says the year mixes two sets and how to restate it."""
    from pipeline.reference import factors

    pins = tmp_path / "pins.csv"
    pins.write_text("year,factor_set,notes\n2024,gtb-2025.1,\n")
    monkeypatch.setattr(factors, "PINS_PATH", pins)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    pins.write_text("year,factor_set,notes\n2024,gtb-2026.1,\n")
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    result = run(inputs)
    assert result.mixed_sets == [(2024, [("gtb-2025.1", 1), ("gtb-2026.1", 1)])]
    printed = capsys.readouterr().out
    assert "2024 mixes factor sets: gtb-2025.1 (1 workbook), gtb-2026.1 (1 workbook)" in printed
    assert "gtb recalculate --year 2024" in printed


def test_a_year_whose_workbooks_use_two_sets_cannot_be_published_as_final(inputs, tmp_path, monkeypatch, capsys):
    """The run said 2024 mixed two factor sets, but the report of 2024 was final (`--final` wrote
    it) and the export said `final`: figures not comparable within the year, published as they
    stood. Both are drafts now, saying why, until the year is restated with one set."""
    from pipeline.errors import GtbError
    from pipeline.reference import factors

    pins = tmp_path / "pins.csv"
    pins.write_text("year,factor_set,notes\n2024,gtb-2025.1,\n")
    monkeypatch.setattr(factors, "PINS_PATH", pins)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    db, out = inputs.parent / "out" / "gtb.duckdb", inputs.parent / "out"
    assert not api.report(2024, db, out).mixed_sets, "one set: no mark"
    pins.write_text("year,factor_set,notes\n2024,gtb-2026.1,\n")
    submit(inputs, "WFP_2024.xlsx", valid_sheets("WFP"))
    run(inputs)
    with pytest.raises(GtbError) as refused:
        api.report(2024, db, out, final=True)
    assert "the 2024 report cannot be final: the workbooks of 2024 are calculated with 2 factor sets, " in str(
        refused.value
    )
    assert "gtb-2025.1 (1 workbook), gtb-2026.1 (1 workbook)" in str(refused.value)
    capsys.readouterr()
    assert main(["status", "--year", "2024", "--db", str(db)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "the workbooks of 2024 are calculated with 2 factor sets, gtb-2025.1 (1 workbook)" in said, said
    assert "the report and export are drafts until then" in said
    assert main(["status", "--year", "2024", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mixed_factor_sets"] == [
        {"factor_set": "gtb-2025.1", "submissions": 1},
        {"factor_set": "gtb-2026.1", "submissions": 1},
    ]
    assert main(["report", "--year", "2024", "--db", str(db), "--outputs", str(out)]) == 0
    said = capsys.readouterr().out
    assert "note: the workbooks of 2024 are calculated with 2 factor sets" in said and "says DRAFT" in said
    folder = out / "report" / "2024"
    index = (folder / "index.md").read_text()
    assert "**DRAFT: the workbooks of 2024 are calculated with 2 factor sets, gtb-2025.1 (1 workbook)" in index
    assert "`gtb recalculate --year 2024 --factor-set SET --reason ...`" in index
    mark = "DRAFT, the workbooks of 2024 calculated with 2 factor sets (gtb-2025.1, gtb-2026.1). Source:"
    charts = [p.read_text(encoding="utf-8") for p in folder.glob("*.svg")]
    assert charts and all(mark in chart for chart in charts)
    package = api.export(2024, db, out, "csv")
    assert package.status["status"] == "draft"
    assert package.status["mixed_factor_sets"] == [
        {"factor_set": "gtb-2025.1", "submissions": 1},
        {"factor_set": "gtb-2026.1", "submissions": 1},
    ]
    described = (package.folder / "datapackage.json").read_text()
    assert "the submissions of 2024 calculated with 2 factor sets (gtb-2025.1, gtb-2026.1)" in described

    api.recalculate(2024, "gtb-2026.1", "one set for the year", db=db)
    assert not api.report(2024, db, out).mixed_sets
    assert "factor sets" not in (folder / "index.md").read_text().split("## ")[0], "no draft paragraph"
    assert api.export(2024, db, out, "csv").status["mixed_factor_sets"] == []
    assert main(["status", "--year", "2024", "--db", str(db), "--json"]) == 0
    assert "mixed_factor_sets" not in json.loads(capsys.readouterr().out)


def test_work_set_aside_runs_once_in_its_thread_and_its_failure_is_raised_when_waited_for():
    import threading

    from pipeline.run import _Aside

    con = duckdb.connect()
    seen: list[tuple[int, str]] = []

    def work(cursor):
        seen.append((cursor.execute("SELECT 42").fetchone()[0], threading.current_thread().name))

    started = _Aside(work, con)
    started.start()
    started.start()
    started.wait()
    started.wait(quiet=True)
    assert seen == [(42, "gtb-aside")]

    never_started = _Aside(work, con)
    never_started.wait()  # done here and then, in this thread
    never_started.start()  # and never again
    never_started.wait()
    assert seen[1:] == [(42, threading.current_thread().name)]

    def broken(cursor):
        raise RuntimeError("the views could not be made")

    failing = _Aside(broken, con)
    failing.start()
    with pytest.raises(RuntimeError, match="could not be made"):
        failing.wait()
    failing.wait(quiet=True)  # the way out only joins
    quiet = _Aside(broken, con)
    quiet.start()
    quiet.wait(quiet=True)

    # the way out of a run that failed before the work started: done all the same, nothing raised
    unstarted = _Aside(work, con)
    unstarted.wait(quiet=True)
    assert seen[2:] == [(42, threading.current_thread().name)]
    _Aside(broken, con).wait(quiet=True)

    # a thread that cannot start is not kept: the work is done when waited for
    real_start = threading.Thread.start

    def cannot_start(self):
        raise RuntimeError("can't start new thread")

    refused = _Aside(work, con)
    threading.Thread.start = cannot_start
    try:
        with pytest.raises(RuntimeError, match="start new thread"):
            refused.start()
    finally:
        threading.Thread.start = real_start
    refused.wait(quiet=True)
    assert seen[3:] == [(42, threading.current_thread().name)]
    con.close()


def test_a_spreadsheet_in_another_format_or_oddly_named_is_read_and_other_files_are_named(inputs):
    """A focal point sends an .xlsm, an .xls or a CSV, or a name with a space after the extension:
    each is read (a macro-free .xlsm is the workbook it is; the others are said to be what they
    are), never skipped so that the entity counts as missing without a word. Other files are
    named as not read; what programs leave beside files is not even named."""
    submit(inputs, "UNEP_2024.xlsm", valid_sheets("UNEP"))
    submit(inputs, "2024/UNDP_2024 .xlsx ", valid_sheets("UNDP"))
    folder = inputs / "submissions"
    (folder / "WFP_2024.csv").write_text("Field,Value\nentity_code,WFP\n", encoding="utf-8")
    (folder / "UNICEF_2024.XLS").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (folder / "covering note.pdf").write_bytes(b"%PDF-1.4")
    for junk in (".DS_Store", "Thumbs.db", "~$UNEP_2024.xlsx", "._UNEP_2024.xlsx", ".~lock.UNEP_2024.xlsm#"):
        (folder / junk).write_bytes(b"\x00\x05\x16\x07")
    result = run(inputs)
    assert sorted(result.loaded) == ["UNDP_2024 .xlsx ", "UNEP_2024.xlsm"]
    assert sorted(r[0] for r in result.rejected) == ["UNICEF_2024.XLS", "WFP_2024.csv"]
    assert result.not_read == ["submissions/covering note.pdf"]
    codes = query(
        inputs,
        "SELECT DISTINCT file_name, code FROM findings JOIN submissions USING (submission_id) "
        "WHERE severity = 'error' ORDER BY 1",
    )
    assert codes == [("UNICEF_2024.XLS", "unreadable-file"), ("WFP_2024.csv", "unreadable-file")]
    from pipeline.run import summary_lines

    lines = [line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb")]
    assert "  not read (not a spreadsheet): submissions/covering note.pdf" in lines


# ------------------------------------------------------------------------------ history files, as a run leaves them
def _summary(result, inputs: Path) -> str:
    from pipeline.run import summary_lines

    return "\n".join(line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb"))


def _history_issues(inputs: Path, stem: str) -> str:
    return (inputs.parent / "out" / "validation" / f"history_{stem}" / "issues.csv").read_text(encoding="utf-8")


def test_two_history_files_swapping_entity_years_load_in_one_run(inputs):
    """CBD 2010 moves from a.csv to b.csv and CBD 2011 the other way: each was checked against the
    other's old rows, and both were rejected on every run. The clash check is against what the run
    leaves."""
    a, b = inputs / "history" / "a.csv", inputs / "history" / "b.csv"
    a.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nUNEP,2010,1000,1,1,1,1,,\n")
    b.write_text(HISTORY_HEAD + "CBD,2011,110,1,1,1,1,,\nUNEP,2011,1000,1,1,1,1,,\n")
    run(inputs)
    a.write_text(HISTORY_HEAD + "CBD,2011,110,1,1,1,1,,\nUNEP,2010,1000,1,1,1,1,,\n")
    b.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nUNEP,2011,1000,1,1,1,1,,\n")
    result = run(inputs)
    assert not result.had_errors and result.history_rows == 4
    assert query(inputs, "SELECT entity_code, year, source_file, source_line FROM history_totals ORDER BY 1, 2") == [
        ("CBD", 2010, "b.csv", 2),
        ("CBD", 2011, "a.csv", 2),
        ("UNEP", 2010, "a.csv", 3),
        ("UNEP", 2011, "b.csv", 3),
    ]
    assert result.history_moved == [("a.csv", "b.csv", 1), ("b.csv", "a.csv", 1)] and not result.history_removed
    assert not run(inputs).had_errors


def test_a_swap_with_a_rejected_file_is_checked_against_the_rows_it_keeps(inputs):
    """A file rejected keeps its old rows, so the file taking one of them is in error, with its
    line and the other file named."""
    a, b = inputs / "history" / "a.csv", inputs / "history" / "b.csv"
    a.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\n")
    b.write_text(HISTORY_HEAD + "CBD,2011,110,1,1,1,1,,\n")
    run(inputs)
    a.write_text(HISTORY_HEAD + "CBD,2011,110,1,1,1,1,,\nUNEP,2010,lots,1,1,1,1,,\n")
    b.write_text(HISTORY_HEAD + "UNEP,2011,1000,1,1,1,1,,\nCBD,2010,110,1,1,1,1,,\n")
    result = run(inputs)
    assert sorted(name for name, _, _ in result.history_rejected) == ["a.csv", "b.csv"]
    assert "b.csv,,,3,year,2010,duplicate-submission,error,CBD 2010 is already loaded from a.csv" in _history_issues(
        inputs, "b"
    )
    assert query(inputs, "SELECT entity_code, year, source_file FROM history_totals ORDER BY 2") == [
        ("CBD", 2010, "a.csv"),
        ("CBD", 2011, "b.csv"),
    ]


def test_rows_moved_into_a_new_history_file_that_sorts_first_load_in_one_run(inputs):
    """2010-2011 move from totals.csv into a new a_2010.csv, which sorts before it: totals.csv's
    rows were removed and a_2010.csv rejected, and the 2010 baseline was gone until the next run."""
    totals = inputs / "history" / "totals.csv"
    totals.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nCBD,2011,110,1,1,1,1,,\nCBD,2012,110,1,1,1,1,,\n")
    run(inputs)
    (inputs / "history" / "a_2010.csv").write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nCBD,2011,110,1,1,1,1,,\n")
    totals.write_text(HISTORY_HEAD + "CBD,2012,110,1,1,1,1,,\n")
    result = run(inputs)
    assert not result.had_errors
    assert query(inputs, "SELECT year, source_file FROM history_totals ORDER BY 1") == [
        (2010, "a_2010.csv"),
        (2011, "a_2010.csv"),
        (2012, "totals.csv"),
    ]
    assert result.history_moved == [("totals.csv", "a_2010.csv", 2)] and result.history_removed == []
    assert "totals.csv: 2 rows now loaded from a_2010.csv" in _summary(result, inputs)


def test_a_deleted_history_file_keeps_its_rows_and_every_run_names_it(inputs):
    totals = inputs / "history" / "totals.csv"
    totals.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nCBD,2012,110,1,1,1,1,,\n")
    run(inputs)
    totals.unlink()
    for _ in range(2):
        result = run(inputs)
        assert result.history_missing == [("totals.csv", 2, 2010, 2012)] and not result.had_errors
        assert "no longer in the history folder totals.csv: its 2 rows (2010-2012) stay loaded" in _summary(
            result, inputs
        )
    assert query(inputs, "SELECT count(*) FROM history_totals WHERE source_file = 'totals.csv'") == [(2,)]


def test_a_renamed_history_file_is_the_same_rows_under_a_new_name(inputs):
    """Renamed, a history file was rejected on every run as clashing with the file that was gone,
    naming one clash of all without its line. Its rows now move to the new name."""
    totals = inputs / "history" / "totals.csv"
    totals.write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nCBD,2012,110,1,1,1,1,,\n")
    run(inputs)
    totals.rename(inputs / "history" / "published.csv")
    result = run(inputs)
    assert not result.had_errors and result.history_moved == [("totals.csv", "published.csv", 2)]
    assert not result.history_missing
    assert query(inputs, "SELECT DISTINCT source_file FROM history_totals") == [("published.csv",)]
    assert not run(inputs).history_missing


def test_every_clash_between_history_files_is_listed_with_its_line(inputs, monkeypatch):
    from pipeline.intake import history
    from pipeline.warehouse import load

    monkeypatch.setattr(load, "LISTED", 2)
    years = "".join(f"CBD,{y},110,1,1,1,1,,\n" for y in (2010, 2011, 2012))
    (inputs / "history" / "a.csv").write_text(HISTORY_HEAD + years)
    run(inputs)
    (inputs / "history" / "b.csv").write_text(HISTORY_HEAD + "UNEP,2010,1000,1,1,1,1,,\n" + years)
    result = run(inputs)
    assert [name for name, _, _ in result.history_rejected] == ["b.csv"]
    issues = _history_issues(inputs, "b")
    assert "b.csv,,,3,year,2010,duplicate-submission,error,CBD 2010 is already loaded from a.csv" in issues
    assert "b.csv,,,4,year,2011,duplicate-submission" in issues and "2012" not in issues
    assert "1 more lines have the same problem as the 2 listed" in issues
    assert history.LISTED == 1000


def test_two_new_history_files_claiming_one_entity_year_are_both_in_error(inputs):
    (inputs / "history" / "a.csv").write_text(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\n")
    (inputs / "history" / "b.csv").write_text(HISTORY_HEAD + "UNEP,2011,1000,1,1,1,1,,\nCBD,2010,110,1,1,1,1,,\n")
    result = run(inputs)
    assert sorted(name for name, _, _ in result.history_rejected) == ["a.csv", "b.csv"]
    assert 'a.csv,,,2,year,2010,duplicate-submission,error,"CBD 2010 is also in b.csv, line 3;' in _history_issues(
        inputs, "a"
    )
    assert 'b.csv,,,3,year,2010,duplicate-submission,error,"CBD 2010 is also in a.csv, line 2;' in _history_issues(
        inputs, "b"
    )
    assert query(inputs, "SELECT count(*) FROM history_totals") == [(0,)]


def _checked(tmp_path: Path, data: bytes, name: str = "totals.csv"):
    from pipeline.intake.history import check_history_file

    path = tmp_path / name
    path.write_bytes(data)
    return check_history_file(path)


def test_a_history_file_excel_saved_with_semicolons_and_decimal_commas_is_read(tmp_path):
    """French or Spanish Excel's "CSV UTF-8": byte-order mark, ';', decimal commas, CRLF. Every
    column was reported missing, without a word of what the header held."""
    head = HISTORY_HEAD.strip().replace(",", ";")
    text = f"\ufeff{head}\r\nCBD;2010;110;119,7;1.964,8;74,8;2370;45;\r\n"
    hf = _checked(tmp_path, text.encode("utf-8"))
    assert hf.is_valid, hf.findings
    assert hf.frame is not None
    assert hf.frame[["facilities_tco2e", "air_travel_tco2e", "waste_tonnes"]].values.tolist() == [[119.7, 1964.8, 45]]
    point = _checked(tmp_path, f"{head}\nCBD;2010;110;1.5;1;1;1;;\n".encode())
    assert [(f.row, f.column, f.value) for f in point.findings] == [(2, "facilities_tco2e", "1.5")]
    assert "decimal comma" in point.findings[0].message


def test_a_history_file_with_empty_columns_after_the_last_is_read(tmp_path):
    hf = _checked(tmp_path, (HISTORY_HEAD.strip() + ",,\nCBD,2010,110,1,1,1,1,1,1,,\n").encode())
    assert hf.is_valid and hf.frame is not None and len(hf.frame) == 1


def test_a_history_header_that_is_not_the_contracts_is_shown_as_found(tmp_path):
    tabs = _checked(tmp_path, HISTORY_HEAD.replace(",", "\t").encode())
    assert tabs.findings[0].code == "missing-column"
    assert "found 'entity_code\\tyear" in tabs.findings[0].message and "separated by '\\t'" in tabs.findings[0].message
    other = _checked(tmp_path, b"entity,year\nCBD,2010\n")
    assert "found 'entity,year'; missing: entity_code, personnel" in other.findings[0].message


def test_a_history_file_in_another_encoding_names_the_line_and_byte(tmp_path):
    cp1252 = _checked(
        tmp_path, (HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\nCBD,2011,110,1,1,1,1,,caf\u00e9\n").encode("cp1252")
    )
    assert [(f.row, f.value, f.code) for f in cp1252.findings] == [(3, "\\xe9", "unreadable-file")]
    assert "CSV UTF-8 (comma delimited)" in cp1252.findings[0].message
    utf16 = _checked(tmp_path, ("\ufeff" + HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\r\n").encode("utf-16-le"))
    assert utf16.is_valid and utf16.frame is not None and len(utf16.frame) == 1
    no_bom = _checked(tmp_path, (HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\n").encode("utf-16-le"))
    assert "UTF-16" in no_bom.findings[0].message


def test_history_lines_are_the_files_own(inputs):
    """A quoted value over lines 2-4 put the bad value of line 6 on line 4; a form feed inside
    line 2 made two records of it, loaded. The stored source_line is the line too."""
    bad = inputs / "history" / "bad.csv"
    bad.write_text(HISTORY_HEAD + 'CBD,2010,110,1,1,1,1,1,"\n\n"\nUNEP,2010,1000,1,1,1,1,1,1\nCBD,2011,x,1,1,1,1,1,1\n')
    (inputs / "history" / "ff.csv").write_text(HISTORY_HEAD + "WFP,2010,110,1,1,1,1,1,1\fUNDP,2011,1000,5,5,5,5,5,5\n")
    (inputs / "history" / "good.csv").write_text(
        HISTORY_HEAD + 'ILO,2010,110,1,1,1,1,1,"\n"\nILO,2011,110,1,1,1,1,1,1\r\nILO,2012,110,1,1,1,1,1,1\n'
    )
    result = run(inputs)
    assert sorted(name for name, _, _ in result.history_rejected) == ["bad.csv", "ff.csv"]
    assert "bad.csv,,,6,personnel,x,type-error" in _history_issues(inputs, "bad")
    assert 'ff.csv,,,2,,,type-error,error,"expected 9 values, found 17."' in _history_issues(inputs, "ff")
    assert query(inputs, "SELECT year, source_line FROM history_totals ORDER BY 1") == [(2010, 2), (2011, 4), (2012, 5)]


def test_a_line_break_inside_a_history_code_or_number_is_an_error(tmp_path):
    hf = _checked(tmp_path, (HISTORY_HEAD + '"CB\nD",2011,108,1,1,1,1,,\nCBD,2012,"1\n10",1,1,1,1,,\n').encode())
    assert [(f.row, f.column, f.code) for f in hf.findings] == [
        (2, "entity_code", "type-error"),
        (4, "personnel", "type-error"),
    ]
    assert "holds a line break" in hf.findings[0].message


def test_a_history_file_of_too_many_rows_is_refused_and_findings_are_capped(tmp_path, monkeypatch):
    """45 MB of bad rows took six minutes, 3 GB and 3.5 million findings."""
    from pipeline.intake import history

    monkeypatch.setattr(history, "MAX_ROWS", 5)
    monkeypatch.setattr(history, "LISTED", 2)
    many = _checked(tmp_path, (HISTORY_HEAD + "CBD,2010,110,1,x,3,4,5,6\n" * 6).encode())
    assert [(f.row, f.code) for f in many.findings] == [(7, "unreadable-file")]  # the sixth row
    assert "more than 5 rows" in many.findings[0].message
    bad = _checked(tmp_path, (HISTORY_HEAD + "".join(f"CBD,{2010 + i},110,1,x,3,4,5,6\n" for i in range(5))).encode())
    assert [(f.row, f.column) for f in bad.findings] == [
        (2, "air_travel_tco2e"),
        (3, "air_travel_tco2e"),
        (None, "air_travel_tco2e"),
    ]
    assert "3 more cells of the column air_travel_tco2e" in bad.findings[-1].message
    wide = _checked(tmp_path, (HISTORY_HEAD + "CBD,2010,1\n" * 4).encode())
    assert [f.row for f in wide.findings] == [2, 3, None] and "2 more lines" in wide.findings[-1].message


def test_history_numbers_with_an_exponent_get_their_own_hint(tmp_path):
    hf = _checked(tmp_path, (HISTORY_HEAD + "CBD,2010,1e3,1e400,1,1,1,,\n").encode())
    messages = {f.column: f.message for f in hf.findings}
    assert messages["personnel"].endswith("Write it in digits, without an exponent: 1000.")
    assert "far larger than any total" in messages["facilities_tco2e"]
    assert "without words or units" not in " ".join(messages.values())


def test_a_tiny_number_with_an_exponent_is_not_written_out_in_digits(tmp_path):
    """1e-200000000, twelve bytes in one cell, gave a 200-million-character message."""
    hf = _checked(tmp_path, (HISTORY_HEAD + "CBD,2010,1e-200000000,1,1,1,1,,\n").encode())
    [found] = [f for f in hf.findings if f.column == "personnel"]
    assert len(found.message) < 500, len(found.message)


def test_a_history_field_beyond_the_csv_limit_names_its_line(tmp_path):
    import csv

    limit = csv.field_size_limit(128 * 1024)  # as in a gtb process (frictionless, which tests use, lifts it)
    try:
        hf = _checked(
            tmp_path,
            (HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\n" + 'UNEP,2010,"' + "9" * 200_000 + '",1,1,1,,\n').encode(),
        )
    finally:
        csv.field_size_limit(limit)
    assert [(f.row, f.code) for f in hf.findings] == [(3, "unreadable-file")]


def test_history_rows_in_years_with_workbooks_load_with_a_warning(inputs):
    """A published total for a year collected by workbook loaded without a word, and took the
    year's scope split away; a row shadowed by a workbook was not said either."""
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    (inputs / "history" / "late.csv").write_text(HISTORY_HEAD + "CBD,2024,110,1,1,1,0,,\nUNEP,2024,999,1,1,1,0,,\n")
    result = run(inputs)
    assert not result.had_errors and result.history_rows == 2
    [(name, warnings, _, first)] = result.history_warned
    assert (name, warnings) == ("late.csv", 2) and first.startswith("line 2: 2024 is collected by workbook")
    issues = _history_issues(inputs, "late")
    assert "late.csv,,,2,year,2024,year-mismatch,warning," in issues
    assert (
        'late.csv,,,3,year,2024,duplicate-submission,warning,"UNEP 2024 has a loaded workbook (UNEP_2024.xlsx)'
        in issues
    )


def test_a_workbook_loading_into_a_year_with_history_rows_is_said(inputs):
    (inputs / "history" / "totals.csv").write_text(HISTORY_HEAD + "UNEP,2024,999,1,1,1,0,,\nCBD,2024,110,1,1,1,0,,\n")
    run(inputs)
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    result = run(inputs)
    text = _summary(result, inputs)
    assert "history row UNEP 2024 (totals.csv, line 2): UNEP_2024.xlsx takes precedence" in text
    assert "history row CBD 2024 (totals.csv, line 3): counted beside 2024's workbooks" in text
    assert "history row" not in _summary(run(inputs), inputs)


def test_history_file_names_recorded_alike_do_not_replace_each_others_rows(inputs):
    """'caf\\xe9.csv' (a byte that is not UTF-8) and a file named with that escape typed were both
    recorded as caf\\xe9.csv: each replaced the other's rows, every run said '2 rows loaded'."""
    import os

    folder = os.fsencode(inputs / "history")
    with open(folder + b"/caf\xe9.csv", "w") as fh:
        fh.write(HISTORY_HEAD + "CBD,2010,110,1,1,1,1,,\n")
    (inputs / "history" / "caf\\xe9.csv").write_text(HISTORY_HEAD + "UNEP,2010,1000,1,1,1,1,,\n")
    for _ in range(2):
        result = run(inputs)
        assert result.had_errors and result.history_rows in (0, 1)
        assert query(inputs, "SELECT source_file, entity_code FROM history_totals") == [("caf\\xe9.csv", "UNEP")]
    issues = _history_issues(inputs, "caf")
    assert "unreadable-file" in issues and "recorded as caf\\xe9.csv, the name of another file" in issues


def test_inputs_readme_names_where_the_history_header_is_and_the_demo_command():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "inputs" / "README.md").read_text(encoding="utf-8")
    assert "data-dictionary" not in readme and "docs/submission-workbook.md" in readme
    assert "`python -m demo.data inputs`" in readme and (root / "demo" / "data.py").exists()
    assert "$(BIN)/python -m demo.data inputs" in (root / "Makefile").read_text(encoding="utf-8")
    assert "Historical totals" in (root / "docs" / "submission-workbook.md").read_text(encoding="utf-8")


def _report_of(folder: Path) -> tuple[str, set[str]]:
    """(the file `submission.txt` names, the files issues.csv's rows name) of a report folder."""
    import csv

    named = (folder / "submission.txt").read_text(encoding="utf-8").splitlines()[1].removeprefix("file ")
    with (folder / "issues.csv").open(encoding="utf-8") as fh:
        return named, {row["file"] for row in csv.DictReader(fh)}


def test_a_report_folder_recorded_for_one_submission_is_never_another_files(inputs):
    """A resubmission of an entity-year (rejected or not), a file in another year's folder and a
    file whose Entity sheet names another entity all want the folder `UNEP_2024` of the loaded
    workbook: each gets its own, every `report_path` points at that file's report, and a rerun
    (the rejected files are read again) writes each report where it was recorded."""
    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    submit(inputs, "2024/UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -1))
    assert [name for name, _, _ in run(inputs).rejected] == ["UNEP_2024_v2.xlsx"]
    submit(inputs, "2024/UNEP_2024_v3.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -2))
    submit(inputs, "2023/UNEP_2024_sent.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", 7))
    submit(inputs, "2024/WFP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", 8))
    third = run(inputs)
    assert sorted(name for name, _, _ in third.rejected) == [
        "UNEP_2024_sent.xlsx",
        "UNEP_2024_v2.xlsx",
        "UNEP_2024_v3.xlsx",
        "WFP_2024.xlsx",
    ]
    sql = "SELECT file_name, status, report_path FROM submissions ORDER BY submission_id"
    recorded = query(inputs, sql)
    report_dir = inputs.parent / "out" / "validation"
    assert recorded[0] == ("UNEP_2024.xlsx", "loaded", str(report_dir / "UNEP_2024"))
    assert len({path for _, _, path in recorded}) == len(recorded) == 5
    rerun = run(inputs)
    assert query(inputs, sql) == recorded, "a rejection read again is not recorded again"
    assert {(name, folder) for name, _, folder in rerun.rejected} == {(n, p) for n, s, p in recorded if s != "loaded"}
    for name, _, path in recorded:
        folder = Path(path)
        assert folder.parent == report_dir
        assert _report_of(folder) == (name, set() if name == "UNEP_2024.xlsx" else {name})


def test_a_folder_the_database_records_for_another_file_is_not_taken(inputs):
    """A report folder recorded before folders named their file (no `submission.txt`) is known
    from the database: a resubmission does not overwrite it."""
    submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    folder = inputs.parent / "out" / "validation" / "UNEP_2024"
    (folder / "submission.txt").unlink(missing_ok=True)
    submit(inputs, "UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -1))
    [(name, _, other)] = run(inputs).rejected
    assert name == "UNEP_2024_v2.xlsx" and other != str(folder)
    assert (folder / "issues.csv").read_text(encoding="utf-8").count("\n") == 1  # the loaded file's: no finding
    assert _report_of(Path(other)) == ("UNEP_2024_v2.xlsx", {"UNEP_2024_v2.xlsx"})


def test_validate_writes_beside_a_recorded_report_not_over_it(inputs):
    """`gtb validate` of a resubmission into the folder `gtb run` writes to leaves the loaded
    file's report as it is; the file it belongs to is validated into it again."""
    first = submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    report_dir = inputs.parent / "out" / "validation"
    second = submit(inputs, "UNEP_2024_v2.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -1))
    api.validate([second], report_dir, jobs=1)
    assert (report_dir / "UNEP_2024" / "issues.csv").read_text(encoding="utf-8").count("\n") == 1  # the header
    [other] = [p for p in report_dir.iterdir() if p.name != "UNEP_2024"]
    assert other.name.startswith("UNEP_2024_") and "UNEP_2024_v2.xlsx" in (other / "issues.csv").read_text()
    api.validate([first], report_dir, jobs=1)
    assert sorted(p.name for p in report_dir.iterdir()) == sorted(["UNEP_2024", other.name])


def test_last_years_workbook_sent_unchanged_as_this_years_is_told(inputs):
    """Its bytes are on record, so it is not read again; the run names it, the submission it
    repeats and the year its folder and name say, instead of counting it unchanged without a
    word. A copy in its own year's folder is unchanged as before, and so is the file read where it is."""
    import shutil

    from pipeline.run import summary_lines

    last = submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    run(inputs)
    shutil.copy(last, inputs / "submissions" / "2024" / "UNEP_2024 copy.xlsx")
    (inputs / "submissions" / "2025").mkdir()
    shutil.copy(last, inputs / "submissions" / "2025" / "UNEP_2025_v2.xlsx")
    shutil.copy(last, inputs / "submissions" / "2025" / "final.xlsx")
    shutil.copy(last, inputs / "submissions" / "WFP_2024.xlsx")
    result = run(inputs)
    assert result.loaded == [] and len(result.unchanged) == 5 and not result.had_errors
    assert sorted(result.elsewhere) == [
        ("submissions/2025/UNEP_2025_v2.xlsx", "UNEP_2024.xlsx", "UNEP", 2024, "its folder and name say 2025"),
        ("submissions/2025/final.xlsx", "UNEP_2024.xlsx", "UNEP", 2024, "its folder says 2025"),
        ("submissions/WFP_2024.xlsx", "UNEP_2024.xlsx", "UNEP", 2024, "its name says WFP"),
    ]
    text = "\n".join(line.plain for line in summary_lines(result, inputs.parent / "out" / "gtb.duckdb"))
    assert (
        "submissions/2025/UNEP_2025_v2.xlsx: the same bytes as UNEP_2024.xlsx, recorded as UNEP 2024's, "
        "but its folder and name say 2025; not read again" in text
    )
    assert "UNEP_2024 copy.xlsx" not in text
    assert query(inputs, "SELECT summary LIKE '%UNEP_2025_v2.xlsx: the same bytes%' FROM runs WHERE run_id = 2") == [
        (True,)
    ]


def test_a_file_read_under_a_linked_submissions_folder_is_not_told_as_another_years_copy(tmp_path):
    """The load records a file's path resolved; the rerun's check of copies named for another year
    compared the path as reached through a linked submissions folder, so a workbook that loaded
    with only a file-name warning was told on every rerun as another year's bytes."""
    from pipeline import api

    share = tmp_path / "share"
    (share / "2024").mkdir(parents=True)
    inputs = tmp_path / "inputs"
    (inputs / "history").mkdir(parents=True)
    (inputs / "submissions").symlink_to(share, target_is_directory=True)
    write_workbook(share / "2024" / "UNEP_2023_final.xlsx", valid_sheets("UNEP", 2024))
    first = api.run(inputs, tmp_path / "out" / "gtb.duckdb", tmp_path / "out", jobs=1)
    assert first.loaded
    again = api.run(inputs, tmp_path / "out" / "gtb.duckdb", tmp_path / "out", jobs=1)
    assert again.elsewhere == []


def test_a_newer_file_rejected_beside_the_one_that_loads_in_the_same_run_stays_rejected(inputs):
    """v2 (valid) and v3 (saved later, with an error) in one run: v3 was marked replaced by v2, the
    run said 0 rejected and exit 0, and gtb status showed nothing: the focal point's latest file had
    failed and the older figures were loaded in silence. An older file rejected beside it is
    replaced, as one rejected in an earlier run is."""
    import os

    old = submit(inputs, "UNEP_2024_v1.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -1))
    good = submit(inputs, "UNEP_2024_v2.xlsx", valid_sheets("UNEP"))
    new = submit(inputs, "UNEP_2024_v3.xlsx", set_cell(valid_sheets("UNEP"), "Water", "D2", -2))
    for age, path in enumerate((new, good, old)):
        os.utime(path, (1_700_000_000 - 3600 * age, 1_700_000_000 - 3600 * age))
    result = run(inputs)
    assert result.loaded == ["UNEP_2024_v2.xlsx"] and result.replaced == ["UNEP_2024_v1.xlsx"]
    assert [r[0] for r in result.rejected] == ["UNEP_2024_v3.xlsx"] and result.had_errors
    assert query(inputs, "SELECT file_name, status, superseded_by IS NOT NULL FROM submissions ORDER BY 1") == [
        ("UNEP_2024_v1.xlsx", "rejected", True),
        ("UNEP_2024_v2.xlsx", "loaded", False),
        ("UNEP_2024_v3.xlsx", "rejected", False),
    ]
    from pipeline import api

    [unep] = [r for r in api.tracker(2024, inputs.parent / "out" / "gtb.duckdb").rows if r.entity == "UNEP"]
    assert unep.status == "loaded" and [f.file for f in unep.rejected_files] == ["UNEP_2024_v3.xlsx"]


def test_an_inputs_folder_with_its_own_reference_is_priced_by_its_pins_and_sets(inputs, tmp_path):
    """`--inputs DIR` reads `DIR/reference/` where it holds pins or sets (an analyst's own folder
    pinning 2025 to the older set, or carrying a set of its own); the repository's otherwise, and
    again once the run is over."""
    import shutil

    from pipeline.reference import factors

    repository = factors.PINS_PATH, factors.FACTORS_DIR
    submit(inputs, "UNEP_2025.xlsx", valid_sheets("UNEP", 2025))
    own = inputs / "reference"
    own.mkdir()
    (own / "factor_pins.csv").write_text("year,factor_set,notes\n2025,gtb-2025.1,kept on the older set\n", "utf-8")
    assert not run(inputs).had_errors
    sets = query(inputs, "SELECT DISTINCT factor_set FROM emissions")
    assert sets == [("gtb-2025.1",)]
    assert repository == (factors.PINS_PATH, factors.FACTORS_DIR)

    shutil.copytree(factors.FACTORS_DIR / "gtb-2026.1", own / "factors" / "own-2026.1")
    (own / "factor_pins.csv").write_text("year,factor_set,notes\n2025,own-2026.1,a set of its own\n", "utf-8")
    submit(inputs, "WFP_2025.xlsx", valid_sheets("WFP", 2025))
    assert not run(inputs).had_errors
    by_entity = "SELECT DISTINCT s.entity_code, e.factor_set FROM emissions e JOIN submissions s USING (submission_id)"
    assert sorted(query(inputs, by_entity)) == [("UNEP", "gtb-2025.1"), ("WFP", "own-2026.1")]
    assert repository == (factors.PINS_PATH, factors.FACTORS_DIR)


def test_a_year_is_recalculated_with_a_set_of_the_inputs_folder_as_a_run_reads_it(inputs, capsys):
    """A run priced 2025 with a set of the inputs folder's own (`inputs/reference/factors/`); its
    advice to restate the year with that set failed, "unknown factor set": `gtb recalculate` read
    the repository's sets only. It reads them as the run does (`--inputs`, default inputs/)."""
    import shutil

    from pipeline.reference import factors

    submit(inputs, "UNEP_2025.xlsx", valid_sheets("UNEP", 2025))
    assert not run(inputs).had_errors
    shutil.copytree(factors.FACTORS_DIR / "gtb-2025.1", inputs / "reference" / "factors" / "own-2025.1")
    db = inputs.parent / "out" / "gtb.duckdb"
    args = ["recalculate", "--year", "2025", "--factor-set", "own-2025.1", "--reason", "the office's own set"]
    assert main([*args, "--db", str(db)]) == 2  # inputs/ of the working folder holds no such set
    assert "unknown factor set" in capsys.readouterr().err
    assert main([*args, "--db", str(db), "--inputs", str(inputs)]) == 0, capsys.readouterr().err
    assert query(inputs, "SELECT DISTINCT factor_set FROM emissions") == [("own-2025.1",)]
    assert query(inputs, "SELECT new_factor_set FROM recalculations") == [("own-2025.1",)]


def test_an_entity_taken_out_of_the_list_is_expected_until_its_last_year_with_data(inputs, monkeypatch, capsys):
    """A code renamed or merged is taken out of entities.csv: the warehouse kept it expected in
    every year, so each later year counted it missing and its completeness fell (62 expected of
    60 listed). It is now expected until its last year with data, and said once; an entity
    without data is never expected."""
    from pipeline import codelists

    submit(inputs, "2024/UNEP_2024.xlsx", valid_sheets("UNEP"))
    submit(inputs, "2024/WFP_2024.xlsx", valid_sheets("WFP"))
    assert not run(inputs).had_errors
    listed = codelists.table("entities")
    kept = tuple(r for r in listed if r["code"] not in ("UNEP", "UNHCR"))
    real_table = codelists.table
    monkeypatch.setattr(codelists, "table", lambda name: kept if name == "entities" else real_table(name))
    out = inputs.parent / "out"
    args = ["run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out), "--jobs", "1"]
    assert main(args) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "no longer in schemas/codelists/entities.csv: UNEP (expected until 2024), " in said
    assert "UNHCR (never expected: no data)" in said
    ends = dict(
        query(inputs, "SELECT entity_code, expected_until FROM entities WHERE entity_code IN ('UNEP', 'UNHCR')")
    )
    assert ends == {"UNEP": 2024, "UNHCR": 0}
    by_year = {y: {r.entity: r.status for r in api.status(y, out / "gtb.duckdb")} for y in (2024, 2025)}
    assert by_year[2024]["UNEP"] == "loaded" and "UNHCR" not in by_year[2024]
    assert "UNEP" not in by_year[2025] and "WFP" in by_year[2025]
    assert main(args) == 0
    assert "no longer in" not in capsys.readouterr().out, "said once"


def test_a_report_folder_names_its_file_as_the_console_shows_it(inputs):
    """`submission.txt` wrote the file's name as it was: a name holding a line break and terminal
    escapes set the title and cleared the screen of whoever printed the file, and its line break
    wrote a line of its own that looked like another file's claim. Now the name is written with
    its control characters as escapes, on the one line after the owner's."""
    name = "UNEP_2024\nsha256 0000 \x1b]0;pwned\x07\x1b[2J\u202e.xlsx"
    submit(inputs, f"2024/{name}", valid_sheets("UNEP"))
    assert run(inputs).loaded == [name]
    [(path,)] = query(inputs, "SELECT report_path FROM submissions")
    text = (Path(path) / "submission.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("sha256 ") and "0000" not in lines[0], lines
    assert lines[1] == "file UNEP_2024\\x0asha256 0000 \\x1b]0;pwned\\x07\\x1b[2J\\u202e.xlsx", lines
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in text.replace("\n", ""))


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_command_leaves_nothing_in_the_temporary_folder(inputs, tmp_path, command):
    """Every `gtb run` and `gtb validate` left multiprocessing's folder of the fork server's socket
    (`pymp-*`) in the temporary folder: the command ends without the interpreter's teardown, which
    removes it. A server running a cycle a day gathered thousands."""
    path = submit(inputs, "UNEP_2024.xlsx", valid_sheets("UNEP"))
    temp = tmp_path / "temp"
    temp.mkdir()
    out = inputs.parent / "out"
    args = ["run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out)]
    if command == "validate":
        args = ["validate", str(path), "--report-dir", str(out / "checked")]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args, "--jobs", "2"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "TMPDIR": str(temp)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert list(temp.iterdir()) == []
