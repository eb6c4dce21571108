"""`gtb run`: validate every submission under the inputs folder, load the valid ones, calculate.

The run is one transaction: killed at any point, the database is as it was before the run.
Files already recorded (same sha256) are skipped without being read, so a rerun with nothing
changed takes about a second. Validation reports are written for every file that was read.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from pipeline import __version__, paths, safe, terminal
from pipeline.errors import GtbError
from pipeline.intake.validate import Submission
from pipeline.paths import (
    DEFAULT_DB,
    DEFAULT_INPUTS,
    DEFAULT_OUTPUTS,
    VALIDATION_FOLDER,
)
from schemas import contract

if TYPE_CHECKING:
    import duckdb

    from pipeline.intake.history import HistoryFile
    from pipeline.review.rereview import Later, Rereviewed
    from pipeline.warehouse.load import Recorded

ProgressHook = Callable[[str, int, int], object]  # (stage, done, total): see run()


@dataclass
class Change:
    """An entity-year whose loaded submission this run replaced: its figures before and after."""

    entity: str
    year: int
    total_before: float | None
    total_after: float | None
    per_capita_before: float | None
    per_capita_after: float | None


@dataclass
class RunResult:
    files_seen: int = 0
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, errors, report folder)
    replaced: list[str] = field(default_factory=list)  # rejected files whose entity-year now has a valid submission
    superseded: int = 0
    superseded_files: list[str] = field(default_factory=list)
    new_rejections: list[tuple[str, int, str, str]] = field(default_factory=list)  # (+ first finding)
    repeated_rejections: list[str] = field(default_factory=list)  # rejected before with the same errors
    warned: list[tuple[str, int, str, str]] = field(default_factory=list)  # loaded, warned: (file, n, folder, first)
    changes: list[Change] = field(default_factory=list)
    flags: int = 0  # plausibility flags raised by this run
    history_rows: int = 0
    history_rejected: list[tuple[str, int, str]] = field(default_factory=list)
    emissions_rows: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, for the summary
    not_read: list[str] = field(default_factory=list)  # files under submissions/ not named like a spreadsheet
    # files listed in the inputs that were gone when the run, holding the warehouse, came to read them
    # (a correction requested in the portal takes an accepted file out while a run waits for the lock)
    gone: list[str] = field(default_factory=list)
    # entities taken out of entities.csv since the last run: (code, the last year they are now
    # expected: their last year with data, or 0, never)
    delisted: list[tuple[str, int]] = field(default_factory=list)
    history_not_read: list[str] = field(default_factory=list)  # files under history/ that are not read
    history_removed: list[tuple[str, int]] = field(default_factory=list)  # (history file, its rows no longer in it)
    history_moved: list[tuple[str, str, int]] = field(default_factory=list)  # (history file, file now holding, rows)
    history_missing: list[tuple[str, int, int, int]] = field(default_factory=list)  # (file gone, rows kept, years)
    history_warned: list[tuple[str, int, str, str]] = field(default_factory=list)  # (file, n, folder, first)
    history_beside: list[tuple[str, int, str, int, str]] = field(default_factory=list)  # rows in a workbook year
    copies: list[tuple[str, str]] = field(default_factory=list)  # (file, the file of the run it repeats byte for byte)
    superseded_again: list[tuple[str, str]] = field(default_factory=list)  # (file, superseded one it repeats)
    elsewhere: list[tuple[str, str, str, int, str]] = field(default_factory=list)  # recorded bytes, named otherwise:
    # (file, the submission it repeats, that one's entity, its year, what the file's folder or name says)
    mixed_sets: list[tuple[int, list[tuple[str, int]]]] = field(default_factory=list)  # (year, [(set, workbooks)])
    compared_again: list[Rereviewed] = field(default_factory=list)  # later years compared with a year loaded
    not_compared_again: list[Later] = field(default_factory=list)  # ... whose workbook is no longer in the inputs
    withdrawn: list[tuple[str | None, int | None, str, str]] = field(default_factory=list)  # rejected files taken out
    withdrawn_back: list[tuple[str | None, int | None, str, str]] = field(default_factory=list)  # ... and put back

    @property
    def had_errors(self) -> bool:
        return bool(self.rejected or self.history_rejected)


def sha256_of(path: Path) -> str:
    """The file's sha256; OSError (`paths.NotARegularFile`) for a folder, device or pipe."""
    digest = hashlib.sha256()
    with paths.open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


FIELD_SHEETS = tuple(spec for spec in contract.sheets() if not spec.is_table)


def insert_sheets(con: duckdb.DuckDBPyConnection, recorded: Recorded) -> None:
    """The rows of every sheet of the valid submissions just recorded, derived columns included,
    each year converted with the factor set it is priced with (`calculate.year_sets`): what `gtb
    run` loads and what a review loads into its private copy alike."""
    from pipeline.emissions import prepare
    from pipeline.emissions.calculate import year_sets
    from pipeline.warehouse.load import insert_rows

    insert_rows(con, {spec.table: prepare.field_rows(recorded.pairs, spec.name) for spec in FIELD_SHEETS})
    insert_rows(con, prepare.activity_tables(recorded.pairs, year_sets(con, recorded.years)))


def find_submissions(inputs: Path) -> tuple[list[Path], list[Path]]:
    """(the files named like spreadsheets, the others) under `inputs`/submissions (`paths.scan_submissions`)."""
    try:
        return paths.scan_submissions(inputs)
    except FileNotFoundError as exc:
        raise GtbError(f"no submissions folder: {exc} (expected workbooks under {inputs}/submissions/)") from None
    except OSError as exc:
        raise GtbError(f"cannot list the submissions folder {inputs}/submissions/: {exc.strerror or exc}") from None


def run(
    inputs: Path = DEFAULT_INPUTS,
    db: Path = DEFAULT_DB,
    outputs: Path = DEFAULT_OUTPUTS,
    jobs: int | None = None,
    console: Console | None = None,
    progress: ProgressHook | None = None,
) -> RunResult:
    """`gtb run`. `progress(stage, done, total)`, if given, hears of the stages as they pass:
    ("reading", n, N) before the first and after each workbook read, then ("loading", 0, 0).
    The factor pins and sets are those of `inputs/reference/` where it holds them (an analyst's
    own folder), else the repository's."""
    from pipeline.reference.factors import reference_folder

    with reference_folder(Path(inputs) / "reference"):
        return _run(Path(inputs), Path(db), Path(outputs), jobs, console, progress)


def _run(
    inputs: Path,
    db: Path,
    outputs: Path,
    jobs: int | None,
    console: Console | None,
    progress: ProgressHook | None,
) -> RunResult:
    from pipeline.emissions.calculate import calculate, mixed_sets, sync_pins
    from pipeline.indicators.views import create_views
    from pipeline.intake import ahead
    from pipeline.intake.cross_checks import (
        cross_submission_findings,
        folder_and_name_findings,
        unpinned_year_findings,
    )
    from pipeline.intake.history import check_history_file
    from pipeline.intake.reports import report_folders, write_reports
    from pipeline.intake.validate import validate_files
    from pipeline.reference.factors import FactorSetError
    from pipeline.reference.units import UnitConversionError
    from pipeline.review import flags as review_flags
    from pipeline.review import plausibility, rereview
    from pipeline.warehouse import db as warehouse
    from pipeline.warehouse.load import (
        known_files,
        load_history,
        loaded_serials,
        next_id,
        record,
        stored_path,
        sync_entities,
        withdraw_absent,
    )
    from pipeline.workers import default_jobs

    started = time.perf_counter()
    clock = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        result.stages[stage] = now - clock[0]
        clock[0] = now

    console = console or terminal.Console(highlight=False, soft_wrap=True)
    inputs, outputs = Path(inputs), Path(outputs)
    if not inputs.is_dir():
        raise GtbError(f"inputs folder not found: {inputs}")
    files, others = find_submissions(inputs)
    result = RunResult(files_seen=len(files), not_read=[p.relative_to(inputs).as_posix() for p in others])
    con = warehouse.connect(Path(db))  # fails fast (exit 2) on a locked or corrupt database
    views = _Aside(create_views, con)
    lap("open")
    try:
        new, shas = _new_files(con, files, result, known_files, inputs)
        files = [f for f in files if f in shas]  # a file gone since the listing is no longer the inputs'
        result.files_seen = len(files)
        if not new:
            ahead.discard()  # a reading started ahead has nothing left to do
        lap("hash")
        told = progress or (lambda stage, done, total: None)

        def tell(stage: str, done: int, total: int) -> None:
            if done == total:  # the last workbook is read: DuckDB takes the core the readers leave
                views.start()
            told(stage, done, total)

        tell("reading", 0, len(new))
        subs = _check_with_progress(new, jobs or default_jobs(), console, validate_files, tell)
        lap("read+validate")
        tell("loading", 0, 0)
        for path, sub in zip(new, subs, strict=True):  # unreadable files too are recorded by their bytes
            sub.sha256 = sub.sha256 or shas[path]
            sub.size_bytes = sub.size_bytes or _size(path)
        folder_and_name_findings(subs)
        unpinned_year_findings(subs)
        cross_submission_findings(subs, loaded_serials(con))
        views.wait()  # the figures before are read from the views
        before = _figures(con, subs)
        recorded_folders = _recorded_folders(con, outputs / VALIDATION_FOLDER)
        folders = report_folders(subs, outputs / VALIDATION_FOLDER, recorded_folders)
        history_files, history_others = paths.scan_history(inputs)
        result.history_not_read = [p.relative_to(inputs).as_posix() for p in history_others]
        history = [check_history_file(p) for p in history_files]
        later = _later_workbooks(con, subs, shas, result, jobs or default_jobs(), validate_files)
        lap("cross-checks")

        try:
            with warehouse.transaction(con):
                run_id = next_id(con, "runs", "run_id")
                con.execute(
                    "INSERT INTO runs (run_id, started_at, pipeline_version) VALUES (?, ?, ?)",
                    [run_id, warehouse.utcnow(), __version__],
                )
                result.delisted = sync_entities(con)
                sync_pins(con)
                recorded = record(con, run_id, subs, folders, inputs)
                insert_sheets(con, recorded)
                gone = withdraw_absent(
                    con, sorted({sha for sha in shas.values() if sha}), [stored_path(f, inputs) for f in files]
                )
                result.withdrawn, result.withdrawn_back = gone.withdrawn, gone.back
                # before the review: a workbook after years of published totals is compared with them
                history_load = load_history(con, history)
                result.history_rows, result.history_removed = history_load.rows, history_load.removed
                result.history_moved, result.history_missing = history_load.moved, history_load.missing
                lap("load")
                result.emissions_rows = calculate(con, recorded.loaded)
                result.mixed_sets = mixed_sets(
                    con, sorted({s.reporting_year for _, s in recorded.pairs if s.reporting_year})
                )
                lap("calculate")
                raised = plausibility.flags(con, recorded.loaded)
                result.flags = review_flags.record_flags(con, raised, dict(recorded.pairs))
                result.compared_again = rereview.rereview(con, run_id, later)
                lap("review")
                result.history_beside = _history_in_workbook_years(con, run_id, history_load.loaded)
                write_reports(subs, outputs / VALIDATION_FOLDER, folders, claim=True)
                _rewrite_later_reports(con, later, result.compared_again, outputs / VALIDATION_FOLDER)
                lap("reports")
                _settle(result, subs, folders, recorded)
                result.changes = _changes(before, _figures(con, subs, superseded=False))
                result.history_rejected, result.history_warned = _history_reports(
                    history, outputs / VALIDATION_FOLDER, recorded_folders
                )
                result.seconds = time.perf_counter() - started
                lines = summary_lines(result, Path(db))
                con.execute(
                    """
                    UPDATE runs SET finished_at = ?, files_seen = ?, files_loaded = ?, files_unchanged = ?,
                           files_rejected = ?, submissions_superseded = ?, summary = ? WHERE run_id = ?
                    """,
                    [
                        warehouse.utcnow(),
                        len(files),
                        len(recorded.loaded),
                        len(result.unchanged),
                        len(result.rejected),
                        len(recorded.superseded),
                        "\n".join(safe.console_safe(part) for line in lines for part in line.plain.split("\n")),
                        run_id,
                    ],
                )
            lap("commit")
        except (FactorSetError, UnitConversionError) as exc:
            raise GtbError(f"nothing was loaded: {exc}") from None
    finally:
        views.wait(quiet=True)
        con.close()
        ahead.discard()

    for line in lines:
        console.print(line)
    if result.stages:
        console.print("[dim]stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.stages.items()) + "[/]")
    return result


class _Aside:
    """`work(cursor)` on a cursor of `con` (made here, in the caller's thread), in a thread of its
    own once `start()` is called: DuckDB releases the interpreter while it works, so the
    statements run on a core this process leaves idle (while it validates, once the readers are
    done). `wait()` joins it, or does the work there and then if it never started, and raises
    what it raised; `wait(quiet=True)` does the same but raises nothing, for the way out of a run
    that failed (the views are made as they were before the run failed)."""

    def __init__(self, work: Callable[[duckdb.DuckDBPyConnection], object], con: duckdb.DuckDBPyConnection) -> None:
        import threading

        self._work, self._cursor = work, con.cursor()
        self._thread: threading.Thread | None = None
        self._failure: list[BaseException] = []
        self._lock = threading.Lock()
        self._settled = False  # waited for: never started after that

    def _run(self) -> None:
        try:
            self._work(self._cursor)
        except BaseException as exc:
            self._failure.append(exc)
        finally:
            self._cursor.close()

    def start(self) -> None:
        import threading

        with self._lock:
            if self._thread is None and not self._settled:
                thread = threading.Thread(target=self._run, name="gtb-aside", daemon=True)
                thread.start()  # kept only once started: a thread that could not start is never joined
                self._thread = thread

    def wait(self, quiet: bool = False) -> None:
        with self._lock:
            thread, unstarted = self._thread, self._thread is None and not self._settled
            self._settled = True  # start() does nothing from now on
        if thread is not None:
            thread.join()
        elif unstarted:
            self._run()
        if self._failure and not quiet:
            failure, self._failure = self._failure[0], []
            raise failure


def review_without_loading(
    subs: list[Submission], db: Path, message_id: str = "duplicate-submission.checked", *, name_others: bool = True
) -> None:
    """What loading the `subs` into `db` would say of them, added to their findings: the offset
    serials another submission already holds there (and the serials and entity-years the `subs`
    claim twice among themselves: `cross_checks.claims_findings`), then the plausibility flags the
    valid ones would get. `name_others=False`: whose serial is not said (`claims_findings`).

    The database is not touched: a copy is loaded and calculated in one transaction that is then
    rolled back, so the comparison with each entity's previous year uses the very code of `gtb run`.
    """
    with Reviewer() as reviewer:
        reviewer.check(subs, db, message_id, name_others=name_others)


class Reviewer:
    """`review_without_loading` for many calls (the submission portal): one private copy of the
    database, opened once with its views, reused while the database file (and its WAL) is
    unchanged, and copied afresh when it has changed. Every review is a transaction rolled back,
    so the copy stays as the database was. One review at a time (a lock)."""

    def __init__(self) -> None:
        import tempfile
        import threading

        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._key: tuple | None = None

    def __enter__(self) -> Reviewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._con is not None:
            self._con.close()
        if self._tmp is not None:
            self._tmp.cleanup()
        self._con, self._tmp, self._key = None, None, None

    @staticmethod
    def _state(db: Path) -> tuple:
        def stat(path: Path) -> tuple[int, int] | None:
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
            return st.st_mtime_ns, st.st_size

        return (str(db.resolve()), stat(db), stat(db.with_name(db.name + ".wal")))

    def _connection(self, db: Path) -> duckdb.DuckDBPyConnection:
        import shutil
        import tempfile

        from pipeline.indicators.views import create_views
        from pipeline.warehouse import db as warehouse

        key = self._state(db)
        if self._con is not None and key == self._key:
            return self._con
        self._drop()
        warehouse.check_file(db)
        if not db.is_file():
            raise GtbError(f"no database at {db}: run gtb run first, or validate without --db")
        self._tmp = tempfile.TemporaryDirectory(prefix="gtb-review-")
        copy = Path(self._tmp.name) / "review.duckdb"
        with warehouse.read_lock(db):  # a run that took the lock mid-copy would tear it
            key = self._state(db)
            shutil.copyfile(db, copy)
            wal = db.with_name(db.name + ".wal")
            if wal.is_file():  # committed transactions not yet checkpointed into the file
                shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        con = warehouse.connect(copy)
        create_views(con)
        self._con, self._key = con, key
        return con

    def check(
        self,
        subs: list[Submission],
        db: Path,
        message_id: str = "duplicate-submission.checked",
        *,
        name_others: bool = True,
    ) -> None:
        """`review_without_loading`: the serials and entity-years `subs` claim against what `db`
        holds, read from the private copy (`cross_checks.claims_findings`, with the files `gtb run`
        would not read again and the serials loaded), then the flags of the valid ones (`review`)."""
        from pipeline.intake.cross_checks import claims_findings
        from pipeline.warehouse.load import known_files, loaded_serials

        with self._lock:
            con = self._connection(Path(db))
            known = known_files(con, [s.sha256 for s in subs if s.sha256])
            claimed = loaded_serials(con)
        claims_findings(subs, claimed, message_id, name_others=name_others, known=known)
        self.review(subs, db)

    def prepare(self, db: Path) -> None:
        """Copy and open the database now, so that the first review is as quick as the next."""
        with self._lock:
            self._connection(Path(db))

    def review(self, subs: list[Submission], db: Path) -> None:
        """Add to each valid submission of `subs` the flags it would get if loaded into `db`."""
        from pipeline.emissions.calculate import calculate, sync_pins
        from pipeline.review import flags as review_flags
        from pipeline.review import plausibility
        from pipeline.warehouse.load import next_id, record, sync_entities

        valid = [s for s in subs if s.is_valid]
        if not valid:
            return
        with self._lock:
            con = self._connection(Path(db))
            con.execute("BEGIN TRANSACTION")
            try:
                sync_entities(con)
                sync_pins(con)
                recorded = record(con, next_id(con, "runs", "run_id"), valid, {})
                insert_sheets(con, recorded)
                calculate(con, recorded.loaded)
                by_id = dict(recorded.pairs)
                raised = plausibility.flags(con, recorded.loaded)
                flagged = {(flag.submission_id, flag.sheet) for flag in raised}
                for sid, sub in recorded.pairs:
                    sub.figures = figures_beside_last_year(con, sub, {sheet for i, sheet in flagged if i == sid})
            except BaseException:
                self._drop()  # closing the copy rolls the transaction back; the next review copies afresh
                raise
            con.execute("ROLLBACK")
            for flag in raised:
                by_id[flag.submission_id].findings.append(review_flags.to_finding(flag, by_id[flag.submission_id]))


# The figures a focal point checks first, beside last year's (the portal's report on an upload).
KEY_FIGURES = (
    "total_tco2e",
    "per_capita_tco2e",
    "facilities_tco2e",
    "air_travel_tco2e",
    "other_travel_tco2e",
    "personnel",
    "electricity_kwh",
    "renewable_electricity_share",
    "waste_tonnes",
    "water_m3",
    "offset_share",
)


def figures_beside_last_year(con: duckdb.DuckDBPyConnection, sub: Submission, flagged_sheets: set[str]) -> list[dict]:
    """The submission's key figures as they would be loaded (`con` holds it, not committed)
    beside the entity's year before, with the change; a figure a flag of `flagged_sheets` bears on
    is marked. JSON-ready; [] when the views have no row of the entity's year."""
    from pipeline.review.compare import BEARS_ON, compare

    if sub.entity_code is None or sub.reporting_year is None:
        return []
    try:
        found = compare(con, sub.entity_code, sub.reporting_year)
    except GtbError:
        return []
    marked = {key for sheet in flagged_sheets for key in BEARS_ON.get(sheet, ())}
    lines = {line.key.key: line for line in found.lines}
    return [
        {
            "key": key,
            "label": lines[key].key.label,
            "unit": lines[key].key.unit,
            "kind": lines[key].key.kind,
            "before": lines[key].before,
            "now": lines[key].now,
            "change": lines[key].change,
            "flagged": key in marked,
            "previous_year": found.previous_year,
        }
        for key in KEY_FIGURES
        if key in lines and (lines[key].now is not None or lines[key].before is not None)
    ]


def _new_files(
    con, files: list[Path], result: RunResult, known_files, root: Path
) -> tuple[list[Path], dict[Path, str]]:
    """The files to read (not recorded before, one of byte-identical copies) and every file's hash;
    the copies are named in `result.copies` by their paths under `root`."""
    shas: dict[Path, str] = {}
    for f in files:
        try:
            shas[f] = sha256_of(f)
        except FileNotFoundError:
            if os.path.lexists(f):  # a link to nothing: read on, it becomes that file's finding
                shas[f] = ""
            else:  # taken out of the folder since it was listed (before the warehouse was held): not its
                result.gone.append(f.relative_to(root).as_posix())
        except OSError:  # unreadable (permissions, I/O): read on, it becomes that file's finding
            shas[f] = ""
    files = [f for f in files if f in shas]
    known = known_files(con, [sha for sha in shas.values() if sha])
    new = [f for f in files if shas[f] not in known]
    result.unchanged = [safe.file_name(f.name) for f in files if shas[f] in known]
    result.elsewhere = _named_for_another(con, {f: shas[f] for f in files if shas[f] in known}, root)
    told = {file for file, *_ in result.elsewhere}
    result.superseded_again = _superseded_again(
        con,
        {
            f: shas[f]
            for f in files
            if known.get(shas[f]) == "superseded" and f.relative_to(root).as_posix() not in told
        },
    )
    first_of: dict[str, Path] = {}
    duplicates = []
    for f in new:
        if shas[f] and shas[f] in first_of:
            duplicates.append(f)
            result.copies.append((f.relative_to(root).as_posix(), first_of[shas[f]].relative_to(root).as_posix()))
        first_of.setdefault(shas[f], f)
    result.unchanged += [safe.file_name(f.name) for f in duplicates]
    return [f for f in new if f not in duplicates], shas  # byte-identical copies are read once


def _later_workbooks(
    con, subs: list[Submission], shas: dict[Path, str], result: RunResult, jobs: int, validate_files
) -> list[tuple[Later, Submission]]:
    """The loaded submissions of later years that the valid `subs` make stale once loaded
    (`rereview.later_loaded`), each with its workbook read anew from the inputs folder, found by
    its bytes wherever it now is; those not found, or whose entity-year no longer reads, go to
    `result.not_compared_again`."""
    from pipeline.review.rereview import stale

    loading = [(s.entity_code, s.reporting_year) for s in subs if s.is_valid]
    later = stale(con, [(entity, year) for entity, year in loading if entity and year])
    if not later:
        return []
    where = {sha: path for path, sha in sorted(shas.items()) if sha}
    found = [(item, where[item.sha256]) for item in later if item.sha256 in where]
    result.not_compared_again = [item for item in later if item.sha256 not in where]
    read = validate_files([path for _, path in found], jobs) if found else []
    out = []
    for (item, _), sub in zip(found, read, strict=True):
        if sub.readable and (sub.entity_code, sub.reporting_year) == (item.entity, item.year):
            sub.sha256 = item.sha256
            out.append((item, sub))
        else:
            result.not_compared_again.append(item)
    return out


def _rewrite_later_reports(con, later: list, done: list, report_dir: Path) -> None:
    """The issues.csv and annotated.xlsx of each later year whose flags comparing it again changed,
    written anew from its findings as the warehouse now holds them (a withdrawn flag gone, a new
    one there): the report the analyst sends back says what `gtb status` says. It goes to the
    folder of that name in this run's reports folder (`report_dir`): the one recorded when it lies
    there, else (the outputs moved, or another `--outputs` given) the same name here, and the
    submission then records it there. A folder held by another file's report is left alone."""
    from pipeline.intake.findings import Finding
    from pipeline.intake.reports import claimant, report_owner, write_reports

    here = report_dir.resolve()
    todo: list[Submission] = []
    folders: dict[int, Path] = {}
    for (item, sub), compared in zip(later, done, strict=True):
        if not (compared.withdrawn or compared.raised) or not item.report_path:
            continue
        recorded = Path(item.report_path)
        folder = (
            recorded if recorded.is_absolute() and recorded.parent.resolve() == here else report_dir / recorded.name
        )
        if claimant(folder) not in (None, report_owner(sub)):
            continue
        if folder != recorded:
            con.execute(
                "UPDATE submissions SET report_path = ? WHERE submission_id = ?", [str(folder), item.submission_id]
            )
        rows = con.execute(
            "SELECT sheet, cell, excel_row, column_header, value, code, severity, message FROM findings "
            "WHERE submission_id = ?",
            [item.submission_id],
        ).fetchall()
        sub.findings = [
            Finding(sub.file_name, sheet or "", cell or "", row, column or "", value or "", code, severity, message)
            for sheet, cell, row, column, value, code, severity, message in rows
        ]
        folders[len(todo)] = folder
        todo.append(sub)
    if todo:
        write_reports(todo, report_dir, folders, claim=True)


def _named_for_another(con, files: dict[Path, str], root: Path) -> list[tuple[str, str, str, int, str]]:
    """Each of `files` (skipped: their bytes are recorded) that was never read where it is, and
    whose folder (named after a year) or name (an entity code or a year first,
    `cross_checks.named_in`) says another year or entity than the submission last recorded with
    its bytes: (file under `root`, that submission's file, entity, year, what the file says).
    Last year's workbook sent unchanged as this year's is not read again (its bytes are on
    record), but it is told rather than counted unchanged. A file read where it is had its
    verdict then (`year-mismatch`, `file-name-mismatch`)."""
    from pipeline import codelists
    from pipeline.intake.cross_checks import folder_year, named_in
    from pipeline.warehouse.load import recorded_path

    if not files:
        return []
    recorded = {
        sha: (name, entity, year)
        for sha, name, entity, year in con.execute(
            "SELECT sha256, arg_max(file_name, submission_id), arg_max(entity_code, submission_id),"
            " arg_max(reporting_year, submission_id) FROM submissions WHERE sha256 IN (SELECT unnest(?))"
            " GROUP BY sha256",
            [sorted(set(files.values()))],
        ).fetchall()
    }
    read_at = set(
        con.execute(
            "SELECT sha256, file_path FROM submissions WHERE sha256 IN (SELECT unnest(?))",
            [sorted(set(files.values()))],
        ).fetchall()
    )
    entities = set(codelists.codes("entities"))
    out = []
    for f, sha in files.items():
        name, entity, year = recorded.get(sha, ("", None, None))
        where = f.relative_to(root)
        here = recorded_path(f, root)  # as the load records a file's path
        if not entity or not year or {(sha, here), (sha, safe.file_name(here))} & read_at:
            continue
        folder = folder_year(f)
        in_folder = str(folder) if folder is not None and folder != year else ""
        named_entity, named_year = named_in(Path(safe.file_name(f.name)).stem, entities)
        named = " ".join(str(v) for v in (named_entity, named_year) if v is not None and v not in (entity, year))
        if in_folder and named == in_folder:
            said = f"its folder and name say {in_folder}"
        else:
            said = " and ".join(
                [f"its folder says {in_folder}"] * bool(in_folder) + [f"its name says {named}"] * bool(named)
            )
        if said:
            out.append((where.as_posix(), name, entity, year, said))
    return out


def _superseded_again(con, files: dict[Path, str]) -> list[tuple[str, str]]:
    """(file, the superseded submission it repeats) for each of `files` (their hashes those of
    superseded submissions) that was sent back: under another name, or under its own name after
    a later version had been submitted under that name. It is not read (the version that replaced
    it stays), and the run says so. An old version left where it was is not named."""
    if not files:
        return []
    names = dict(
        con.execute(
            "SELECT sha256, list(file_name ORDER BY submission_id) FROM submissions "
            "WHERE status = 'superseded' AND sha256 IN (SELECT unnest(?)) GROUP BY sha256",
            [sorted(set(files.values()))],
        ).fetchall()
    )
    shown = {f: safe.file_name(f.name) for f in files}
    latest = dict(
        con.execute(  # the bytes last submitted under each name
            "SELECT file_name, arg_max(sha256, submission_id) FROM submissions "
            "WHERE file_name IN (SELECT unnest(?)) GROUP BY file_name",
            [sorted(set(shown.values()))],
        ).fetchall()
    )
    out = []
    for f, sha in files.items():
        recorded = names.get(sha) or []
        if recorded and (shown[f] not in recorded or latest.get(shown[f]) != sha):
            out.append((shown[f], recorded[-1]))
    return out


def _recorded_folders(con, report_dir: Path) -> dict[str, set[str]]:
    """Report folder name (lower case) -> the files (`reports.report_owner`) whose report the
    database records in a folder of that name in `report_dir` (a relative path recorded is taken
    to be there): a later file's report goes elsewhere, and a file read again (a rejection) finds
    its own. Files that could not be read are known by their folder's `submission.txt` alone
    (their folders carry a hash of their path)."""
    from pipeline.intake.reports import owner_of_bytes

    here = report_dir.resolve()
    parents: dict[PurePath, bool] = {}
    out: dict[str, set[str]] = {}
    for path, sha in con.execute(
        "SELECT DISTINCT report_path, sha256 FROM submissions WHERE report_path IS NOT NULL AND sha256 <> ''"
    ).fetchall():
        recorded = PurePath(path)
        if recorded.is_absolute() and recorded.parent not in parents:
            parents[recorded.parent] = Path(recorded.parent).resolve() == here
        if recorded.is_absolute() and not parents[recorded.parent]:
            continue  # another outputs folder's
        name = recorded.name.lower()
        if name:
            out.setdefault(name, set()).add(owner_of_bytes(sha))
    return out


def _settle(result: RunResult, subs: list[Submission], folders: dict[int, Path], recorded) -> None:
    """What became of each file read: loaded, rejected (new or on record before), replaced."""
    from pipeline.intake.findings import sort_key

    result.loaded = [s.file_name for s in subs if s.is_valid]
    replaced = set(recorded.replaced)
    repeated = set(recorded.repeated)
    for i, s in enumerate(subs):
        if s.is_valid:
            if s.warnings:
                warning = next(f for f in sorted(s.findings, key=sort_key) if not f.is_error)
                said = f"{f'{warning.where}: ' if warning.sheet else ''}{warning.message}"
                result.warned.append((s.file_name, s.warnings, str(folders[i]), said))
            continue
        if s.sha256 in replaced:
            result.replaced.append(s.file_name)
            continue
        result.rejected.append((s.file_name, s.errors, str(folders[i])))
        if i in repeated:
            result.repeated_rejections.append(s.file_name)
        else:
            first = next((f for f in sorted(s.findings, key=sort_key) if f.is_error), None)  # issues.csv's first
            shown = f"{f'{first.where}: ' if first.sheet else ''}{first.message}" if first else ""
            result.new_rejections.append((s.file_name, s.errors, str(folders[i]), shown))
    result.superseded = len(recorded.superseded)
    result.superseded_files = list(recorded.superseded_files)


Figures = dict[tuple[str, int], tuple[float | None, float | None]]


def _figures(con, subs: list[Submission], superseded: bool = True) -> Figures:
    """(total tCO2e, per capita) of the loaded entity-years that valid workbooks of this run replace."""
    keys = {(s.entity_code, s.reporting_year) for s in subs if s.is_valid and s.entity_code and s.reporting_year}
    if not keys:
        return {}
    rows = con.execute(
        "SELECT entity_code, year, total_tco2e, per_capita_tco2e FROM entity_indicators"
        " WHERE (entity_code, year) IN (SELECT (unnest(?), unnest(?)))",
        [[k[0] for k in keys], [k[1] for k in keys]],
    ).fetchall()
    return {(e, y): (t, p) for e, y, t, p in rows}


def _changes(before: Figures, after: Figures) -> list[Change]:
    """Each replaced entity-year with its total and per capita before and after (`Figures` are
    (total, per capita) pairs; `Change` takes the totals first, then the figures per capita)."""
    out = []
    for entity, year in sorted(before):
        total_before, per_capita_before = before[(entity, year)]
        total_after, per_capita_after = after.get((entity, year), (None, None))
        out.append(Change(entity, year, total_before, total_after, per_capita_before, per_capita_after))
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_with_progress(
    files: list[Path],
    jobs: int,
    console: Console,
    validate_files: Callable[..., list[Submission]],
    tell: ProgressHook,
) -> list[Submission]:
    if not files:
        return []
    columns = (TextColumn("reading workbooks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    done = [0]

    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("validate", total=len(files))

        def advance(_path: Path) -> None:
            progress.advance(task)
            done[0] += 1
            tell("reading", done[0], len(files))

        return validate_files(files, jobs, on_file=advance, warm_up=_warm_reference)


def _warm_reference() -> None:
    """While the workbooks are read: the pinned factor sets and the airports' countries and
    coordinates that loading and calculating will use."""
    import contextlib

    from pipeline import codelists
    from pipeline.reference import air, factors, units

    codelists.airport_countries()
    air.airport_table()
    with contextlib.suppress(Exception):  # a broken set is reported when calculating, as before
        factors.warm_up()
        units.warm_up()


def _history_reports(
    files: list[HistoryFile], report_dir: Path, recorded: dict[str, set[str]] | None = None
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str, str]]]:
    """The issues.csv of each history file rejected or loaded with warnings: ((file, errors,
    folder) of the rejected, (file, warnings, folder, first warning) of the others). Never in a
    folder that holds a workbook's recorded report (`recorded`, `pipeline.intake.reports`)."""
    from pipeline.intake.findings import write_issues_csv
    from pipeline.intake.reports import folder_inside, free_for, prepare_folder

    rejected, warned = [], []
    used: set[str] = set()
    free = free_for(None, recorded or {})
    for hf in files:
        if hf.is_valid and not hf.findings:
            continue
        stem = f"history_{safe.slug(hf.path.stem) or 'file'}"
        folder = folder_inside(report_dir, stem, used, hf.sha256[:8], free)
        prepare_folder(folder)
        write_issues_csv(hf.findings, folder / "issues.csv")
        if hf.is_valid:
            first = hf.findings[0]
            warned.append((hf.name, len(hf.findings), str(folder), f"line {first.row}: {first.message}"))
        else:
            rejected.append((hf.name, sum(f.is_error for f in hf.findings), str(folder)))
    return rejected, warned


def _history_in_workbook_years(
    con: duckdb.DuckDBPyConnection, run_id: int, loaded: list[HistoryFile]
) -> list[tuple[str, int, str, int, str]]:
    """History rows in years that have loaded workbooks: a warning on each row of a history file
    this run loaded (shadowed by the entity's workbook, or counted beside the year's workbooks);
    and (entity, year, file, line, the entity's workbook or '') of the rows of other files in a
    year a workbook of this run loaded into, for the summary."""
    from pipeline.intake.findings import WARNING
    from pipeline.intake.history import LISTED, history_finding
    from pipeline.warehouse.load import history_in_workbook_years

    by_name = {hf.name: hf for hf in loaded}
    said: dict[str, int] = {}
    out = []
    for entity, year, file, line, workbook, new in history_in_workbook_years(con, run_id):
        hf = by_name.get(file)
        if hf is None:
            out += [(entity, year, file, line, workbook)] if new else []
            continue
        said[file] = said.get(file, 0) + 1
        if said[file] > LISTED:
            continue
        message_id = "duplicate-submission.history-shadowed" if workbook else "year-mismatch.history-workbook-year"
        hf.findings.append(
            history_finding(
                hf.path, message_id, line, "year", year, entity=entity, year=year, workbook=workbook, severity=WARNING
            )
        )
    for file, count in said.items():
        if count > LISTED:
            hf = by_name[file]
            hf.findings.append(
                history_finding(
                    hf.path, "more-findings.history-rows", count=count - LISTED, listed=LISTED, severity=WARNING
                )
            )
    return out


def summary_lines(result: RunResult, db: Path) -> list[Text]:
    """What a run prints: the counts, then the files loaded and superseded, each new rejection with
    its first finding, one line for the rejections already on record, the entity-years replaced
    with their figures before and after, and the flags raised."""
    out = [
        Text.from_markup(
            f"[bold]{result.files_seen}[/] workbook{'s' * (result.files_seen != 1)}: "
            f"[green]{len(result.loaded)} loaded[/], "
            f"{len(result.unchanged)} unchanged, [red]{len(result.rejected)} rejected[/], "
            + (f"{len(result.replaced)} replaced, " if result.replaced else "")
            + f"{result.superseded} superseded  ({result.seconds:.1f} s)"
        )
    ]
    if result.loaded:
        out.append(Text("  loaded: " + _names(result.loaded)))
    out += _warned_lines(result)
    if result.superseded_files:
        out.append(Text("  superseded: " + _names(result.superseded_files)))
    for change in result.changes:
        out.append(
            Text(
                f"  {change.entity} {change.year} replaced: "
                f"total {_t(change.total_before)} -> {_t(change.total_after)} tCO2e, "
                f"per capita {_pc(change.per_capita_before)} -> {_pc(change.per_capita_after)} t"
            )
        )
    for name in result.replaced:
        out.append(
            Text(
                f"  replaced {safe.console_safe(name)}: rejected, "
                "and a valid resubmission for its entity and year has loaded"
            )
        )
    for name, errors, folder, first in result.new_rejections:
        out.append(
            Text.from_markup(
                f"  [red]rejected[/] {safe.for_console(name)}: {errors} error{'s' * (errors != 1)}"
                f" -> {safe.for_console(folder)}\n      {safe.for_console(first)}"
            )
        )
    if result.repeated_rejections:
        n = len(result.repeated_rejections)
        out.append(
            Text(
                f"  still rejected, as before: {n} file{'s' * (n != 1)} ({_names(result.repeated_rejections, 5)}); "
                "gtb status lists them"
            )
        )
    if result.flags:
        out.append(
            Text(
                f"  {result.flags} plausibility flag{'s' * (result.flags != 1)} raised: "
                "gtb status shows them, gtb accept closes them"
            )
        )
    for year, sets in result.mixed_sets:
        from pipeline.emissions.calculate import sets_used

        used = sets_used(sets)
        out.append(
            Text.from_markup(
                f"  [yellow]{year} mixes factor sets[/]: {used}; restate the year with one "
                f"(gtb recalculate --year {year} --factor-set SET --reason ...) and pin it"
            )
        )
    if result.delisted:
        ends = ", ".join(
            f"{safe.console_safe(code)} ({f'expected until {until}' if until else 'never expected: no data'})"
            for code, until in result.delisted
        )
        out.append(
            Text.assemble(
                ("  no longer in schemas/codelists/entities.csv", "yellow"),
                f": {ends}; their rows stay, and no later year waits for them (a renamed code starts anew)",
            )
        )
    out += _compared_again_lines(result)
    out += _withdrawn_lines(result)
    out += _not_read_lines(result)
    out += _history_lines(result)
    out.append(Text(f"database: {safe.console_safe(str(db))}"))
    return out


def _warned_lines(result: RunResult, at_most: int = 10) -> list[Text]:
    """The files loaded with warnings (a file name that names another entity, an ambiguous number):
    each with its count, its report folder and its first warning; past `at_most`, a count."""
    out = []
    for name, warnings, folder, first in result.warned[:at_most]:
        out.append(
            Text.from_markup(
                f"  [yellow]loaded with {warnings} warning{'s' * (warnings != 1)}[/] {safe.for_console(name)}"
                f" -> {safe.for_console(folder)}\n      {safe.for_console(first)}"
            )
        )
    if len(result.warned) > at_most:
        more = len(result.warned) - at_most
        out.append(Text(f"  and {more} more file{'s' * (more != 1)} loaded with warnings: see their issues.csv"))
    return out


def _compared_again_lines(result: RunResult, at_most: int = 10) -> list[Text]:
    """The later years compared again with an earlier year the run loaded, and those that could not
    be (their workbook is no longer in the inputs folder as it was loaded)."""
    out = []
    for done in result.compared_again:
        what = f"{done.withdrawn} flag{'s' * (done.withdrawn != 1)} withdrawn, {done.raised} raised"
        out.append(
            Text(
                f"  {done.entity} {done.year} compared again with {done.entity} {done.earlier_year} as it now stands: "
                + (what if done.withdrawn or done.raised else "its flags stand as they were")
            )
        )
    for item in result.not_compared_again[:at_most]:
        out.append(
            Text.from_markup(
                f"  [yellow]{item.entity} {item.year} not compared again[/] with {item.entity} {item.earlier_year} "
                f"as it now stands: its workbook {safe.for_console(item.file_path)} is no longer in the inputs "
                "folder as it was loaded; its flags compare with the figures before (put the file back and run again)"
            )
        )
    if len(result.not_compared_again) > at_most:
        more = len(result.not_compared_again) - at_most
        out.append(
            Text(f"  and {more} more later year{'s' * (more != 1)} not compared again (workbooks not in the inputs)")
        )
    return out


def _withdrawn_lines(result: RunResult, at_most: int = 10) -> list[Text]:
    """The rejected files the run found taken out of the inputs (they no longer stand: the tracker
    and the report's completeness leave them out), and those found back (they stand again)."""
    out = []
    for items, what in (
        (result.withdrawn, "no longer in the inputs folder: withdrawn, it no longer stands"),
        (result.withdrawn_back, "back in the inputs folder: it stands again"),
    ):
        for entity, year, name, _ in items[:at_most]:
            whose = f"{safe.console_safe(entity)} {year}'s" if entity and year else "unattributed"
            out.append(Text(f"  rejected {safe.console_safe(name)} ({whose}) {what}"))
        if len(items) > at_most:
            out.append(Text(f"  and {len(items) - at_most} more rejected files " + what.split(":")[0]))
    return out


def _not_read_lines(result: RunResult, at_most: int = 10) -> list[Text]:
    """The files of the submissions folder the run did not read, and why: not spreadsheets, earlier
    versions sent back, byte-identical copies of another file of the run, files with the bytes of
    a recorded submission whose folder or name says another year or entity."""
    out = [Text("  not read (not a spreadsheet): " + _names(result.not_read))] if result.not_read else []
    if result.gone:
        out.append(
            Text("  not read (taken out of the inputs folder before this run could read it): " + _names(result.gone))
        )
    for file, earlier, entity, year, said in result.elsewhere:
        out.append(
            Text.from_markup(
                f"  [yellow]{safe.for_console(file)}[/]: the same bytes as {safe.for_console(earlier)}, recorded "
                f"as {safe.for_console(entity)} {year}'s, but {safe.for_console(said)}; not read again: if it was "
                "sent as another year's or entity's workbook, ask for the right one"
            )
        )
    for again, earlier in result.superseded_again:
        out.append(
            Text(
                f"  {safe.console_safe(again)}: the same bytes as {safe.console_safe(earlier)}, which a later "
                "submission replaced; not loaded again (to go back to it, open it, save it and submit that file)"
            )
        )
    for copy, original in result.copies[:at_most]:
        out.append(Text(f"  {safe.console_safe(copy)}: the same bytes as {safe.console_safe(original)}, read once"))
    if len(result.copies) > at_most:
        out.append(Text(f"  and {len(result.copies) - at_most} more byte-identical copies, each read once"))
    return out


def _history_lines(result: RunResult, at_most: int = 10) -> list[Text]:
    """The history files' part of the summary: the rows loaded, those a file no longer holds
    (moved to another file, or removed), the files no longer in the folder whose rows stay, each
    file rejected or loaded with warnings, and the history rows of years a workbook loaded into."""
    rows = result.history_rows
    out = [Text(f"history: {rows} row{'s' * (rows != 1)} loaded")] if rows else []
    for name, rows in result.history_removed:
        out.append(
            Text(
                f"  {safe.console_safe(name)}: {rows} row{'s' * (rows != 1)} loaded from it before "
                "no longer in it, removed"
            )
        )
    for name, now, rows in result.history_moved:
        out.append(
            Text(f"  {safe.console_safe(name)}: {rows} row{'s' * (rows != 1)} now loaded from {safe.console_safe(now)}")
        )
    for name, rows, low, high in result.history_missing:
        years = f"{low}" if low == high else f"{low}-{high}"
        out.append(
            Text.from_markup(
                f"  [yellow]no longer in the history folder[/] {safe.for_console(name)}: its {rows} "
                f"row{'s' * (rows != 1)} ({years}) stay loaded; put the file back, or move the rows into "
                "another history file (they then load from it)"
            )
        )
    if result.history_not_read:
        out.append(
            Text(
                "  not read (history takes the .csv files of the history folder itself): "
                + _names(result.history_not_read)
            )
        )
    for name, errors, folder in result.history_rejected:
        out.append(
            Text.from_markup(
                f"  [red]rejected[/] {safe.for_console(name)}: {errors} error{'s' * (errors != 1)} "
                f"-> {safe.for_console(folder)}"
            )
        )
    for name, warnings, folder, first in result.history_warned:
        out.append(
            Text.from_markup(
                f"  [yellow]loaded with {warnings} warning{'s' * (warnings != 1)}[/] {safe.for_console(name)}"
                f" -> {safe.for_console(folder)}\n      {safe.for_console(first)}"
            )
        )
    return out + _history_beside_lines(result, at_most)


def _history_beside_lines(result: RunResult, at_most: int) -> list[Text]:
    """The history rows of years a workbook of this run loaded into: shadowed by the entity's
    workbook, or counted beside the year's workbooks (the year then has no scope split)."""
    out = []
    for entity, year, file, line, workbook in result.history_beside[:at_most]:
        row = f"  history row {safe.console_safe(entity)} {year} ({safe.console_safe(file)}, line {line})"
        if workbook:
            out.append(Text(f"{row}: {safe.console_safe(workbook)} takes precedence; the row stays on record only"))
        else:
            out.append(
                Text(
                    f"{row}: counted beside {year}'s workbooks, and {year} loses its scope split; "
                    f"remove it unless {safe.console_safe(entity)} sends no workbook for {year}"
                )
            )
    if len(result.history_beside) > at_most:
        out.append(Text(f"  and {len(result.history_beside) - at_most} more history rows in years with workbooks"))
    return out


def _names(names: list[str], at_most: int = 10) -> str:
    shown = ", ".join(safe.console_safe(n) for n in names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _t(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _pc(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def print_run_summary(result: RunResult, db: Path, console: Console) -> None:
    for line in summary_lines(result, db):
        console.print(line)
