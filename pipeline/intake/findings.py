"""Findings: one flat row per problem found in a submission (frictionless style).

A finding names the file, the sheet, the Excel cell, the row number, the header as written in
the file, the value found, a stable kebab-case code, the severity and a message a focal point
can act on. Codes, severities and message texts come from the catalogue (`pipeline.catalogue`).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, fields
from pathlib import Path

from pipeline import catalogue
from pipeline.errors import UnreadableFile
from pipeline.safe import csv_safe

ERROR, WARNING = catalogue.ERROR, catalogue.WARNING


@dataclass(frozen=True)
class Finding:
    file: str
    sheet: str
    cell: str
    row: int | None
    column: str
    value: str
    code: str
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def where(self) -> str:
        """'Facilities!D14', 'Facilities', or the file name, for messages."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.file


COLUMNS = [f.name for f in fields(Finding)]


def finding(
    message_id: str,
    *,
    lang: str | None = None,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    row: int | None = None,
    column: str = "",
    value: object = "",
    severity: str | None = None,
    **params: object,
) -> Finding:
    """Build a finding from a catalogue message (`pipeline/catalogue/messages.csv`): its code and
    severity come from the catalogue, its text is rendered in `lang` (default: the current
    language, `catalogue.using_language`) with `params`. The template
    may also use the finding's `file`, `sheet`, `cell`, `column` and `value` (shown as in messages:
    text quoted, an empty cell named)."""
    code = catalogue.code_of(message_id)
    fields = {"file": file, "sheet": sheet, "cell": cell, "column": column, "value": catalogue.shown(value)}
    return Finding(
        file=file,
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=catalogue.display_value(value.cell_value() if isinstance(value, catalogue.Rendered) else value),
        code=code,
        severity=severity or catalogue.severity_of(code),
        message=catalogue.text(message_id, lang or catalogue.current_language(), **(fields | params)),
    )


def unreadable_finding(file_name: str, error: UnreadableFile, lang: str | None = None) -> Finding:
    """The one finding of a file that cannot be opened."""
    code = "unreadable-file"
    text = error.render(lang or catalogue.current_language())
    return Finding(file_name, "", "", None, "", "", code, catalogue.severity_of(code), text)


def count(findings: list[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(1 for f in findings if f.is_error)
    return errors, len(findings) - errors


@functools.lru_cache(maxsize=4096)
def _sheet_order(sheet: str) -> int:
    """The position of a sheet (its tab in any language) in the contract's order (worked out once
    per name: a workbook with many findings asks it of each)."""
    from schemas import i18n
    from schemas.contract import sheet_names

    names = sheet_names()
    canonical = i18n.sheet_of(sheet)
    return names.index(canonical) if canonical in names else len(names)


def _column_key(cell: str) -> tuple[int, str]:
    letters = cell.rstrip("0123456789")
    return len(letters), letters


def sort_key(f: Finding) -> tuple:
    """File, then sheets in workbook order, then row, then column."""
    return (f.file, _sheet_order(f.sheet), f.sheet, f.row if f.row is not None else -1, _column_key(f.cell), f.code)


def write_issues_csv(findings: list[Finding], path: Path) -> Path:
    """issues.csv: the columns of cli.md, one row per finding, in sheet/row order.

    Text that a spreadsheet would run as a formula (starting with '=', '+', '-', '@', tab or
    carriage return) gets a leading apostrophe, and control characters other than tab and line
    feed are shown as escapes (`\\x1b`, `\\u202e`) as on the console (`safe.csv_safe`): analysts
    open this file in Excel or print it in a terminal, and the values, names and messages in it
    hold whatever the submitter typed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\r\n")  # RFC 4180: a CR in a value is quoted
        writer.writeheader()
        for f in sorted(findings, key=sort_key):
            row = {key: csv_safe(getattr(f, key)) for key in COLUMNS}  # not asdict: it deep-copies each finding
            row["row"] = "" if f.row is None else f.row
            writer.writerow(row)
    return path
