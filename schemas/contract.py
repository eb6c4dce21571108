"""The submission contract as data: `sheets.csv`, `columns.csv` and `derived_columns.csv` beside this file.

A column is defined once, as one row of `columns.csv`: its name in the workbook, its name in the
warehouse where that differs (`db_column`), its type, whether it is required, its code list,
bounds (with the reason), unit and meaning. From that row come the pandera model
(`schemas.checks`), the warehouse table's DDL and comments (`pipeline.warehouse.schema`), the
template's header, comment and drop-down (`pipeline.intake.template`) and the data dictionary
(`pipeline.docs`). `derived_columns.csv` lists the columns the pipeline adds to a sheet's table
(canonical quantities, flight distances, flags), computed by `pipeline.emissions.prepare`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Warehouse type of each contract dtype.
DB_TYPES = {
    "text": "VARCHAR",
    "email": "VARCHAR",
    "enum": "VARCHAR",
    "iso3": "VARCHAR",
    "iata": "VARCHAR",
    "entity": "VARCHAR",
    "number": "DOUBLE",
    "integer": "INTEGER",
    "yesno": "BOOLEAN",
    "date": "DATE",
}


# Symbolic bounds of columns.csv: relative to the reporting year, as a year or a day.
_REL_YEAR = re.compile(r"reporting_year\s*([+-]\s*\d+)?")
_REL_DATE = re.compile(r"reporting_year(?:\+(\d+))?-(\d{2})-(\d{2})")


def resolve_bound(text: str, year: int) -> int | float | dt.date:
    """A bound of columns.csv for a given reporting year: '2008', 'current_year',
    'reporting_year+1', 'reporting_year-01-01', 'reporting_year+1-12-31'."""
    text = text.strip()
    if text == "current_year":
        return dt.date.today().year
    if m := _REL_DATE.fullmatch(text):
        return dt.date(year + int(m.group(1) or 0), int(m.group(2)), int(m.group(3)))
    if m := _REL_YEAR.fullmatch(text):
        return year + int((m.group(1) or "0").replace(" ", ""))
    number = float(text)
    return int(number) if number.is_integer() else number


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
    db_column: str = ""  # the warehouse column where its name differs

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("number", "integer")

    @property
    def db_name(self) -> str:
        return self.db_column or self.name

    @property
    def db_type(self) -> str:
        return DB_TYPES[self.dtype]


@dataclass(frozen=True)
class DerivedColumn:
    """A column the pipeline adds to a sheet's warehouse table (`derived_columns.csv`)."""

    sheet: str
    name: str
    db_type: str
    required: bool
    unit: str | None
    description: str
    after: str = ""  # the contract column it follows in the table ('' = after all of them)

    @property
    def db_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class SheetSpec:
    name: str
    layout: str  # "table" or "field_value" (workbook sheets), "csv" (the history files)
    order: int
    description: str
    columns: tuple[ColumnSpec, ...]
    table: str = ""  # warehouse table of the sheet's rows
    derived: tuple[DerivedColumn, ...] = ()
    unique_rows: bool = False  # a row copied cell for cell is a warning: each row is one item of a site

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

    @property
    def unit_pairs(self) -> tuple[str, str] | None:
        """(type column, compatibility table) where the sheet's units depend on each row's type
        (Facilities' energy_type, Vehicles' fuel: `codelists.pairs_tables`), else None."""
        from pipeline import codelists

        if "unit" not in self.names:
            return None
        tables = codelists.pairs_tables()
        return next(((c.name, tables[c.name]) for c in self.columns if c.name in tables and c.dtype == "enum"), None)

    def table_columns(self) -> list[ColumnSpec | DerivedColumn]:
        """The columns of the sheet's warehouse table after its keys, in table order."""
        out: list[ColumnSpec | DerivedColumn] = []
        for col in self.columns:
            out.append(col)
            out += [d for d in self.derived if d.after == col.name]
        return out + [d for d in self.derived if not d.after]


def _blank(value: str) -> str | None:
    value = value.strip()
    return value or None


@cache
def _all_sheets() -> tuple[SheetSpec, ...]:
    """Every sheet of the contract, the workbook's and the history CSV's, in order."""
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
                db_column=r["db_column"].strip(),
            )
            for r in csv.DictReader(fh)
        ]
    with (HERE / "derived_columns.csv").open(newline="", encoding="utf-8") as fh:
        derived = [
            DerivedColumn(
                sheet=r["sheet"],
                name=r["column"],
                db_type=r["db_type"],
                required=r["required"] == "yes",
                unit=_blank(r["unit"]),
                description=r["description"],
                after=r["after"].strip(),
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
            table=r["table"],
            derived=tuple(d for d in derived if d.sheet == r["sheet"]),
            unique_rows=r["unique_rows"] == "yes",
        )
        for r in rows
    )
    assert all(s.columns for s in out), "every sheet of sheets.csv needs columns in columns.csv"
    assert {c.sheet for c in cols} <= {s.name for s in out}, "columns.csv names a sheet not in sheets.csv"
    assert {d.sheet for d in derived} <= {s.name for s in out}, "derived_columns.csv names a sheet not in sheets.csv"
    return out


@cache
def sheets() -> tuple[SheetSpec, ...]:
    """The sheets of the submission workbook, in workbook order."""
    return tuple(s for s in _all_sheets() if s.layout != "csv")


def history() -> SheetSpec:
    """The columns of a history CSV (inputs/history/*.csv), header in this order."""
    return sheet("History")


def sheet(name: str) -> SheetSpec:
    for s in _all_sheets():
        if s.name == name:
            return s
    raise KeyError(name)


def sheet_names() -> tuple[str, ...]:
    return tuple(s.name for s in sheets())
