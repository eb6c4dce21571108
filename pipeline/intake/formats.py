"""Which cells of a workbook are formatted as a percentage (so 0.85 there means 85 %).

calamine gives values, not formats; for the few cells where the format changes the meaning (the
percent fields of the Field/Value sheets) this reads `xl/styles.xml` and those sheets' cell
style indexes. Only parts the guard has already checked are read, each at most
`max_bytes` (a larger part is skipped: no cell counts as a percentage then).
"""

from __future__ import annotations

import io
import re
import zipfile

import defusedxml.ElementTree as SafeET

BUILTIN_PERCENT = {9, 10}  # Excel's built-in "0%" and "0.00%"
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c\b([^<>]*)>")
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_ATTR_S = re.compile(rb'\bs="([0-9]{1,6})"')
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
    try:
        info = zf.getinfo("xl/styles.xml")
    except KeyError:
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
    cells = []
    for attrs in _CELL_TAG.findall(zf.read(info)):
        r, s = _ATTR_R.search(attrs), _ATTR_S.search(attrs)
        if r and s and int(s.group(1)) in styles:
            cells.append(r.group(1).decode("ascii"))
    return cells
