"""How the warehouse copes with a whole UN system's itemised inventory (docs/scaling.md).

Takes a database made by `make demo`, copies it, and multiplies the activity and emissions rows
of one year's loaded submissions by `--factor` (each copy a new source_row), then times what
reads them: the indicator views, the report's queries and `gtb export`. The file sizes and row
counts it prints are what docs/scaling.md quotes.

    .venv/bin/python benchmarks/bench_scale.py --db outputs/gtb.duckdb --year 2025 --factor 60 --factor 300
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import api  # noqa: E402
from schemas import contract  # noqa: E402

TABLES = [s.table for s in contract.sheets() if s.is_table and s.table != "offsets"] + ["emissions"]


def grow(db: Path, year: int, factor: int) -> int:
    """Every activity and emissions row of the year's loaded submissions, `factor` times."""
    con = duckdb.connect(str(db))
    try:
        ids = "SELECT submission_id FROM submissions WHERE status = 'loaded' AND reporting_year = ?"
        for table in TABLES:
            [(top,)] = con.execute(f"SELECT max(source_row) FROM {table}").fetchall()
            con.execute(
                f"""INSERT INTO {table} BY NAME
                    SELECT t.* REPLACE (t.source_row + k * ({top} + 1) AS source_row)
                    FROM {table} t, range(1, {factor}) r(k)
                    WHERE t.submission_id IN ({ids})""",
                [year],
            )
        con.execute("CHECKPOINT")
        [(rows,)] = con.execute(f"SELECT count(*) FROM emissions WHERE submission_id IN ({ids})", [year]).fetchall()
        return int(rows)
    finally:
        con.close()


def timed(label: str, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<40} {seconds:7.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("outputs/gtb.duckdb"))
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--factor", type=int, action="append", help="row multiplier (repeatable)")
    args = parser.parse_args()
    for factor in args.factor or [60]:
        with tempfile.TemporaryDirectory() as tmp:
            measure(args.db, args.year, factor, Path(tmp))


def measure(source: Path, year: int, factor: int, tmp: Path) -> None:
    db = tmp / "gtb.duckdb"
    shutil.copy(source, db)
    rows = grow(db, year, factor)
    print(f"x{factor}: {rows:,} emissions rows in {year}, file {db.stat().st_size / 1e6:,.0f} MB")

    def indicators() -> None:
        with duckdb.connect(str(db), read_only=True) as con:
            con.execute("SELECT * FROM system_indicators").fetchall()
            con.execute("SELECT * FROM entity_indicators").fetchall()

    timed("system + entity indicators (all years)", indicators)
    timed("gtb export --format parquet", lambda: api.export(year, db, tmp / "out", "parquet"))
    size = sum(p.stat().st_size for p in (tmp / "out" / "export" / str(year)).iterdir())
    print(f"  {'exported Parquet':<40} {size / 1e6:7.1f} MB")
    timed("gtb report", lambda: api.report(year, db, tmp / "out"))


if __name__ == "__main__":
    main()
