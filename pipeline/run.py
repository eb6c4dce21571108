"""`gtb run`: validate every submission under the inputs folder, load the valid ones, calculate.

The run is one transaction: killed at any point, the database is as it was before the run.
Files already recorded (same sha256) are skipped without being read, so a rerun with nothing
changed takes about a second. Validation reports are written for every file that was read.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import __version__, safe
from pipeline.errors import GtbError
from pipeline.intake.validate import Submission
from pipeline.paths import (
    DEFAULT_DB,
    DEFAULT_INPUTS,
    DEFAULT_OUTPUTS,
    HISTORY_FOLDER,
    SUBMISSIONS_FOLDER,
    VALIDATION_FOLDER,
)
from schemas import contract

if TYPE_CHECKING:
    from pipeline.intake.history import HistoryFile

# Excel's lock files ("~$book.xlsx") sit beside open workbooks; they are not submissions.
LOCK_PREFIX = "~$"


@dataclass
class RunResult:
    files_seen: int = 0
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, errors, report folder)
    replaced: list[str] = field(default_factory=list)  # rejected files whose entity-year now has a valid submission
    superseded: int = 0
    history_rows: int = 0
    history_rejected: list[tuple[str, int, str]] = field(default_factory=list)
    emissions_rows: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, for the summary

    @property
    def had_errors(self) -> bool:
        return bool(self.rejected or self.history_rejected)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


FIELD_SHEETS = tuple(spec for spec in contract.sheets() if not spec.is_table)


def find_submissions(inputs: Path) -> list[Path]:
    folder = inputs / SUBMISSIONS_FOLDER
    if not folder.is_dir():
        raise GtbError(f"no submissions folder: {folder} (expected workbooks under {inputs}/submissions/)")
    return sorted(p for p in folder.rglob("*.xlsx") if p.is_file() and not p.name.startswith(LOCK_PREFIX))


def run(
    inputs: Path = DEFAULT_INPUTS,
    db: Path = DEFAULT_DB,
    outputs: Path = DEFAULT_OUTPUTS,
    jobs: int | None = None,
    console: Console | None = None,
) -> RunResult:
    from pipeline.emissions import prepare
    from pipeline.emissions.calculate import calculate, sync_pins
    from pipeline.indicators.views import create_views
    from pipeline.intake.cross_checks import cross_submission_findings
    from pipeline.intake.history import check_history_file
    from pipeline.intake.reports import write_reports
    from pipeline.intake.validate import validate_files
    from pipeline.reference.factors import FactorSetError
    from pipeline.reference.units import UnitConversionError
    from pipeline.warehouse import db as warehouse
    from pipeline.warehouse.load import (
        insert_rows,
        known_files,
        load_history,
        loaded_serials,
        next_id,
        record,
        sync_entities,
    )
    from pipeline.workers import default_jobs

    started = time.perf_counter()
    clock = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        result.stages[stage] = now - clock[0]
        clock[0] = now

    console = console or Console(highlight=False, soft_wrap=True)
    inputs, outputs = Path(inputs), Path(outputs)
    if not inputs.is_dir():
        raise GtbError(f"inputs folder not found: {inputs}")
    files = find_submissions(inputs)
    result = RunResult(files_seen=len(files))
    con = warehouse.connect(Path(db))  # fails fast (exit 2) on a locked or corrupt database
    create_views(con)
    lap("open")
    try:
        shas: dict[Path, str] = {}
        for f in files:
            try:
                shas[f] = sha256_of(f)
            except OSError:  # unreadable (permissions, I/O): read on, it becomes that file's finding
                shas[f] = ""
        known = known_files(con, [sha for sha in shas.values() if sha])
        new = [f for f in files if shas[f] not in known]
        result.unchanged = [f.name for f in files if shas[f] in known]
        seen_sha: set[str] = set()
        duplicates_in_folder = []
        for f in new:
            if shas[f] and shas[f] in seen_sha:
                duplicates_in_folder.append(f)
            seen_sha.add(shas[f])
        new = [f for f in new if f not in duplicates_in_folder]  # byte-identical copies are read once
        result.unchanged += [f.name for f in duplicates_in_folder]

        lap("hash")
        subs = _check_with_progress(new, jobs or default_jobs(), console, validate_files)
        lap("read+validate")
        for path, sub in zip(new, subs, strict=True):  # unreadable files too are recorded by their bytes
            sub.sha256 = sub.sha256 or shas[path]
            sub.size_bytes = sub.size_bytes or _size(path)
        cross_submission_findings(subs, loaded_serials(con))
        lap("cross-checks")
        folders = write_reports(subs, outputs / VALIDATION_FOLDER)
        history = [check_history_file(p) for p in sorted((inputs / HISTORY_FOLDER).glob("*.csv"))]
        lap("reports")

        try:
            with warehouse.transaction(con):
                run_id = next_id(con, "runs", "run_id")
                con.execute(
                    "INSERT INTO runs (run_id, started_at, pipeline_version) VALUES (?, ?, ?)",
                    [run_id, warehouse.utcnow(), __version__],
                )
                sync_entities(con)
                sync_pins(con)
                recorded = record(con, run_id, subs, folders, inputs)
                insert_rows(con, {spec.table: prepare.field_rows(recorded.pairs, spec.name) for spec in FIELD_SHEETS})
                insert_rows(con, prepare.activity_tables(recorded.pairs))
                lap("load")
                result.emissions_rows = calculate(con, recorded.loaded)
                lap("calculate")
                result.history_rows, bad_history = load_history(con, history)
                con.execute(
                    """
                    UPDATE runs SET finished_at = ?, files_seen = ?, files_loaded = ?, files_unchanged = ?,
                           files_rejected = ?, submissions_superseded = ? WHERE run_id = ?
                    """,
                    [
                        warehouse.utcnow(),
                        len(files),
                        len(recorded.loaded),
                        len(result.unchanged),
                        len(recorded.rejected),
                        len(recorded.superseded),
                        run_id,
                    ],
                )
            lap("commit")
        except (FactorSetError, UnitConversionError) as exc:
            raise GtbError(f"nothing was loaded: {exc}") from None
    finally:
        con.close()

    result.loaded = [s.file_name for s in subs if s.is_valid]
    replaced = set(recorded.replaced)
    result.rejected += [
        (s.file_name, s.errors, str(folders[i]))
        for i, s in enumerate(subs)
        if not s.is_valid and s.sha256 not in replaced
    ]
    result.replaced = [s.file_name for s in subs if not s.is_valid and s.sha256 in replaced]
    result.superseded = len(recorded.superseded)
    result.history_rejected = _history_reports(bad_history, outputs / VALIDATION_FOLDER)
    result.seconds = time.perf_counter() - started
    print_run_summary(result, Path(db), console)
    return result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_with_progress(
    files: list[Path], jobs: int, console: Console, validate_files: Callable[..., list[Submission]]
) -> list[Submission]:
    if not files:
        return []
    columns = (TextColumn("reading workbooks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("validate", total=len(files))
        return validate_files(files, jobs, on_file=lambda _path: progress.advance(task))


def _history_reports(files: list[HistoryFile], report_dir: Path) -> list[tuple[str, int, str]]:
    from pipeline.intake.findings import write_issues_csv
    from pipeline.intake.reports import folder_inside, prepare_folder

    out = []
    used: set[str] = set()
    for hf in files:
        folder = folder_inside(report_dir, f"history_{safe.slug(hf.path.stem) or 'file'}", used, hf.sha256[:8])
        prepare_folder(folder)
        write_issues_csv(hf.findings, folder / "issues.csv")
        out.append((hf.path.name, sum(f.is_error for f in hf.findings), str(folder)))
    return out


def print_run_summary(result: RunResult, db: Path, console: Console) -> None:
    console.print(
        f"[bold]{result.files_seen}[/] workbooks: [green]{len(result.loaded)} loaded[/], "
        f"{len(result.unchanged)} unchanged, [red]{len(result.rejected)} rejected[/], "
        f"{result.superseded} superseded  ({result.seconds:.1f} s)"
    )
    for name in result.replaced:
        console.print(
            f"  replaced {safe.for_console(name)}: rejected, "
            "and a valid resubmission for its entity and year has loaded"
        )
    if result.history_rows:
        console.print(f"history: {result.history_rows} rows loaded")
    for name, errors, folder in result.rejected + result.history_rejected:
        console.print(
            f"  [red]rejected[/] {safe.for_console(name)}: "
            f"{errors} error{'s' * (errors != 1)} -> {safe.for_console(folder)}"
        )
    console.print(f"database: {safe.for_console(str(db))}")
    if result.stages:
        console.print("[dim]stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.stages.items()) + "[/]")
