"""EMS sheet (Field/Value): state of the environmental management system."""

import pandas as pd

from schemas import i18n
from schemas.checks import is_blank, parse_code, row_check, sheet_schema

CERTIFIED_STANDARDS = ("iso14001", "emas")  # the standards a certified EMS may be certified to


def _certified_has_standard(d: pd.DataFrame) -> pd.Series:
    certified = parse_code(d["status"]).eq("certified")
    standard = parse_code(d["standard"])
    return ~certified.fillna(False).astype(bool) | standard.isin(CERTIFIED_STANDARDS) | is_blank(d["standard"])


def _certified_params(value: object, row: pd.Series | None) -> dict[str, object]:
    """The status and the standards as their drop-downs show them in the finding's language."""
    return {
        "certified": i18n.CodeLabels("ems_status", ("certified",)),
        "standards": i18n.CodeLabels("ems_standard", CERTIFIED_STANDARDS),
    }


schema = sheet_schema(
    "EMS",
    [
        row_check(
            "certified-needs-standard",
            "inconsistent-row.certified-standard",
            "standard",
            _certified_has_standard,
            _certified_params,
        )
    ],
)
