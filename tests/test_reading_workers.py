"""The readers' worker processes do without pandas: the rules they apply one value at a time
agree with the column-at-a-time rules of the validator, and they import neither pandas nor pandera.
A file read with the guard and calamine side by side gets the verdict of the careful read, a
workbook validated in two (its other sheets sent ahead of its largest) gets what it gets validated
whole, and a long column parsed or checked by its distinct values gets what it gets whole."""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cells import NUMBER_TYPES, is_number_text, without_format_characters
from pipeline.errors import UnreadableFile
from pipeline.intake import ahead, guard, read, reading, shifts, validate
from pipeline.intake.normalise import ParsedSheet
from pipeline.workers import run_isolated
from schemas import checks, contract, i18n
from tests import hostile, odd_files, processes
from tests.builders import valid_sheets, write_workbook

# Every character Python or Arrow calls white space, digits of other scripts, and what numbers are made of.
SPACES = "".join(chr(c) for c in range(0x3100) if chr(c).isspace())
ALPHABET = SPACES + "0123456789,.'+-eE_" + "٣۵१" + "\u200b\ufeffx"
numeric_texts = st.text(alphabet=ALPHABET, max_size=14) | st.from_regex(
    r"\s?[+-]?[0-9]{1,3}(,[0-9]{3}){0,3}(\.[0-9]{0,3})?\s?", fullmatch=True
)


@settings(max_examples=400, deadline=None)
@given(st.lists(numeric_texts, min_size=1, max_size=12))
def test_one_text_reads_as_a_number_exactly_when_its_column_does(texts):
    column = checks.parse_number(pd.Series(texts, dtype=object)).notna().tolist()
    assert [is_number_text(t) for t in texts] == column


def test_the_long_digits_and_unicode_digits_are_no_numbers():
    assert not is_number_text("9" * 400)  # beyond any float
    assert not is_number_text("٣")  # Arrow's regular expressions know ASCII digits only
    assert is_number_text("\u2003 1 200,5\u3000".replace(",5", ".5"))


def _numbers_fit_one_by_one(values: list[object]) -> list[bool]:
    """The rule as it reads, one value at a time: a finite stored number, or numeric text."""
    out = []
    for v in values:
        if type(v) in NUMBER_TYPES:
            try:
                out.append(math.isfinite(v))  # type: ignore[arg-type]
            except OverflowError:
                out.append(False)
        elif type(v) is str:
            parsed = checks.parse_number(pd.Series([v], dtype=object)).notna().iloc[0]
            out.append(bool(parsed) or shifts._typed_as_number(v))
        else:
            out.append(False)
    return out


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    numeric_texts,
    st.text(max_size=6),
    st.dates(),
    st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)),
    st.builds(np.float64, st.floats()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(cell_values, max_size=30))
def test_the_shift_finder_tells_numbers_as_the_rule_does(values):
    column = np.empty(len(values), dtype=object)
    column[:] = values
    assert shifts._numbers_fit(column).tolist() == _numbers_fit_one_by_one(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(cell_values | st.sampled_from(["usd", " USD", "Usd (x)", "1", "True"]), max_size=30))
def test_the_shift_finder_tells_texts_as_the_rule_does(values):
    column = np.empty(len(values), dtype=object)
    column[:] = values

    def rule(text: str) -> bool:
        return text.strip().lower() == "usd" or text.isdigit() or text == "True"

    one_by_one = [isinstance(v, str) and rule(v) for v in values]
    assert shifts._texts_fit(rule)(column).tolist() == one_by_one


@settings(max_examples=200, deadline=None)
@given(st.lists(cell_values, max_size=30))
def test_a_cell_is_present_unless_blank_or_not_a_number(values):
    column = np.empty(len(values), dtype=object)
    column[:] = values
    assert shifts._present(column).tolist() == [bool(pd.notna(v)) for v in values]


def test_the_reading_workers_start_without_pandas():
    """What the readers' fork server imports (`pipeline.intake.prepared`) leaves pandas and pandera out."""
    code = (
        "import sys, pipeline.intake.normalise, pipeline.intake.prepared, pipeline.intake.read; "
        "print(sorted(m for m in ('pandas', 'pandera', 'pyarrow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- reading ahead -----------------------------------------------------------------------------


def test_a_reading_started_ahead_is_taken_up_for_some_of_its_files(tmp_path):
    from pipeline.intake import ahead
    from tests.builders import valid_sheets, write_workbook

    files = [write_workbook(tmp_path / f"{code}_2024.xlsx", valid_sheets(code)) for code in ("UNEP", "WFP", "UNDP")]
    heard: list[Path] = []
    reading = ahead.start(files, jobs=1)
    assert ahead.take(files[:1], jobs=2) is None  # other jobs: not this reading
    taken = ahead.take(files[1:], jobs=1)
    assert taken is reading and ahead.take(files[1:], jobs=1) is None  # taken once
    taken.listen(heard.append)
    results = taken.results()
    assert sorted(results) == sorted(files[1:])  # the file left out is dropped, its result too
    assert sorted(heard) == sorted(files[1:])
    assert all(type(r).__name__ == "ParsedWorkbook" for r in results.values())


def test_the_workers_drop_tasks_no_longer_wanted_and_end_when_the_last_are_dropped():
    from pipeline.workers import run_isolated

    items = [(k, (k,)) for k in ("a", "b", "c", "d")]
    done = dict(run_isolated(items, str.upper, jobs=1, wanted=lambda key: key in ("a", "b")))
    assert done == {"a": "A", "b": "B"}
    assert dict(run_isolated(items, str.upper, jobs=2, wanted=lambda key: False)) == {}


@pytest.mark.skipif(not processes.AVAILABLE, reason="the processes are looked up in /proc")
def test_a_pool_still_running_in_another_thread_as_the_command_ends_is_stopped(tmp_path, monkeypatch):
    """A reading ahead runs its pool in a thread of its own: when the command ended before it (Ctrl-C,
    SIGTERM, its files dropped), that thread read on, and its workers and their log files outlived
    the process, which ends without its teardown. `stopping_pools` kills them and removes the files
    as the command ends, and the thread gets PoolStopped instead of a crash as the file's verdict."""
    from pipeline.workers import PoolStopped, stopping_pools

    assert dict(run_isolated([("x", ("x",))], str.upper)) == {"x": "X"}  # the fork server is up
    before = processes.descendants(os.getpid())  # the fork server, which stays
    temp = tmp_path / "temp"  # where the workers' log files go
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    items = [(name, (Path(name),)) for name in ("a.xlsx", "slow.xlsx")]  # slow: a minute in its worker
    first, outcome = threading.Event(), []

    def read() -> None:
        try:
            for item in run_isolated(items, hostile.sleep_on_slow_name, jobs=2):
                outcome.append(item)
                first.set()
        except BaseException as exc:
            outcome.append(exc)

    with stopping_pools():
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        assert first.wait(60)
        workers = processes.descendants(os.getpid()) - before
        assert len(workers) == 2 and len(list(temp.glob("gtb-reader-*.log"))) == 2
    assert list(temp.iterdir()) == []  # removed before the block ended
    thread.join(30)
    assert outcome[0] == ("a.xlsx", "a.xlsx") and isinstance(outcome[1], PoolStopped), outcome
    assert len(outcome) == 2 and not processes.left_after(workers, 30)
    assert list(temp.iterdir()) == []  # and the thread, ending, started no other worker


def test_gtb_run_reads_ahead_only_when_every_submission_looks_new(tmp_path):
    from pipeline import cli
    from pipeline.intake import ahead
    from tests.builders import valid_sheets, write_workbook

    inputs = tmp_path / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    workbook = write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    db = tmp_path / "gtb.duckdb"
    args = cli.build_parser().parse_args(["run", "--inputs", str(inputs), "--db", str(db), "--jobs", "1"])
    try:
        cli._read_ahead(args)  # no warehouse yet: everything is new
        assert ahead.take([workbook], jobs=1) is not None
        db.write_bytes(b"")  # a warehouse changed after the workbook: it may hold it already
        os.utime(workbook, (1_000_000_000, 1_000_000_000))
        cli._read_ahead(args)
        assert ahead.take([workbook], jobs=1) is None
    finally:
        ahead.discard()


# --- the guard and calamine side by side (one file, a core to spare) --------------------------


def _verdict(outcome: object) -> object:
    """What a reading says of a file: the workbook as read, or the refusal's message and details."""
    if isinstance(outcome, UnreadableFile):
        return (outcome.message_id, outcome.params)
    return outcome


def _hostile_and_odd_files(folder: Path) -> list[Path]:
    files = []
    for build in (*hostile.FAMILIES, hostile.zip_bomb, hostile.lying_zip_bomb):
        (folder / build.__name__).mkdir()
        files.append(build(folder / build.__name__))
    for mutation in odd_files.MUTATIONS:
        files.append(odd_files.mutated(folder, f"odd_{mutation}.xlsx", mutation))
    files.append(hostile.typical_workbook(folder / "typical.xlsx"))
    files.append(write_workbook(folder / "UNEP_2024.xlsx", valid_sheets("UNEP")))
    files.append(_far_cell_after_the_data(hostile.typical_workbook(folder / "typical_far.xlsx")))
    return files


def _far_cell_after_the_data(path: Path) -> Path:
    """A real workbook whose first table sheet ends with a cell at XFD1048576: calamine, given the
    sheet before the guard has scanned to its end, meets the far cell while the guard still scans."""
    sheet = odd_files.sheet_part(path.read_bytes(), "Facilities")
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    path.write_bytes(odd_files.edit(path.read_bytes(), sheet, lambda xml: xml.replace(b"</sheetData>", far)))
    return path


def test_a_file_read_with_the_guard_and_calamine_side_by_side_gets_the_verdict_of_the_careful_read(tmp_path):
    # bombs and absurd extents included, in bounded workers: calamine may exhaust one before the
    # guard refuses the file
    for path in _hostile_and_odd_files(tmp_path):
        side_by_side = ahead.Reading([path], jobs=1, overlap=True).results()[path]
        careful = ahead.Reading([path], jobs=1, overlap=False).results()[path]
        assert _verdict(side_by_side) == _verdict(careful), path.name


def test_files_calamine_reads_from_a_copy_or_refuses_get_one_verdict_either_way(tmp_path):
    """A workbook whose _rels/.rels names another folder (its far cell crashed a side-by-side
    reader before the guard refused it), one with an Excel 365 error (read from a copy), and
    one with a shared string that does not exist (named by the cell): side by side as careful."""
    source = write_workbook(tmp_path / "source.xlsx", valid_sheets("UNEP")).read_bytes()
    part = odd_files.sheet_part(source, "Facilities")
    no_string = odd_files.edit(source, part, lambda xml: xml.replace(b'<c r="D2" t="n">', b'<c r="D2" t="s">', 1))
    files = {
        "elsewhere.xlsx": odd_files.workbook_elsewhere(source),
        "spilled.xlsx": odd_files.spilled_error(source),
        "no_string.xlsx": no_string,
    }
    verdicts = {}
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        side_by_side = ahead.Reading([path], jobs=1, overlap=True).results()[path]
        careful = ahead.Reading([path], jobs=1, overlap=False).results()[path]
        assert _verdict(side_by_side) == _verdict(careful), name
        verdicts[name] = careful
    assert isinstance(verdicts["elsewhere.xlsx"], guard.Refused)
    assert verdicts["elsewhere.xlsx"].reason == "damaged-part"
    assert not isinstance(verdicts["spilled.xlsx"], UnreadableFile)
    assert isinstance(verdicts["no_string.xlsx"], guard.Refused) and "D2" in str(verdicts["no_string.xlsx"])


def test_the_overlapped_read_hands_calamine_the_parts_before_the_guard_scanned_them(tmp_path, monkeypatch):
    # in this process, on files calamine can read safely: the same workbook as the careful read,
    # and calamine really started while the guard had not yet scanned any worksheet
    scanned: list[str] = []
    at_start: list[list[str]] = []
    scan_sheet = guard._Package._scan_sheet
    start = read._Parsing.start

    def spy_scan(package, info, sheet):
        scanned.append(sheet)
        return scan_sheet(package, info, sheet)

    def spy_start(parsing):
        at_start.append(list(scanned))
        start(parsing)

    monkeypatch.setattr(guard._Package, "_scan_sheet", spy_scan)
    monkeypatch.setattr(read._Parsing, "start", spy_start)
    files = [hostile.typical_workbook(tmp_path / "typical.xlsx")]
    for mutation in ("nan-value", "odd-sheet-name", "missing-shared-strings", "garbage-date-cell"):
        files.append(odd_files.mutated(tmp_path, f"odd_{mutation}.xlsx", mutation))
    for path in files:
        scanned.clear()
        at_start.clear()
        assert read.read_workbook(path, overlap=True) == read.read_workbook(path), path.name
        assert at_start == [[]] and scanned, path.name


def test_a_worker_that_crashed_reading_side_by_side_reads_the_file_again_guard_first(tmp_path, monkeypatch):
    monkeypatch.setattr(ahead, "read_one", hostile.crash_when_overlapped)
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    reading = ahead.Reading([path], jobs=1, overlap=True)
    outcome = reading.results()[path]
    assert (tmp_path / "UNEP_2024.xlsx.overlapped").exists()  # the first read was side by side, and crashed
    assert reading.part(path) is None  # what it sent ahead before it crashed is dropped
    assert _verdict(outcome) == _verdict(ahead.Reading([path], jobs=1, overlap=False).results()[path])
    assert not isinstance(outcome, UnreadableFile)


def test_files_are_read_side_by_side_only_with_a_core_to_spare(tmp_path, monkeypatch):
    calls: list[bool] = []

    def spy(paths, jobs, *, work, **kwargs):
        calls.append(work.keywords["overlap"])
        return iter(())

    monkeypatch.setattr("pipeline.intake.read.read_many", spy)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    files = [write_workbook(tmp_path / f"{e}_2024.xlsx", valid_sheets(e)) for e in ("UNEP", "WFP")]
    monkeypatch.setattr(ahead, "SIDE_BY_SIDE_FROM_BYTES", min(f.stat().st_size for f in files))
    ahead.Reading(files[:1], jobs=1).results()  # one upload to the portal
    ahead.Reading(files[:1], jobs=2).results()  # gtb validate of one workbook
    ahead.Reading(files, jobs=2).results()  # both cores are busy already
    monkeypatch.setattr(ahead, "SIDE_BY_SIDE_FROM_BYTES", max(f.stat().st_size for f in files) + 1)
    ahead.Reading(files[:1], jobs=2).results()  # too small to gain
    assert calls == [True, True, False, False]


def test_a_retiring_worker_is_replaced_and_given_no_other_file(tmp_path):
    files = [tmp_path / name for name in ("a.xlsx", "retire.xlsx", "b.xlsx", "retire2.xlsx", "c.xlsx")]
    for f in files:
        f.write_bytes(b"")
    pids = dict(run_isolated(((f.name, (f,)) for f in files), hostile.pid_retiring_on_retire_name, jobs=1))
    assert all(isinstance(pid, int) for pid in pids.values()), pids  # no file paid for another's retiring
    assert pids["a.xlsx"] == pids["retire.xlsx"] != pids["b.xlsx"] == pids["retire2.xlsx"] != pids["c.xlsx"]


def test_a_worker_runs_its_task_without_the_collector_and_frees_its_cycles_after_it():
    results = [result for _, result in run_isolated([(i, (i,)) for i in range(4)], hostile.leaves_a_cycle, jobs=1)]
    assert results == [(False, True)] * 4


# --- parsing a long column by its distinct values ---------------------------------------------

PARSERS = (
    checks.is_blank,
    checks.parse_number,
    checks.parse_date,
    checks.parse_code,
    checks.parse_ref,
    checks.parse_text,
)
_texts = st.text(alphabet=ALPHABET + "abcXYZ-_ ()é", max_size=10) | st.sampled_from(
    ["economy", " Economy ", "ECONOMY", "Premium-Economy", "yes", "No", "2024-01-31", "2024-02-30", "1,200.5", "KEN"]
)
_pools = st.one_of(
    st.lists(_texts, min_size=1, max_size=12),
    st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=12),
    # mixed kinds (1, 1.0, True and '1' among them) are parsed as they are
    st.lists(st.sampled_from([1, 1.0, True, "1", 0, False, "x", dt.date(2024, 1, 2)]), min_size=1, max_size=8),
)


@settings(max_examples=120, deadline=None)
@given(pool=_pools, picks=st.lists(st.integers(0, 99), min_size=1, max_size=60), empty_every=st.integers(0, 7))
def test_a_long_column_parsed_by_its_distinct_values_is_parsed_as_a_whole(pool, picks, empty_every):
    rows = checks.DISTINCT_FROM_ROWS + len(picks)
    cells = [pool[picks[i % len(picks)] % len(pool)] for i in range(rows)]
    if empty_every:
        cells[::empty_every] = [None] * len(cells[::empty_every])
    column = pd.Series(cells, index=pd.RangeIndex(2, rows + 2, name="row"), dtype=object, name="cabin_class")
    for parser in PARSERS:
        whole = parser.__wrapped__(column)
        pd.testing.assert_series_equal(checks.by_distinct(parser.__wrapped__, column), whole, check_exact=True)
        pd.testing.assert_series_equal(parser(column), whole, check_exact=True)  # as the checks call them
    found = checks.distinct(column)
    if found is not None:  # the empty cells are those pointing at the last distinct value, None
        codes, values = found
        assert values.iloc[-1] is None and values.iloc[:-1].notna().all()
        assert ((codes == len(values) - 1) == column.isna().to_numpy()).all()
        assert all(v is None or v != v or values.iloc[c] == v for c, v in zip(codes, cells, strict=True))


def test_a_large_sheet_gets_the_same_findings_parsed_by_distinct_values_or_as_a_whole(tmp_path, monkeypatch):
    from pipeline.api import check_files

    sheets = valid_sheets("UNEP")
    good = sheets["AirTravel"][1]
    mistakes = [" Economy ", "ECONOMY", "first", "economy ", 7, None, "1 200", "2.5", "yes", "Business"]
    for i in range(3000):
        row = list(good)
        row[3] = mistakes[i % len(mistakes)] if i % 37 == 0 else good[3]
        row[4] = "forty" if i % 101 == 0 else good[4]
        row[5] = ["yes", "no", "Yes", " NO", "maybe"][i % 5]
        sheets["AirTravel"].append(row)
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)
    (distinct,) = check_files([path], jobs=1)
    monkeypatch.setattr(checks, "DISTINCT_FROM_ROWS", 10**9)
    (whole,) = check_files([path], jobs=1)
    assert distinct.errors > 0
    assert distinct.findings == whole.findings


# --- values read as typed: each distinct text read once ---------------------------------------


def _codes_cell_by_cell(col, values):
    """The reading of codes cell by cell: the reference, and the positions whose note in brackets
    is a finding (one no label of the code carries). A yes/no column reads a boolean cell (TRUE,
    FALSE) as yes or no; 1 and 0 stay as typed."""
    lookup = i18n.code_lookup(col.codelist)
    out, noted = [], []
    for position, typed in enumerate(values):
        if isinstance(typed, str):
            code = lookup.get(i18n.fold(typed))
            if code is None and (split := i18n.split_note(typed)):
                code = lookup.get(i18n.fold(split[0]))
                if code is not None and code != typed and not i18n.is_label_note(col.codelist, code, split[1]):
                    noted.append(position)
            if code is not None and code != typed:
                out.append((position, typed, code))
        elif col.dtype == "yesno" and type(typed) is bool:
            out.append((position, typed, "yes" if typed else "no"))
    return out, noted


def _references_cell_by_cell(col, values):
    """The reading of references cell by cell: the code (in brackets or alone) where it is a valid
    one once the format characters, which show nothing, are dropped; else the text without them,
    where it held any ('XYZ\u200b' is checked as 'XYZ'; a soft hyphen alone as empty)."""
    valid = reading.valid_references(col.dtype)
    out = []
    for p, typed in enumerate(values):
        if not isinstance(typed, str):
            continue
        shown = without_format_characters(typed)
        if (code := i18n.code_in_brackets(shown)) is not None and code in valid:
            out.append((p, typed, code))
        elif shown != typed:
            out.append((p, typed, shown))
    return out


def _where(column, at):
    return f"{column}{at}", at, column


_CODED = [("Facilities", "energy_type"), ("AirTravel", "cabin_class"), ("AirTravel", "round_trip"), ("Waste", "unit")]
_typed = (
    st.sampled_from(
        [
            "electricity",
            "Électricité",
            "Electricidad",
            " natural gas ",
            "Gaz naturel",
            "ECONOMY",
            "Économique",
            "yes",
            "Oui",
            "Sí",
            "no",
            "kg",
            "Tonne",
            "tonnes",
            "m³",
            "Kenya (KEN)",
            "Nairobi (NBO)",
            "(ZZZ)",
            "KEN",
            "nbo",
            "Genève (GVA) ",
            "Kenya (UGA)",
            "KEN\u200b",
            "\u00adNBO",
            "XYZ\u200b",
            "\u200b",
            "Yes (partially)",
            "Tonne (thousands)",
            "Kilogramme (kg)",
            "Economy (business)",
            "Electricity (purchased or generated)",
            "x",
            "",
        ]
    )
    | st.text(max_size=5)
    | st.none()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.dates()
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_typed, max_size=40), which=st.sampled_from(_CODED))
def test_codes_read_once_per_distinct_text_are_read_as_cell_by_cell(values, which):
    spec = contract.sheet(which[0])
    col = spec.column(which[1])
    out = reading.Read(columns={})
    expected, noted = _codes_cell_by_cell(col, values)
    assert reading._codes(out, spec, col, values, range(len(values)), _where) == expected
    assert sorted(f.row for f in out.findings) == noted  # one finding per value whose note is dropped
    assert reading._has_text(values) == any(isinstance(v, str) for v in values)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(_typed, max_size=40), which=st.sampled_from([("Facilities", "country"), ("AirTravel", "origin")])
)
def test_references_read_once_per_distinct_text_are_read_as_cell_by_cell(values, which):
    col = contract.sheet(which[0]).column(which[1])
    out = reading.Read(columns={})
    assert reading._references(out, col, values, range(len(values)), _where) == _references_cell_by_cell(col, values)
    contradicted = [p for p, v in enumerate(values) if isinstance(v, str) and v.strip() == "Kenya (UGA)"]
    assert sorted(f.row for f in out.findings) == (contradicted if col.dtype == "iso3" else [])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cell_values, max_size=6), min_size=1, max_size=12), st.booleans())
def test_the_shift_finder_lays_rows_into_its_grid_cell_for_cell(rows, same_length):
    if same_length:
        width = max(len(r) for r in rows)
        rows = [r + [None] * (width - len(r)) for r in rows]
    numbered = [(row + 2, values) for row, values in enumerate(rows)]
    grid = shifts.grid(numbered)
    assert grid.shape == (len(rows), max(len(r) for r in rows))
    for i, values in enumerate(rows):
        assert all(grid[i, j] is v for j, v in enumerate(values))  # the very objects, not copies
        assert all(c is None for c in grid[i, len(values) :])


@st.composite
def _sheets_of_workbooks(draw):
    """One contract sheet as several workbooks hold it: some columns missing, some sheets empty,
    any cell values (tuples too: a value is never unpacked)."""
    spec = draw(st.sampled_from(contract.sheets()))
    names = [c.name for c in spec.columns]
    present = []
    for file_no in sorted(draw(st.sets(st.integers(0, 8), max_size=5))):
        rows = sorted(draw(st.sets(st.integers(2, 10**6), max_size=6)))
        kept = draw(st.lists(st.sampled_from(names), unique=True))
        values = {
            name: draw(st.lists(cell_values | st.tuples(st.integers()), min_size=len(rows), max_size=len(rows)))
            for name in kept
        }
        present.append((file_no, ParsedSheet(spec.name, spec.is_table, {}, values=values, index=rows)))
    return spec, present


def _frame(sheet: ParsedSheet, names: list[str]) -> pd.DataFrame:
    """One workbook's sheet as a frame of the contract columns, built cell by cell."""
    grid = np.empty((len(sheet.index), len(names)), dtype=object)
    for row in range(len(sheet.index)):
        for position, name in enumerate(names):
            grid[row, position] = sheet.values[name][row] if name in sheet.values else None
    return pd.DataFrame(grid, index=pd.Index(sheet.index, name="row", dtype="int64"), columns=names, dtype=object)


@settings(max_examples=150, deadline=None)
@given(_sheets_of_workbooks())
def test_the_sheets_of_all_workbooks_are_combined_as_their_frames_concatenated(case):
    spec, present = case
    names = [c.name for c in spec.columns]
    frames = {i: _frame(s, names) for i, s in present if s.index}
    if not frames:
        assert not any(s.index for _, s in present)
        return
    expected = pd.concat(frames, names=[validate.FILE_LEVEL, validate.ROW_LEVEL])
    combined, keys = validate._combined(present, names)
    index = pd.MultiIndex.from_arrays([keys.files, keys.rows], names=[validate.FILE_LEVEL, validate.ROW_LEVEL])
    pd.testing.assert_index_equal(index, expected.index, exact=True)
    assert [keys[i] for i in range(len(combined))] == list(expected.index)
    pd.testing.assert_frame_equal(combined, expected.reset_index(drop=True))
    cells = zip(combined.to_numpy().ravel(), expected.to_numpy().ravel(), strict=True)
    assert all(a is b for a, b in cells)  # the very values, not copies or conversions


@st.composite
def _tables_of_submissions(draw):
    """Typed tables as submissions hold them: runs of rows cut from tables shared by a batch (some
    asked for already), tables of their own, empty ones, and none."""
    shared = [
        pd.DataFrame(
            {
                "batch": pd.array([f"batch {k}"] * n, "string[pyarrow]"),  # rows of two tables never look alike
                "quantity": pd.array(draw(st.lists(st.floats() | st.none(), min_size=n, max_size=n)), "Float64"),
                "source_row": np.arange(2, n + 2, dtype="int64"),
            }
        )
        for k, n in enumerate(draw(st.lists(st.integers(1, 12), min_size=2, max_size=3)))
    ]
    out = []
    kinds = ["cut", "cut", "cut", "no rows cut", "asked", "own", "empty", "none", "plain"]
    for kind in draw(st.lists(st.sampled_from(kinds), max_size=8)):
        tables = validate.TypedTables()
        if kind in ("cut", "no rows cut", "asked"):
            table = draw(st.sampled_from(shared))
            start = draw(st.integers(0, len(table) - 1))
            end = start if kind == "no rows cut" else draw(st.integers(start + 1, len(table)))
            tables.cut("Facilities", table, start, end)
            if kind == "asked":
                tables["Facilities"]  # noqa: B018  # cut now
        elif kind == "own":
            tables["Facilities"] = shared[0].iloc[::-1].reset_index(drop=True)
        elif kind == "empty":
            tables["Facilities"] = shared[0].iloc[:0]
        out.append({"Facilities": shared[-1]} if kind == "plain" else tables)
    return out


@settings(max_examples=200, deadline=None)
@given(_tables_of_submissions())
def test_the_rows_of_many_submissions_are_their_tables_concatenated(tables):
    frame, counts = validate.concat_tables(tables, "Facilities")
    expected = [t["Facilities"] for t in tables if "Facilities" in t]
    assert counts == [len(t["Facilities"]) if "Facilities" in t else 0 for t in tables]
    if not any(len(t) for t in expected):
        assert frame.empty
        return
    pd.testing.assert_frame_equal(frame, pd.concat([t for t in expected if len(t)], ignore_index=True))


def test_typed_tables_are_a_mapping_of_tables_cut_when_asked_for():
    shared = pd.DataFrame({"quantity": pd.array([1.0, 2.0, 3.0], "Float64")}, index=[7, 8, 9])
    tables = validate.TypedTables()
    assert tables == {} and not tables
    tables.cut("Water", shared, 1, 3)
    assert list(tables) == ["Water"] and len(tables) == 1
    water = tables["Water"]
    pd.testing.assert_frame_equal(water, shared.iloc[1:3].reset_index(drop=True))
    assert tables["Water"] is water  # cut once
    water.loc[0, "quantity"] = 99.0
    assert shared["quantity"].tolist() == [1.0, 2.0, 3.0]  # a copy: the shared table is untouched
    again = pickle.loads(pickle.dumps(tables))
    assert list(again) == ["Water"] and again["Water"]["quantity"].tolist() == [99.0, 3.0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["diesel", "petrol", "electricity", None]), st.sampled_from(["l", "kwh", "kg", None]))
    )
)
def test_pairs_are_looked_up_as_one_row_at_a_time(rows):
    pairs = frozenset({("diesel", "l"), ("petrol", "l"), ("electricity", "kwh")})
    first = pd.Series([a for a, _ in rows], dtype="string[pyarrow]")
    second = pd.Series([b for _, b in rows], dtype="string[pyarrow]")
    one_by_one = [(a, b) in pairs for a, b in zip(first, second, strict=True)]
    assert checks.pairs_allowed(first, second, pairs).tolist() == one_by_one


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.none()
        | st.sampled_from(["natural_gas", "diesel", "Diesel", "diesel ", "", "nbo", "NBO", "é"])
        | st.text(max_size=4)
    ),
    st.sampled_from(["energy_type", "airports", "unit"]),
)
def test_codes_in_arrow_text_are_found_as_in_python_text(values, codelist):
    as_objects = pd.Series(values, dtype=object)
    expected = checks.in_codelist(as_objects, codelist).tolist()
    for dtype in ("string[pyarrow]", "str", "string[python]"):
        assert checks.in_codelist(pd.Series(values, dtype=dtype), codelist).tolist() == expected, dtype


def test_parts_sent_ahead_reach_the_caller_in_order_before_the_result():
    heard: list[object] = []
    files = [Path("a.xlsx"), Path("b.xlsx")]
    for key, result in run_isolated(
        ((f, (f,)) for f in files), hostile.parts_then_result, jobs=1, on_part=lambda k, p: heard.append((k, p))
    ):
        heard.append((key, result))
    assert heard == [(f, f"{f.name}: {what}") for f in files for what in ("first part", "second part", "result")]
    # without a listener the parts are dropped; outside a worker nothing is sent
    assert dict(run_isolated(((f, (f,)) for f in files), hostile.parts_then_result, jobs=1)) == {
        f: f"{f.name}: result" for f in files
    }
    from pipeline.workers import send_part

    assert send_part("nowhere") is False


def _same_submission(a: validate.Submission, b: validate.Submission) -> None:
    assert a.findings == b.findings
    assert (a.entity, a.ems, a.entity_code, a.reporting_year) == (b.entity, b.ems, b.entity_code, b.reporting_year)
    assert (a.letters, a.cells, a.tabs, a.lang, a.readable) == (b.letters, b.cells, b.tabs, b.lang, b.readable)
    assert list(a.tables) == list(b.tables)
    for sheet in a.tables:
        pd.testing.assert_frame_equal(a.tables[sheet], b.tables[sheet])


def test_a_workbook_validated_from_its_part_sent_ahead_gets_what_it_gets_validated_whole(tmp_path):
    # every workbook of the findings corpus that can be read: normalised with its largest sheet
    # held back and sent on later, its other sheets checked first, as `gtb validate` of one
    # large workbook does; the typical small workbook's largest sheet is its Entity sheet, so
    # the sheets whose rules need its reporting year wait for it
    from pipeline.intake import normalise
    from tests import findings_corpus

    split = entity_last = 0
    for path in findings_corpus.build(tmp_path / "corpus"):
        try:
            raw = read.read_workbook(path)
        except UnreadableFile:
            continue
        whole = normalise.normalise(raw)
        parts: list[normalise.ParsedWorkbook] = []
        full = normalise.normalise(raw, None, parts.append)
        assert full == whole, path.name
        if not whole.sheets:
            assert parts == [], path.name  # no contract sheet: nothing to send ahead
            continue
        [part] = parts
        rows = {name: len(raw.sheets[sheet.tab].rows) for name, sheet in whole.sheets.items()}
        largest = max(rows, key=rows.__getitem__)  # the first of the largest
        assert set(part.sheets) == set(whole.sheets) - {largest}, path.name
        assert all(part.sheets[name] == whole.sheets[name] for name in part.sheets)
        checked = validate.check_part(pickle.loads(pickle.dumps(part)))  # as it comes from the worker
        entity_last += largest == "Entity"
        if largest == "Entity":
            assert not checked.sheets & set(validate.NEEDS_REPORTING_YEAR), path.name
        [as_whole] = validate.validate_parsed([whole])
        [in_two] = validate.validate_parsed([full], checked)
        _same_submission(as_whole, in_two)
        split += 1
    assert split > 100 and entity_last > 50


def test_one_large_workbook_is_validated_in_two_as_it_is_whole(tmp_path, monkeypatch):
    # through the workers, as `gtb validate` reads one workbook with a core to spare: the part
    # is sent, checked while the largest sheet is normalised, and the findings are the same
    from tests import findings_corpus

    path = max((p for p in findings_corpus.build(tmp_path / "corpus") if p.exists()), key=lambda p: p.stat().st_size)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(ahead, "SIDE_BY_SIDE_FROM_BYTES", path.stat().st_size + 1)
    [whole] = validate.validate_files([path], jobs=2)
    parts: list[object] = []
    check_part = validate.check_part
    monkeypatch.setattr(validate, "check_part", lambda part: (parts.append(part), check_part(part))[1])
    monkeypatch.setattr(ahead, "SIDE_BY_SIDE_FROM_BYTES", path.stat().st_size)
    [in_two] = validate.validate_files([path], jobs=2)
    assert len(parts) == 1 and whole.findings
    _same_submission(whole, in_two)


def _records_row_by_row(raw, present, positions):
    """`normalise._records` as it was written before: one row at a time."""
    rows, records = [], []
    for excel_row, values in raw.rows:
        record = [values[positions[c]] if positions[c] < len(values) else None for c in present]
        if all(v is None or (type(v) is str and not v.strip()) for v in record):
            continue
        rows.append((excel_row, values))
        records.append(record)
    columns = {c: [r[i] for r in records] for i, c in enumerate(present)} if records else {}
    return rows, [excel_row for excel_row, _ in rows], columns


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(cell_values | st.sampled_from(["", " ", "\u00a0\t"]), max_size=7), max_size=15),
    st.lists(st.integers(0, 8), min_size=1, max_size=5, unique=True),
)
def test_the_rows_of_a_sheet_are_picked_as_one_row_at_a_time(lines, picks):
    # rows as the reader gives them (blank text already None), columns beyond some rows' ends
    from pipeline.intake import normalise
    from pipeline.intake.workbook import RawSheet

    rows = [(n + 2, read._clean(values)) for n, values in enumerate(lines)]
    raw = RawSheet("AirTravel", [], [(n, v) for n, v in rows if v.count(None) != len(v)])
    present = [f"c{p}" for p in picks]
    positions = {f"c{p}": p for p in picks}
    kept, index, columns, grid = normalise._records(raw, present, positions)
    expected = _records_row_by_row(raw, present, positions)
    assert (kept, index) == expected[:2]
    assert columns.keys() == expected[2].keys()
    for c in columns:  # the very objects
        assert all(a is b for a, b in zip(columns[c], expected[2][c], strict=True))
    if kept:
        assert grid is not None and grid.shape[0] == len(kept)
        assert all(grid[i, j] is v for i, (_, values) in enumerate(kept) for j, v in enumerate(values))


@st.composite
def _frames(draw):
    """A frame as validation checks it: object columns of any cell values, a nullable number
    column, and sometimes the file number beside every row."""
    n = draw(st.integers(0, 8))
    columns: dict[str, object] = {}
    for i in range(draw(st.integers(1, 4))):
        cells = draw(st.lists(st.none() | st.just(float("nan")) | cell_values, min_size=n, max_size=n))
        columns[f"o{i}"] = pd.Series(cells, dtype=object)
    if draw(st.booleans()):
        columns["year"] = pd.array(draw(st.lists(st.none() | st.floats(0, 3000), min_size=n, max_size=n)), "Float64")
    if draw(st.booleans()):
        columns[checks.FILE_NO] = np.zeros(n, dtype="int64")
    order = draw(st.permutations(list(columns)))
    return pd.DataFrame({name: columns[name] for name in order})


@settings(max_examples=300, deadline=None)
@given(_frames())
def test_rows_all_empty_are_found_as_pandas_finds_them(frame):
    assert checks._all_empty(frame).tolist() == frame.isna().all(axis="columns").tolist()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.none() | st.just(float("nan")) | st.just(pd.NA) | cell_values | st.datetimes(), max_size=12))
def test_blank_cells_are_found_as_when_every_value_is_made_text(cells):
    # a column without text is not turned into text: its blank cells are its empty ones
    column = pd.Series(cells, dtype=object)
    as_text = (column.isna() | checks._text(column).eq("").fillna(False)).astype(bool)
    pd.testing.assert_series_equal(checks.is_blank.__wrapped__(column), as_text)
    numbers = pd.Series([c for c in cells if isinstance(c, float)], dtype="float64")
    as_text = (numbers.isna() | checks._text(numbers).eq("").fillna(False)).astype(bool)
    pd.testing.assert_series_equal(checks.is_blank.__wrapped__(numbers), as_text)


# --- receiving a result ------------------------------------------------------------------------

_PICKLABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary() | st.dates(),
    lambda inner: st.lists(inner) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(value=_PICKLABLE, protocol=st.integers(min_value=0, max_value=pickle.HIGHEST_PROTOCOL))
def test_a_result_unpickled_a_frame_at_a_time_is_the_result(value, protocol):
    from pipeline import workers

    data = pickle.dumps(value, protocol=protocol)
    for every in (1, 7, workers.YIELD_EVERY_BYTES):
        workers.YIELD_EVERY_BYTES, saved = every, workers.YIELD_EVERY_BYTES
        try:
            assert pickle.Unpickler(workers._Yielding(memoryview(data))).load() == value
        finally:
            workers.YIELD_EVERY_BYTES = saved


def test_a_large_result_lets_the_other_threads_run_while_it_is_unpickled(monkeypatch):
    """`pickle.loads` holds the interpreter until it ends (0.8 s for a 500,000-row workbook, the
    portal's pages waiting meanwhile); `receive` gives it up every YIELD_EVERY_BYTES."""
    import multiprocessing

    from pipeline import workers

    rows = [(row, ["site", float(row), "kWh", None]) for row in range(200_000)]
    yields = []
    real_sleep = workers.time.sleep
    monkeypatch.setattr(workers.time, "sleep", lambda s: (yields.append(s), real_sleep(s)))
    sending, receiving = multiprocessing.Pipe()
    sender = threading.Thread(target=sending.send, args=(rows,))
    sender.start()
    assert workers.receive(receiving) == rows
    sender.join()
    size = len(pickle.dumps(rows))
    assert yields.count(0) >= size // workers.YIELD_EVERY_BYTES - 1 > 10
    sending.send("small")
    yields.clear()
    assert workers.receive(receiving) == "small" and yields == []
