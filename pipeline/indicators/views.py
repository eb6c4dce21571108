"""The indicator views, defined once in `indicators.sql`, and the code lists they join.

`create_views(con)` mirrors the small code lists of `schemas/codelists/` into tables
`codelist_<name>` (every column of the CSV: codes, labels, groups such as the EMS group), then
(re)creates the views: rules that are data (which EMS status meets the criteria) stay in the CSV
and reach the SQL by a join. Called by every command that opens the warehouse for writing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import codelists

SQL = Path(__file__).resolve().parent / "indicators.sql"
# The code lists the views join (long reference lists such as countries and airports stay out).
JOINED = ("ems_status", "energy_type", "waste_stream", "waste_treatment", "refrigerant_gas", "entity_type")


def sync_codelists(con: duckdb.DuckDBPyConnection) -> None:
    """Replace `codelist_<name>` by the CSV's rows (all columns as text)."""
    for name in JOINED:
        frame = pd.DataFrame(codelists.table(name), dtype="string")
        con.register("_codelist", frame)
        try:
            con.execute(f"CREATE OR REPLACE TABLE codelist_{name} AS SELECT * FROM _codelist")
            con.execute(
                f"COMMENT ON TABLE codelist_{name} IS "
                f"'Code list {name} (schemas/codelists/{name}.csv), mirrored on every open for writing.'"
            )
            for column in frame.columns:
                con.execute(
                    f"COMMENT ON COLUMN codelist_{name}.{column} IS 'Column {column} of schemas/codelists/{name}.csv.'"
                )
        finally:
            con.unregister("_codelist")


FIELDS = Path(__file__).resolve().parent / "fields.csv"
_VIEW = re.compile(r"((?:^--[^\n]*\n)+)CREATE OR REPLACE VIEW (\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Field:
    """A column of the views: its unit and description (keys.csv for the contract's keys,
    fields.csv for the rest)."""

    name: str
    unit: str
    description: str


@cache
def fields() -> dict[str, Field]:
    from pipeline.indicators import keys

    with FIELDS.open(newline="", encoding="utf-8") as fh:
        out = {r["field"]: Field(r["field"], r["unit"], r["description"]) for r in csv.DictReader(fh)}
    for key in keys():
        out[key.key] = Field(key.key, key.unit, f"{key.label}: {key.description}")
    return out


def view_descriptions() -> dict[str, str]:
    """Each view of indicators.sql and the comment lines written above it."""
    text = SQL.read_text(encoding="utf-8")
    return {
        name: " ".join(line.removeprefix("--").strip() for line in block.strip().splitlines())
        for block, name in _VIEW.findall(text)
    }


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_views(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT every view (its comment in indicators.sql) and every view column (keys.csv,
    fields.csv), so that duckdb_columns() describes the views as it does the tables, in one batch
    of statements."""
    known = fields()
    views = view_descriptions()
    statements = [f"COMMENT ON VIEW {view} IS {_quote(description)}" for view, description in views.items()]
    columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE table_name IN (SELECT unnest(?)) AND database_name = current_database() "
        "ORDER BY table_name, column_index",
        [list(views)],
    ).fetchall()
    for view, column in columns:
        field = known.get(column)
        if field is not None:
            unit = f" ({field.unit})" if field.unit and field.unit != "ratio" else ""
            statements.append(f"COMMENT ON COLUMN {view}.{column} IS {_quote(field.description + unit)}")
    con.execute(";\n".join(statements))


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Mirror the code lists, (re)create the views and comment them, in one transaction: each
    statement in a transaction of its own (a commit each) took twice as long, 0.3 s on every open."""
    from pipeline.warehouse.db import transaction

    with transaction(con):
        sync_codelists(con)
        con.execute(SQL.read_text(encoding="utf-8"))
        comment_views(con)
