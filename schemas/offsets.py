"""Offsets sheet: credits retired against this reporting year's emissions.

Vintage and retirement-date bounds depend on the reporting year of the Entity sheet; they come
from the symbolic bounds of columns.csv (`reporting_year+1`, `reporting_year-01-01`). Serial
ranges may neither repeat nor overlap within the workbook (here) nor across submissions (the
loader); `pipeline.serials` reads them. A row whose serial is a range retires as many credits as
the range holds (1 credit = 1 tCO2e): its quantity must be that count.
"""

import re
from collections.abc import Callable, Hashable

import pandas as pd

from pipeline import serials
from schemas import contract
from schemas.checks import FILE_NO, is_blank, parse_number, row_check, sheet_schema, within_bounds


def _unique_serials(d: pd.DataFrame) -> pd.Series:
    """False for a serial that repeats or overlaps one given above it in the same workbook."""
    ok = pd.Series(True, index=d.index)
    blank = is_blank(d["serial_range"])
    file_no = d[FILE_NO] if FILE_NO in d else pd.Series(0, index=d.index)
    for _, rows in d.loc[~blank, "serial_range"].groupby(file_no[~blank], sort=False):
        if len(rows) < 2:
            continue
        read = [(index, serials.parse_readable(value)) for index, value in rows.items()]
        if serials.disjoint(serial for _, serial in read if serial is not None):
            continue  # no serial overlaps another: none repeats one above it
        claims: serials.Claims[Hashable] = serials.Claims()  # owner: the row's index label
        for index, serial in read:
            if serial is None:
                continue  # its own error (`_readable_serials`): never read
            if claims.holds(serial):
                ok.at[index] = False
            claims.add(serial, index)
    return ok


def _readable_serials(d: pd.DataFrame) -> pd.Series:
    """False for a serial longer than `serials.MAX_CHARACTERS` or in more than `serials.MAX_PARTS` parts."""
    values, blank = d["serial_range"], is_blank(d["serial_range"])
    return pd.Series([bool(b) or serials.is_readable(v) for v, b in zip(values, blank, strict=True)], index=d.index)


def _ascii_serials(d: pd.DataFrame) -> pd.Series:
    """False for a serial holding a letter or digit that is not ASCII once normalised (a Cherokee
    or Armenian look-alike, say): it could not be told from the serial it looks like."""
    values, blank = d["serial_range"], is_blank(d["serial_range"])
    return pd.Series(
        [bool(b) or not serials.foreign_characters(v) for v, b in zip(values, blank, strict=True)], index=d.index
    )


# An identifier Excel took for a number and shows in scientific notation, rounded to 15 digits:
# '1.23457E+19' as it shows it, '1.234567890123457e+19' as the cell holds it (a project id or a
# serial number typed without an apostrophe). Its digits are gone: it names no registry's entry.
_SCIENTIFIC = re.compile(r"\s*[+-]?[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+\s*")


def _rounded(value: object) -> bool:
    """Whether an identifier's cell is one Excel rounded: a text in scientific notation, or a number
    of 16 digits or more (Excel keeps 15: 12345678901234567890 is held as 1.2345678901234568e19)."""
    if isinstance(value, str):
        return _SCIENTIFIC.fullmatch(value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15


def _not_rounded(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    def fn(d: pd.DataFrame) -> pd.Series:
        """False for an identifier Excel rounded (`_rounded`)."""
        values = d[column]
        return pd.Series([not _rounded(v) for v in values.tolist()], index=d.index)

    return fn


def _range_size(value: object) -> int | None:
    """How many credits a serial range holds (first and last included); None for a single
    serial, one that cannot be read (its own error), and a "range" of one (a serial whose last
    two numbers are equal, or a date typed as a serial: not told apart from a single serial)."""
    serial = serials.parse_readable(value) if not serials.several(value) else None  # several: their own error
    if serial is None or serial.start is None or serial.end is None or serial.end <= serial.start:
        return None
    return serial.end - serial.start + 1


def _quantity_matches_range(d: pd.DataFrame) -> pd.Series:
    """False where the serial is a range and the quantity is not the range's count of credits:
    more tonnes than the serials hold, or a range wider than what was retired. A quantity that
    is no number or out of its bounds is its own error, and not compared."""
    quantity = parse_number(d["quantity_tco2e"])
    spec = contract.sheet("Offsets").column("quantity_tco2e")
    compared = ~is_blank(d["serial_range"]) & within_bounds(spec, quantity)
    ok = []
    for value, tonnes, is_compared in zip(d["serial_range"], quantity, compared, strict=True):
        size = _range_size(value) if is_compared else None
        ok.append(size is None or tonnes == size)
    return pd.Series(ok, index=d.index, dtype=bool)


def _range_params(value: object, row: pd.Series | None) -> dict[str, object]:
    assert row is not None  # a row rule
    return {"credits": _range_size(row["serial_range"]) or 0, "serial": str(row["serial_range"]).strip()}


def _one_serial_per_cell(d: pd.DataFrame) -> pd.Series:
    """False for a cell holding several serial ranges (`serials.several`)."""
    return pd.Series([not serials.several(v) for v in d["serial_range"].tolist()], index=d.index)


def _several_params(value: object, row: pd.Series | None) -> dict[str, object]:
    return {"count": serials.several(value)}


def _characters_params(value: object, row: pd.Series | None) -> dict[str, object]:
    found = serials.foreign_characters(value)
    return {"characters": ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in found)}


def _size_params(value: object, row: pd.Series | None) -> dict[str, object]:
    characters, parts = serials.size(value)
    return {
        "characters": characters,
        "parts": parts,
        "max_characters": serials.MAX_CHARACTERS,
        "max_parts": serials.MAX_PARTS,
    }


schema = sheet_schema(
    "Offsets",
    [
        row_check("project-id-not-rounded", "type-error.identifier-rounded", "project_id", _not_rounded("project_id")),
        row_check("serial-not-rounded", "type-error.identifier-rounded", "serial_range", _not_rounded("serial_range")),
        row_check(
            "serial-one-per-cell", "type-error.serial-several", "serial_range", _one_serial_per_cell, _several_params
        ),
        row_check("serial-readable", "out-of-range.serial-size", "serial_range", _readable_serials, _size_params),
        row_check("serial-ascii", "type-error.serial-characters", "serial_range", _ascii_serials, _characters_params),
        row_check(
            "serial-quantity",
            "inconsistent-row.serial-quantity",
            "quantity_tco2e",
            _quantity_matches_range,
            _range_params,
        ),
        row_check(
            "serial-unique-in-file",
            "duplicate-serial.in-file",
            "serial_range",
            _unique_serials,
            lambda v, r: {"serial": str(v).strip()},
        ),
    ],
)
