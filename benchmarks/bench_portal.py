"""Benchmark the submission portal: time from upload to the rendered report, on a warm server.

    python benchmarks/bench_portal.py [--n 20] [--rows N] [--work outputs/bench-portal]

Needs the demo database (`make demo`). Copies it into WORK, starts `gtb serve` there (waitress,
as `make serve` does), waits until the server has warmed up, signs a focal point of UNEP in,
and uploads a typical workbook N times (after two uploads that are not counted), twice over:

  - UNEP's workbook for the open year with one mistake (an electricity quantity in litres): one
    error, an annotated copy, excerpts; no comparison with last year (it has an error);
  - the same workbook corrected: valid, compared with UNEP's previous year in the warehouse
    (the plausibility review), no finding.

The workbook is UNEP's as `make serve` offers it (the demo's size, about 40 rows); `--rows N`
makes it about N data rows instead (the larger workbooks of `bench_run.py` have 2,000).

Each measurement is one upload as the page's script makes it (a multipart POST answered once
the workbook is checked and recorded) plus the GET of the page that shows the report, i.e. from
the first byte sent to the last byte of the report page received. Prints median and 95th
percentile and writes them to WORK/results.json. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "benchmark password 2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gtb() -> list[str]:
    script = Path(sys.executable).with_name("gtb")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline.cli"]


class Browser:
    """A cookie-keeping HTTP client that signs in and uploads like the portal's page does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def token(self, path: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path))
        assert found, f"no form on {path}"
        return found.group(1)

    def sign_in(self, username: str) -> None:
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token("/login/"), "username": username, "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"})
        with self.opener.open(request, timeout=60) as response:
            assert "/entity/UNEP/" in response.url, "sign-in failed"

    def upload(self, entity: str, path: Path, token: str) -> float:
        """Upload, then fetch the report page; seconds from the first byte sent to the report."""
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'.encode(),
                f"{token}\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="workbook"; filename="{path.name}"\r\n'.encode(),
                b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n",
                path.read_bytes(),
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        request = urllib.request.Request(
            f"{self.base}/entity/{entity}/upload/",
            data=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Portal-Fragment": "1",
                "Referer": f"{self.base}/entity/{entity}/",
            },
        )
        started = time.perf_counter()
        with self.opener.open(request, timeout=120) as response:
            answer = json.loads(response.read())
        page = self.get(answer["page"].split("#")[0])
        elapsed = time.perf_counter() - started
        assert 'id="report"' in page, "no report on the page"
        return elapsed


def sized_samples(year: int, folder: Path, rows: int) -> tuple[Path, Path]:
    """UNEP's workbook with about `rows` data rows, valid and with the demo's electricity mistake."""
    from demo.data import build_submission, render, write_with_a_mistake, write_workbook

    folder.mkdir(parents=True, exist_ok=True)
    sub = build_submission("UNEP", year, rows=rows)
    grid = render(sub, 2025)
    good = folder / f"UNEP_{year}_{rows}_rows.xlsx"
    write_workbook(good, grid)
    bad = write_with_a_mistake(
        folder / f"UNEP_{year}_{rows}_rows_with_a_mistake.xlsx", grid, sub, "electricity_in_litre"
    )
    return good, bad


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "bench-portal")
    parser.add_argument("--rows", type=int, default=0, help="data rows of the workbook (default: UNEP's demo size)")
    args = parser.parse_args()
    demo_db = ROOT / "outputs" / "gtb.duckdb"
    if not demo_db.is_file():
        print("no demo database: run `make demo` first", file=sys.stderr)
        return 2

    from demo.serve import samples
    from pipeline.cycle import reporting_cycle

    year = reporting_cycle(ROOT / "inputs").open_year
    shutil.rmtree(args.work, ignore_errors=True)
    inputs, outputs = args.work / "inputs", args.work / "outputs"
    (inputs / "submissions").mkdir(parents=True)
    outputs.mkdir(parents=True)
    shutil.copyfile(ROOT / "inputs" / "reporting_cycle.toml", inputs / "reporting_cycle.toml")
    shutil.copyfile(demo_db, outputs / "gtb.duckdb")
    if args.rows:
        good, bad = sized_samples(year, args.work / "samples", args.rows)
    else:
        written = samples(year, args.work / "samples")
        good = next(p for p in written if p.name == f"UNEP_{year}.xlsx")
        bad = next(p for p in written if "mistake" in p.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTB_PORTAL_", "DJANGO_"))}
    subprocess.run(
        [*gtb(), "users", "add", "bench", "--entity", "UNEP", "--password-stdin", "--outputs", str(outputs)],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        env=env,
    )
    port = free_port()
    log_path = args.work / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*gtb(), "serve", "--port", str(port), "--inputs", str(inputs), "--outputs", str(outputs)]
            + ["--db", str(outputs / "gtb.duckdb")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            while "ready for uploads" not in log_path.read_text():
                if server.poll() is not None or time.monotonic() > deadline:
                    print(log_path.read_text(), file=sys.stderr)
                    return 2
                time.sleep(0.2)
            client = Browser(f"http://127.0.0.1:{port}")
            client.sign_in("bench")
            results = {}
            for label, path in (("with a mistake", bad), ("valid, compared with last year", good)):
                token = client.token("/entity/UNEP/")
                for _ in range(2):  # not counted
                    client.upload("UNEP", path, token)
                times = [client.upload("UNEP", path, token) for _ in range(args.n)]
                results[label] = {
                    "workbook": f"{path.name} ({path.stat().st_size / 1024:.0f} KB)",
                    "n": args.n,
                    "median_s": round(statistics.median(times), 3),
                    "p95_s": round(percentile(times, 0.95), 3),
                    "max_s": round(max(times), 3),
                }
                print(
                    f"{label:32} {results[label]['workbook']:34} median {results[label]['median_s']:.3f} s, "
                    f"p95 {results[label]['p95_s']:.3f} s, max {results[label]['max_s']:.3f} s  ({args.n} uploads)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
