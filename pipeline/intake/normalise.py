"""Normalise: a read workbook -> one frame per contract sheet, headers mapped to contract names.

Structure is checked here (sheets present, headers and fields known); cell values are left as
typed for the validator, so every finding can quote what the focal point wrote. The frames keep
the Excel row number as index and remember the column letter and header as written, so a finding
on any value can name its cell.
"""

from __future__ import annotations

import difflib
import operator
from dataclasses import dataclass, field
from typing import SupportsInt

import numpy as np
import pandas as pd

from pipeline.catalogue import Message
from pipeline.cells import column_letter
from pipeline.intake.findings import Finding, finding
from pipeline.intake.workbook import RawSheet, RawWorkbook
from schemas import contract

# Sheets the template adds for people; not part of the contract, never reported.
TEMPLATE_SHEETS = ("Instructions", "Lists")


@dataclass
class ParsedSheet:
    """One contract sheet as found in a workbook."""

    name: str
    is_table: bool
    frame: pd.DataFrame  # contract columns (raw cell values); index: Excel row (tables) or [0] (Field/Value)
    headers: dict[str, str]  # contract column -> header or field name as written
    letters: dict[str, str] = field(default_factory=dict)  # tables: contract column -> column letter
    cells: dict[str, str] = field(default_factory=dict)  # Field/Value: field -> value cell, e.g. "B4"
    missing: frozenset[str] = frozenset()  # required columns or fields absent from the file
    reported_cells: frozenset[str] = frozenset()  # formulas without a saved value, Excel errors: reported as such

    def locate(self, column: str, row: SupportsInt | None) -> tuple[str, int | None, str]:
        """(cell, Excel row, header as written) of a value of this sheet."""
        header = self.headers.get(column, column)
        if not self.is_table:
            cell = self.cells.get(column, "")
            return cell, (int(cell[1:]) if cell else None), header
        letter = self.letters.get(column)
        excel_row = int(row) if row is not None else None
        return (f"{letter}{excel_row}" if letter and excel_row else ""), excel_row, header


@dataclass
class ParsedWorkbook:
    path: str
    file_name: str
    sha256: str
    size_bytes: int
    sheets: dict[str, ParsedSheet]  # contract sheet name -> parsed sheet (absent if missing)
    findings: list[Finding]


def _key(header: object) -> str:
    """Header matching ignores case and surrounding spaces, nothing else."""
    return "" if header is None else str(header).strip().lower()


def _suggest(wanted: str, found: list[str]) -> Message | str:
    close = difflib.get_close_matches(wanted.lower(), [f.lower() for f in found], n=1, cutoff=0.75)
    if not close:
        return ""
    original = next(f for f in found if f.lower() == close[0])
    return Message("hint.rename-sheet", {"found": original, "wanted": wanted})


def normalise(raw: RawWorkbook) -> ParsedWorkbook:
    findings: list[Finding] = []
    sheets: dict[str, ParsedSheet] = {}
    present = list(raw.sheets)
    expected = contract.sheet_names()

    missing = [name for name in expected if name not in raw.sheets]
    extra = [name for name in present if name not in expected and name not in TEMPLATE_SHEETS]
    for name in missing:
        findings.append(
            finding(
                "missing-sheet.missing",
                sheet=name,
                missing=", ".join(missing),
                hint=_suggest(name, extra),
                file=raw.file_name,
            )
        )
    for name in extra:
        if not any(_suggest(m, [name]) for m in missing):
            findings.append(finding("unknown-sheet.ignored", sheet=name, file=raw.file_name))

    for spec in contract.sheets():
        raw_sheet = raw.sheets.get(spec.name)
        if raw_sheet is None:
            continue
        if raw_sheet.hidden:
            findings.append(finding("hidden-sheet.read", sheet=spec.name, file=raw.file_name))
        parse = _table if spec.is_table else _field_value
        parsed, sheet_findings = parse(spec, raw_sheet, raw.file_name)
        sheets[spec.name] = parsed
        findings.extend(sheet_findings)
        for cell, error in sorted(raw_sheet.error_cells.items()):
            findings.append(
                finding(
                    "type-error.excel-error",
                    error=error,
                    sheet=spec.name,
                    cell=cell,
                    row=int("".join(ch for ch in cell if ch.isdigit())),
                    value=error,
                    file=raw.file_name,
                )
            )
        for cell in sorted(raw_sheet.formula_cells_without_value):
            findings.append(
                finding(
                    "formula-without-value.recalculate",
                    sheet=spec.name,
                    cell=cell,
                    row=int("".join(ch for ch in cell if ch.isdigit())),
                    file=raw.file_name,
                )
            )
    return ParsedWorkbook(raw.path, raw.file_name, raw.sha256, raw.size_bytes, sheets, findings)


def _table(spec: contract.SheetSpec, raw: RawSheet, file_name: str) -> tuple[ParsedSheet, list[Finding]]:
    findings: list[Finding] = []
    wanted = {c.name: c for c in spec.columns}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    written = [("" if h is None else str(h)) for h in raw.header]
    for pos, header in enumerate(raw.header):
        key = _key(header)
        if not key:
            continue
        letter = column_letter(pos + 1)
        if key in wanted:
            if key in positions:
                findings.append(
                    finding(
                        "duplicate-column.twice",
                        name=key,
                        other=column_letter(positions[key] + 1),
                        file=file_name,
                        sheet=spec.name,
                        cell=f"{letter}1",
                        row=1,
                        column=str(header),
                        value=header,
                    )
                )
                continue
            positions[key] = pos
            headers[key] = str(header)
        else:
            findings.append(
                finding(
                    "unknown-column.ignored",
                    header=str(header).strip(),
                    file=file_name,
                    sheet=spec.name,
                    cell=f"{letter}1",
                    row=1,
                    column=str(header),
                    value=header,
                )
            )
    missing = [c.name for c in spec.columns if c.name not in positions and c.required]
    unknown = [w for w in written if w and _key(w) not in wanted]
    for name in missing:
        findings.append(
            finding(
                "missing-column.required",
                hint=_suggest(name, unknown),
                file=file_name,
                sheet=spec.name,
                row=1,
                column=name,
            )
        )

    frame = _records(raw, [c for c in wanted if c in positions], positions, list(wanted))
    parsed = ParsedSheet(
        name=spec.name,
        is_table=True,
        frame=frame,
        headers=headers,
        letters={c: column_letter(p + 1) for c, p in positions.items()},
        missing=frozenset(missing),
        reported_cells=frozenset(raw.formula_cells_without_value) | frozenset(raw.error_cells),
    )
    return parsed, findings


def _filled(v: object) -> bool:
    return v is not None and (type(v) is not str or bool(v.strip()))


def _records(raw: RawSheet, present: list[str], positions: dict[str, int], columns: list[str]) -> pd.DataFrame:
    """The contract columns of the sheet's data rows (Excel row as index), blank rows left out.

    A row counts as blank when every contract column in it is empty or only white space, even if
    an ignored extra column holds something. One C-level pick per row (`itemgetter`)."""
    index: list[int] = []
    records: list[tuple] = []
    if present:
        picks = [positions[c] for c in present]
        width = max(picks) + 1
        pick = operator.itemgetter(*picks)
        single = len(picks) == 1
        n = len(picks)
        for excel_row, values in raw.rows:
            if excel_row == 1:
                continue  # the header row
            if len(values) < width:
                values = list(values) + [None] * (width - len(values))
            record = (pick(values),) if single else pick(values)
            if record.count(None) == n or not any(_filled(v) for v in record):
                continue  # blank rows are skipped, as are rows holding only ignored columns
            index.append(excel_row)
            records.append(record)
    grid = np.empty((len(records), len(columns)), dtype=object)  # None where a column is missing
    if records:
        for c, cells in zip(present, zip(*records, strict=True), strict=True):
            grid[:, columns.index(c)] = cells  # element by element: a cell value is never unpacked
    return pd.DataFrame(grid, index=pd.Index(index, name="row", dtype="int64"), columns=columns)


def _field_value(spec: contract.SheetSpec, raw: RawSheet, file_name: str) -> tuple[ParsedSheet, list[Finding]]:
    findings: list[Finding] = []
    wanted = {c.name: c for c in spec.columns}
    values: dict[str, object] = {}
    cells: dict[str, str] = {}
    headers: dict[str, str] = {}
    for excel_row, row in raw.rows:
        name = row[0] if row else None
        key = _key(name)
        value = row[1] if len(row) > 1 else None
        if not key:
            continue
        if key in ("field",) and excel_row == 1:
            continue
        if key not in wanted:
            findings.append(
                finding(
                    "unknown-field.ignored",
                    field=str(name).strip(),
                    file=file_name,
                    sheet=spec.name,
                    cell=f"A{excel_row}",
                    row=excel_row,
                    column="Field",
                    value=name,
                )
            )
            continue
        if key in values:
            findings.append(
                finding(
                    "duplicate-field.twice",
                    field=key,
                    other=cells[key][1:],
                    file=file_name,
                    sheet=spec.name,
                    cell=f"A{excel_row}",
                    row=excel_row,
                    column="Field",
                    value=name,
                )
            )
            continue
        values[key] = value
        cells[key] = f"B{excel_row}"
        headers[key] = str(name).strip()
    missing = [c.name for c in spec.columns if c.name not in values and c.required]
    for name in missing:
        findings.append(finding("missing-field.required", field=name, file=file_name, sheet=spec.name, column=name))
    frame = pd.DataFrame(
        [[values.get(c) for c in wanted]], columns=list(wanted), index=pd.Index([0], name="row"), dtype=object
    )
    parsed = ParsedSheet(
        name=spec.name,
        is_table=False,
        frame=frame,
        headers=headers,
        cells=cells,
        missing=frozenset(missing),
        reported_cells=frozenset(raw.formula_cells_without_value) | frozenset(raw.error_cells),
    )
    return parsed, findings
