"""Workbooks other programs (and attackers) write: a valid submission, then one part of its zip changed.

Each mutator takes the bytes of an xlsx written by `builders.write_workbook` and returns the
bytes of a variant whose XML differs the way files from other spreadsheet programs, damaged
copies or hand-made attacks differ. They keep the package well-formed for the guard: the point
is what happens after it (calamine, openpyxl, validation, annotation).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.builders import set_cell, valid_sheets, write_workbook

Mutator = Callable[[bytes], bytes]


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def repack(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buffer.getvalue()


def edit(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    parts = members(data)
    before = parts[member]
    parts[member] = change(before)
    assert parts[member] != before, f"the mutation did not change {member}"
    return repack(parts)


def sheet_part(data: bytes, sheet: str) -> str:
    """The zip member of a sheet (openpyxl numbers them in workbook order)."""
    parts = members(data)
    names = re.findall(rb'<sheet [^>]*name="([^"]+)"', parts["xl/workbook.xml"])
    return f"xl/worksheets/sheet{names.index(sheet.encode()) + 1}.xml"


def submission(folder: Path, name: str, entity: str = "UNEP", broken: bool = True) -> Path:
    """A submission written by openpyxl; `broken` puts one error in it (a unit that does not fit)."""
    sheets = valid_sheets(entity)
    if broken:
        set_cell(sheets, "Facilities", "E2", "litre")
    return write_workbook(folder / name, sheets)


# --- the mutations ----------------------------------------------------------------------------


def first_cell(sheet: str, attrs: bytes) -> Mutator:
    """Add attributes to the first cell of `sheet`."""

    def mutate(data: bytes) -> bytes:
        return edit(
            data, sheet_part(data, sheet), lambda xml: re.sub(rb"<c r=\"A1\"", b'<c r="A1" ' + attrs, xml, count=1)
        )

    return mutate


def empty_style(data: bytes) -> bytes:
    return first_cell("Facilities", b's=""')(data)


def undefined_style(data: bytes) -> bytes:
    return first_cell("Facilities", b's="999"')(data)


def missing_shared_strings(data: bytes) -> bytes:
    """The workbook's relationships name xl/sharedStrings.xml, which is not in the package."""
    parts = members(data)
    if "xl/sharedStrings.xml" not in parts:  # openpyxl writes inline strings: make it reference one
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
    else:
        del parts["xl/sharedStrings.xml"]
    return repack(parts)


def odd_sheet_name(data: bytes) -> bytes:
    """An extra sheet's name holds characters Excel forbids in sheet names: / [ ] * ?"""
    return edit(data, "xl/workbook.xml", lambda xml: xml.replace(b'name="Water"', b'name="W/a[t]e*r?"'))


def nan_value(data: bytes) -> bytes:
    """A number cell holding NaN, as some writers store a failed calculation."""
    part = sheet_part(data, "Facilities")
    return edit(data, part, lambda xml: re.sub(rb'(<c r="D3"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>NaN</v>", xml, count=1))


def text_column_width(data: bytes) -> bytes:
    part = sheet_part(data, "Facilities")

    def change(xml: bytes) -> bytes:
        cols = b'<cols><col min="1" max="1" width="wide" customWidth="1"/></cols>'
        if b"<cols>" in xml:
            return re.sub(rb"<cols>.*?</cols>", cols, xml, count=1, flags=re.S)
        return xml.replace(b"<sheetData", cols + b"<sheetData", 1)

    return edit(data, part, change)


def missing_drawing(data: bytes) -> bytes:
    """The sheet names a drawing part that is not in the package."""
    parts = members(data)
    part = sheet_part(data, "Facilities")
    parts[part] = parts[part].replace(b"</worksheet>", b'<drawing r:id="rId77"/></worksheet>')
    if b"xmlns:r=" not in parts[part][:400]:
        parts[part] = parts[part].replace(
            b"<worksheet ",
            b'<worksheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ',
            1,
        )
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    parts[rels] = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'relationships"><Relationship Id="rId77" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/drawing" Target="../drawings/drawing9.xml"/></Relationships>'
    )
    return repack(parts)


def bad_core_date(data: bytes) -> bytes:
    return edit(
        data,
        "docProps/core.xml",
        lambda xml: re.sub(rb"(<dcterms:created[^>]*>)[^<]*", rb"\g<1>the day before yesterday", xml),
    )


def garbage_date_cell(data: bytes) -> bytes:
    """A cell of type d (ISO date) holding text that is no date."""
    part = sheet_part(data, "Facilities")
    return edit(data, part, lambda xml: xml.replace(b"</row>", b'<c r="J2" t="d"><v>garbage</v></c></row>', 1))


def huge_merge(data: bytes) -> bytes:
    """A merged range over H1:XFD1048576: a few bytes that make openpyxl build 17 billion cells."""
    part = sheet_part(data, "Facilities")
    merge = b'<mergeCells count="1"><mergeCell ref="H1:XFD1048576"/></mergeCells>'
    return edit(data, part, lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + merge, 1))


def huge_hyperlink(data: bytes) -> bytes:
    part = sheet_part(data, "Facilities")
    link = b'<hyperlinks><hyperlink ref="H1:XFD1048576" location="Entity!A1"/></hyperlinks>'

    def change(xml: bytes) -> bytes:
        tail = xml.index(b"</sheetData>") + len(b"</sheetData>")
        return xml[:tail] + link + xml[tail:]

    return edit(data, part, change)


def workbook_elsewhere(data: bytes) -> bytes:
    """_rels/.rels names book/workbook.xml: a copy of the workbook under book/, whose Facilities
    sheet ends with a cell at XFD1048576 (calamine reads the folder _rels/.rels names)."""
    parts = members(data)
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="book/workbook.xml"')
    parts["book/workbook.xml"] = parts["xl/workbook.xml"]
    parts["book/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b'"/xl/', b'"')
    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        parts["book/" + name.removeprefix("xl/")] = parts[name]
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    book_part = "book/" + sheet_part(data, "Facilities").removeprefix("xl/")
    parts[book_part] = parts[book_part].replace(b"</sheetData>", far)
    return repack(parts)


def spilled_error(data: bytes) -> bytes:
    """An Excel 365 error value (#SPILL!) in a column of the focal point's own (H) of Facilities."""
    part = sheet_part(data, "Facilities")
    cell = b'<c r="H2" t="e"><f>_xlfn.UNIQUE(A2:A4)</f><v>#SPILL!</v></c></row>'
    return edit(data, part, lambda xml: xml.replace(b"</row>", cell, 2).replace(cell, b"</row>", 1))


MUTATIONS: dict[str, Mutator] = {
    "empty-style": empty_style,
    "undefined-style": undefined_style,
    "missing-shared-strings": missing_shared_strings,
    "odd-sheet-name": odd_sheet_name,
    "nan-value": nan_value,
    "text-column-width": text_column_width,
    "missing-drawing": missing_drawing,
    "bad-core-date": bad_core_date,
    "garbage-date-cell": garbage_date_cell,
    "huge-merge": huge_merge,
    "huge-hyperlink": huge_hyperlink,
}


def mutated(folder: Path, name: str, mutation: str, entity: str = "UNEP") -> Path:
    """A broken submission of `entity`, changed by `MUTATIONS[mutation]`."""
    source = submission(folder, f"_{name}", entity)
    path = folder / name
    path.write_bytes(MUTATIONS[mutation](source.read_bytes()))
    source.unlink()
    return path


def raw_value(data: bytes, sheet: str, cell: str, text: str) -> bytes:
    """Put `text` as the stored number of `cell` (e.g. 'inf', 'NaN'): what no spreadsheet program shows."""
    part = sheet_part(data, sheet)
    pattern = re.compile(rb'<c r="' + cell.encode() + rb'"[^>]*>.*?</c>')

    def change(xml: bytes) -> bytes:
        new = f'<c r="{cell}" t="n"><v>{text}</v></c>'.encode()
        return pattern.sub(lambda _: new, xml, count=1)

    return edit(data, part, change)
