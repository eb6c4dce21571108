"""Benchmark `gtb run` against merely reading the same workbooks with pandas + openpyxl.

    python benchmarks/bench_run.py [--n 60] [--rows 2000] [--repeat 3] [--work outputs/bench]

Generates N realistic workbooks of about ROWS data rows each (demo.data), then times,
as whole processes (imports included, as a user waits for them):
  1. baseline: `pandas.read_excel(f, sheet_name=None, engine="openpyxl")` over every file;
  2. `gtb run` into an empty database;
  3. `gtb run` again with nothing changed.
Prints medians and writes them to WORK/results.json. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # demo.data: run from a fresh clone
BASELINE = """
import sys, pandas as pd
from pathlib import Path
for f in sorted(Path(sys.argv[1]).rglob("*.xlsx")):
    pd.read_excel(f, sheet_name=None, engine="openpyxl")
"""


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench")
    args = parser.parse_args()

    from demo.data import generate_benchmark

    inputs = args.work / "inputs"
    submissions = inputs / "submissions"
    if not submissions.is_dir() or len(list(submissions.rglob("*.xlsx"))) != args.n:
        shutil.rmtree(inputs, ignore_errors=True)
        summary = generate_benchmark(submissions, n_workbooks=args.n, rows_per_workbook=args.rows)
        print(f"generated {args.n} workbooks, {summary.rows_written} rows")
    (inputs / "history").mkdir(exist_ok=True)
    py = sys.executable
    gtb = [
        py,
        "-m",
        "pipeline.cli",
        "run",
        "--inputs",
        str(inputs),
        "--db",
        str(args.work / "gtb.duckdb"),
        "--outputs",
        str(args.work / "out"),
    ]
    env = {**os.environ, "COLUMNS": "100"}

    baseline, first, rerun = [], [], []
    for i in range(args.repeat):
        baseline.append(timed([py, "-c", BASELINE, str(submissions)]))
        (args.work / "gtb.duckdb").unlink(missing_ok=True)
        shutil.rmtree(args.work / "out", ignore_errors=True)
        first.append(timed(gtb, env))
        rerun.append(timed(gtb, env))
        print(f"run {i + 1}: baseline {baseline[-1]:.2f} s, gtb run {first[-1]:.2f} s, rerun {rerun[-1]:.2f} s")

    results = {
        "workbooks": args.n,
        "rows_per_workbook": args.rows,
        "repeat": args.repeat,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "baseline_pandas_openpyxl_s": statistics.median(baseline),
        "gtb_run_empty_db_s": statistics.median(first),
        "gtb_rerun_unchanged_s": statistics.median(rerun),
    }
    results["ratio_run_to_baseline"] = results["gtb_run_empty_db_s"] / results["baseline_pandas_openpyxl_s"]
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
