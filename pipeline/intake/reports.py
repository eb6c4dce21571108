"""Validation reports: per workbook an `issues.csv` and an `annotated.xlsx`, and a console summary.

Folder per workbook: `{report_dir}/{ENTITY}_{YEAR}/` (the file's stem and a short hash of its bytes
when entity or year cannot be read). When two files of one call share a folder name, the later one
gets `_{the first 8 hex digits of its SHA-256}` appended so that no report overwrites another.
A folder whose report `gtb run` recorded for a submission (`submissions.report_path`) stays that
submission's: its `submission.txt` names the file it reports on, and any other file's report
(a resubmission, a file that names another year or entity) goes to a folder with its short hash
appended, by `gtb run` as by `gtb validate`. The same file read again keeps its folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console

from pipeline import catalogue, safe, terminal
from pipeline.intake.findings import sort_key, write_issues_csv
from pipeline.intake.validate import Submission
from pipeline.intake.verdict import write_verdict

FIRST_FINDINGS = 5
OWNER_FILE = "submission.txt"  # in a folder `gtb run` recorded: the file whose report it holds


def report_owner(sub: Submission) -> str:
    """Whose report a folder holds: the file's SHA-256, or its path's when it could not be read."""
    if sub.sha256:
        return owner_of_bytes(sub.sha256)
    return f"path {hashlib.sha256(sub.path.encode('utf-8', 'surrogateescape')).hexdigest()}"


def owner_of_bytes(sha256: str) -> str:
    """`report_owner` of the file whose bytes have this SHA-256."""
    return f"sha256 {sha256}"


def report_folders(
    subs: list[Submission], report_dir: Path, recorded: Mapping[str, set[str]] | None = None
) -> dict[int, Path]:
    """One distinct folder per submission (by position in `subs`), strictly inside `report_dir`.

    `{ENTITY}_{YEAR}` when both could be read, else a slug of the file's stem plus a short hash
    of its bytes (or of its path, when it could not be read): never empty, never dot-only,
    letters, digits, '_' and '-' only. Two submissions of one call never share a folder, and a
    folder that holds another file's recorded report is never taken: one whose `submission.txt`
    names another file, or that `recorded` (folder name -> the `report_owner`s the database
    records there) gives to others only. Such a submission gets the short hash appended.
    """
    claims = {name.lower(): owners for name, owners in (recorded or {}).items()}
    used: set[str] = set()
    out: dict[int, Path] = {}
    for i, sub in enumerate(subs):
        short = (sub.sha256 or hashlib.sha256(sub.path.encode("utf-8", "surrogateescape")).hexdigest())[:8]
        if sub.entity_code and sub.reporting_year:
            base = safe.slug(f"{sub.entity_code}_{sub.reporting_year}")
        else:
            base = f"{safe.slug(Path(sub.file_name).stem) or 'file'}_{short}"
        out[i] = folder_inside(report_dir, base, used, short, free_for(report_owner(sub), claims))
    return out


def free_for(owner: str | None, claims: Mapping[str, set[str]]) -> Callable[[Path], bool]:
    """Whether a folder may take the report of `owner` (None: a report that is no submission's):
    not recorded for others only (`claims`, by lower-case name), and no `submission.txt` in it
    naming another (one that is not a plain file is nobody's to replace)."""

    def free(folder: Path) -> bool:
        owners = claims.get(folder.name.lower())
        if owners and owner not in owners:
            return False
        claimed = claimant(folder)
        return claimed is None or claimed == owner

    return free


def claimant(folder: Path) -> str | None:
    """The `report_owner` the folder's `submission.txt` names; None without one; '?' when it
    cannot be read or is not a plain file."""
    marker = folder / OWNER_FILE
    if not marker.is_symlink() and not marker.exists():
        return None
    if marker.is_symlink() or not marker.is_file():
        return "?"
    try:
        with marker.open(encoding="utf-8", errors="replace") as fh:
            return fh.readline(200).strip() or "?"
    except OSError:
        return "?"


def folder_inside(
    report_dir: Path, base: str, used: set[str], short: str, free: Callable[[Path], bool] | None = None
) -> Path:
    """`report_dir/base`, or `base_short`, `base_short_2`... when taken in this call, not a plain
    folder, or not `free` (another file's report)."""
    name, n = base, 1
    while name.lower() in used or not _usable(report_dir / name) or (free and not free(report_dir / name)):
        n += 1
        name = f"{base}_{short}" if n == 2 else f"{base}_{short}_{n}"
    used.add(name.lower())
    folder = report_dir / name
    if folder.resolve().parent != report_dir.resolve():  # slugs cannot escape; checked all the same
        raise AssertionError(f"report folder {folder} is not inside {report_dir}")
    return folder


def _usable(folder: Path) -> bool:
    """A folder the pipeline may write into: absent, or a real directory (not a link, not a file)."""
    return not folder.is_symlink() and (folder.is_dir() or not folder.exists())


REPORT_FILES = ("issues.csv", "annotated.xlsx")


def prepare_folder(folder: Path) -> None:
    """Create the report folder; a rerun replaces only the files the pipeline writes there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:
        (folder / name).unlink(missing_ok=True)


def claim_folder(folder: Path, sub: Submission) -> None:
    """Write `submission.txt`: the folder holds `sub`'s recorded report, and no other file's. The
    file's name is written as the console shows it (`cat` prints the file): a line break, a
    terminal escape or a right-to-left override in a name is shown as its escape, never acted on,
    and cannot start a line of its own."""
    marker = folder / OWNER_FILE
    marker.unlink(missing_ok=True)  # a link is replaced, never followed
    name = safe.console_safe(safe.file_name(sub.file_name))
    marker.write_text(f"{report_owner(sub)}\nfile {name}\n", encoding="utf-8")


def write_reports(
    subs: list[Submission], report_dir: Path, folders: dict[int, Path] | None = None, claim: bool = False
) -> dict[int, Path]:
    """Write issues.csv (always) and annotated.xlsx (files that could be opened); with `claim`
    (`gtb run`, which records each folder), each folder's `submission.txt` too.

    A workbook without findings has no cell to mark: its annotated.xlsx is the summary sheet
    alone (`verdict`), as copying it through openpyxl would cost more than validating it
    (docs/decisions.md).
    Annotated copies are written in isolated worker processes (`pipeline.intake.annotate`).
    """
    folders = folders if folders is not None else report_folders(subs, report_dir)
    jobs = []
    for i, sub in enumerate(subs):
        folder = folders[i]
        prepare_folder(folder)
        if claim:
            claim_folder(folder, sub)
        write_issues_csv(sub.findings, folder / "issues.csv")
        if sub.readable and sub.findings:
            jobs.append((Path(sub.path), sub.findings, folder / "annotated.xlsx", sub.lang, sub.file_name))
        elif sub.readable:
            write_verdict(sub.file_name, folder / "annotated.xlsx", sub.lang)
    if jobs:  # openpyxl is imported only when a workbook has findings to mark
        from pipeline.intake.annotate import annotate_many

        annotate_many(jobs)
    return folders


def _console_value(value: object) -> str:
    """A finding's value on the console: its start when it is long (issues.csv has it whole; the
    message quotes it so too, `catalogue.shown`)."""
    text = str(value)
    return text if len(text) <= catalogue.QUOTED_LIMIT else text[: catalogue.QUOTED_START] + "…"


def print_summary(
    subs: list[Submission], folders: dict[int, Path] | None = None, console: Console | None = None
) -> None:
    """Per file: errors, warnings and the first few findings."""
    console = console or terminal.Console(highlight=False, soft_wrap=True)
    for i, sub in enumerate(subs):
        verdict = f"[bold red]{sub.errors} error{'s' * (sub.errors != 1)}[/]" if sub.errors else "[bold green]valid[/]"
        warn = f", {sub.warnings} warning{'s' * (sub.warnings != 1)}" if sub.warnings else ""
        console.print(f"{safe.for_console(sub.file_name)}: {verdict}{warn}")
        for f in sorted(sub.findings, key=sort_key)[:FIRST_FINDINGS]:  # as issues.csv lists them
            style = "red" if f.is_error else "yellow"
            value = safe.for_console(f" [{_console_value(f.value)}]") if f.value else ""  # brackets escaped too
            console.print(
                f"  [{style}]{f.severity}[/] {safe.for_console(f.where)}{value} {f.code}: {safe.for_console(f.message)}"
            )
        if len(sub.findings) > FIRST_FINDINGS:
            console.print(f"  ... and {len(sub.findings) - FIRST_FINDINGS} more")
        if folders and sub.findings:
            console.print(f"  report: {safe.for_console(str(folders[i]))}")
