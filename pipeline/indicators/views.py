"""The indicator views, defined once in `indicators.sql`, and the code lists they join.

`create_views(con)` mirrors the small code lists of `schemas/codelists/` into tables
`codelist_<name>` (every column of the CSV: codes, labels, groups such as the EMS group), then
(re)creates the views: rules that are data (which EMS status meets the criteria) stay in the CSV
and reach the SQL by a join. Called by every command that opens the warehouse for writing.
"""

from __future__ import annotations

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


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    sync_codelists(con)
    con.execute(SQL.read_text(encoding="utf-8"))
