"""Time the guard and the reader on a typical workbook and on each hostile file family.

    python benchmarks/bench_read.py [--repeat 20]

In-process medians (no process start): what it costs to accept one typical workbook
(10 sheets, 2,000 data rows) and to refuse each hostile file. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.errors import UnreadableFile  # noqa: E402
from pipeline.intake.read import read_workbook  # noqa: E402
from tests import hostile  # noqa: E402

FAMILIES = [*hostile.FAMILIES, hostile.zip_bomb]


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.suppress(UnreadableFile):
            fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        typical = hostile.typical_workbook(tmp / "typical.xlsx")
        print(f"{'file':<32} {'guard ms':>9} {'guard+read ms':>14}")
        print(
            f"{'typical (10 sheets, 2,000 rows)':<32} {median_ms(lambda: hostile.check(typical), args.repeat):>9.1f} "
            f"{median_ms(lambda: read_workbook(typical), args.repeat):>14.1f}"
        )
        for build in FAMILIES:
            folder = tmp / build.__name__
            folder.mkdir()
            path = build(folder)
            print(
                f"{build.__name__:<32} {median_ms(functools.partial(hostile.check, path), args.repeat):>9.2f} "
                f"{median_ms(functools.partial(read_workbook, path), args.repeat):>14.2f}"
            )


if __name__ == "__main__":
    main()
