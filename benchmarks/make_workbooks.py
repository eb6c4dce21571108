"""Write the benchmark set: N valid submission workbooks of about R data rows each.

    python benchmarks/make_workbooks.py OUT_DIR [--n 60] [--rows 2000] [--seed 7] [--year 2024]

Thin wrapper around `demo.data.generate_benchmark`: distinct entity/year pairs (the
largest entities of the year first), rows spread over all table sheets, unique offset serials.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone

from demo.data import generate_benchmark  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder for the workbooks (created if missing)")
    parser.add_argument("--n", type=int, default=60, help="number of workbooks (default 60)")
    parser.add_argument("--rows", type=int, default=2000, help="data rows per workbook (default 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.n < 1 or args.rows < 20:
        parser.error("--n must be at least 1 and --rows at least 20")
    summary = generate_benchmark(
        args.out_dir, n_workbooks=args.n, rows_per_workbook=args.rows, seed=args.seed, year=args.year
    )
    size = sum(p.stat().st_size for p in summary.workbooks)
    print(
        f"wrote {len(summary.workbooks)} workbooks, {summary.rows_written} data rows, "
        f"{size / 1e6:.1f} MB to {summary.out_dir} in {summary.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
