"""The library behind the `gtb` command: one function per command, of the same name.

Notebooks call these directly; `pipeline.cli` only parses arguments and maps results to exit
codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from pipeline.errors import GtbError
from pipeline.intake.validate import Submission
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS, VALIDATION_FOLDER
from pipeline.workers import default_jobs
from schemas.i18n import LANGS

if TYPE_CHECKING:
    from pipeline.intake.excerpt import Excerpt
    from pipeline.portal.accounts import PortalUser
    from pipeline.report.build import ReportResult
    from pipeline.report.export import ExportResult
    from pipeline.run import Reviewer, RunResult


def template(
    entity: str,
    year: int,
    output: Path | None = None,
    lang: str = "en",
    db: Path | None = None,
    *,
    inputs: Path | None = None,
    file_name: str | None = None,
) -> Path:
    """Write the submission workbook for `entity` and `year` in `lang` (en, fr, es); with `db`, a
    read-only sheet of the entity's previous year as loaded there. The deadline and contact are
    those of the reporting cycle of `inputs` (`inputs/reporting_cycle.toml` by default);
    `file_name` is the name the Instructions sheet says to save it under (the output's name by
    default)."""
    from pipeline.intake import template as template_module

    previous = None
    if db is not None:
        from pipeline.review.last_year import last_year

        if not Path(db).exists():
            raise GtbError(f"no database at {db}: run `gtb run` first (or leave out --db)")
        try:
            code = template_module.check_arguments(entity, year, lang)
        except ValueError as exc:
            raise GtbError(str(exc)) from None
        previous = last_year(Path(db), code, year)
    try:
        cycle = template_module.reporting_cycle(Path(inputs)) if inputs is not None else None
        return template_module.template(
            entity, year, output, lang=lang, previous=previous, cycle=cycle, file_name=file_name
        )
    except ValueError as exc:
        raise GtbError(str(exc)) from None


@contextmanager
def warehouse_held(db: Path = DEFAULT_DB) -> Iterator[None]:
    """A reader's hold on the warehouse for the block, when it exists: no run starts writing
    meanwhile (the portal takes an accepted file out of the inputs under it, so that a run never
    lists a file it then cannot find). `GtbError` (`DatabaseBusy`) while a run holds it."""
    from pipeline.warehouse.db import read_lock

    if not Path(db).exists():
        yield
        return
    with read_lock(Path(db)):
        yield


def last_year_key(entity: str, year: int, db: Path = DEFAULT_DB) -> str:
    """What the template's last-year sheet of `entity` for `year` is made from, as a short key
    ("" when the warehouse holds no earlier year of the entity): the submission loaded for its
    latest earlier year and the recalculations since. A template made with one key is the same
    as long as the key is. Raises GtbError when the warehouse cannot be read (a run holds it)."""
    from pipeline.review.last_year import previous_submission
    from pipeline.warehouse.db import opened

    if not Path(db).exists():
        return ""
    with opened(Path(db), read_only=True) as con:
        found = previous_submission(con, entity.strip().upper(), int(year))
        recalculated = con.execute("SELECT count(*) FROM recalculations").fetchone()
    return f"s{found[0]}r{recalculated[0] if recalculated else 0}" if found else ""


def check_files(
    files: list[Path],
    jobs: int | None = None,
    on_file: Callable[[Path], object] | None = None,
    lang: str | None = None,
    unread_lang: str | None = None,
) -> list[Submission]:
    """Guard, read, normalise (in worker processes) and validate workbooks; no reports, no database.
    Findings are written in each workbook's language, or in `lang`; a file that cannot be read
    has no language of its own, and its finding is in `lang`, else `unread_lang`, else English."""
    from pipeline.intake.validate import validate_files

    return validate_files([Path(f) for f in files], jobs or default_jobs(), on_file, lang=lang, unread_lang=unread_lang)


@dataclass
class UploadCheck:
    """What `check_upload` found: the validated submission (its findings sorted by sheet, row and
    column), the folder holding its issues.csv and annotated.xlsx, the excerpts around the first
    findings, and whether the comparison with the previous year was made (`note` says why not)."""

    submission: Submission
    folder: Path
    excerpts: dict[tuple[str, str], Excerpt]
    compared: bool
    note: str = ""


def check_upload(
    file: Path,
    report_dir: Path,
    entity: str,
    year: int,
    *,
    db: Path | None = None,
    name: str | None = None,
    reviewer: Reviewer | None = None,
    excerpts: int = 200,
    unread_lang: str | None = None,
) -> UploadCheck:
    """One workbook uploaded to the submission portal for `entity` and `year`: the guard, reader
    and validation of `gtb validate` (in the isolated workers); an error where the workbook names
    another entity or year; with `db`, the plausibility flags against the entity's previous year
    (read only, through `reviewer` when given); issues.csv and annotated.xlsx in a folder below
    `report_dir`; and the cells around the first `excerpts` findings (read in a worker too).
    `name` is how the reports name the file (the name it was uploaded under); `unread_lang`, the
    language of the verdict on a file that cannot be read (the page's, where it was uploaded)."""
    import dataclasses

    from pipeline.intake.cross_checks import expected_entity_and_year, unpinned_year_findings
    from pipeline.intake.excerpt import read_excerpts
    from pipeline.intake.findings import sort_key
    from pipeline.intake.reports import write_reports
    from pipeline.run import review_without_loading

    [sub] = check_files([Path(file)], jobs=1, unread_lang=unread_lang)
    if name:
        sub.file_name = name
        sub.findings = [dataclasses.replace(f, file=name) for f in sub.findings]
    expected_entity_and_year([sub], entity.strip().upper(), int(year))
    unpinned_year_findings([sub])
    compared, note = False, ""
    if db is not None and sub.is_valid:
        try:
            # a serial another submission holds (not saying whose: a focal point's upload), then the flags
            if reviewer is not None:
                reviewer.check([sub], Path(db), name_others=False)
            else:
                review_without_loading([sub], Path(db), name_others=False)
            compared = True
        except GtbError as exc:
            note = str(exc)
    elif db is None:
        note = "no database to compare with"
    sub.findings.sort(key=sort_key)
    folder = write_reports([sub], Path(report_dir))[0]
    cells = list(dict.fromkeys((f.sheet, f.cell) for f in sub.findings[:excerpts] if f.sheet and f.cell))
    found = read_excerpts(Path(sub.path), cells) if sub.readable else {}
    return UploadCheck(sub, folder, found, compared, note)


def reviewer() -> Reviewer:
    """A plausibility reviewer for many `check_upload` calls: it keeps one private copy of the
    database open while the database is unchanged (close it when done)."""
    from pipeline.run import Reviewer

    return Reviewer()


def use_reference(inputs: Path) -> bool:
    """From now on in this process, price with the factor pins and sets of `inputs/reference/`
    where it holds them, as `run(inputs)` does (the portal's process, once, at its start);
    whether they are read."""
    from pipeline.reference.factors import use_reference as use

    return use(Path(inputs) / "reference")


def template_languages() -> tuple[str, ...]:
    """The languages `template` writes."""
    from pipeline.intake.template import SUPPORTED_LANGS

    return tuple(SUPPORTED_LANGS)


def validate(
    files: list[Path],
    report_dir: Path | None = None,
    jobs: int | None = None,
    console: Console | None = None,
    db: Path | None = None,
    lang: str | None = None,
) -> list[Submission]:
    """`gtb validate`: check workbooks against the contract and write their reports; with `db`,
    also compare each valid workbook with its entity's previous year in that database (read only).
    Findings come in each workbook's language (its sheet names), or in `lang`."""
    from pipeline.intake.cross_checks import claims_findings, folder_and_name_findings, unpinned_year_findings
    from pipeline.intake.reports import print_summary, write_reports
    from pipeline.run import review_without_loading

    if not files:
        raise GtbError("no workbook given: gtb validate FILE...")
    if lang is not None and lang not in LANGS:
        raise GtbError(f"language {lang!r} is not supported; supported: {', '.join(LANGS)}")
    subs = check_files(files, jobs, lang=lang)
    folder_and_name_findings(subs)
    unpinned_year_findings(subs)
    if db is not None:  # the serials loaded there too, then the flags: as gtb run would say
        review_without_loading(subs, Path(db))
    else:  # a serial claimed twice among the files, as gtb run would say (which files it reads
        # again, and so which make duplicates, only the warehouse knows: --db)
        claims_findings(subs, message_id="duplicate-submission.checked", known=None)
    folders = write_reports(subs, Path(report_dir) if report_dir else DEFAULT_OUTPUTS / VALIDATION_FOLDER)
    print_summary(subs, folders, console)
    return subs


def run(
    inputs: Path = DEFAULT_INPUTS,
    db: Path = DEFAULT_DB,
    outputs: Path = DEFAULT_OUTPUTS,
    jobs: int | None = None,
    console: Console | None = None,
    progress: Callable[[str, int, int], object] | None = None,
) -> RunResult:
    """`gtb run`: validate every submission, load the valid ones, calculate emissions;
    `progress(stage, done, total)` hears of the stages as they pass (pipeline.run.run)."""
    from pipeline.run import run as run_pipeline

    return run_pipeline(Path(inputs), Path(db), Path(outputs), jobs=jobs, console=console, progress=progress)


def recalculate(year: int, factor_set: str, reason: str, db: Path = DEFAULT_DB, inputs: Path | None = None) -> dict:
    """`gtb recalculate`: recalculate a past year with another factor set (logged). With `inputs`
    (the command line's `--inputs`, default inputs/), the factor sets are those `run(inputs)`
    reads: `inputs/reference/` where it holds them, else the repository's; without, those this
    process reads already."""
    from pipeline.emissions.calculate import recalculate as recalc
    from pipeline.indicators.views import create_views
    from pipeline.reference.factors import reference_folder
    from pipeline.warehouse.db import opened

    if not reason.strip():
        raise GtbError("give a --reason: every recalculation is logged with why it was done")
    reference = reference_folder(Path(inputs) / "reference") if inputs is not None else nullcontext()
    with reference, opened(Path(db), create=False) as con:
        create_views(con)
        try:
            return recalc(con, year, factor_set, reason)
        except ValueError as exc:
            raise GtbError(str(exc)) from None


def indicators(year: int, entity: str | None = None, db: Path = DEFAULT_DB) -> dict:
    """`gtb indicators`: the year's row of system_indicators (or an entity's row), JSON-ready."""
    from pipeline.indicators import indicators as indicator_row

    return indicator_row(year, entity, Path(db))


def report(
    year: int, db: Path = DEFAULT_DB, outputs: Path = DEFAULT_OUTPUTS, jobs: int | None = None, final: bool = False
) -> ReportResult:
    """`gtb report`: the year's charts, tables and entity factsheets under `{outputs}/report/{year}/`;
    a draft while plausibility flags of the year are open, a workbook of the year was not compared
    again since an earlier year changed, or its workbooks use two factor sets or more (`final`
    refuses then: `OpenFlags`, or a GtbError saying why)."""
    from pipeline.report.build import report as build_report

    return build_report(year, Path(db), Path(outputs), jobs=jobs, final=final)


def export(year: int, db: Path = DEFAULT_DB, outputs: Path = DEFAULT_OUTPUTS, fmt: str = "parquet") -> ExportResult:
    """`gtb export`: the year's published data (indicator views, activity and emissions rows, the
    factors used) as Parquet or CSV with a Frictionless `datapackage.json`, in `{outputs}/export/{year}/`."""
    from pipeline.report.export import export as write_export

    return write_export(int(year), Path(db), Path(outputs), fmt)


def status(year: int, db: Path = DEFAULT_DB) -> list:
    """`gtb status`: every entity expected for `year` and where its submission stands."""
    from pipeline.review.status import status as tracker
    from pipeline.warehouse.db import opened

    with opened(Path(db), read_only=True) as con:
        return tracker(con, int(year))


def unattributed(year: int, db: Path = DEFAULT_DB) -> list:
    """`gtb status`, after the entities: the rejected files of `year` whose entity or year could
    not be read, which no entity's row shows."""
    from pipeline.review.status import unattributed as files
    from pipeline.warehouse.db import opened

    with opened(Path(db), read_only=True) as con:
        return files(con, int(year))


def tracker(year: int, db: Path = DEFAULT_DB):
    """`gtb status`, whole: the entities' rows (`status`), the rejected files no row shows
    (`unattributed`), whether any run has completed, and the year's factor sets when it mixes two
    or more, read on one connection so that they agree."""
    from pipeline.emissions.calculate import year_mixed_sets
    from pipeline.review.status import Tracker, no_run_completed
    from pipeline.review.status import status as rows_of
    from pipeline.review.status import unattributed as files
    from pipeline.warehouse.db import opened

    with opened(Path(db), read_only=True) as con:
        year = int(year)
        return Tracker(rows_of(con, year), files(con, year), no_run_completed(con), year_mixed_sets(con, year))


@dataclass(frozen=True)
class RecordedFile:
    """A file the warehouse has recorded (`submissions`): a run never reads the same bytes twice."""

    file_name: str
    entity_code: str | None
    reporting_year: int | None
    status: str  # loaded, rejected or superseded
    received_at: object


def recorded(sha256: str, db: Path = DEFAULT_DB) -> RecordedFile | None:
    """The submission recorded with these bytes (the latest, if recorded more than once), or None:
    such bytes are "unchanged" to every later run, whatever their file name."""
    from pipeline.warehouse.db import opened

    if not Path(db).exists():
        return None
    with opened(Path(db), read_only=True) as con:
        row = con.execute(
            """SELECT file_name, entity_code, reporting_year, status, received_at FROM submissions
               WHERE sha256 = ? ORDER BY submission_id DESC LIMIT 1""",
            [sha256],
        ).fetchone()
    return RecordedFile(*row) if row else None


def accept(
    entity: str,
    year: int,
    reason: str,
    db: Path = DEFAULT_DB,
    by: str | None = None,
    file_name: str | None = None,
    sha256: str | None = None,
):
    """`gtb accept`: accept an entity's loaded submission of a year, closing its open flags (logged).
    With `file_name` and/or `sha256` (the start of its bytes' SHA-256, as `gtb compare` shows it),
    only while that workbook is the loaded submission, checked on the connection that closes the
    flags: a GtbError with `loaded` and `named` (`NotTheLoadedFile`) when a run loaded another
    since the caller showed it."""
    from pipeline.review.flags import accept as accept_submission
    from pipeline.warehouse.db import opened

    with opened(Path(db), create=False) as con:
        return accept_submission(con, entity, int(year), reason, by, file_name=file_name, sha256=sha256)


def compare(entity: str, year: int, db: Path = DEFAULT_DB):
    """`gtb compare`: an entity's indicators for the year and its latest loaded year before (a
    rejected or missing year skipped; else its latest published year), with the change."""
    from pipeline.review.compare import compare as compare_years
    from pipeline.warehouse.db import opened

    with opened(Path(db), read_only=True) as con:
        return compare_years(con, entity, int(year))


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    inputs: Path = DEFAULT_INPUTS,
    outputs: Path = DEFAULT_OUTPUTS,
    db: Path = DEFAULT_DB,
    on_ready: Callable[[str], object] | None = None,
) -> None:
    """`gtb serve`: the submission portal on a production WSGI server until interrupted; its own
    state under `{outputs}/portal/` (PostgreSQL instead when DATABASE_URL is set)."""
    from pipeline.portal.server import serve as run_server

    run_server(host, int(port), Path(inputs), Path(outputs), Path(db), on_ready)


def users_add(
    username: str,
    entities: list[str] | None = None,
    analyst: bool = False,
    password: str | None = None,
    outputs: Path = DEFAULT_OUTPUTS,
    replace: bool = False,
) -> tuple[PortalUser, str]:
    """`gtb users add`: a portal account bound to `entities` (a focal point) or an analyst; returns
    the account and its password (`password`, or one made up when None)."""
    from pipeline.portal.accounts import add_user

    return add_user(username, list(entities or []), analyst, password, Path(outputs), replace)


def users_list(outputs: Path = DEFAULT_OUTPUTS) -> list[PortalUser]:
    """`gtb users list`: the portal's accounts, their entities or role, last sign-in and lockout."""
    from pipeline.portal.accounts import list_users

    return list_users(Path(outputs))


def users_disable(username: str, outputs: Path = DEFAULT_OUTPUTS) -> PortalUser:
    """`gtb users disable`: the account can no longer sign in and its open sessions end; its
    uploads and audit entries stay (`gtb users add --replace` enables it again)."""
    from pipeline.portal.accounts import disable_user

    return disable_user(username, Path(outputs))
