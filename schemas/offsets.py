"""Offsets sheet: credits retired against this reporting year's emissions.

Vintage and retirement-date bounds depend on the reporting year of the Entity sheet; they come
from the symbolic bounds of columns.csv (`reporting_year+1`, `reporting_year-01-01`). Serial
ranges must be unique within the workbook here, and across all submissions in the warehouse.
"""

import pandas as pd

from schemas.checks import FILE_NO, parse_text, row_check, sheet_schema


def _unique_serials(d: pd.DataFrame) -> pd.Series:
    serial = parse_text(d["serial_range"]).str.upper()
    file_no = d[FILE_NO] if FILE_NO in d else pd.Series(0, index=d.index)
    keys = pd.DataFrame({"file": file_no.to_numpy(), "serial": serial.to_numpy()}, index=d.index)
    duplicated = keys.duplicated(keep="first") & keys["serial"].notna()
    return ~duplicated


schema = sheet_schema(
    "Offsets",
    [
        row_check(
            "serial-unique-in-file",
            "duplicate-serial",
            "serial_range",
            _unique_serials,
            lambda v, r: f"serial range {str(v).strip()} appears twice in this workbook; a credit counts once.",
        )
    ],
)
