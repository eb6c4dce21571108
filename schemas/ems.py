"""EMS sheet (Field/Value): state of the environmental management system."""

import pandas as pd

from schemas.checks import is_blank, parse_code, row_check, sheet_schema


def _certified_has_standard(d: pd.DataFrame) -> pd.Series:
    certified = parse_code(d["status"]).eq("certified")
    standard = parse_code(d["standard"])
    return ~certified.fillna(False).astype(bool) | standard.isin(["iso14001", "emas"]) | is_blank(d["standard"])


schema = sheet_schema(
    "EMS",
    [
        row_check(
            "certified-needs-standard",
            "inconsistent-row.certified-standard",
            "standard",
            _certified_has_standard,
        )
    ],
)
