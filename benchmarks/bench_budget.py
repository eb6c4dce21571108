"""The CPU budget of `gtb run` on the benchmark year: what each step costs, one after the other.

    python benchmarks/bench_budget.py [--repeat 5] [--work outputs/bench]

`bench_ratio.py` times whole processes, which is what a person waits for, but on two cores
whose load varies a whole-process time moves by a few tenths of a second from run to run, more
than most single changes are worth. This benchmark instead runs every step of `gtb run` on the
same 60 workbooks in one warm process, one step after the other, and reports each step's CPU
seconds (`time.process_time`: every thread of this process, DuckDB's included) and wall seconds,
medians of `--repeat`:
  - the reading workers' steps, on every workbook: the guard, calamine's parse, the cleaning of
    the cells it gives, normalising, and the pickling of the result to the parent and back
    (the garbage collector off, as in the workers and in `gtb run`);
  - the parent's steps: opening a new warehouse, warming the reference lookups, making the views,
    validating, the cross-checks, and loading, pricing, reviewing and committing in one
    transaction;
  - the imports each process pays before its first step (fresh interpreters, so not warm).
Then the sum, and the floor it sets: on two cores no run can end before half the CPU it needs,
against the plain read of the same files (as `bench_ratio.py` runs it). Figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ratio import PLAIN_READ, ensure_year  # noqa: E402

Step = tuple[float, float]  # (CPU seconds, wall seconds)


def measure(fn: Callable[[], object]) -> tuple[Step, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return (time.process_time() - cpu, time.perf_counter() - wall), out


def fresh_process(code: str, *args: str) -> Step:
    """CPU and wall seconds of a fresh interpreter running `code` (its own and its children's CPU)."""
    before = os.times()
    wall = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, time.perf_counter() - wall


READER_IMPORTS = "import pipeline.intake.normalise, pipeline.intake.prepared"  # what the fork server preloads
PARENT_IMPORTS = (
    "import pipeline.cli, pipeline.run, pipeline.intake.validate, pipeline.warehouse.load, "
    "pipeline.emissions.calculate, pipeline.emissions.prepare, pipeline.review.plausibility, "
    "pipeline.indicators.views"
)


class Steps(dict[str, Step]):
    def add(self, name: str, step: Step) -> None:
        cpu, wall = self.get(name, (0.0, 0.0))
        self[name] = (cpu + step[0], wall + step[1])


def reader_steps(files: list[Path], steps: Steps) -> list[object]:
    """The reading workers' steps on every file, one file after the other; the parsed workbooks."""
    import python_calamine

    from pipeline.intake import guard, normalise, read
    from pipeline.intake.workbook import RawWorkbook

    def parse_only(data: bytes) -> None:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in book.sheet_names:
            for _ in book.get_sheet_by_name(name).iter_rows():
                pass

    parsed = []
    for f in files:
        data = f.read_bytes()
        step, report = measure(lambda data=data: guard.check_bytes(data))
        steps.add("reader: guard", step)
        parse, _ = measure(lambda data=data: parse_only(data))
        steps.add("reader: calamine parse", parse)
        both, sheets = measure(lambda data=data, report=report: read._read_sheets(data, report))
        steps.add("reader: cleaning the cells", (both[0] - parse[0], both[1] - parse[1]))
        raw = RawWorkbook(str(f), f.name, report.sha256, report.size_bytes, sheets)
        step, workbook = measure(lambda raw=raw: normalise.normalise(raw))
        steps.add("reader: normalise", step)
        step, blob = measure(lambda workbook=workbook: pickle.dumps(workbook, protocol=pickle.HIGHEST_PROTOCOL))
        steps.add("reader: pickle the result", step)
        step, workbook = measure(lambda blob=blob: pickle.loads(blob))
        steps.add("parent: unpickle the results", step)
        parsed.append(workbook)
    return parsed


def parent_steps(parsed: list, tmp: Path, steps: Steps) -> None:
    """This process's steps of `gtb run` after the workbooks are read, into a new warehouse."""
    from pipeline.emissions import prepare
    from pipeline.emissions.calculate import calculate, sync_pins
    from pipeline.indicators.views import create_views
    from pipeline.intake.cross_checks import cross_submission_findings
    from pipeline.intake.validate import validate_parsed
    from pipeline.review import flags as review_flags
    from pipeline.review import plausibility
    from pipeline.run import FIELD_SHEETS
    from pipeline.warehouse import db as warehouse
    from pipeline.warehouse.load import insert_rows, next_id, record, sync_entities

    db = tmp / "budget.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    step, con = measure(lambda: warehouse.connect(db))
    steps.add("parent: open a new warehouse", step)
    steps.add("parent: make the views", measure(lambda: create_views(con))[0])
    step, subs = measure(lambda: validate_parsed(parsed))
    steps.add("parent: validate", step)
    steps.add("parent: cross-checks", measure(lambda: cross_submission_findings(subs, []))[0])
    folders = {i: tmp for i in range(len(subs))}
    with warehouse.transaction(con):
        sync_entities(con)
        sync_pins(con)
        step, recorded = measure(lambda: record(con, next_id(con, "runs", "run_id"), subs, folders))
        steps.add("parent: record the submissions", step)

        def rows() -> tuple[dict, dict]:
            fields = {spec.table: prepare.field_rows(recorded.pairs, spec.name) for spec in FIELD_SHEETS}
            return fields, prepare.activity_tables(recorded.pairs)

        step, (fields, activity) = measure(rows)
        steps.add("parent: prepare the rows", step)
        steps.add("parent: insert the rows", measure(lambda: (insert_rows(con, fields), insert_rows(con, activity)))[0])
        steps.add("parent: calculate", measure(lambda: calculate(con, recorded.loaded))[0])

        def review() -> None:
            raised = plausibility.flags(con, recorded.loaded)
            review_flags.record_flags(con, raised, dict(recorded.pairs))

        steps.add("parent: review", measure(review)[0])
        cpu, wall = time.process_time(), time.perf_counter()
    steps.add("parent: commit", (time.process_time() - cpu, time.perf_counter() - wall))
    steps.add("parent: close", measure(con.close)[0])


WARM_REFERENCE = """
import time, pipeline.run
cpu, wall = time.process_time(), time.perf_counter()
pipeline.run._warm_reference()
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def one_round(files: list[Path], tmp: Path) -> Steps:
    """Every step once, with the garbage collector off as in `gtb run` and its workers (the
    collections between rounds are not counted); the reference lookups in a fresh process, as
    this one keeps them once built."""
    steps = Steps()
    gc.collect()
    gc.disable()
    try:
        parsed = reader_steps(files, steps)
        parent_steps(parsed, tmp, steps)
    finally:
        gc.enable()
    out = subprocess.run([sys.executable, "-c", WARM_REFERENCE], cwd=ROOT, check=True, capture_output=True, text=True)
    cpu, wall = (float(x) for x in out.stdout.split())
    steps.add("parent: warm the reference lookups", (cpu, wall))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench")
    args = parser.parse_args()
    year = ensure_year(args.work, 60, 2000)
    files = sorted(year.rglob("*.xlsx"))
    rounds: list[Steps] = []
    read_runs, reader_imports, parent_imports = [], [], []
    with tempfile.TemporaryDirectory(prefix="gtb-budget-") as tmp:
        for _ in range(args.repeat):
            read_runs.append(fresh_process(PLAIN_READ, str(year)))
            reader_imports.append(fresh_process(READER_IMPORTS))
            parent_imports.append(fresh_process(PARENT_IMPORTS))
            rounds.append(one_round(files, Path(tmp)))
            shutil.rmtree(Path(tmp), ignore_errors=True)
            Path(tmp).mkdir(exist_ok=True)

    def median(values: list[float]) -> float:
        return statistics.median(values)

    table: dict[str, Step] = {
        "reader: imports (the fork server, once)": (
            median([c for c, _ in reader_imports]),
            median([w for _, w in reader_imports]),
        ),
        "parent: imports": (median([c for c, _ in parent_imports]), median([w for _, w in parent_imports])),
    }
    for name in rounds[0]:
        table[name] = (median([r[name][0] for r in rounds]), median([r[name][1] for r in rounds]))
    read_cpu, read_wall = median([c for c, _ in read_runs]), median([w for _, w in read_runs])
    total = sum(cpu for cpu, _ in table.values())
    print(f"{'step':<44} {'CPU s':>7} {'wall s':>7}")
    for name, (cpu, wall) in table.items():
        print(f"{name:<44} {cpu:>7.3f} {wall:>7.3f}")
    print(f"{'all steps':<44} {total:>7.3f}")
    print(
        f"plain read of the same files (a fresh process): {read_wall:.3f} s ({read_cpu:.3f} s CPU)\n"
        f"floor on two cores: {total / 2:.2f} s, {total / 2 / read_wall:.2f} times the plain read "
        f"(a ratio of 3 needs the steps to cost at most {6 * read_wall:.2f} s of CPU in all)"
    )
    out = {
        "repeat": args.repeat,
        "steps": {name: {"cpu_s": cpu, "wall_s": wall} for name, (cpu, wall) in table.items()},
        "total_cpu_s": total,
        "plain_read_s": read_wall,
        "floor_ratio": total / 2 / read_wall,
    }
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "budget.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
