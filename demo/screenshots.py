"""The README's pictures of the submission portal, taken in Debian's chromium.

    python -m demo.screenshots [--out docs/images]

Needs the demo database (`make demo`). Copies it into a temporary folder, starts `gtb serve`
there, and plays a few days of the cycle for the first entities of the list and for UNEP and
WFP: some workbooks with a mistake, some submitted, one with a flag explained, one asked to
correct, two accepted and loaded. Then saves the focal point's report page
(`portal-report.png`: UNEP's workbook with an electricity quantity in litres) and the tracker
(`portal-tracker.png`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "screenshots password 2026"
# entity -> what happens to it
PLAY = {
    "CBD": "submitted",
    "CTBTO": "mistake",
    "DGACM": "loaded",
    "DOS": "uploaded",
    "ECA": "correction",
    "ECE": "loaded",
    "ECLAC": "submitted",
    "WFP": "flag",
    "UNEP": "mistake",
}


def workbooks(year: int, folder: Path) -> dict[str, tuple[Path, Path]]:
    """(valid, with a mistake) per entity of PLAY."""
    from demo.data import build_submission, render, write_with_a_mistake, write_workbook

    out = {}
    folder.mkdir(parents=True, exist_ok=True)
    for entity in PLAY:
        sub = build_submission(entity, year)
        grid = render(sub, 2025)
        good = folder / f"{entity}_{year}.xlsx"
        write_workbook(good, grid)
        bad = write_with_a_mistake(folder / f"{entity}_{year}_draft.xlsx", grid, sub, "electricity_in_litre")
        out[entity] = (good, bad)
    return out


def serve(work: Path) -> tuple[subprocess.Popen, str]:
    gtb = [sys.executable, "-m", "pipeline.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTB_PORTAL_", "DJANGO_"))}
    outputs = work / "outputs"
    for args in (["focal", *[x for e in PLAY for x in ("--entity", e)]], ["sun", "--analyst"]):
        subprocess.run(
            [*gtb, "users", "add", *args, "--password-stdin", "--outputs", str(outputs)],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [*gtb, "serve", "--port", str(port), "--inputs", str(work / "inputs"), "--outputs", str(outputs)]
        + ["--db", str(outputs / "gtb.duckdb")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    while "ready for uploads" not in (work / "server.log").read_text():
        if server.poll() is not None:
            raise SystemExit((work / "server.log").read_text())
        time.sleep(0.2)
    return server, f"http://127.0.0.1:{port}"


def sign_in(browser, base: str, name: str, width: int = 1280, height: int = 900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(base + "/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    return page


def upload(page, base: str, entity: str, path: Path) -> None:
    page.goto(f"{base}/entity/{entity}/")
    before = page.get_attribute("#report", "data-upload") if page.locator("#report").count() else None
    page.set_input_files("#workbook", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function(
        "before => { const r = document.getElementById('report'); return r && r.dataset.upload !== before; }",
        arg=before,
    )


def play(browser, base: str, books: dict[str, tuple[Path, Path]], year: int) -> None:
    focal = sign_in(browser, base, "focal")
    for entity, what in PLAY.items():
        good, bad = books[entity]
        if what == "mistake":
            upload(focal, base, entity, bad)
            continue
        if what in ("submitted", "loaded", "correction"):
            upload(focal, base, entity, bad)
        upload(focal, base, entity, good)
        if what == "uploaded":
            continue
        for box in focal.locator("#flags-form textarea").all():
            box.fill("A new cold store in Rome was filled for the first time; the invoice is attached.")
        focal.click("button:has-text('Submit for review')")
        focal.wait_for_selector("dl.facts .badge[data-status=submitted]")
    sun = sign_in(browser, base, "sun")
    for entity, what in PLAY.items():
        if what == "loaded":
            sun.goto(f"{base}/review/{entity}/{year}/")
            sun.fill("#accept-form textarea[name=note]", "checked against last year")
            sun.click("#accept-form button[type=submit]")
        elif what == "correction":
            sun.goto(f"{base}/review/{entity}/{year}/")
            message = "Waste: 120 tonnes of paper seems high; please check the unit."
            sun.fill("#correction-form textarea[name=message]", message)
            sun.click("#correction-form button[type=submit]")
    sun.goto(base + "/tracker/")
    sun.click("button:has-text('Load the accepted workbooks')")
    sun.wait_for_selector('tr[data-entity="ECE"] .badge.s-loaded', timeout=300_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from pipeline.cycle import reporting_cycle

    demo_db = ROOT / "outputs" / "gtb.duckdb"
    if not demo_db.is_file():
        print("no demo database: run `make demo` first", file=sys.stderr)
        return 2
    year = reporting_cycle(ROOT / "inputs").open_year
    with tempfile.TemporaryDirectory(prefix="gtb-shots-") as tmp:
        work = Path(tmp)
        (work / "inputs" / "submissions").mkdir(parents=True)
        (work / "outputs").mkdir()
        shutil.copyfile(ROOT / "inputs" / "reporting_cycle.toml", work / "inputs" / "reporting_cycle.toml")
        shutil.copyfile(demo_db, work / "outputs" / "gtb.duckdb")
        books = workbooks(year, work / "books")
        server, base = serve(work)
        try:
            with sync_playwright() as playwright:
                chromium = shutil.which("chromium") or "/usr/bin/chromium"
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                play(browser, base, books, year)
                focal = sign_in(browser, base, "focal", height=1000)
                focal.goto(f"{base}/entity/UNEP/")
                focal.screenshot(path=str(args.out / "portal-report.png"))
                sun = sign_in(browser, base, "sun", width=1360, height=820)
                sun.goto(f"{base}/tracker/")
                sun.screenshot(path=str(args.out / "portal-tracker.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {args.out / 'portal-report.png'} and {args.out / 'portal-tracker.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
