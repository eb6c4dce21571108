"""House style for the workbooks a focal point sees: the blank template and the annotated copy.

Small helpers only (fills, fonts, header rows, comments, column widths, safe text), so that
`template.py` and `annotate.py` look alike and share one guard against formula injection.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cells import MAX_CELL_CHARS, column_letter
from pipeline.paths import write_whole
from pipeline.safe import OOXML_ESCAPE

AUTHOR = "Greening the Blue pipeline"

UN_BLUE = "009EDB"
HEADER_FILL = PatternFill("solid", start_color="D9EEF8", end_color="D9EEF8")
REQUIRED_HEADER_FILL = PatternFill("solid", start_color="1F5C99", end_color="1F5C99")  # required: dark, white text
FIELD_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
INPUT_FILL = PatternFill("solid", start_color="FFFBEA", end_color="FFFBEA")
ERROR_FILL = PatternFill("solid", start_color="F4B6B6", end_color="F4B6B6")
WARNING_FILL = PatternFill("solid", start_color="FFE08A", end_color="FFE08A")

THIN = Side(style="thin", color="8EA9C1")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)

BOLD = Font(bold=True)
REQUIRED_FONT = Font(bold=True, color="FFFFFF")
OPTIONAL_FONT = Font(italic=True, color="404040")
TITLE_FONT = Font(bold=True, size=14, color=UN_BLUE)
HEADING_FONT = Font(bold=True, size=12, color=UN_BLUE)
HELP_FONT = Font(italic=True, color="595959")
LINK_FONT = Font(color="0563C1", underline="single")

WRAP_TOP = Alignment(wrap_text=True, vertical="top")
INPUT_ALIGN = Alignment(wrap_text=True, vertical="top", horizontal="left")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")

# XML forbids most control characters; a cell holds at most MAX_CELL_CHARS (`cells`).
# what XML 1.0 forbids in a document: control characters but tab and line breaks, the
# noncharacters U+FFFE and U+FFFF, and surrogates alone (calamine reads all of them from a cell)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: object) -> str:
    """Text Excel can store: what XML forbids removed, cut to the cell limit."""
    text = "" if value is None else str(value)
    text = _ILLEGAL.sub("", text)
    return text[:MAX_CELL_CHARS]


def stored_text(text: str) -> str:
    """`text` as a cell's XML must hold it for Excel, LibreOffice and calamine to read it back as
    it is: an `_xHHHH_` in it (`safe.OOXML_ESCAPE`: the character it escapes to Excel,
    LibreOffice and calamine) with its underscore escaped, '_x005F_x0041_', as Excel writes it
    (openpyxl writes strings as given)."""
    return OOXML_ESCAPE.sub(r"_x005F_\1", text)


def write_text(cell: Cell, value: object) -> Cell:
    """Write `value` as literal text, never as a formula (formula-injection guard).

    openpyxl turns any string starting with '=' into a formula; forcing the data type back to
    's' stores it as an inline string, and `quotePrefix` keeps Excel from re-reading it as a
    formula when the cell is edited. The text stays visible exactly as given.
    """
    text = clean_text(value)
    cell.value = stored_text(text) if text else None
    if text:
        cell.data_type = "s"
        if text.startswith(_FORMULA_START):
            cell.quotePrefix = True
    return cell


def style_header_row(ws: Worksheet, row: int, ncols: int, required: Iterable[bool] | None = None) -> None:
    """Filled, bordered, wrapped header cells in `row`, columns 1..ncols; with `required`, the
    required columns dark with white bold text and the optional ones light with italic text."""
    flags = list(required) if required is not None else None
    for idx in range(1, ncols + 1):
        cell = ws.cell(row=row, column=idx)
        if flags is None:
            cell.font, cell.fill = BOLD, HEADER_FILL
        elif idx <= len(flags) and flags[idx - 1]:
            cell.font, cell.fill = REQUIRED_FONT, REQUIRED_HEADER_FILL
        else:
            cell.font, cell.fill = OPTIONAL_FONT, HEADER_FILL
        cell.border = BORDER
        cell.alignment = HEADER_ALIGN


def set_widths(ws: Worksheet, widths: Iterable[float]) -> None:
    """Column widths (Excel character units) for columns A, B, ..."""
    for idx, width in enumerate(widths, start=1):
        ws.column_dimensions[column_letter(idx)].width = width


def fit_to_page_width(ws: Worksheet, landscape: bool = True) -> None:
    """Print setup: all columns on one page width, as many pages down as needed."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.gridLines = False


def comment(text: str, width_pt: int = 320) -> Comment:
    """A cell comment sized to show its text without scrolling."""
    text = clean_text(text)
    lines = sum(max(1, len(line) // 55 + 1) for line in text.splitlines() or [""])
    note = Comment(text, AUTHOR)
    note.width = width_pt
    note.height = min(600, 20 + 15 * lines)
    return note


# --- reproducible files ------------------------------------------------------------------------

FIXED_TIME = dt.datetime(2025, 1, 1)  # zip entries and document dates of reproducible workbooks
_DOC_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def save_reproducible(wb: Workbook, path: Path, stamp: dt.datetime = FIXED_TIME) -> Path:
    """Save `wb` so that the same content gives the same bytes: fixed zip entry times and
    document dates (openpyxl stamps the time of saving)."""
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _DOC_DATES.sub(rb"\g<1>" + text + rb"\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_whole(path, out.getvalue())  # whole or not at all
