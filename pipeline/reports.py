"""Validation reports: per workbook an `issues.csv` and an `annotated.xlsx`, and a console summary.

Folder per workbook: `{report_dir}/{ENTITY}_{YEAR}/` (the file's stem when entity or year cannot be
read). When two files of one call share a folder name, the later one gets `__{file stem}` appended
so that no report overwrites another.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pipeline.findings import write_issues_csv
from pipeline.validate import Submission

FIRST_FINDINGS = 5


def report_folders(subs: list[Submission], report_dir: Path) -> dict[int, Path]:
    """One distinct folder per submission (by position in `subs`)."""
    used: set[str] = set()
    out: dict[int, Path] = {}
    for i, sub in enumerate(subs):
        name = sub.key
        if name in used:
            name = f"{sub.key}__{Path(sub.file_name).stem}"
        n = 2
        while name in used:
            name, n = f"{sub.key}__{Path(sub.file_name).stem}_{n}", n + 1
        used.add(name)
        out[i] = report_dir / name
    return out


def write_reports(subs: list[Submission], report_dir: Path) -> dict[int, Path]:
    """Write issues.csv (always) and annotated.xlsx (files that could be opened and have findings).

    A workbook without findings has no cell to mark: its empty issues.csv is the verdict, and
    copying it through openpyxl would cost more than validating it (docs/decisions.md).
    """
    from pipeline.annotate import write_annotated

    folders = report_folders(subs, report_dir)
    for i, sub in enumerate(subs):
        folder = folders[i]
        if folder.exists():
            shutil.rmtree(folder)  # a rerun replaces the report of the same workbook
        folder.mkdir(parents=True)
        write_issues_csv(sub.findings, folder / "issues.csv")
        if sub.readable and sub.findings:
            write_annotated(Path(sub.path), sub.findings, folder / "annotated.xlsx")
    return folders


def print_summary(subs: list[Submission], folders: dict[int, Path] | None = None, console: Console | None = None) -> None:
    """Per file: errors, warnings and the first few findings."""
    console = console or Console(highlight=False, soft_wrap=True)
    for i, sub in enumerate(subs):
        if sub.errors:
            verdict = f"[bold red]{sub.errors} error{'s' * (sub.errors != 1)}[/]"
        else:
            verdict = "[bold green]valid[/]"
        warn = f", {sub.warnings} warning{'s' * (sub.warnings != 1)}" if sub.warnings else ""
        console.print(f"{escape(sub.file_name)}: {verdict}{warn}")
        for f in sub.findings[:FIRST_FINDINGS]:
            style = "red" if f.is_error else "yellow"
            value = f" [{escape(f.value)}]" if f.value else ""
            console.print(f"  [{style}]{f.severity}[/] {escape(f.where)}{escape(value)} {f.code}: {escape(f.message)}")
        if len(sub.findings) > FIRST_FINDINGS:
            console.print(f"  ... and {len(sub.findings) - FIRST_FINDINGS} more")
        if folders and sub.findings:
            console.print(f"  report: {escape(str(folders[i]))}")
