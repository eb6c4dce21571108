"""History CSV (inputs/history/*.csv): published totals of earlier years, one row per entity and year.

Column rules come from columns.csv (sheet History), as for the workbook's sheets; one entity-year
may appear once in a file.
"""

import pandas as pd

from schemas.checks import parse_number, parse_ref, row_check, sheet_schema


def _entity_year_once(d: pd.DataFrame) -> pd.Series:
    keys = pd.DataFrame({"entity": parse_ref(d["entity_code"]), "year": parse_number(d["year"])}, index=d.index)
    return ~(keys.duplicated(keep="first") & keys.notna().all(axis=1))


schema = sheet_schema(
    "History",
    [
        row_check(
            "history-entity-year-once",
            "duplicate-submission.history-twice",
            "year",
            _entity_year_once,
            lambda v, r: {"entity": str(r["entity_code"]).strip().upper() if r is not None else "", "year": v},
        )
    ],
)
