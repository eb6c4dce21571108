"""The indicator views, defined once in `indicators.sql` and (re)created on every open for writing."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL = Path(__file__).resolve().parent / "indicators.sql"


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    if SQL.exists():
        con.execute(SQL.read_text(encoding="utf-8"))
