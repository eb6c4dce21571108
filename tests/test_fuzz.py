"""Mutated workbooks never cost a verdict, a traceback or data.

A property-based test mutates a valid submission the ways damaged copies, other programs and
attackers do (bytes flipped in the compressed stream or in the XML, parts cut short or dropped,
cells of random types and values, odd attributes) and runs `gtb run` and `gtb validate` on it.
Whatever the mutation: the exit code is 0, 1 or 2, never an internal error; the file gets its
verdict (an issues.csv); and when it is rejected, the loaded data of the database is exactly
what it was (the run log and the submission history record the attempt; nothing else changes).

A folder of 50 odd files goes through one `gtb validate` within bounded time and memory.
"""

from __future__ import annotations

import io
import os
import random
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from pipeline.cli import main
from tests import hostile, odd_files
from tests.builders import valid_sheets, write_workbook

ROOT = Path(__file__).resolve().parent.parent
# Tables whose content is the loaded data; runs, submissions and findings record every attempt.
AUDIT_TABLES = {"runs", "submissions", "findings", "schema_version"}


def base_workbook() -> bytes:
    """A valid WFP submission, as openpyxl writes it, in memory."""
    tmp = io.BytesIO()
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in valid_sheets("WFP").items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(tmp)
    return tmp.getvalue()


BASE = base_workbook()
MEMBERS = sorted(odd_files.members(BASE))
SHEETS = [m for m in MEMBERS if m.startswith("xl/worksheets/")]
CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)')
START_TAG = re.compile(rb"<([a-zA-Z][\w:]*)(?=[\s/>])")
TYPES = ["n", "s", "str", "b", "e", "d", "inlineStr", "", "zz"]
VALUES = st.one_of(
    st.sampled_from(["inf", "-inf", "NaN", "1e999", "-0", "9" * 40, "#DIV/0!", "2024-13-45", "TRUE", "0x1F", "", " "]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30).map(lambda t: escape(t.encode("utf-8", "ignore").decode("utf-8"))),
)


@st.composite
def mutations(draw) -> bytes:
    kind = draw(
        st.sampled_from(
            ["raw-flip", "xml-flip", "truncate-member", "drop-member", "cell", "attribute", "truncate-file"]
        )
    )
    parts = odd_files.members(BASE)
    if kind == "raw-flip":
        data = bytearray(BASE)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "truncate-file":
        return BASE[: draw(st.integers(0, len(BASE) - 1))]
    member = draw(st.sampled_from(MEMBERS))
    body = parts[member]
    if kind == "xml-flip":
        data = bytearray(body)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.sampled_from(b'<>"/=&\x00\xff 0aZ'))
        parts[member] = bytes(data)
    elif kind == "truncate-member":
        parts[member] = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif kind == "drop-member":
        del parts[member]
    elif kind == "cell":
        _retype_cell(draw, parts)
    else:  # attribute
        parts[member] = _odd_attribute(draw, body)
    return odd_files.repack(parts)


def _retype_cell(draw, parts: dict[str, bytes]) -> None:
    """One cell of a sheet rewritten with a drawn type and value (in place)."""
    sheet = draw(st.sampled_from(SHEETS))
    cells = list(CELL.finditer(parts[sheet]))
    if cells:
        target = cells[draw(st.integers(0, len(cells) - 1))]
        kind_attr = draw(st.sampled_from(TYPES))
        value = draw(VALUES)
        t = f' t="{kind_attr}"' if kind_attr else ""
        new = f'<c r="{target.group(1).decode()}"{t}><v>{value}</v></c>'.encode()
        parts[sheet] = parts[sheet][: target.start()] + new + parts[sheet][target.end() :]


def _odd_attribute(draw, body: bytes) -> bytes:
    """`body` with an odd attribute added to one of its start tags (unchanged if it has none)."""
    tags = list(START_TAG.finditer(body))
    if not tags:
        return body
    tag = tags[draw(st.integers(0, len(tags) - 1))]
    name = draw(st.sampled_from(["s", "t", "r", "ht", "spans", "width", "state", "count", "ref", "xml:space", "foo"]))
    value = draw(st.sampled_from(["", "-1", "999999", "XFD1048576", "A1:XFD1048576", "NaN", "é", "1:16384"]))
    return body[: tag.end()] + f' {name}="{value}"'.encode() + body[tag.end() :]


def data_snapshot(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
        ]
        return {
            t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables if t not in AUDIT_TABLES
        }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A warehouse with one loaded submission (UNEP), copied fresh for every example."""
    folder = tmp_path_factory.mktemp("fuzz-base")
    inputs = folder / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    write_workbook(inputs / "submissions" / "UNEP_2024.xlsx", valid_sheets("UNEP"))
    assert (
        main(
            [
                "run",
                "--inputs",
                str(inputs),
                "--db",
                str(folder / "gtb.duckdb"),
                "--outputs",
                str(folder / "out"),
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    return folder / "gtb.duckdb"


# GTB_FUZZ_EXAMPLES=2000 make test runs the property longer (the closing note of the change that
# added it says what such a run found).
@settings(
    max_examples=int(os.environ.get("GTB_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutations())
def test_a_mutated_workbook_gets_a_verdict_and_costs_no_data(tmp_path_factory, loaded, capsys, data):
    folder = tmp_path_factory.mktemp("fuzz")
    inputs = folder / "inputs"
    (inputs / "submissions").mkdir(parents=True)
    (inputs / "submissions" / "WFP_2024.xlsx").write_bytes(data)
    db = folder / "gtb.duckdb"
    shutil.copy(loaded, db)
    before = data_snapshot(db)
    capsys.readouterr()
    code = main(["run", "--inputs", str(inputs), "--db", str(db), "--outputs", str(folder / "out"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2) and "internal error" not in err and "Traceback" not in err, err
    assert code != 2, err  # the database and folders are fine: only the file can be at fault
    with duckdb.connect(str(db), read_only=True) as con:
        [(status, report)] = con.execute(
            "SELECT status, report_path FROM submissions WHERE file_name = 'WFP_2024.xlsx'"
        ).fetchall()
    assert (Path(report) / "issues.csv").exists()
    if status == "rejected":
        assert data_snapshot(db) == before
    code = main(
        ["validate", str(inputs / "submissions" / "WFP_2024.xlsx"), "--report-dir", str(folder / "v"), "--jobs", "1"]
    )
    err = capsys.readouterr().err
    assert code in (0, 1) and "internal error" not in err, err
    assert [p.name for p in (folder / "v").iterdir()] and all(
        (p / "issues.csv").exists() for p in (folder / "v").iterdir()
    )


def odd_folder(folder: Path, count: int = 50) -> list[Path]:
    """`count` odd files: hostile packages, files other programs write, and seeded random mutations."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [build(folder) for build in (*hostile.FAMILIES, hostile.zip_bomb)]
    for mutation in odd_files.MUTATIONS:
        files.append(odd_files.mutated(folder, f"odd_{mutation}.xlsx", mutation))
    rng = random.Random(20261201)
    while len(files) < count:
        path = folder / f"random_{len(files):02d}.xlsx"
        path.write_bytes(_seeded_mutation(rng))
        files.append(path)
    return files


def _seeded_mutation(rng: random.Random) -> bytes:
    """A reproducible mutation (hypothesis' examples are not seeded): flip bytes of one XML part."""
    parts = odd_files.members(BASE)
    member = rng.choice(MEMBERS)
    body = bytearray(parts[member])
    for _ in range(rng.randint(1, 6)):
        body[rng.randrange(len(body))] = rng.choice(b'<>"/=&\x00\xff 0aZ')
    parts[member] = bytes(body)
    return odd_files.repack(parts)


def test_fifty_odd_files_each_get_a_verdict_in_bounded_time_and_memory(tmp_path):
    files = odd_folder(tmp_path / "odd")
    assert len(files) == 50
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", *map(str, files), "--report-dir", str(tmp_path / "reports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    reports = list((tmp_path / "reports").iterdir())
    assert len(reports) == 50 and all((r / "issues.csv").exists() for r in reports)
    verdicts = [line for line in done.stdout.splitlines() if re.match(r"^\S.*: (valid|\d+ errors?)", line)]
    assert len(verdicts) == 50
    assert max(peak_kib, before) < 1_500_000, f"peak memory of gtb validate: {peak_kib / 1024:.0f} MB"
