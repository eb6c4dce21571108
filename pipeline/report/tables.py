"""The report tables: one formatted workbook `tables_{YEAR}.xlsx` (a sheet per table) and the same
tables as CSV.

- CSV: the view's column names as header, values unrounded (`repr` of floats round-trips), NULL
  as an empty field, never 0.
- xlsx: human headers with units, number formats (rounding only by format), frozen header row,
  column widths, no formulas; every text from the data is written as text, so an entity name such
  as `=HYPERLINK(...)` stays a string (formula-injection guard shared with the workbooks of
  `pipeline.xlsx`). Fixed document properties and zip timestamps: identical tables give an
  identical file.
- Long headers and texts wrap, and each row is given the height of its longest wrapped cell
  (spreadsheet programs do not grow a row for a file's wrapped text). Printed, a sheet that fits
  one A4 landscape page wide at READABLE_SCALE or more is fitted to the page width; a wider one
  prints at PRINT_SCALE over several pages wide, its header row and key column repeated on each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import textwrap
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cells import column_letter
from pipeline.indicators import keys as indicator_keys
from pipeline.paths import write_whole
from pipeline.report import style as s
from pipeline.report.queries import Table
from pipeline.safe import csv_safe
from pipeline.xlsx import BORDER, HEADER_ALIGN, HEADER_FILL, TITLE_FONT, WRAP_TOP, save_reproducible, write_text

FIXED_TIME = dt.datetime(2025, 1, 1)
TOP = Alignment(vertical="top")
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))

# number formats by kind
INTEGER = "#,##0"
TONNES = "#,##0"
ONE_DECIMAL = "#,##0.0"
# a share as a percentage to one decimal; nearly all is not all: 0.99955 shows ">99.9%", never
# "100.0%" beside "not climate neutral" (the charts' and factsheets' rule, `style.fmt_percent`)
SHARE = '[>=1]0.0%;[>=0.9995]">99.9%";0.0%'
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
PER_CAPITA = "#,##0" + ("." + "0" * s.PER_CAPITA_DECIMALS if s.PER_CAPITA_DECIMALS else "")  # as charts, factsheets
FORMAT_OF_KEY = {
    "per_capita_tco2e": PER_CAPITA,
    "water_per_capita_m3": PER_CAPITA,
    "electricity_kwh": INTEGER,
    "water_m3": INTEGER,
    "waste_per_capita_kg": INTEGER,
}
COLUMNS.update({k.key: (k.heading, FORMAT_OF_KEY.get(k.key, FORMAT_OF_KIND[k.kind])) for k in indicator_keys()})
KEY_COLUMNS = {"year": 1, "entity_code": 2}  # columns kept visible when scrolling right
# A header that depends on the table: the completeness table's data_source also says 'missing'.
TABLE_HEADERS = {("completeness", "data_source"): "Data source (workbook / history) or missing"}

# Layout: widths in the spreadsheet's character units, heights in points.
TEXT_WIDTH_MAX = 40  # a longer text (an entity name) wraps onto more lines
HEADER_LINES = 4  # a column is made wider rather than its header taller
LINE_PT = 15.0  # a line of 11 pt text
PAGE_WIDTH_PT = 11.69 * 72  # A4 landscape
SIDE_MARGIN_IN = 0.5
READABLE_SCALE = 0.7  # fitted to one page wide only down to this scale
PRINT_SCALE = 80  # percent, for a sheet wider than that: several pages wide


def header(column: str, table: str = "") -> str:
    return TABLE_HEADERS.get((table, column)) or COLUMNS.get(column, (column, "General"))[0]


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
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(table.columns)
    for row in table.rows:
        out.writerow([_csv_value(v) for v in row])
    return write_whole(path, text.getvalue().encode("utf-8"))  # whole or not at all


# --- xlsx -------------------------------------------------------------------------------------------
def _column_width(column: str, values: list[object], table: str = "") -> float:
    """Wide enough for the header's longest word and for the header in at most HEADER_LINES lines,
    and a text column for its longest text up to TEXT_WIDTH_MAX (a longer one wraps)."""
    head = header(column, table)
    least = max(max((len(w) for w in head.split()), default=8), math.ceil(len(head) / HEADER_LINES))
    if number_format(column) == TEXT:
        data = max((len(str(v)) for v in values if v is not None), default=0)
        return float(min(max(data, least, 8) + 2, TEXT_WIDTH_MAX))
    return float(min(max(least, 12) + 2, 24))


def _lines(text: str, width: float, bold: bool = False) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide, on the safe side: a
    character of text a tenth narrower than the column's unit (bold: as wide), 2 characters of room
    (so the longest text `_column_width` fits takes one line)."""
    chars = max(4, int(width * (1.0 if bold else 1.1)) - 2)
    return sum(max(1, len(textwrap.wrap(part, chars))) for part in text.split("\n"))


def _height(n_lines: int) -> float:
    return LINE_PT * n_lines + 3


def _write_row(ws: Worksheet, i: int, row: tuple, formats: list[str], bold: bool = False) -> None:
    wrapped, others = 1, []
    for j, value in enumerate(row, start=1):
        if value is None:
            continue  # NULL stays an empty cell, never 0
        cell = ws.cell(row=i, column=j)
        if isinstance(value, bool):
            write_text(cell, "yes" if value else "no")
            others.append(cell)
        elif isinstance(value, (int, float)):
            cell.value = int(value) if isinstance(value, int) else float(value)
            cell.number_format = formats[j - 1]
            others.append(cell)
        else:
            write_text(cell, value).alignment = WRAP_TOP
            wrapped = max(wrapped, _lines(str(value), ws.column_dimensions[column_letter(j)].width, bold))
        if bold:
            cell.font = Font(bold=True)
            cell.border = TOTAL_BORDER
    if wrapped > 1:  # the row's figures stand at the top, beside the first line of its text
        ws.row_dimensions[i].height = _height(wrapped)
        for cell in others:
            cell.alignment = TOP


def _write_header(ws: Worksheet, table: Table) -> None:
    """The header row, wrapped, as high as its longest header needs."""
    most = 1
    for j, column in enumerate(table.columns, start=1):
        width = _column_width(column, [r[j - 1] for r in table.rows], table.name)
        ws.column_dimensions[column_letter(j)].width = width
        text = header(column, table.name)
        cell = write_text(ws.cell(row=1, column=j), text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = HEADER_ALIGN
        most = max(most, _lines(text, width, bold=True))
    ws.row_dimensions[1].height = _height(most)


def _write_sheet(wb: Workbook, table: Table) -> None:
    ws = wb.create_sheet(table.name)
    _write_header(ws, table)
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
    _print_setup(ws, len(table.columns), title_cols=1 if frozen_cols else 0)
    if table.key_column is None:  # a filter on a table of rows of one kind (the totals row stays out)
        ws.auto_filter.ref = f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}"


def _width_pt(width: float) -> float:
    """A column's printed width in points (at 100 %): 7 px a character unit plus 5 px of padding."""
    return (width * 7 + 5) * 0.75


def _print_setup(ws: Worksheet, n_columns: int, title_cols: int = 0) -> None:
    """Printed or saved as PDF: landscape A4, the header row repeated on every page. A sheet that
    fits one page wide at READABLE_SCALE or more is fitted to the page width (as many pages tall as
    needed); a wider one (the system sheet's 37 columns would shrink to a quarter) prints at
    PRINT_SCALE over several pages wide, its first `title_cols` columns (the year or the entity
    code) repeated on each page so that every page says whose figures it holds."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_IN
    ws.print_title_rows = "1:1"
    printable = PAGE_WIDTH_PT - 2 * SIDE_MARGIN_IN * 72
    total = sum(_width_pt(ws.column_dimensions[column_letter(j)].width) for j in range(1, n_columns + 1))
    if total * READABLE_SCALE <= printable:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = PRINT_SCALE
    if title_cols:
        ws.print_title_cols = f"A:{column_letter(title_cols)}"


def _about_sheet(wb: Workbook, year: int, tables: list[Table], source: str) -> None:
    """The title, the source (with the draft notice and the factor-set note) and the sheets. The
    long texts wrap: unwrapped, the source line alone was as wide as many pages, and fitting the
    sheet to the page width shrank it all to a quarter."""
    ws = wb.active
    ws.title = "about"
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 100
    write_text(ws.cell(row=1, column=1), f"Greening the Blue: report tables, data year {year}").font = TITLE_FONT
    notes = (
        source,
        "Values are unrounded; the number formats round for display. An empty cell means no data (never zero).",
    )
    for row, text in enumerate(notes, start=2):  # across both columns
        write_text(ws.cell(row=row, column=1), text).alignment = WRAP_TOP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        ws.row_dimensions[row].height = _height(_lines(text, 18 + 100))
    write_text(ws.cell(row=5, column=1), "Sheet").font = Font(bold=True)
    write_text(ws.cell(row=5, column=2), "Contents").font = Font(bold=True)
    for i, t in enumerate(tables, start=6):
        write_text(ws.cell(row=i, column=1), t.name).alignment = TOP
        text = f"{t.title}: {t.description}"
        write_text(ws.cell(row=i, column=2), text).alignment = WRAP_TOP
        ws.row_dimensions[i].height = _height(_lines(text, 100))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_IN
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
