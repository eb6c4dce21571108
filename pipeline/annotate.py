"""annotated.xlsx: a copy of a submission with every flagged cell coloured and commented.

Errors are filled red, warnings amber; each flagged cell gets a comment listing every finding on
it ("code: message"). A first sheet, "Validation summary", gives the file name, the counts and a
table of all findings with a link from each cell reference to the flagged cell. Findings with no
cell (a missing sheet or column) are listed in the summary only, linked to their sheet when it
exists.

The summary holds no timestamp, so reruns differ only in zip and document-property metadata.
Everything written from the submission or the findings is stored as text, never as a formula
(see `xlsx_style.write_text`). The source is opened with openpyxl, which is safe because the
guard has already vetted the file (and openpyxl parses with defusedxml when it is installed).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import xlsx_style as st
from pipeline.findings import ERROR, Finding, count

SUMMARY_SHEET = "Validation summary"
SUMMARY_COLUMNS = ("sheet", "cell", "column", "value", "code", "severity", "message")
SUMMARY_WIDTHS = (16, 10, 22, 24, 22, 10, 90)
TABLE_HEADER_ROW = 7  # rows 1-5: title, file, errors, warnings, what to do; row 6 blank


def _sheet_ref(name: str) -> str:
    """A sheet name quoted for a formula or link: 'It''s'."""
    return "'" + name.replace("'", "''") + "'"


def _parse_cell(ref: str) -> tuple[int, int] | None:
    """'D14' -> (14, 4); None for anything that is not one cell reference."""
    try:
        letters, row = coordinate_from_string(ref.strip().replace("$", ""))
        return row, column_index_from_string(letters)
    except (ValueError, AttributeError):
        return None


def unique_sheet_name(wanted: str, existing: list[str]) -> str:
    """`wanted`, or `wanted (2)`, ... : unique ignoring case (as Excel compares), at most 31 characters."""
    taken = {n.lower() for n in existing}
    name, n = wanted[:31], 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = wanted[: 31 - len(suffix)] + suffix
    return name


def _target(ws: Worksheet, row: int, col: int):
    """The cell to mark; inside a merged range, its top-left cell."""
    cell = ws.cell(row=row, column=col)
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return cell


def _mark_cells(wb, findings: list[Finding]) -> None:
    """Fill and comment every cell named by a finding whose sheet exists in the workbook."""
    by_cell: dict[tuple[str, int, int], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell and (pos := _parse_cell(f.cell)):
            by_cell[(f.sheet, *pos)].append(f)
    position = {name: i for i, name in enumerate(wb.sheetnames)}
    for (sheet, row, col), items in sorted(by_cell.items(), key=lambda kv: (position[kv[0][0]], kv[0][1:])):
        cell = _target(wb[sheet], row, col)
        items.sort(key=lambda f: (f.severity != ERROR, f.code, f.message))
        has_error = any(f.severity == ERROR for f in items)
        cell.fill = st.ERROR_FILL if has_error else st.WARNING_FILL
        lines = [f"{f.severity.upper()} {f.code}: {f.message}" for f in items]
        if cell.comment is not None and cell.comment.text:
            lines += ["", "---", cell.comment.text]
        cell.comment = st.comment("\n".join(lines))


def _order(wb, findings: list[Finding]) -> list[Finding]:
    """Workbook order: file-level findings first, then by sheet position, row, column, code."""
    position = {name: i for i, name in enumerate(wb.sheetnames)}

    def key(f: Finding) -> tuple:
        pos = _parse_cell(f.cell) if f.cell else None
        return (
            0 if not f.sheet else 1,
            position.get(f.sheet, len(position)),
            f.sheet,
            pos[0] if pos else (f.row or 0),
            pos[1] if pos else 0,
            f.code,
            f.message,
        )

    return sorted(findings, key=key)


def _summary(wb, source: Path, findings: list[Finding]) -> None:
    name = unique_sheet_name(SUMMARY_SHEET, wb.sheetnames)
    original = list(wb.sheetnames)
    ws = wb.create_sheet(name, 0)
    errors, warnings = count(findings)

    title = ws.cell(row=1, column=1, value="Validation summary")
    title.font = st.TITLE_FONT
    for row, (label, value) in enumerate(
        (("File", source.name), ("Errors", errors), ("Warnings", warnings)), start=2
    ):
        ws.cell(row=row, column=1, value=label).font = st.BOLD
        cell = ws.cell(row=row, column=2)
        if isinstance(value, int):
            cell.value = value
            cell.alignment = st.INPUT_ALIGN
        else:
            st.write_text(cell, value)
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(SUMMARY_COLUMNS))
        if label == "Errors" and errors:
            cell.fill = st.ERROR_FILL
        if label == "Warnings" and warnings:
            cell.fill = st.WARNING_FILL
    verdict = (
        "Nothing to correct: the workbook follows the template."
        if not findings
        else "Correct every error (red) and send the workbook again; warnings (amber) are worth a look. "
        "Click a cell reference to jump to the cell."
    )
    st.write_text(ws.cell(row=5, column=1), verdict).alignment = st.WRAP_TOP
    ws.merge_cells(start_row=5, start_column=1, end_row=5, end_column=len(SUMMARY_COLUMNS))

    for idx, header in enumerate(SUMMARY_COLUMNS, start=1):
        ws.cell(row=TABLE_HEADER_ROW, column=idx, value=header)
    st.style_header_row(ws, TABLE_HEADER_ROW, len(SUMMARY_COLUMNS))

    row = TABLE_HEADER_ROW
    for f in _order(wb, findings):
        row += 1
        values = (f.sheet, f.cell, f.column, f.value, f.code, f.severity, f.message)
        for idx, value in enumerate(values, start=1):
            cell = st.write_text(ws.cell(row=row, column=idx), value)
            cell.alignment = st.WRAP_TOP
            cell.border = st.BORDER
        ws.cell(row=row, column=6).fill = st.ERROR_FILL if f.severity == ERROR else st.WARNING_FILL
        link = _link(f, original)
        if link:  # on the cell reference, or on the sheet name when the finding has no cell
            ref = ws.cell(row=row, column=2 if f.cell else 1)
            ref.hyperlink = Hyperlink(ref=ref.coordinate, location=link, display=str(ref.value))
            ref.font = st.LINK_FONT
        ws.row_dimensions[row].height = 15 * max(1, -(-len(f.message) // 100))

    st.set_widths(ws, SUMMARY_WIDTHS)
    last = get_column_letter(len(SUMMARY_COLUMNS))
    ws.auto_filter.ref = f"A{TABLE_HEADER_ROW}:{last}{max(row, TABLE_HEADER_ROW + 1)}"
    ws.freeze_panes = f"A{TABLE_HEADER_ROW + 1}"
    ws.print_title_rows = f"{TABLE_HEADER_ROW}:{TABLE_HEADER_ROW}"
    ws.sheet_properties.tabColor = "C00000" if errors else ("FFC000" if warnings else "00B050")
    st.fit_to_page_width(ws)

    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _link(f: Finding, sheets: list[str]) -> str | None:
    """In-workbook link target of a finding: its cell, or A1 of its sheet; None if no such sheet."""
    if not f.sheet or f.sheet not in sheets:
        return None
    pos = _parse_cell(f.cell) if f.cell else None
    target = f"{get_column_letter(pos[1])}{pos[0]}" if pos else "A1"
    return f"{_sheet_ref(f.sheet)}!{target}"


def write_annotated(source: Path, findings: list[Finding], output: Path) -> Path:
    """Write `output`: the submission at `source` with flagged cells filled and commented, and a
    first sheet summarising `findings`. Returns `output`."""
    source, output = Path(source), Path(output)
    wb = load_workbook(source)
    _mark_cells(wb, findings)
    _summary(wb, source, findings)
    output.parent.mkdir(parents=True, exist_ok=True)
    wb.save(output)
    return output
