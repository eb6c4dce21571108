"""The findings of a corpus of bad workbooks are exactly those of the committed snapshot.

Same codes, cells, values and messages, file by file (`tests/findings_corpus.py` builds the
corpus and says how to regenerate the snapshot on purpose; a snapshot change must be reviewed
line by line). This is what keeps a faster validation honest: whatever the code does to go
faster, a focal point sees the same findings.
"""

from __future__ import annotations

import csv
import io

from tests import findings_corpus


def _rows(text: str) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in findings_corpus.COLUMNS) for r in csv.DictReader(io.StringIO(text))]


def test_corpus_findings_match_the_snapshot(tmp_path):
    paths = findings_corpus.build(tmp_path / "corpus")
    now = _rows(findings_corpus.to_csv(findings_corpus.findings(paths)))
    before = _rows(findings_corpus.SNAPSHOT.read_text(encoding="utf-8"))
    missing = [r for r in before if r not in set(now)]
    extra = [r for r in now if r not in set(before)]
    assert not missing and not extra, (
        f"{len(missing)} findings of the snapshot are gone, {len(extra)} are new "
        f"(first gone: {missing[:3]}; first new: {extra[:3]}); if the change is meant, "
        "run `python -m tests.findings_corpus --write` and review the diff line by line"
    )
    assert now == before, "the same findings in another order"


def test_the_corpus_covers_every_sheet_and_many_codes():
    rows = _rows(findings_corpus.SNAPSHOT.read_text(encoding="utf-8"))
    from schemas import contract

    sheets = {r[1] for r in rows}
    codes = {r[6] for r in rows}
    assert set(contract.sheet_names()) <= sheets
    assert {
        "not-in-codelist",
        "type-error",
        "out-of-range",
        "missing-value",
        "unit-mismatch",
        "inconsistent-row",
        "duplicate-serial",
        "duplicate-submission",
        "missing-sheet",
        "missing-column",
        "hidden-sheet",
        "hidden-rows",
        "formula-without-value",
        "unreadable-file",
        "year-mismatch",
        "file-name-mismatch",
        "implausible-value",
    } <= codes


def test_the_lean_runner_fails_what_pandera_fails(tmp_path, monkeypatch):
    """`checks.failures` runs the pandera models without pandera's machinery: on every sheet of the
    corpus's random and structural workbooks it finds what pandera's lazy validation finds."""
    from pipeline.api import check_files
    from schemas import checks
    from tests.builders import write_workbook

    compared: list[str] = []
    lean = checks.failures

    def both(schema, frame):
        ours = lean(schema, frame)
        theirs = checks.pandera_failures(schema, frame)
        key = lambda f: (f.position, f.column, f.rule.id if f.rule else "not_nullable")  # noqa: E731
        assert sorted(map(key, ours)) == sorted(map(key, theirs)), schema.name
        compared.append(schema.name)
        return ours

    monkeypatch.setattr(checks, "failures", both)
    books = {f"random_{seed}": findings_corpus._random_workbook(seed, "WFP") for seed in (1, 2)}
    books |= findings_corpus._structural()
    paths = [write_workbook(tmp_path / f"{name}.xlsx", sheets) for name, sheets in books.items()]
    check_files(paths, jobs=2)
    from schemas import contract

    assert set(compared) == set(contract.sheet_names())


def test_every_finding_on_a_cell_gives_that_cells_row():
    """issues.csv's `row` is the row of its `cell`, for every finding of the corpus that names one
    (a file-name or duplicate-submission finding on the Entity sheet's B2 had none)."""
    from pipeline.cells import parse_cell

    for file, sheet, cell, row, *_ in _rows(findings_corpus.SNAPSHOT.read_text(encoding="utf-8")):
        if cell:
            position = parse_cell(cell)
            assert position is not None and str(position[0]) == row, (file, sheet, cell, row)
