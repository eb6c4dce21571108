"""Coerce: validated cells -> typed columns (float, Int64, codes, booleans, dates).

Uses the same parse functions as the checks, so what was validated is what gets loaded.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from schemas import checks
from schemas.contract import SheetSpec

MAX_EXACT_INT = 2**53


def typed_column(values: pd.Series, dtype: str) -> pd.Series:
    if dtype == "number":
        return checks.parse_number(values)
    if dtype == "integer":  # beyond 2**53 a float holds no exact integer; such values failed validation
        number = checks.parse_number(values)
        return number.where(number.abs() <= MAX_EXACT_INT).round().astype("Int64")
    if dtype == "enum":
        return checks.parse_code(values).astype("string")
    if dtype == "yesno":
        return checks.parse_code(values).map({"yes": True, "no": False}).astype("boolean")
    if dtype in ("iso3", "iata", "entity"):
        return checks.parse_ref(values).astype("string")
    if dtype in ("text", "email"):
        return checks.parse_text(values).astype("string")
    if dtype == "date":
        return checks.parse_date(values)
    raise ValueError(f"unknown contract dtype {dtype!r}")


def typed_table(frame: pd.DataFrame, spec: SheetSpec, source_rows: pd.Index | None = None) -> pd.DataFrame:
    """A table sheet's typed rows with the Excel row number as `source_row` (`source_rows`, else the
    frame's index). Other columns of `frame` are left out."""
    rows = (frame.index if source_rows is None else source_rows).to_numpy(dtype="int64")  # repeat across files
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        frame = frame.reset_index(drop=True)
    out = pd.DataFrame({c.name: typed_column(frame[c.name], c.dtype) for c in spec.columns}, index=frame.index)
    out.insert(0, "source_row", rows)
    return out


@cache
def _empty_table(sheet: str) -> pd.DataFrame:
    from schemas.contract import sheet as sheet_spec

    spec = sheet_spec(sheet)
    return typed_table(pd.DataFrame(columns=list(spec.names), index=pd.Index([], name="row"), dtype=object), spec)


def empty_table(sheet: str) -> pd.DataFrame:
    """The typed table of a sheet with no rows (a copy: callers may add columns)."""
    return _empty_table(sheet).copy()


def fields_of(typed: pd.DataFrame, spec: SheetSpec) -> dict[str, object]:
    """A Field/Value sheet's typed row as a dict of plain Python values (None for empty fields)."""
    row = typed.iloc[0]
    return {c.name: (None if pd.isna(row[c.name]) else _plain(row[c.name])) for c in spec.columns}


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value
