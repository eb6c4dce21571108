"""Which cells of a workbook are formatted as a percentage (so 0.85 there means 85 %).

calamine gives values, not formats; for the few cells where the format changes the meaning (the
percent fields of the Field/Value sheets) this reads `xl/styles.xml` and those sheets' cell
style indexes. Only parts the guard has already checked are read, each at most
`max_bytes` (a larger part is skipped: no cell counts as a percentage then). The styles are
those of xl/, the folder calamine reads the workbook from: the guard refuses a package whose
_rels/.rels names another.

A cell is placed as calamine places it (and the guard's positional walk, `guard._SheetScan._walk`):
by its `r` when it has one (in either quotes), else after the previous cell of its row, in the
row its `<row r>` names or the one after the previous row; so a percent style is found on a
sheet written without cell references too.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import defusedxml.ElementTree as SafeET

from pipeline.cells import R_ATTRIBUTE, cell_name, parse_cell, tag_attribute

# Excel's built-in "0%" and "0.00%", and those of the Thai locale ("t0%", "t0.00%"; ECMA-376
# Part 1, 18.8.30), which a workbook names by number without writing their codes
BUILTIN_PERCENT = {9, 10, 67, 68}
# Row and cell start and end tags, any prefix, as the guard's walk reads them (`guard._TOKEN`):
# each stops at the next '<' or '>' and does not backtrack.
_TAG = re.compile(rb"<(/?)(?:[^\s<>/:!?]++:)?(row|c)(?=[\s/>])([^<>]*+)>")
_ATTR_S = re.compile(rb"""(?:^|\s)s\s*=\s*(?:"([0-9]{1,6})"|'([0-9]{1,6})')""")
_NOT_DIGIT = re.compile(rb"[^0-9]")
# Fast path: every cell start tag written <c r="B4" ...> (Excel, LibreOffice, openpyxl): each
# cell placed by its reference, with no walk over the rows.
_CELL_START = re.compile(rb"<(?:[^\s<>/:!?]++:)?c(?=[\s/>])")
_REFERENCED_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^<>]*+)>')
_QUOTED = re.compile(r'"[^"]*"|\\.')


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def percent_styles(styles_xml: bytes) -> set[int]:
    """Indexes of `cellXfs` whose number format shows a percentage."""
    root = SafeET.fromstring(styles_xml)
    custom: dict[int, str] = {}
    xfs: list[int] = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "numFmt":
            try:
                custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
            except ValueError:
                continue
    for parent in root.iter():
        if _local(parent.tag) != "cellXfs":
            continue
        for xf in parent:
            try:
                xfs.append(int(xf.get("numFmtId", "0")))
            except ValueError:
                xfs.append(0)
    out = set()
    for index, fmt in enumerate(xfs):
        code = _QUOTED.sub("", custom.get(fmt, ""))
        if fmt in BUILTIN_PERCENT or "%" in code:
            out.add(index)
    return out


def percent_cells(data: bytes, parts: dict[str, str], max_bytes: int) -> dict[str, list[str]]:
    """sheet -> cells whose style is a percentage, for the sheets of `parts` (sheet -> zip member)."""
    if not parts:
        return {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        styles = _percent_styles_of(zf, max_bytes)
        if not styles:
            return {}
        out: dict[str, list[str]] = {}
        for sheet, member in parts.items():
            cells = _styled_cells(zf, member, styles, max_bytes)
            if cells:
                out[sheet] = cells
    return out


def _percent_styles_of(zf: zipfile.ZipFile, max_bytes: int) -> set[int]:
    """The percent styles of the styles part, found as calamine finds it (any case, '\\' as '/')."""
    from pipeline.intake.guard import part_key

    info = next((i for i in zf.infolist() if part_key(i.filename) == "xl/styles.xml"), None)
    if info is None:
        return set()
    if info.file_size > max_bytes:
        return set()
    try:
        return percent_styles(zf.read(info))
    except (SafeET.ParseError, ValueError):
        return set()


def _styled_cells(zf: zipfile.ZipFile, member: str, styles: set[int], max_bytes: int) -> list[str]:
    info = zf.getinfo(member)
    if info.file_size > max_bytes:
        return []
    return [cell for cell, style in _cells(zf.read(info)) if style in styles]


def _cells(xml: bytes) -> Iterator[tuple[str, int]]:
    """(cell, style) of every cell with a style (`s`): by their references when
    every cell is written `<c r="B4" ...>`, else by the walk calamine follows (`_walked_cells`)."""
    referenced = _REFERENCED_CELL.findall(xml)
    if len(referenced) != len(_CELL_START.findall(xml)):
        yield from _walked_cells(xml)
        return
    for ref, attrs in referenced:
        style = tag_attribute(_ATTR_S, attrs)
        if style is not None:
            yield ref.decode("ascii"), int(style)


def _walked_cells(xml: bytes) -> Iterator[tuple[str, int]]:
    """`_cells`, placed as calamine and the guard's walk place them: a row's `r` (its digits)
    sets the row, the end of a row moves to the next and back to column 0; a cell's `r` (in
    either quotes) sets its position, a cell without one is in the current row, one column
    after the previous cell."""
    row_index, col = 0, 0  # the current row, 0-based; the column of its last cell, 1-based (0: none yet)
    for closing, name, attrs in _TAG.findall(xml):
        if name == b"row":
            if (
                not closing
                and (r := tag_attribute(R_ATTRIBUTE, attrs)) is not None
                and (digits := _NOT_DIGIT.sub(b"", r))
            ):
                row_index = int(digits) - 1
            if closing or attrs.endswith(b"/"):
                row_index, col = row_index + 1, 0
            continue
        if closing:
            continue  # a cell is placed at its start tag
        r = tag_attribute(R_ATTRIBUTE, attrs)
        position = parse_cell(r) if r is not None else (row_index + 1, col + 1)
        if position is None:  # a reference the guard refuses: no file gets here with one
            col += 1
            continue
        row, col = position
        style = tag_attribute(_ATTR_S, attrs)
        if style is not None:
            yield cell_name(row, col), int(style)
