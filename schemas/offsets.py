"""Offsets sheet: credits retired against this reporting year's emissions.

Vintage and retirement-date bounds depend on the reporting year of the Entity sheet; they come
from the symbolic bounds of columns.csv (`reporting_year+1`, `reporting_year-01-01`). Serial
ranges may neither repeat nor overlap within the workbook (here) nor across submissions (the
loader); `pipeline.serials` reads them.
"""

from collections.abc import Hashable

import pandas as pd

from pipeline import serials
from schemas.checks import FILE_NO, is_blank, row_check, sheet_schema


def _unique_serials(d: pd.DataFrame) -> pd.Series:
    """False for a serial that repeats or overlaps one given above it in the same workbook."""
    ok = pd.Series(True, index=d.index)
    blank = is_blank(d["serial_range"])
    file_no = d[FILE_NO] if FILE_NO in d else pd.Series(0, index=d.index)
    for _, rows in d.loc[~blank, "serial_range"].groupby(file_no[~blank], sort=False):
        if len(rows) < 2:
            continue
        claims: serials.Claims[Hashable] = serials.Claims()  # owner: the row's index label
        for index, value in rows.items():
            serial = serials.parse(value)
            if claims.holds(serial):
                ok.at[index] = False
            claims.add(serial, index)
    return ok


schema = sheet_schema(
    "Offsets",
    [
        row_check(
            "serial-unique-in-file",
            "duplicate-serial.in-file",
            "serial_range",
            _unique_serials,
            lambda v, r: {"serial": str(v).strip()},
        )
    ],
)
