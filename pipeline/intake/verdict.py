"""The `annotated.xlsx` of a workbook without findings: its summary sheet alone.

A workbook that passes has no cell to mark, so the copy of it would be the submission again;
copying a 2,000-row workbook through openpyxl costs more than validating it. The summary sheet
says so in the workbook's language (file, 0 errors, 0 warnings, nothing to correct), with the
look of the annotated copy's summary. It is written here as SpreadsheetML directly, a few
kilobytes in about a millisecond, so that a run over a year of clean workbooks neither imports
openpyxl nor starts a worker for it.

Nothing in the file comes from the submission but its name, written as an inline string (never a
formula, and quote-prefixed as the house writes text) with its control, bidirectional and unseen
characters shown as escapes, as on the console (`safe.console_safe`), and the underscore of an
`_xHHHH_` shown as `\x5f` (such a sequence in a cell's text is a character to Excel,
LibreOffice and calamine).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline import paths, safe
from pipeline.cells import column_letter
from schemas import i18n

SUMMARY_WIDTHS = (16, 10, 22, 24, 22, 14, 86)  # the summary's columns, here and in the annotated copy
LAST_COLUMN = column_letter(len(SUMMARY_WIDTHS))
ZIP_TIME = (2025, 1, 1, 0, 0, 0)  # the same bytes for the same content

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Styles: 0 plain; 1 the title (bold, 14 pt, UN blue); 2 a label (bold); 3 a count (left, top);
# 4 wrapped text at the top of its cell (the verdict); 5 the same, quote-prefixed (the file name).
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="3">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="14"/><color rgb="FF009EDB"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment horizontal="left" vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1" quotePrefix="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _text(ref: str, value: str, style: int) -> str:
    """An inline-string cell: text, never a formula, whatever it starts with."""
    text = escape(value)
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def shown_name(file_name: str) -> str:
    """The file name as the sheet shows it: bytes that are not UTF-8, and control, bidirectional
    and unseen characters, as escapes (as on the console), cut to what a cell holds."""
    return safe.sheet_safe(safe.file_name(file_name))


def verdict_sheet(file_name: str, lang: str = "en") -> str:
    """The worksheet part: title, file, 0 errors, 0 warnings and what it means, in `lang`."""
    verdict = i18n.text("annotate.nothing", lang) + " " + i18n.text("annotate.nothing-copied", lang)
    name = shown_name(file_name)
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(SUMMARY_WIDTHS, start=1)
    )
    name_lines = max(1, -(-len(name) // sum(SUMMARY_WIDTHS[1:])))
    rows = (
        f'<row r="1">{_text("A1", i18n.text("annotate.title", lang), 1)}</row>'
        f'<row r="2" ht="{15 * min(name_lines, 20)}" customHeight="1">'
        f"{_text('A2', i18n.text('annotate.file', lang), 2)}{_text('B2', name, 5)}</row>"
        f'<row r="3">{_text("A3", i18n.text("annotate.errors", lang), 2)}<c r="B3" s="3"><v>0</v></c></row>'
        f'<row r="4">{_text("A4", i18n.text("annotate.warnings", lang), 2)}<c r="B4" s="3"><v>0</v></c></row>'
        f'<row r="5" ht="{15 * max(2, -(-len(verdict) // 110))}" customHeight="1">{_text("A5", verdict, 4)}</row>'
    )
    return (
        _HEAD + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetPr><tabColor rgb="FF00B050"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{LAST_COLUMN}5"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>{rows}</sheetData>"
        f'<mergeCells count="2"><mergeCell ref="B2:{LAST_COLUMN}2"/><mergeCell ref="A5:{LAST_COLUMN}5"/></mergeCells>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        "</worksheet>"
    )


def verdict_bytes(file_name: str, lang: str = "en") -> bytes:
    """The whole package, the same bytes for the same name and language."""
    title = escape(i18n.text("annotate.title", lang), {'"': "&quot;"})
    workbook = (
        _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    parts = (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
        ("xl/worksheets/sheet1.xml", verdict_sheet(file_name, lang)),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, text.encode("utf-8"))
    return out.getvalue()


def write_verdict(file_name: str, output: Path, lang: str = "en") -> Path:
    """Write `output`, whole or not at all (`paths.write_whole`)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    return paths.write_whole(output, verdict_bytes(file_name, lang))
