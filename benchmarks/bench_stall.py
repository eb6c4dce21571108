"""How long checking one large upload keeps a server's other threads (the portal's pages) from running.

    python benchmarks/bench_stall.py [--rows 500000] [--repeat 3] [--work outputs/bench-stall]
                                     [--tree DIR]

One warm process checks a workbook whose AirTravel sheet has ROWS rows (`api.check_upload`, as
the portal does for an upload), three times, while a thread of the same process wakes every
5 ms and records how long each wait really took. Prints, per check, its time and the longest
and second-longest waits, and how many were over 100 ms: a wait of 0.8 s is 0.8 s in which no
page could be served. `--tree DIR` runs the code of another checkout (e.g. a `git worktree` of
an older revision) for a before/after. The workbook is generated on first use
(benchmarks/make_large_workbook.py). Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import shutil, sys, threading, time
from pathlib import Path
from pipeline import api
workbook, reports, repeat = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
for _ in range(repeat):
    shutil.rmtree(reports, ignore_errors=True)
    waits, stop = [], []
    def tick():
        last = time.perf_counter()
        while not stop:
            time.sleep(0.005)
            now = time.perf_counter()
            waits.append(now - last)
            last = now
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    started = time.perf_counter()
    api.check_upload(workbook, reports, "UNDP", 2024, excerpts=200)
    seconds = time.perf_counter() - started
    stop.append(True)
    ticker.join()
    waits.sort()
    print(f"check {seconds:.2f} s: longest wait {waits[-1] * 1000:.0f} ms, next {waits[-2] * 1000:.0f} ms, "
          f"{sum(w > 0.1 for w in waits)} over 100 ms", flush=True)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench-stall")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code is measured")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    workbook = args.work / f"UNDP_2024_{args.rows}.xlsx"
    if not workbook.is_file():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "make_large_workbook.py"),
                str(workbook),
                "--rows",
                str(args.rows),
            ],
            check=True,
        )
    env = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
    print(f"{workbook.name} ({workbook.stat().st_size / 2**20:.1f} MB), code of {args.tree}", flush=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(workbook), str(args.work / "reports"), str(args.repeat)],
        cwd=args.tree,
        env=env,
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
