"""The issue's two ratios, side by side: the pipeline against a plain calamine read of the same files.

    python benchmarks/bench_ratio.py [--repeat 5] [--work outputs/bench] [--million]

Every measurement is a whole fresh process (imports included, as a person waits for them),
run in turns so that a busy machine slows both sides of a ratio alike:
  1. plain read of the benchmark year (60 workbooks, about 120,000 rows): python-calamine, one
     process, every sheet `to_python()`;
  2. `gtb run` of the same files into an empty database;
  3. plain read of one workbook whose AirTravel sheet has 99,000 rows;
  4. `gtb validate` of that workbook.
Prints each round, the medians and the ratios 2/1 and 4/3, and writes WORK/ratio.json. The
pipeline's modules (and the baseline's) are compiled first, as `make install` compiles them.
`--baseline REV` also times 2 and 4 with the code of another revision in the same rounds (its
pipeline, schemas and reference data exported with `git archive` into WORK/baseline-REV and run
from there), for a before/after side by side on a machine whose load varies.
`--million` also measures the one-million-row workbook: wall time and peak memory of `gtb
validate` (the largest process, and the whole process tree sampled every 20 ms) against its
plain read. Workbooks are generated on first use (benchmarks/make_workbooks.py,
benchmarks/make_large_workbook.py). Figures go to docs/performance.md.
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # demo.data: run from a fresh clone

PLAIN_READ = """
import sys
from pathlib import Path
from python_calamine import CalamineWorkbook
target = Path(sys.argv[1])
for f in sorted(target.rglob("*.xlsx")) if target.is_dir() else [target]:
    wb = CalamineWorkbook.from_path(str(f))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
"""


def _tree_rss(root: int) -> int:
    """Resident memory (bytes) of `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def timed(cmd: list[str], env: dict | None = None, sample: bool = False) -> tuple[float, int]:
    """(wall seconds, peak resident bytes of the process tree; 0 unless `sample`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    if sample:

        def watch() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    proc.wait()
    seconds = time.perf_counter() - start
    if sample:
        watcher.join()
    return seconds, peak[0]


def largest_child_rss() -> int:
    """Peak resident memory of the largest child process waited for so far (bytes; Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def ensure_year(work: Path, n: int, rows: int) -> Path:
    from demo.data import generate_benchmark

    submissions = work / "inputs" / "submissions"
    if not submissions.is_dir() or len(list(submissions.rglob("*.xlsx"))) != n:
        shutil.rmtree(work / "inputs", ignore_errors=True)
        summary = generate_benchmark(submissions, n_workbooks=n, rows_per_workbook=rows)
        print(f"generated {n} workbooks, {summary.rows_written} rows")
    (work / "inputs" / "history").mkdir(exist_ok=True)
    return submissions


def ensure_large(path: Path, rows: int) -> Path:
    from benchmarks.make_large_workbook import make

    if not path.is_file():
        make(path, rows)
        print(f"generated {path} ({rows:,} AirTravel rows)")
    return path


def _median(values: list[float]) -> float:
    return statistics.median(values)


def export_revision(rev: str, work: Path) -> Path:
    """The code of revision `rev` (pipeline, schemas, reference data) in a folder of its own."""
    target = work / f"baseline-{rev}"
    if not (target / "pipeline").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", rev, "pipeline", "schemas", "inputs/reference"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def timed_run(cmd: list[str], env: dict, folder: Path = ROOT) -> tuple[float, dict[str, float]]:
    """Wall seconds of a `gtb run` started from `folder` (whose pipeline package is then the one
    imported) and the seconds per stage its last line reports (`stages: open 0.41 s, ...`)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    stages: dict[str, float] = {}
    for line in done.stdout.splitlines():
        if line.startswith("stages: "):
            for part in line.removeprefix("stages: ").split(", "):
                name, value, _ = part.rsplit(" ", 2)
                stages[name] = float(value)
    return seconds, stages


def timed_in(folder: Path, cmd: list[str], env: dict) -> float:
    """Wall seconds of `cmd` run from `folder` (whose pipeline package is then the one imported)."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def stage_medians(runs: list[dict[str, float]]) -> dict[str, float]:
    names = list(dict.fromkeys(name for run in runs for name in run))
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


def _paired(rows: dict[str, list[float]], runs: str, reads: str) -> float:
    """The median of each round's own ratio: `runs` over `reads`, round by round."""
    return _median([run / read for run, read in zip(rows[runs], rows[reads], strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench")
    parser.add_argument("--million", action="store_true", help="also the one-million-row workbook (memory)")
    parser.add_argument("--skip-ratios", action="store_true", help="only the one-million-row workbook")
    parser.add_argument("--baseline", metavar="REV", help="also time gtb run and gtb validate at this revision")
    args = parser.parse_args()
    work: Path = args.work
    py = sys.executable
    env = {**os.environ, "COLUMNS": "100"}
    results: dict[str, object] = {"cpu_count": os.cpu_count(), "python": platform.python_version()}

    if not args.skip_ratios:
        year = ensure_year(work, 60, 2000)
        large = ensure_large(work / "large" / "UNDP_2024.xlsx", 99_000)
        db, out = work / "ratio.duckdb", work / "ratio-out"
        run = [py, "-m", "pipeline.cli", "run", "--inputs", str(year.parent), "--db", str(db), "--outputs", str(out)]
        validate = [py, "-m", "pipeline.cli", "validate", str(large), "--report-dir", str(work / "ratio-validation")]
        rows: dict[str, list[float]] = {"read_year": [], "run": [], "read_large": [], "validate_large": []}
        baseline = export_revision(args.baseline, work) if args.baseline else None
        for tree in (ROOT, baseline):  # compiled as an install compiles them (`make install`)
            if tree is not None:
                subprocess.run([py, "-m", "compileall", "-q", "pipeline", "schemas"], cwd=tree, check=True)
        stage_runs: list[dict[str, float]] = []
        baseline_stage_runs: list[dict[str, float]] = []
        if baseline:
            rows |= {"baseline_run": [], "baseline_validate_large": []}
        for i in range(args.repeat):
            rows["read_year"].append(timed([py, "-c", PLAIN_READ, str(year)], env)[0])
            db.unlink(missing_ok=True)
            shutil.rmtree(out, ignore_errors=True)
            seconds, stages = timed_run(run, env)
            rows["run"].append(seconds)
            stage_runs.append(stages)
            rows["read_large"].append(timed([py, "-c", PLAIN_READ, str(large)], env)[0])
            rows["validate_large"].append(timed(validate, env)[0])
            line = (
                f"round {i + 1}: read year {rows['read_year'][-1]:.2f} s, gtb run {rows['run'][-1]:.2f} s | "
                f"read large {rows['read_large'][-1]:.2f} s, gtb validate {rows['validate_large'][-1]:.2f} s"
            )
            if baseline:
                db.unlink(missing_ok=True)
                shutil.rmtree(out, ignore_errors=True)
                seconds, stages = timed_run(run, env, baseline)
                rows["baseline_run"].append(seconds)
                baseline_stage_runs.append(stages)
                rows["baseline_validate_large"].append(timed_in(baseline, validate, env))
                line += (
                    f" | at {args.baseline}: gtb run {rows['baseline_run'][-1]:.2f} s, "
                    f"gtb validate {rows['baseline_validate_large'][-1]:.2f} s"
                )
            print(line, flush=True)
        medians = {k: _median(v) for k, v in rows.items()}
        results.update({f"{k}_s": v for k, v in medians.items()}, repeat=args.repeat, runs=rows)
        results["ratio_run"] = medians["run"] / medians["read_year"]
        results["ratio_validate_large"] = medians["validate_large"] / medians["read_large"]
        print(
            f"medians of {args.repeat}: read year {medians['read_year']:.2f} s, gtb run {medians['run']:.2f} s "
            f"-> ratio {results['ratio_run']:.2f}; read large {medians['read_large']:.2f} s, "
            f"gtb validate {medians['validate_large']:.2f} s -> ratio {results['ratio_validate_large']:.2f}"
        )

        # each round's own ratio (its read and its run side by side), then their median: on a machine
        # whose speed drifts within minutes, the pairs say more than the two medians taken apart
        paired_run, paired_validate = _paired(rows, "run", "read_year"), _paired(rows, "validate_large", "read_large")
        results |= {"paired_ratio_run": paired_run, "paired_ratio_validate_large": paired_validate}
        print(f"median of each round's ratio: gtb run {paired_run:.2f}; gtb validate {paired_validate:.2f}")
        if baseline:
            before_paired_run = _paired(rows, "baseline_run", "read_year")
            before_paired_validate = _paired(rows, "baseline_validate_large", "read_large")
            results |= {
                "baseline_paired_ratio_run": before_paired_run,
                "baseline_paired_ratio_validate_large": before_paired_validate,
            }
            print(
                f"at {args.baseline}, median of each round's ratio: gtb run {before_paired_run:.2f}; "
                f"gtb validate {before_paired_validate:.2f}"
            )
        run_stages = stage_medians(stage_runs)
        results["run_stages_s"] = run_stages
        print("gtb run stages (medians): " + ", ".join(f"{k} {v:.2f} s" for k, v in run_stages.items()))
        if baseline:
            before_stages = stage_medians(baseline_stage_runs)
            results["baseline_run_stages_s"] = before_stages
            print(
                f"at {args.baseline}, stages (medians): "
                + ", ".join(f"{k} {v:.2f} s" for k, v in before_stages.items())
            )
            before_run = medians["baseline_run"] / medians["read_year"]
            before_validate = medians["baseline_validate_large"] / medians["read_large"]
            results |= {"baseline": args.baseline, "baseline_ratio_run": before_run}
            results["baseline_ratio_validate_large"] = before_validate
            print(
                f"at {args.baseline}: gtb run {medians['baseline_run']:.2f} s -> ratio {before_run:.2f}; "
                f"gtb validate {medians['baseline_validate_large']:.2f} s -> ratio {before_validate:.2f}"
            )

    if args.million or args.skip_ratios:
        million = ensure_large(work / "million" / "UNDP_2024.xlsx", 1_000_000)
        read_s, read_peak = timed([py, "-c", PLAIN_READ, str(million)], env, sample=True)
        validate = [py, "-m", "pipeline.cli", "validate", str(million), "--report-dir", str(work / "million-out")]
        before = largest_child_rss()
        seconds, peak = timed(validate, env, sample=True)
        largest = largest_child_rss()
        results["million"] = {
            "read_s": read_s,
            "read_peak_bytes": read_peak,
            "validate_s": seconds,
            "validate_tree_peak_bytes": peak,
            "largest_process_peak_bytes": largest if largest > before else None,
        }
        print(
            f"one million rows: plain read {read_s:.2f} s (peak {read_peak / 2**20:,.0f} MiB); gtb validate "
            f"{seconds:.2f} s, peak of the process tree {peak / 2**20:,.0f} MiB"
            + (f", largest process {largest / 2**20:,.0f} MiB" if largest > before else "")
        )
    work.mkdir(parents=True, exist_ok=True)
    (work / "ratio.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
