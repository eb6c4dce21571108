"""The whole cycle in a real browser (Playwright driving Debian's chromium) against `gtb serve`:
a focal point signs in, uploads a workbook with a mistake, sees the finding with its cell,
downloads the annotated copy, uploads the fix and submits; an analyst accepts it and loads it
from the tracker, which then shows it loaded.

The browser is the system's chromium (`apt-get install chromium`; `.ci/run` installs it), never
a browser download. Without it the test fails: it is not optional. With GTB_PORTAL_SCREENSHOTS
set to a folder, the report page and the tracker are saved there as PNG.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.portal_fixtures import PASSWORD, YEAR, Portal, workbook

CHROMIUM = ("chromium", "chromium-browser", "/usr/bin/chromium")


def chromium() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Debian's chromium is needed for the browser tests: apt-get install -y chromium (.ci/run does)")


def gtb() -> list[str]:
    script = Path(sys.executable).with_name("gtb")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTB_PORTAL_", "DJANGO_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    site = Portal(root / "inputs", root / "outputs", root / "outputs" / "gtb.duckdb", root / "outputs" / "portal")
    (site.inputs / "submissions").mkdir(parents=True)
    site.cycle()
    for args in (["focal", "--entity", "UNEP"], ["focal-wfp", "--entity", "WFP"], ["sun", "--analyst"]):
        subprocess.run(
            [*gtb(), "users", "add", *args, "--password-stdin", "--outputs", str(site.outputs)],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
            env=environment(),
        )
    port = free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [*gtb(), "serve", "--port", str(port), "--inputs", str(site.inputs), "--outputs", str(site.outputs)]
        + ["--db", str(site.db)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment(),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("gtb serve did not start: " + (root / "server.log").read_text())
        time.sleep(0.3)
    yield base, site, root
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def test_the_server_keeps_its_secret_beside_its_state_and_sends_the_headers(served):
    base, site, _ = served
    secret = site.state / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) >= 40
    with urllib.request.urlopen(base + "/login/") as response:
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]


def test_the_server_refuses_a_request_in_a_charset_that_is_no_text_encoding(served):
    """Django cannot build it (a 500 and a traceback in the log before): the server answers 400."""
    import urllib.error

    base, _, root = served
    request = urllib.request.Request(
        base + "/login/?next=%2F",
        data=b"a=b",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=rot13"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 400 and b"not a text encoding" in refused.value.read()
    assert "LookupError" not in (root / "server.log").read_text()


def sign_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    return page


def upload(page, path: Path) -> None:
    """Drop a workbook on the form and wait for the page with its report."""
    before = page.get_attribute("#report", "data-upload") if page.locator("#report").count() else None
    page.set_input_files("#workbook", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function(
        "before => { const r = document.getElementById('report'); return r && r.dataset.upload !== before; }",
        arg=before,
    )


def status(page) -> str:
    return page.inner_text("dl.facts .badge")


def test_a_focal_point_and_an_analyst_go_through_the_whole_cycle(served, tmp_path):
    from playwright.sync_api import sync_playwright

    base, site, root = served
    shots = Path(os.environ.get("GTB_PORTAL_SCREENSHOTS") or root)
    bad = workbook(tmp_path / "bad", "UNEP_2024.xlsx", Facilities_E2="litre")
    good = workbook(tmp_path / "good", "UNEP_2024_v2.xlsx")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal")
            focal.wait_for_url("**/entity/UNEP/")
            assert status(focal) == "not started"

            upload(focal, bad)
            finding = focal.locator("li.finding").first
            assert "Facilities!E2" in finding.inner_text() and "unit-mismatch" in finding.inner_text()
            assert finding.locator("td.hit").inner_text() == "litre"
            assert status(focal) == "rejected"
            focal.screenshot(path=str(shots / "portal-report.png"), full_page=False)

            with focal.expect_download() as download:
                focal.click("a:has-text('Download the annotated workbook')")
            annotated = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
            assert "unit-mismatch" in annotated["Facilities"]["E2"].comment.text
            assert download.value.suggested_filename.startswith(f"UNEP_{YEAR}_annotated_")

            upload(focal, good)
            assert status(focal) == "uploaded" and focal.locator("li.finding").count() == 0
            focal.click("button:has-text('Submit for review')")
            focal.wait_for_selector("dl.facts .badge[data-status=submitted]")

            sun = sign_in(browser, base, "sun")
            sun.wait_for_url("**/tracker/")
            row = sun.locator('tr[data-entity="UNEP"]')
            assert row.locator(".badge").inner_text() == "submitted"
            row.locator("a:has-text('review')").click()
            sun.fill("#accept-form textarea[name=note]", "checked, figures as last year")
            sun.click("#accept-form button[type=submit]")
            sun.wait_for_selector("dl.facts .badge[data-status=accepted]")
            assert (site.inputs / "submissions" / str(YEAR)).is_dir()

            sun.goto(base + "/tracker/")
            sun.click("button:has-text('Load the accepted workbooks')")
            sun.wait_for_selector('tr[data-entity="UNEP"] .badge.s-loaded', timeout=180_000)
            sun.screenshot(path=str(shots / "portal-tracker.png"), full_page=False)
            assert "loaded" in sun.locator('tr[data-entity="UNEP"]').inner_text()

            focal.reload()
            assert status(focal) == "loaded"
        except Exception:
            for n, p in enumerate(browser.contexts):
                for m, pg in enumerate(p.pages):
                    pg.screenshot(path=str(root / f"failed-{n}-{m}.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_a_long_file_name_wraps_instead_of_widening_the_page(served, tmp_path):
    """The portal takes names up to 255 characters; one of 200 wraps in the report and the list
    of uploads, on a laptop's window and on a phone's, instead of making the page scroll sideways."""
    from playwright.sync_api import sync_playwright

    base, _site, root = served
    name = "WFP 2024 greenhouse gas inventory " + "final version checked by the country office " * 4
    long_named = workbook(tmp_path, name.strip()[:195] + ".xlsx", "WFP", Facilities_E2="litre")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            upload(focal, long_named)
            assert long_named.name in focal.inner_text("body")
            for width in (1280, 390):
                focal.set_viewport_size({"width": width, "height": 900})
                wide = focal.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, f"{wide} px of page in a {width} px window"
            focal.set_viewport_size({"width": 1280, "height": 900})
            focal.screenshot(path=str(root / "portal-long-name.png"), full_page=True)
            sun = sign_in(browser, base, "sun")
            sun.wait_for_url("**/tracker/")
            for url in (f"/review/WFP/{YEAR}/", "/audit/"):
                sun.goto(base + url)
                assert long_named.name in sun.inner_text("body")
                wide = sun.evaluate("document.documentElement.scrollWidth")
                assert wide <= 1280, f"{url}: {wide} px of page in a 1280 px window"
        finally:
            browser.close()


def test_the_figures_beside_last_year_keep_each_number_whole_on_a_phone(tmp_path):
    """The key figures table on a 390 px phone: the labels wrap, a figure (`12,345,678.9`) stays on
    one line, and the table stays within the page. Rendered from the portal's own style sheet."""
    from playwright.sync_api import sync_playwright

    css = (Path(__file__).resolve().parent.parent / "pipeline/portal/static/portal/portal.css").read_text()
    row = (
        '<tr><td>Electricity from the grid, all sites together <span class="muted small">(kWh)</span></td>'
        '<td class="num">12,345,678.9</td><td class="num">23,456,789.1</td><td class="num">+90.0 %</td></tr>'
    )
    page_html = (
        f"<!doctype html><html><head><meta name=viewport content='width=device-width'><style>{css}</style></head>"
        f"<body><main><table class='list figures'><tbody>{row * 3}</tbody></table></main></body></html>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            page.set_content(page_html)
            lines = page.evaluate(  # the lines a cell's text takes: one box per line
                """() => [...document.querySelectorAll('td')].map(td => {
                    const range = document.createRange();
                    range.selectNodeContents(td.firstChild);
                    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
                })"""
            )
            wide = page.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    labels, numbers = lines[0::4], [n for i, n in enumerate(lines) if i % 4]
    assert numbers == [1] * 9, lines  # one line each
    assert min(labels) > 1, lines  # the label gave way instead
    assert wide <= 390, f"{wide} px of page in a 390 px window"
