"""The analyst notebook runs top to bottom on a database built by the real pipeline, and is committed clean.

The database: seeded demo workbooks of three entities for two years, loaded by `api.run`, with one
focal point's slip written into the latest year (ECE's flights multiplied by five) so that the
year-over-year check has something to flag. The notebook runs in a kernel started from this
interpreter (a kernelspec written into the test's temporary folder), so the test needs no
user-installed kernel and works in a fresh clone's `.venv` and in CI.

A second database spans the years 2020-2025, where the report's completeness and factor sets
matter: UNSSC is only expected from 2021 (the code list), DPPA's 2020 workbook is missing (its last
figures are the 2019 history total, its latest overall 2025), and 2025 is calculated with another
emission factor set than 2024 (CBD's 2025 flights multiplied by five, so the check flags a change
across the two sets).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import duckdb
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from openpyxl import load_workbook
from rich.console import Console

from demo.data import generate
from pipeline import api
from pipeline.report.tables import number_format

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "analyst.ipynb"
ENTITIES = ["CBD", "DPPA", "ECE"]
FIRST, LAST = 2023, 2024
SLIPPED = "ECE"  # its LAST-year workbook gets five times the flights
SPAN_ENTITIES = ["CBD", "DPPA", "UNSSC"]
SPAN_FIRST, SPAN_LAST = 2020, 2025
SPAN_MISSING = "DPPA"  # its SPAN_FIRST workbook is not there: a history total the year before, workbooks after
SPAN_LATE = "UNSSC"  # expected from 2021 only
SPAN_SLIPPED = "CBD"  # its SPAN_LAST workbook gets five times the flights
KERNEL = "gtb-notebook-test"
SETTINGS = ("GTB_DB", "GTB_YEAR", "GTB_ENTITY")


def scale_column(path: Path, sheet: str, column: str, factor: int) -> int:
    """Multiply the numeric cells of one column of a workbook sheet in place; returns how many changed."""
    wb = load_workbook(path)
    ws = wb[sheet]
    header = [str(c.value or "").strip().lower() for c in ws[1]]
    col = header.index(column) + 1
    changed = 0
    for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            cell.value = cell.value * factor
            changed += 1
    wb.save(path)
    return changed


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A repository-shaped folder whose outputs/gtb.duckdb was built by the pipeline."""
    clone = tmp_path_factory.mktemp("clone")
    # the whole package, as in a clone: run from the root, the notebook imports the report's number formats from it
    shutil.copytree(ROOT / "pipeline", clone / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    (clone / "notebooks").mkdir()
    inputs = clone / "inputs"
    generate(inputs, first_year=FIRST, last_year=LAST, history_from=FIRST, entities=ENTITIES, mistakes=False)
    assert scale_column(inputs / "submissions" / str(LAST) / f"{SLIPPED}_{LAST}.xlsx", "AirTravel", "trips", 5) > 0
    result = api.run(
        inputs, clone / "outputs" / "gtb.duckdb", clone / "outputs", jobs=1, console=Console(file=io.StringIO())
    )
    assert not result.had_errors and len(result.loaded) == len(ENTITIES) * 2
    return clone


@pytest.fixture(scope="module")
def span(tmp_path_factory) -> Path:
    """The database of SPAN_ENTITIES for SPAN_FIRST-SPAN_LAST (history the year before), built by the pipeline."""
    root = tmp_path_factory.mktemp("span")
    inputs = root / "inputs"
    generate(
        inputs,
        first_year=SPAN_FIRST,
        last_year=SPAN_LAST,
        history_from=SPAN_FIRST - 1,
        entities=SPAN_ENTITIES,
        mistakes=False,
    )
    (inputs / "submissions" / str(SPAN_FIRST) / f"{SPAN_MISSING}_{SPAN_FIRST}.xlsx").unlink()
    assert not (inputs / "submissions" / str(SPAN_FIRST) / f"{SPAN_LATE}_{SPAN_FIRST}.xlsx").exists()
    slipped = inputs / "submissions" / str(SPAN_LAST) / f"{SPAN_SLIPPED}_{SPAN_LAST}.xlsx"
    assert scale_column(slipped, "AirTravel", "trips", 5) > 0
    db = root / "outputs" / "gtb.duckdb"
    result = api.run(inputs, db, root / "outputs", jobs=1, console=Console(file=io.StringIO()))
    assert not result.had_errors
    return db


def execute(tmp: Path, cwd: Path, **settings: str) -> dict[str, str]:
    """Run the committed notebook in a fresh kernel; returns each code cell's text output by cell id."""
    kernels = tmp / "kernels"
    (kernels / KERNEL).mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL,
        "language": "python",
    }
    (kernels / KERNEL / "kernel.json").write_text(json.dumps(spec))
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    km.connection_file = str(tmp / "kernel-connection.json")
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(settings, IPYTHONDIR=str(tmp / "ipython"), MPLBACKEND="module://matplotlib_inline.backend_inline")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, km=km, timeout=60, resources={"metadata": {"path": str(cwd)}}).execute(env=env)
    return {cell.id: _text(cell) for cell in nb.cells if cell.cell_type == "code"}


def _text(cell) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def query(db: Path, sql: str, params=()):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def expected_flags(db: Path, year: int) -> list[str]:
    """The ±50 % check computed independently: entities sorted by their largest change."""
    rows = query(
        db,
        """
        SELECT c.entity_code, c.total_tco2e / p.total_tco2e - 1, c.per_capita_tco2e / p.per_capita_tco2e - 1
        FROM entity_indicators c JOIN entity_indicators p ON p.entity_code = c.entity_code AND p.year = c.year - 1
        WHERE c.year = ?
        """,
        [year],
    )
    changes = {code: max(abs(total), abs(per_capita)) for code, total, per_capita in rows}
    return sorted((c for c, change in changes.items() if change > 0.5), key=lambda c: (-changes[c], c))


def test_default_run_from_notebooks_folder_traces_the_largest_entity_and_flags_the_jump(clone, tmp_path):
    db = clone / "outputs" / "gtb.duckdb"
    out = execute(tmp_path, cwd=clone / "notebooks")  # no GTB_* settings: the repository's database, latest year

    assert f"database: {db.resolve()}" in out["setup"]
    assert f"year {LAST} (the database holds {FIRST}-{LAST})" in out["year"]
    [(largest, total)] = query(
        db,
        """
        SELECT i.entity_code, i.total_tco2e FROM entity_indicators i
        JOIN loaded_submissions l ON l.entity_code = i.entity_code AND l.year = i.year
        WHERE i.year = ? ORDER BY i.total_tco2e DESC LIMIT 1
        """,
        [LAST],
    )
    # the trace cell's assertion held: its rows add up to the total of the view
    assert f"add up to {largest}'s total of {total:,.3f} tCO2e for {LAST}" in out["trace-check"]
    assert f"{largest}_{LAST}.xlsx" in out["submission"] and "loaded" in out["submission"]
    assert "https://" in out["largest"], "the largest rows show the factor's source"
    assert f"{largest}_{LAST}.xlsx, sheet " in out["activity"]

    flags = expected_flags(db, LAST)
    assert SLIPPED in flags
    line = (
        f"{len(flags)} of {len(ENTITIES)} entities with figures for both {LAST - 1} and {LAST} "
        f"changed by more than ±50 %: {', '.join(flags)}"
    )
    assert line in out["yoy"]


def test_settings_choose_database_year_and_entity_from_repository_root(clone, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "copy.duckdb"
    elsewhere.parent.mkdir()
    shutil.copy(clone / "outputs" / "gtb.duckdb", elsewhere)
    out = execute(tmp_path, cwd=clone, GTB_DB=str(elsewhere), GTB_YEAR=str(FIRST), GTB_ENTITY=" cbd ")

    assert f"database: {elsewhere.resolve()}" in out["setup"]
    [(total,)] = query(
        elsewhere, "SELECT total_tco2e FROM entity_indicators WHERE entity_code = 'CBD' AND year = ?", [FIRST]
    )
    assert f"add up to CBD's total of {total:,.3f} tCO2e for {FIRST}" in out["trace-check"]
    assert f"0 of 0 entities with figures for both {FIRST - 1} and {FIRST}" in out["yoy"], "no year before the first"


def listed_codes(table: str) -> list[str]:
    """The entity codes of a displayed frame whose first column is entity_code, in order."""
    rows = table[table.index("entity_code") :]
    return re.findall(r"^\d+ +([A-Z][A-Z0-9-]*) ", rows, re.MULTILINE)


def test_who_has_not_reported_is_the_report_completeness_of_the_year(span, tmp_path):
    out = execute(tmp_path, cwd=tmp_path, GTB_DB=str(span), GTB_YEAR=str(SPAN_FIRST))

    [(joins,)] = query(span, "SELECT expected_from FROM entities WHERE entity_code = ?", [SPAN_LATE])
    assert joins > SPAN_FIRST, "the code list expects the late entity only after the year looked at"
    missing = query(
        span,
        """SELECT entity_code, last_reported_year FROM reporting_completeness
           WHERE year = ? AND data_source = 'missing' ORDER BY entity_code""",
        [SPAN_FIRST],
    )
    assert (SPAN_MISSING, SPAN_FIRST - 1) in missing
    assert SPAN_LATE not in {code for code, _ in missing}
    # the notebook lists exactly the report's missing entities: not the one that only joins later
    assert listed_codes(out["missing"]) == [code for code, _ in missing]
    # and an entity's last year with figures before this one, not its latest year overall
    [line] = [line for line in out["missing"].splitlines() if re.match(rf"\d+\s+{SPAN_MISSING}\s", line)]
    assert re.search(rf"\s{SPAN_FIRST - 1}\s", line) and str(SPAN_LAST) not in line, line
    [(expected, reporting, absent)] = query(
        span,
        """SELECT entities_expected, entities_reporting_expected, entities_missing
           FROM completeness_by_year WHERE year = ?""",
        [SPAN_FIRST],
    )
    assert f"{reporting} of {expected} entities expected for {SPAN_FIRST} reported; {absent} missing" in out["missing"]


def test_year_over_year_marks_changes_across_factor_sets_and_figures_have_the_report_decimals(span, tmp_path):
    out = execute(tmp_path, cwd=tmp_path, GTB_DB=str(span))  # the latest year

    changes = query(
        span,
        """SELECT c.entity_code, f.previous_factor_sets, f.factor_sets FROM entity_change c
           JOIN entity_factor_sets f USING (entity_code, year)
           WHERE c.year = ? AND c.change_across_factor_sets ORDER BY c.entity_code""",
        [SPAN_LAST],
    )
    assert {code for code, _, _ in changes} == set(SPAN_ENTITIES), "the last year is on another factor set"
    [(before, now)] = {(b, n) for _, b, n in changes}
    flags = expected_flags(span, SPAN_LAST)
    assert SPAN_SLIPPED in flags
    line = (
        f"{len(flags)} of {len(SPAN_ENTITIES)} entities with figures for both {SPAN_LAST - 1} and {SPAN_LAST} "
        f"changed by more than ±50 %: {', '.join(code + '*' for code in flags)}"
    )
    assert line in out["yoy"]
    assert (
        f"* {len(changes)} of the {len(SPAN_ENTITIES)} entities have their two years calculated with different "
        f"emission factor sets ({SPAN_LAST - 1}: {before}, {SPAN_LAST}: {now}): their change is partly the method's"
    ) in out["yoy"]

    # per-capita figures with the decimals of the report's tables, not the notebook's 4 significant digits
    decimals = len(number_format("per_capita_tco2e").partition(".")[2])
    [(system,)] = query(span, "SELECT per_capita_tco2e FROM system_indicators WHERE year = ?", [SPAN_LAST])
    assert re.search(
        rf"^per_capita_tco2e +{re.escape(f'{system:,.{decimals}f}')} +tCO2e per person$", out["system"], re.M
    )
    [(entity, per_capita)] = query(
        span,
        """SELECT i.entity_code, i.per_capita_tco2e FROM entity_indicators i
           WHERE i.year = ? ORDER BY i.total_tco2e DESC LIMIT 1""",
        [SPAN_LAST],
    )
    assert f"{entity} {SPAN_LAST}" in out["trace-entity"]
    assert re.search(
        rf"^per_capita_tco2e +{re.escape(f'{per_capita:,.{decimals}f}')} +tCO2e per person$", out["trace-entity"], re.M
    )


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has code cells"
    dirty = [c.id for c in code if c.outputs or c.execution_count is not None]
    assert not dirty, (
        f"cells {dirty} of {NOTEBOOK.name} carry outputs or execution counts: clear them before committing, e.g. "
        "python -c \"import nbformat as n; p='notebooks/analyst.ipynb'; b=n.read(p, 4); "
        "[c.update(outputs=[], execution_count=None) for c in b.cells if c.cell_type == 'code']; n.write(b, p)\""
    )
