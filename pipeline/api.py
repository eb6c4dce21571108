"""The library behind the `gtb` command: one function per command, of the same name.

Notebooks call these directly; `pipeline.cli` only parses arguments and maps results to exit
codes.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from pipeline.errors import GtbError
from pipeline.validate import Submission

DEFAULT_INPUTS = Path("inputs")
DEFAULT_OUTPUTS = Path("outputs")
DEFAULT_DB = DEFAULT_OUTPUTS / "gtb.duckdb"


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def template(entity: str, year: int, output: Path | None = None, lang: str = "en") -> Path:
    """Write a blank submission workbook for `entity` and `year`."""
    from pipeline import template as template_module

    try:
        return template_module.template(entity, year, output, lang=lang)
    except ValueError as exc:
        raise GtbError(str(exc)) from None


def check_files(files: list[Path], jobs: int | None = None) -> list[Submission]:
    """Guard, read, normalise (in worker processes) and validate workbooks; no reports, no database."""
    from pipeline.read import read_many
    from pipeline.validate import read_and_normalise, unreadable, validate_parsed
    from pipeline.workbook import UnreadableFile

    files = [Path(f) for f in files]
    results: dict[Path, object] = {}
    existing = []
    for f in files:
        if not f.is_file():
            results[f] = UnreadableFile(f"file not found: {f}")
        else:
            existing.append(f)
    for path, result in read_many(existing, jobs=jobs or default_jobs(), work=read_and_normalise):
        results[Path(path)] = result
    parsed = [results[f] for f in files if not isinstance(results[f], UnreadableFile)]
    validated = iter(validate_parsed(parsed))
    return [unreadable(f, results[f]) if isinstance(results[f], UnreadableFile) else next(validated) for f in files]


def validate(
    files: list[Path],
    report_dir: Path | None = None,
    jobs: int | None = None,
    console: Console | None = None,
) -> list[Submission]:
    """`gtb validate`: check workbooks against the contract and write their reports."""
    from pipeline.reports import print_summary, write_reports

    if not files:
        raise GtbError("no workbook given: gtb validate FILE...")
    subs = check_files(files, jobs)
    folders = write_reports(subs, Path(report_dir) if report_dir else DEFAULT_OUTPUTS / "validation")
    print_summary(subs, folders, console)
    return subs
