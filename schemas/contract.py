"""The submission contract as data: `sheets.csv` and `columns.csv` beside this file.

Every other module (template, validation, data dictionary, demo data) reads the sheets and
their columns from here, so a column is added in one CSV row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

# inputs/history/*.csv: published totals for years before detailed workbooks (exact header).
HISTORY_HEADER = (
    "entity_code",
    "year",
    "personnel",
    "facilities_tco2e",
    "air_travel_tco2e",
    "other_travel_tco2e",
    "offsets_tco2e",
    "waste_tonnes",
    "water_m3",
)
HISTORY_OPTIONAL = frozenset({"waste_tonnes", "water_m3"})


@dataclass(frozen=True)
class ColumnSpec:
    sheet: str
    name: str
    dtype: str  # text, number, integer, enum, yesno, iso3, iata, entity, email, date
    required: bool
    codelist: str | None
    ge: str | None  # bounds as written in columns.csv; may be symbolic (current_year, reporting_year+1)
    gt: str | None
    le: str | None
    bound_note: str  # why the bounds are what they are (every numeric column has an upper bound)
    unit: str | None
    description: str

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("number", "integer")


@dataclass(frozen=True)
class SheetSpec:
    name: str
    layout: str  # "table" or "field_value"
    order: int
    description: str
    columns: tuple[ColumnSpec, ...]

    @property
    def is_table(self) -> bool:
        return self.layout == "table"

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _blank(value: str) -> str | None:
    value = value.strip()
    return value or None


@cache
def sheets() -> tuple[SheetSpec, ...]:
    """All sheets of the contract, in workbook order."""
    with (HERE / "columns.csv").open(newline="", encoding="utf-8") as fh:
        cols = [
            ColumnSpec(
                sheet=r["sheet"],
                name=r["column"],
                dtype=r["dtype"],
                required=r["required"] == "yes",
                codelist=_blank(r["codelist"]),
                ge=_blank(r["ge"]),
                gt=_blank(r["gt"]),
                le=_blank(r["le"]),
                bound_note=r["bound_note"].strip(),
                unit=_blank(r["unit"]),
                description=r["description"],
            )
            for r in csv.DictReader(fh)
        ]
    with (HERE / "sheets.csv").open(newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["order"]))
    out = tuple(
        SheetSpec(
            name=r["sheet"],
            layout=r["layout"],
            order=int(r["order"]),
            description=r["description"],
            columns=tuple(c for c in cols if c.sheet == r["sheet"]),
        )
        for r in rows
    )
    assert all(s.columns for s in out), "every sheet of sheets.csv needs columns in columns.csv"
    assert {c.sheet for c in cols} <= {s.name for s in out}, "columns.csv names a sheet not in sheets.csv"
    return out


def sheet(name: str) -> SheetSpec:
    for s in sheets():
        if s.name == name:
            return s
    raise KeyError(name)


def sheet_names() -> tuple[str, ...]:
    return tuple(s.name for s in sheets())
