"""Findings: one flat row per problem found in a submission (frictionless style).

A finding names the file, the sheet, the Excel cell, the row number, the header as written in
the file, the value found, a stable kebab-case code, the severity and a message a focal point
can act on. `CODES` is the catalogue of codes; docs/validation-codes.md is generated from it.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pipeline.safe import formula_safe

ERROR = "error"
WARNING = "warning"

# code -> (severity, what it means). Stable: a code is never renamed once published.
CODES: dict[str, tuple[str, str]] = {
    "unreadable-file": (ERROR, "The file is not a workbook the pipeline can open safely."),
    "missing-sheet": (ERROR, "A sheet of the template is missing or renamed."),
    "unknown-sheet": (WARNING, "A sheet that is not part of the template; it is ignored."),
    "missing-column": (ERROR, "A required column header is missing from row 1."),
    "unknown-column": (WARNING, "A column header that is not part of the template; it is ignored."),
    "duplicate-column": (ERROR, "The same column header appears twice in row 1."),
    "missing-field": (ERROR, "A required field of a Field/Value sheet is missing."),
    "unknown-field": (WARNING, "A field that is not part of the template; it is ignored."),
    "duplicate-field": (ERROR, "The same field appears twice in a Field/Value sheet."),
    "missing-value": (ERROR, "A required cell is empty."),
    "type-error": (ERROR, "The cell does not hold a value of the expected type."),
    "out-of-range": (ERROR, "The value is outside the allowed range."),
    "not-in-codelist": (ERROR, "The value is not one of the allowed codes."),
    "unit-mismatch": (ERROR, "The unit does not suit the energy type or fuel."),
    "invalid-email": (ERROR, "The e-mail address is not valid."),
    "formula-without-value": (ERROR, "A formula cell has no saved result (the file was not recalculated)."),
    "inconsistent-row": (ERROR, "Columns of one row contradict each other."),
    "duplicate-serial": (ERROR, "An offset serial range is claimed twice."),
    "duplicate-submission": (ERROR, "Two different workbooks for the same entity and year."),
    "hidden-sheet": (WARNING, "A sheet of the template is hidden; it is read all the same."),
    "unknown-template-version": (WARNING, "The workbook names a template version the pipeline does not know; it is read as the current one."),
}


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
    code: str,
    message: str,
    *,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    row: int | None = None,
    column: str = "",
    value: object = "",
    severity: str | None = None,
) -> Finding:
    """Build a finding; the severity comes from CODES unless given."""
    assert code in CODES, f"unknown finding code {code!r}: add it to CODES"
    return Finding(
        file=file,
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=display_value(value),
        code=code,
        severity=severity or CODES[code][0],
        message=message,
    )


def display_value(value: object) -> str:
    """How a cell value is shown in a finding: the text as typed, no trailing '.0' for integers."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def count(findings: list[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(1 for f in findings if f.is_error)
    return errors, len(findings) - errors


def _sheet_order(sheet: str) -> int:
    from schemas.contract import sheet_names

    names = sheet_names()
    return names.index(sheet) if sheet in names else len(names)


def _column_key(cell: str) -> tuple[int, str]:
    letters = cell.rstrip("0123456789")
    return len(letters), letters


def sort_key(f: Finding) -> tuple:
    """File, then sheets in workbook order, then row, then column."""
    return (f.file, _sheet_order(f.sheet), f.sheet, f.row if f.row is not None else -1, _column_key(f.cell), f.code)


def write_issues_csv(findings: list[Finding], path: Path) -> Path:
    """issues.csv: the columns of cli.md, one row per finding, in sheet/row order.

    Text that a spreadsheet would run as a formula (starting with '=', '+', '-', '@', tab or
    carriage return) gets a leading apostrophe (`safe.formula_safe`): analysts open this file in
    Excel, and the values and headers in it are whatever the submitter typed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\r\n")  # RFC 4180: a CR in a value is quoted
        writer.writeheader()
        for f in sorted(findings, key=sort_key):
            row = {key: formula_safe(value) for key, value in asdict(f).items()}
            row["row"] = "" if f.row is None else f.row
            writer.writerow(row)
    return path
