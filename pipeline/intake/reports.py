"""Validation reports: per workbook an `issues.csv` and an `annotated.xlsx`, and a console summary.

Folder per workbook: `{report_dir}/{ENTITY}_{YEAR}/` (the file's stem and a short hash of its bytes
when entity or year cannot be read). When two files of one call share a folder name, the later one
gets `_{the first 8 hex digits of its SHA-256}` appended so that no report overwrites another.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rich.console import Console

from pipeline import catalogue, safe
from pipeline.intake.findings import sort_key, write_issues_csv
from pipeline.intake.validate import Submission

FIRST_FINDINGS = 5


def report_folders(subs: list[Submission], report_dir: Path) -> dict[int, Path]:
    """One distinct folder per submission (by position in `subs`), strictly inside `report_dir`.

    `{ENTITY}_{YEAR}` when both could be read, else a slug of the file's stem plus a short hash
    of its bytes (or of its path, when it could not be read): never empty, never dot-only,
    letters, digits, '_' and '-' only. Two submissions of one call never share a folder.
    """
    used: set[str] = set()
    out: dict[int, Path] = {}
    for i, sub in enumerate(subs):
        short = (sub.sha256 or hashlib.sha256(sub.path.encode("utf-8", "surrogateescape")).hexdigest())[:8]
        if sub.entity_code and sub.reporting_year:
            base = safe.slug(f"{sub.entity_code}_{sub.reporting_year}")
        else:
            base = f"{safe.slug(Path(sub.file_name).stem) or 'file'}_{short}"
        out[i] = folder_inside(report_dir, base, used, short)
    return out


def folder_inside(report_dir: Path, base: str, used: set[str], short: str) -> Path:
    """`report_dir/base`, or `base_short`, `base_short_2`... when taken in this call or not a plain folder."""
    name, n = base, 1
    while name.lower() in used or not _usable(report_dir / name):
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


def write_reports(subs: list[Submission], report_dir: Path, folders: dict[int, Path] | None = None) -> dict[int, Path]:
    """Write issues.csv (always) and annotated.xlsx (files that could be opened and have findings).

    A workbook without findings has no cell to mark: its empty issues.csv is the verdict, and
    copying it through openpyxl would cost more than validating it (docs/decisions.md).
    Annotated copies are written in isolated worker processes (`pipeline.intake.annotate`).
    """
    folders = folders if folders is not None else report_folders(subs, report_dir)
    jobs = []
    for i, sub in enumerate(subs):
        folder = folders[i]
        prepare_folder(folder)
        write_issues_csv(sub.findings, folder / "issues.csv")
        if sub.readable and sub.findings:
            jobs.append((Path(sub.path), sub.findings, folder / "annotated.xlsx", sub.lang, sub.file_name))
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
    console = console or Console(highlight=False, soft_wrap=True)
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
