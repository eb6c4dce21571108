"""Read one row of the indicator views (`system_indicators`, `entity_indicators`).

The figures themselves are defined once, in `pipeline/indicators/indicators.sql`; this module only
fetches a row and makes it JSON-ready (None for NULL, ints for counts, floats unrounded).
`INDICATOR_KEYS` is the key list of the output contract (docs: indicators.md), in contract order:
the views' columns are `year` (and `entity_code` first for entities) followed by exactly these.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from pipeline import terminal
from pipeline.catalogue import year_ranges
from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB
from pipeline.warehouse.db import opened


@dataclass(frozen=True)
class Key:
    """One key of the output contract (`keys.csv`): how it is named, its unit and kind."""

    key: str
    label: str
    unit: str
    kind: str  # count, tco2e, share, change, ratio, quantity, percent
    description: str

    @property
    def heading(self) -> str:
        """'Total emissions (tCO2e)', 'Air travel share (%)'."""
        unit = "%" if self.kind in ("share", "change", "percent") else self.unit
        return f"{self.label} ({unit})"


@cache
def keys() -> tuple[Key, ...]:
    """The indicator keys of the output contract, in contract order (pipeline/indicators/keys.csv)."""
    with (Path(__file__).resolve().parent / "keys.csv").open(newline="", encoding="utf-8") as fh:
        return tuple(Key(**row) for row in csv.DictReader(fh))


INDICATOR_KEYS: tuple[str, ...] = tuple(k.key for k in keys())
# Keys that count entities or persons: integers in JSON. Every other key is a float.
COUNT_KEYS: frozenset[str] = frozenset(k.key for k in keys() if k.kind == "count")


def indicators(year: int, entity: str | None = None, db: Path = DEFAULT_DB) -> dict:
    """The year's system row, or the row of `entity` (code matched ignoring case), as a dict.

    Keys: `year` (and `entity_code` first for an entity) then INDICATOR_KEYS. Raises GtbError with
    a one-line message for a missing database, a year or entity without a row.
    """
    year = int(year)
    with opened(Path(db), read_only=True) as con:
        try:
            if entity is None:
                cur = con.execute("SELECT * FROM system_indicators WHERE year = ?", [year])
            else:
                cur = con.execute(
                    "SELECT * FROM entity_indicators WHERE upper(entity_code) = upper(trim(?)) AND year = ?",
                    [entity, year],
                )
            row = cur.fetchone()
            columns = [d[0] for d in cur.description]
            if row is None:
                raise GtbError(_no_row_message(con, year, entity))
        except duckdb.CatalogException:
            raise GtbError(f"{db} has no indicator views: run `gtb run` on it first") from None
    return {name: json_value(name, value) for name, value in zip(columns, row, strict=True)}


def json_value(key: str, value: Any) -> object:
    """None for NULL, int for counts (and `year`), float for every figure; text stays text.

    `value` is as DuckDB returns it; a count or `year` is a number, so int() takes it."""
    if value is None or isinstance(value, str):
        return value
    if key in COUNT_KEYS or key == "year":
        return int(value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return value


def _no_row_message(con: duckdb.DuckDBPyConnection, year: int, entity: str | None) -> str:
    if entity is None:
        years = [r[0] for r in con.execute("SELECT year FROM system_indicators").fetchall()]
        if not years:
            return f"no indicators for {year}: the database holds no loaded data yet (run `gtb run`)"
        return f"no indicators for {year}: years in the database are {year_ranges(years)}"
    code = entity.strip().upper()
    look_alike = look_alike_entity(con, code)
    if look_alike:
        return look_alike
    years = [
        r[0] for r in con.execute("SELECT year FROM entity_indicators WHERE upper(entity_code) = ?", [code]).fetchall()
    ]
    if years:
        return f"no indicators for {code} in {year}: its years in the database are {year_ranges(years)}"
    of_year = [
        r[0]
        for r in con.execute("SELECT entity_code FROM entity_indicators WHERE year = ? ORDER BY 1", [year]).fetchall()
    ]
    if of_year:
        return f"no indicators for {code}: entities with data for {year} are {', '.join(of_year)}"
    return f"no indicators for entity {code} in the database"


def look_alike_entity(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """Why an entity code typed with Cyrillic or Greek letters drawn as Latin ones ('UNEР') finds
    nothing, and the code it looks like; "" when it holds none or looks like no entity."""
    from pipeline import codelists

    latin = codelists.to_latin(code)
    if latin == code:
        return ""
    known = con.execute("SELECT count(*) FROM entity_indicators WHERE upper(entity_code) = ?", [latin]).fetchone()
    if not known or not known[0]:
        return ""
    return (
        f"no indicators for {ascii(code)}: it holds a letter of another alphabet (Cyrillic or Greek) drawn "
        f"like a Latin one; type it as {latin}"
    )


def print_table(row: dict, console: Console | None = None) -> None:
    """The row as a readable table: label, value with its unit (percentages as %), NULL as an em dash."""
    from rich.table import Table

    title = f"Indicators {row.get('entity_code') or 'system-wide'} {row['year']}"
    table = Table(title=title, show_header=True)
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("key", style="dim")
    for key in keys():
        value, unit = shown(key, row.get(key.key))
        table.add_row(key.label, value, unit, key.key)
    if console is None:
        console = terminal.Console()
        if not console.is_terminal:  # a file or a pipe: wide enough for every label and key
            console = terminal.Console(width=140)
    console.print(table)


def shown(key: Key, value: object) -> tuple[str, str]:
    """(value, unit) as people read them: 1,234,567; 4.44; 38.8 %; -46.5 %."""
    if value is None:
        return "\u2014", ""
    number = float(value)  # type: ignore[arg-type]
    if key.kind in ("share", "change"):
        return f"{number * 100:+.1f} %" if key.kind == "change" else f"{number * 100:.1f} %", ""
    if key.kind == "count":
        return f"{int(number):,}", key.unit
    if key.kind == "percent":
        return f"{number:.1f} %", ""
    if abs(number) >= 1000:
        return f"{number:,.0f}", key.unit
    return f"{number:,.3g}" if abs(number) < 10 else f"{number:,.1f}", key.unit
