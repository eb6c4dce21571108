"""The report tables: one formatted workbook `tables_{YEAR}.xlsx` (a sheet per table) and the same
tables as CSV.

- CSV: the view's column names as header, values unrounded (`repr` of floats round-trips), NULL
  as an empty field, never 0.
- xlsx: human headers with units, number formats (rounding only by format), frozen header row,
  column widths, no formulas; every text from the data is written as text, so an entity name such
  as `=HYPERLINK(...)` stays a string (formula-injection guard shared with the workbooks of
  `pipeline.xlsx`). Fixed document properties and zip timestamps: identical tables give an
  identical file.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cells import column_letter
from pipeline.indicators import keys as indicator_keys
from pipeline.report.queries import Table
from pipeline.safe import csv_safe
from pipeline.xlsx import BORDER, HEADER_ALIGN, HEADER_FILL, TITLE_FONT, save_reproducible, write_text

FIXED_TIME = dt.datetime(2025, 1, 1)
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))

# number formats by kind
INTEGER = "#,##0"
TONNES = "#,##0"
ONE_DECIMAL = "#,##0.0"
SHARE = "0.0%"
TEXT = "@"
YEAR = "0"

# Column catalogue: header (with unit) and number format of each column the tables can carry.
# A column not listed falls back to its own name and a general number format.
COLUMNS: dict[str, tuple[str, str]] = {
    "year": ("Year", YEAR),
    "entity_code": ("Entity", TEXT),
    "entity_name": ("Entity name", TEXT),
    "entity_type": ("Entity type", TEXT),
    "data_source": ("Data source (workbook / history)", TEXT),
    "climate_neutral": ("Climate neutral (yes/no)", TEXT),
    "ems_status": ("EMS status", TEXT),
    "ems_criteria": ("EMS criteria (met / approaching / not met)", TEXT),
    "ems_met": ("EMS met (entities)", INTEGER),
    "ems_approaching": ("EMS approaching (entities)", INTEGER),
    "ems_not_met": ("EMS not met (entities)", INTEGER),
    "reporting_coverage_percent": ("Reporting coverage (% of personnel)", ONE_DECIMAL),
    "treatment_code": ("Treatment", TEXT),
    "is_diverted": ("Diverted (yes/no)", TEXT),
    "share_of_waste": ("Share of waste (%)", SHARE),
    "entities": ("Entities (count)", INTEGER),
    "entity_type_label": ("Entity type (label)", TEXT),
    "treatment_label": ("Treatment (label)", TEXT),
    "ems_status_label": ("EMS status (label)", TEXT),
    "is_expected": ("Expected this year (yes/no)", TEXT),
    "last_reported_year": ("Last year reported", YEAR),
    "last_reported_personnel": ("Personnel in the last year reported", INTEGER),
    "rejected_workbooks": ("Workbooks received and rejected", INTEGER),
    "total_change_previous_year": ("Total, change on previous year (%)", SHARE),
    "per_capita_change_previous_year": ("Per capita, change on previous year (%)", SHARE),
    "change_across_factor_sets": ("Change on previous year compares two factor sets (yes/no)", TEXT),
    "key": ("Key", TEXT),
    "indicator": ("Indicator", TEXT),
    "unit": ("Unit", TEXT),
}
# The indicator keys' headings come from their one definition (pipeline/indicators/keys.csv);
# the number format follows the kind of figure, with a few keys shown with other precision.
FORMAT_OF_KIND = {
    "count": INTEGER,
    "tco2e": TONNES,
    "share": SHARE,
    "change": SHARE,
    "percent": ONE_DECIMAL,
    "quantity": ONE_DECIMAL,
    "ratio": ONE_DECIMAL,
}
FORMAT_OF_KEY = {
    "per_capita_tco2e": "#,##0.00",
    "electricity_kwh": INTEGER,
    "water_m3": INTEGER,
    "waste_per_capita_kg": INTEGER,
}
COLUMNS.update({k.key: (k.heading, FORMAT_OF_KEY.get(k.key, FORMAT_OF_KIND[k.kind])) for k in indicator_keys()})
KEY_COLUMNS = {"year": 1, "entity_code": 2}  # columns kept visible when scrolling right


def header(column: str) -> str:
    return COLUMNS.get(column, (column, "General"))[0]


def number_format(column: str) -> str:
    return COLUMNS.get(column, (column, "General"))[1]


# --- CSV --------------------------------------------------------------------------------------------
def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(csv_safe(str(value)))


def write_csv(table: Table, path: Path) -> Path:
    """The table as CSV: view column names, unrounded values, NULL as an empty field."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(table.columns)
        for row in table.rows:
            out.writerow([_csv_value(v) for v in row])
    return path


# --- xlsx -------------------------------------------------------------------------------------------
def _column_width(column: str, values: list[object]) -> float:
    head = header(column)
    longest_word = max((len(w) for w in head.split()), default=8)
    if number_format(column) == TEXT:
        data = max((len(str(v)) for v in values if v is not None), default=0)
        return float(min(max(data, longest_word, 8) + 2, 60))
    return float(min(max(longest_word, 12) + 2, 24))


def _write_row(ws: Worksheet, i: int, row: tuple, formats: list[str], bold: bool = False) -> None:
    for j, value in enumerate(row, start=1):
        if value is None:
            continue  # NULL stays an empty cell, never 0
        cell = ws.cell(row=i, column=j)
        if isinstance(value, bool):
            write_text(cell, "yes" if value else "no")
        elif isinstance(value, (int, float)):
            cell.value = int(value) if isinstance(value, int) else float(value)
            cell.number_format = formats[j - 1]
        else:
            write_text(cell, value)
        if bold:
            cell.font = Font(bold=True)
            cell.border = TOTAL_BORDER


def _write_sheet(wb: Workbook, table: Table) -> None:
    ws = wb.create_sheet(table.name)
    for j, column in enumerate(table.columns, start=1):
        cell = write_text(ws.cell(row=1, column=j), header(column))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = HEADER_ALIGN
    formats = [number_format(c) for c in table.columns]
    key_at = table.columns.index(table.key_column) if table.key_column else None
    for i, row in enumerate(table.rows, start=2):
        if key_at is not None:  # indicators as rows: each row takes its key's format
            formats = [number_format(str(row[key_at]))] * len(row)
        _write_row(ws, i, row, formats)
    if table.total is not None:
        _write_row(ws, len(table.rows) + 2, table.total, formats, bold=True)
    frozen_cols = max((KEY_COLUMNS.get(c, 0) for c in table.columns[:2]), default=0)
    if key_at is not None:
        frozen_cols = key_at + 2  # the key and its label stay in view
    ws.freeze_panes = ws.cell(row=2, column=frozen_cols + 1).coordinate
    ws.row_dimensions[1].height = 45
    for j, column in enumerate(table.columns, start=1):
        ws.column_dimensions[column_letter(j)].width = _column_width(column, [r[j - 1] for r in table.rows])
    _print_setup(ws)
    if table.key_column is None:  # a filter on a table of rows of one kind (the totals row stays out)
        ws.auto_filter.ref = f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}"


def _print_setup(ws: Worksheet) -> None:
    """Printed or saved as PDF: landscape A4, every column on the page width, the header repeated."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _about_sheet(wb: Workbook, year: int, tables: list[Table], source: str) -> None:
    ws = wb.active
    ws.title = "about"
    write_text(ws.cell(row=1, column=1), f"Greening the Blue: report tables, data year {year}").font = TITLE_FONT
    write_text(ws.cell(row=2, column=1), source)
    write_text(
        ws.cell(row=3, column=1),
        "Values are unrounded; the number formats round for display. An empty cell means no data (never zero).",
    )
    write_text(
        ws.cell(
            row=5,
            column=1,
        ),
        "Sheet",
    ).font = Font(bold=True)
    write_text(ws.cell(row=5, column=2), "Contents").font = Font(bold=True)
    for i, t in enumerate(tables, start=6):
        write_text(ws.cell(row=i, column=1), t.name).alignment = Alignment(vertical="top")
        text = f"{t.title}: {t.description}"
        write_text(ws.cell(row=i, column=2), text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[i].height = 15 * (len(text) // 95 + 1)  # spreadsheet programs do not grow rows
    for row in (2, 3):
        ws.cell(row=row, column=1).alignment = Alignment(wrap_text=False)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 100
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_xlsx(tables: list[Table], path: Path, year: int, source: str) -> Path:
    """All tables in one workbook: an 'about' sheet, then one sheet per table."""
    wb = Workbook()
    wb.properties.creator = "Greening the Blue inventory pipeline"
    _about_sheet(wb, year, tables, source)
    for table in tables:
        _write_sheet(wb, table)
    return save_reproducible(wb, path)
