"""`make serve`: the submission portal on the demo data, ready for the whole cycle in a browser.

1. the demo (`python -m demo`) when the demo database `outputs/gtb.duckdb` is missing;
2. demo accounts with new passwords, printed: `unep` (focal point of UNEP), `wfp` (focal point
   of WFP) and `sun` (a SUN analyst);
3. sample workbooks for the year the portal collects (`inputs/reporting_cycle.toml`), under
   `outputs/portal/samples/`: UNEP's with a mistake and corrected, WFP's with a figure to explain
   (a refrigerant refill five times last year's);
4. `gtb serve` on http://127.0.0.1:8000/ (`--port`, `--host` to change).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import api
from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS

ACCOUNTS = (("unep", ["UNEP"], False), ("wfp", ["WFP"], False), ("sun", [], True))


def samples(year: int, folder: Path) -> list[Path]:
    """The demo workbooks a focal point can upload: UNEP with an electricity quantity in litres
    (an error) and corrected, WFP with a refrigerant refill five times last year's (a flag to explain)."""
    from demo.data import build_submission, render, write_with_a_mistake, write_workbook

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entity in ("UNEP", "WFP"):
        sub = build_submission(entity, year)
        grid = render(sub, 2025)
        if entity == "WFP":
            _refill_after_a_leak(grid)
        good = folder / f"{entity}_{year}.xlsx"
        write_workbook(good, grid)
        written.append(good)
        if entity == "UNEP":
            written.append(
                write_with_a_mistake(folder / f"{entity}_{year}_with_a_mistake.xlsx", grid, sub, "electricity_in_litre")
            )
    return written


def _refill_after_a_leak(grid: dict[str, list[list[object]]]) -> None:
    """Five times the first refrigerant refill: a figure the plausibility review flags against
    last year, for the focal point to explain (a leak was repaired and the system refilled)."""
    rows = grid["Refrigerants"]
    column = [str(h).strip().lower() for h in rows[0]].index("refilled_kg")
    row = next(r for r in rows[1:] if isinstance(r[column], (int, float)))
    row[column] = round(float(row[column]) * 5, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        if not DEFAULT_DB.is_file():
            from demo.__main__ import demo

            demo()
        from pipeline.cycle import reporting_cycle

        year = reporting_cycle(DEFAULT_INPUTS).open_year
        print("\ndemo accounts (new passwords on every `make serve`):")
        for name, entities, analyst in ACCOUNTS:
            user, password = api.users_add(name, entities, analyst, None, DEFAULT_OUTPUTS, replace=True)
            what = "SUN analyst" if analyst else f"focal point of {', '.join(user.entities)}"
            print(f"  {name:5} {password}   {what}")
        print(f"\nworkbooks to upload for {year}:")
        for path in samples(year, DEFAULT_OUTPUTS / "portal" / "samples"):
            print(f"  {path}")
        print()
        api.serve(args.host, args.port, DEFAULT_INPUTS, DEFAULT_OUTPUTS, DEFAULT_DB, on_ready=print)
    except GtbError as exc:
        print(f"make serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("portal stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
