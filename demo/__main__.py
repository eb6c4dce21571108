"""`make demo`: the whole pipeline on the bundled demo data, ending with where everything is.

1. generate the seeded demo data under inputs/ if it is absent (demo.data);
2. `gtb run`: validate and load every submission (a handful are broken on purpose);
3. the corrected resubmissions arrive (inputs/resubmissions/ -> inputs/submissions/), `gtb run` again;
4. `gtb report` for the latest year;
5. print where the report, the rejected submissions' annotated workbooks and the database are.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from rich.console import Console

from pipeline import api
from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS, DEFAULT_OUTPUTS

INPUTS = DEFAULT_INPUTS
OUTPUTS = DEFAULT_OUTPUTS
DB = DEFAULT_DB


def demo(inputs: Path = INPUTS, outputs: Path = OUTPUTS, db: Path = DB, console: Console | None = None) -> dict:
    console = console or Console(highlight=False, soft_wrap=True)
    started = time.perf_counter()
    if not any((inputs / "submissions").rglob("*.xlsx")):
        from demo.data import generate

        console.rule("generating the demo data (seeded, deterministic)")
        summary = generate(inputs)
        console.print(
            f"{len(summary.workbooks)} workbooks and the 2010-2018 history under {inputs}/ ({summary.seconds:.0f} s)"
        )

    console.rule("gtb run: the submissions as they arrived")
    first = api.run(inputs, db, outputs, console=console)

    resubmissions = sorted((inputs / "resubmissions").rglob("*.xlsx"))
    second = None
    if resubmissions:
        console.rule("corrected resubmissions arrive: gtb run again")
        for path in resubmissions:
            target = inputs / "submissions" / path.relative_to(inputs / "resubmissions")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            console.print(f"copied {path} -> {target}")
        second = api.run(inputs, db, outputs, console=console)

    year = max(r["year"] for r in _years(db))
    accepted = _accept_published_years(db, year)
    if accepted:
        console.rule("earlier years: their flags were reviewed when they were published")
        console.print(
            f"gtb accept for {len(accepted)} entity-years before {year} "
            f"({', '.join(f'{e} {y}' for e, y in accepted[:6])}{' ...' if len(accepted) > 6 else ''})"
        )
    console.rule(f"gtb report --year {year}")
    report = api.report(year, db, outputs)
    headline = api.indicators(year, db=db)

    console.rule("where things are")
    rejected = (second or first).rejected
    console.print(f"report for {year}:        {report.folder}")
    console.print(f"  charts (PNG + SVG), tables_{year}.xlsx and CSVs, factsheets/ (one PDF per entity)")
    console.print(f"database:               {db}   (try: gtb indicators --year {year} --json)")
    console.print(f"validation reports:     {outputs / 'validation'}/ENTITY_YEAR/issues.csv")
    for name, errors, folder in rejected:
        console.print(f"  rejected {name}: {errors} error(s) -> {folder}/annotated.xlsx")
    console.print(
        f"{year}: {headline['total_tco2e'] / 1e6:.2f} MtCO2e from {headline['reporting_entities']} entities, "
        f"{headline['per_capita_tco2e']:.2f} tCO2e per capita, offset share {headline['offset_share']:.0%}"
    )
    flags = api.status(year, db)
    flagged = [r for r in flags if r.status == "loaded-with-flags"]
    if flagged:
        console.print(
            f"{year} is a DRAFT: {sum(r.open_flags for r in flagged)} plausibility flag(s) open for "
            f"{', '.join(r.entity for r in flagged)}. Review them with `gtb status --year {year}` and "
            f"`gtb compare {flagged[0].entity} --year {year}`, then "
            f"`gtb accept {flagged[0].entity} {year} --reason ...` and `gtb report --year {year} --final`."
        )
    console.print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return {"first": first, "second": second, "report": report, "year": year}


def _accept_published_years(db: Path, latest: int) -> list[tuple[str, int]]:
    """Accept the open flags of every year before `latest`: those years were published before
    the pipeline took over, so their figures count as reviewed (a real first run would do the same
    once, with the analyst's name). The latest year's flags stay open for the demo's reader."""
    from pipeline.review.flags import accept
    from pipeline.warehouse.db import opened

    with opened(db) as con:
        pending = con.execute(
            """SELECT DISTINCT s.entity_code, s.reporting_year FROM flags f JOIN submissions s USING (submission_id)
               WHERE f.status = 'open' AND s.status = 'loaded' AND s.reporting_year < ? ORDER BY 2, 1""",
            [latest],
        ).fetchall()
        for entity, year in pending:
            accept(con, entity, year, "published before the pipeline: reviewed at the time", by="demo")
    return [(e, int(y)) for e, y in pending]


def _years(db: Path) -> list[dict]:
    from pipeline.warehouse.db import opened

    with opened(db, read_only=True) as con:
        return [{"year": y} for (y,) in con.execute("SELECT year FROM system_indicators").fetchall()]


def main() -> int:
    try:
        demo()
    except GtbError as exc:
        print(f"gtb demo: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
