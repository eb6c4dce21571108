"""The warehouse schema: the contract's sheets generate their tables; migrations upgrade old files.

- `ddl()` is the whole current schema: `base.sql` (tables that are not a sheet: submissions,
  findings, runs, factors, emissions, ...) and one table per contract sheet, generated from
  `schemas/` (columns, warehouse names and types, NOT NULL for required columns, the derived
  columns, primary key), each with its COMMENTs. A new database is created from it.
- `migrations/NNNN_*.sql` upgrade a database written by an older pipeline, one version at a
  time; `LATEST` is the number of the last one. A test builds a database from the first
  migration plus all the others and checks that it has exactly the tables and columns of `ddl()`.
- `comments()` is re-applied on every open for writing, so the data dictionary in the database
  always says what the contract says.
"""

from __future__ import annotations

import re
from pathlib import Path

from schemas import contract

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"


def migrations() -> dict[int, Path]:
    """version -> migration file (`0001_initial.sql` is version 1)."""
    out = {}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        number = int(path.name.split("_", 1)[0])
        assert number not in out, f"two migrations numbered {number}"
        out[number] = path
    assert list(out) == list(range(1, len(out) + 1)), "migrations must be numbered 1, 2, 3, ..."
    return out


LATEST = len(migrations())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _describe(description: str, unit: str | None) -> str:
    text = description.rstrip(".")
    return f"{text} ({unit})." if unit else f"{text}."


def sheet_table(spec: contract.SheetSpec) -> str:
    """CREATE TABLE for one contract sheet: submission, Excel row (tables), columns, derived columns."""
    lines = ["    submission_id INTEGER NOT NULL"]
    if spec.is_table:
        lines.append("    source_row INTEGER NOT NULL")
    for col in spec.table_columns():
        lines.append(f"    {col.db_name} {col.db_type}{' NOT NULL' if col.required else ''}")
    key = "submission_id, source_row" if spec.is_table else "submission_id"
    lines.append(f"    PRIMARY KEY ({key})")
    return f"CREATE TABLE IF NOT EXISTS {spec.table} (\n" + ",\n".join(lines) + "\n);"


def sheet_comments(spec: contract.SheetSpec) -> list[str]:
    kind = "rows" if spec.is_table else "fields"
    out = [f"COMMENT ON TABLE {spec.table} IS {_quote(f'{spec.name} sheet {kind}: {spec.description}.')};"]
    out.append(f"COMMENT ON COLUMN {spec.table}.submission_id IS 'The submission (submissions.submission_id).';")
    if spec.is_table:
        out.append(f"COMMENT ON COLUMN {spec.table}.source_row IS {_quote(f'Excel row of the {spec.name} sheet.')};")
    for col in spec.columns:
        text = _describe(col.description, col.unit)
        if col.db_name != col.name:
            text += f" Column {col.name} of the workbook."
        out.append(f"COMMENT ON COLUMN {spec.table}.{col.db_name} IS {_quote(text)};")
    for derived in spec.derived:
        text = _describe(derived.description, derived.unit) + " Computed by the pipeline."
        out.append(f"COMMENT ON COLUMN {spec.table}.{derived.name} IS {_quote(text)};")
    return out


def comments() -> str:
    return "\n".join(c for spec in contract.sheets() for c in sheet_comments(spec))


def ddl() -> str:
    """The whole current schema (tables and comments), for a new database."""
    parts = [(HERE / "base.sql").read_text(encoding="utf-8")]
    parts += [sheet_table(spec) for spec in contract.sheets()]
    parts.append(comments())
    return "\n\n".join(parts)


def tables_of(sql: str) -> list[str]:
    return re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", sql)
