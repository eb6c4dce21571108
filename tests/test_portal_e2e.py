"""The whole cycle in a real browser (Playwright driving Debian's chromium) against `gtb serve`:
a focal point signs in, uploads a workbook with a mistake, sees the finding with its cell,
downloads the annotated copy, uploads the fix and submits; an analyst accepts it and loads it
from the tracker, which then shows it loaded.

The browser is the system's chromium (`apt-get install chromium`; `.ci/run` installs it), never
a browser download. Without it the test fails: it is not optional. With GTB_PORTAL_SCREENSHOTS
set to a folder, the report page and the tracker are saved there as PNG.
"""

from __future__ import annotations

import html
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
            assert finding.locator("td.hit").evaluate("cell => cell.firstChild.textContent") == "litre"
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
            sun.set_viewport_size({"width": 390, "height": 900})  # what the run printed (long paths) on a phone
            sun.reload()
            sun.click("#run details summary")
            wide = sun.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"the run's output opened: {wide} px of page in a 390 px window"
            sun.set_viewport_size({"width": 1280, "height": 900})

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


def test_a_very_long_cell_value_and_a_long_correction_stay_in_their_boxes(served, tmp_path):
    """A cell of 10,000 characters without a space, and SUN's correction request of one 2,000-character
    word: neither widens the focal point's page, the upload's report or SUN's review page, on a
    laptop's window or a phone's; the request stays inside its notice."""
    from playwright.sync_api import sync_playwright

    base, _site, root = served
    long_value = workbook(tmp_path, "WFP_2024.xlsx", "WFP", Facilities_E2="kWh" + "L" * 10_000)
    pages = {"focal": [], "sun": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            upload(focal, long_value)
            assert focal.locator("li.finding .val code").count() >= 1
            pages["focal"] = ["/entity/WFP/", f"/uploads/{focal.get_attribute('#report', 'data-upload')}/"]
            sun = sign_in(browser, base, "sun")
            sun.wait_for_url("**/tracker/")
            sun.goto(base + f"/review/WFP/{YEAR}/")
            sun.fill("#correction-form textarea[name=message]", "WRONG" * 400)
            sun.click("#correction-form button[type=submit]")
            sun.wait_for_selector("dl.facts .badge[data-status=correction-requested]")
            pages["sun"] = [f"/review/WFP/{YEAR}/", "/entity/WFP/"]
            for who, browsing in (("focal", focal), ("sun", sun)):
                for width in (1280, 390):
                    browsing.set_viewport_size({"width": width, "height": 900})
                    for url in pages[who]:
                        browsing.goto(base + url)
                        wide = browsing.evaluate("document.documentElement.scrollWidth")
                        assert wide <= width, f"{who} {url}: {wide} px of page in a {width} px window"
                        notice = browsing.locator(".notice.correction")
                        if notice.count():
                            box = notice.first.evaluate("n => [n.scrollWidth, n.clientWidth]")
                            assert box[0] <= box[1], f"{who} {url}: the correction spills out of its notice"
            focal.set_viewport_size({"width": 1280, "height": 900})
            focal.goto(base + "/entity/WFP/")
            assert focal.locator(".notice.correction").count() == 1
            focal.screenshot(path=str(root / "portal-long-value.png"), full_page=True)
        finally:
            browser.close()


# The figures beside last year as uploads give them: FAO's electricity from 10,255,572 to 2,400,000 kWh
# (ordinary), then every figure at the largest plausible size, 2,400,000,000, and a x1000 slip.
ORDINARY = {
    "total_tco2e": (27_415, 406.9),
    "per_capita_tco2e": (2.1, 0.3),
    "facilities_tco2e": (6_340, 310.9),
    "air_travel_tco2e": (16_411, 46.0),
    "other_travel_tco2e": (4_664, 49.9),
    "personnel": (12_909, 1_250),
    "electricity_kwh": (10_255_572, 2_400_000),
    "renewable_electricity_share": (0.47, 0.25),
    "waste_tonnes": (2_065, 150),
    "water_m3": (312_243, 61_000),
    "offset_share": (1.0, 1.0),
}
LARGE = {
    key: (before, after) if key.endswith("share") else (185_000_000, 2_400_000_000)
    for key, (before, after) in ORDINARY.items()
} | {"electricity_kwh": (2_400_000, 2_400_000_000)}  # kWh typed as Wh: +99,900 %


def figures_page(figures: dict[str, tuple[float, float]], lang: str) -> str:
    """The report's figures table as the portal renders it (its template, its formatting of numbers
    in `lang`), in a card of a page with the portal's style sheet."""
    from django.template.loader import render_to_string

    from pipeline.indicators import keys
    from pipeline.portal import views
    from pipeline.portal.models import Upload

    known = {k.key: k for k in keys()}
    rows = [
        {
            "key": key,
            "label": known[key].label,
            "unit": known[key].unit,
            "kind": known[key].kind,
            "before": before,
            "now": now,
            "change": None if known[key].kind == "share" else now / before - 1,
            "flagged": True,
            "previous_year": YEAR - 1,
        }
        for key, (before, now) in figures.items()
    ]
    figure_rows, figure_year = views.figure_rows(Upload(year=YEAR, figures=rows), lang)
    table = render_to_string(
        "portal/_figures.html",
        {"figure_rows": figure_rows, "figure_year": figure_year, "upload": {"year": YEAR}, "page_lang": lang},
    )
    css = (Path(__file__).resolve().parent.parent / "pipeline/portal/static/portal/portal.css").read_text()
    return (
        f"<!doctype html><html lang='{lang}'><head><meta name=viewport content='width=device-width'>"
        f"<style>{css}</style></head><body><main><section class='report card'>{table}</section></main></body></html>"
    )


# Each cell of the figures table: the lines its text takes (one box per line), and whether it is cut.
FIGURE_CELLS = """() => [...document.querySelectorAll('table.figures th, table.figures td')].map(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell.firstChild);
    return {text: cell.innerText, number: cell.classList.contains('num'), head: cell.tagName === 'TH',
            lines: new Set([...range.getClientRects()].map(r => Math.round(r.top))).size,
            cut: cell.scrollWidth > cell.clientWidth + 1};
})"""
# Where the table stands in its box: the box scrolls it if it is wider, the page never does.
FIGURE_BOX = """() => {
    const table = document.querySelector('table.figures'), box = table.parentElement;
    return {page: document.documentElement.scrollWidth, box: box.getBoundingClientRect().right,
            table: table.getBoundingClientRect().right, scrolls: getComputedStyle(box).overflowX};
}"""


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_the_figures_beside_last_year_keep_each_number_whole_on_a_phone(lang):
    """The key figures table on a 390 px phone, in each language, with FAO's ordinary figures and
    with figures up to 2,400,000,000: the page never scrolls sideways, a figure stays whole on one
    line, no header or column is cut, the labels give way instead. The ordinary figures fit the
    phone as they are; a table wider than its box scrolls in the box."""
    from playwright.sync_api import sync_playwright

    from pipeline.portal.texts import number_text

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            for name, figures in (("ordinary", ORDINARY), ("large", LARGE)):
                page.set_content(figures_page(figures, lang))
                cells, box = page.evaluate(FIGURE_CELLS), page.evaluate(FIGURE_BOX)
                numbers = [c for c in cells if c["number"] and not c["head"]]
                labels = [c for c in cells if not c["number"] and not c["head"]]
                if name == "large":
                    assert any(c["text"] == number_text(2_400_000_000, lang, ",.0f") for c in numbers), numbers
                assert all(c["lines"] == 1 and not c["cut"] for c in numbers), (name, numbers)
                assert not [c for c in cells if c["head"] and c["cut"]], (name, cells)
                assert max(c["lines"] for c in labels) > 1, (name, labels)  # the labels gave way instead
                assert box["page"] <= 390, f"{name}: {box['page']} px of page in a 390 px window"
                assert box["scrolls"] == "auto", box
                if name == "ordinary":
                    assert box["table"] <= box["box"] + 1, (name, box)  # every column in view
        finally:
            browser.close()


# What of the tracker a reader could not read: a header or a badge sticking out of its column
# (over the next one), a word ("missing", "manquant", a date's) broken into letters.
TRACKER_SPILLS = """() => {
    const out = [], lines = node => { const r = document.createRange(); r.selectNodeContents(node);
        return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; };
    for (const th of document.querySelectorAll('table.tracker th'))
        if (th.scrollWidth > th.clientWidth + 1) out.push(['header', th.innerText]);
    for (const badge of document.querySelectorAll('table.tracker td .badge')) {
        const b = badge.getBoundingClientRect(), c = badge.closest('td').getBoundingClientRect();
        if (b.right > c.right + 1 || b.left < c.left - 1) out.push(['badge', badge.innerText]);
    }
    for (const td of document.querySelectorAll('table.tracker tbody td:not(.first-finding)')) {
        const words = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let node = words.nextNode(); node; node = words.nextNode()) {
            const word = node.textContent.trim();
            if (word && !/\\s/.test(word) && lines(node) > 1)
                out.push(['word', word]);
        }
    }
    const table = document.querySelector('table.tracker'), box = table.parentElement;
    return {spills: out.slice(0, 10), page: document.documentElement.scrollWidth,
            scrolls: getComputedStyle(box).overflowX, rows: table.tBodies[0].rows.length};
}"""


def test_the_tracker_reads_on_a_phone_in_every_language(served, tmp_path):
    """Ten columns for every expected entity: on a 390 px phone the table scrolls inside its own box
    and the page never sideways; no header or badge (`correction requested`, the longest) leaves its
    column, no one-word cell is cut into letters, in English, French and Spanish; on a laptop too."""
    from playwright.sync_api import sync_playwright

    base, _site, root = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            upload(focal, workbook(tmp_path, "WFP_2024.xlsx", "WFP"))
            focal.click("button:has-text('Submit for review')")
            focal.wait_for_selector("dl.facts .badge[data-status=submitted]")
            sun = sign_in(browser, base, "sun")
            sun.wait_for_url("**/tracker/")
            sun.goto(base + f"/review/WFP/{YEAR}/")
            sun.fill("#correction-form textarea[name=message]", "the diesel of the generators, please")
            sun.click("#correction-form button[type=submit]")
            sun.wait_for_selector("dl.facts .badge[data-status=correction-requested]")
            for width in (390, 1280):
                sun.set_viewport_size({"width": width, "height": 900})
                for lang in ("en", "fr", "es"):
                    sun.goto(base + f"/tracker/?lang={lang}")
                    found = sun.evaluate(TRACKER_SPILLS)
                    assert found["page"] <= width, f"{lang}: {found['page']} px of page in a {width} px window"
                    assert found["spills"] == [], (width, lang, found["spills"])
                    assert found["rows"] > 20 and found["scrolls"] == "auto", found
            sun.set_viewport_size({"width": 390, "height": 900})
            sun.screenshot(path=str(root / "portal-tracker-phone.png"), full_page=False)
        finally:
            browser.close()


def test_a_body_over_the_servers_limit_is_refused_in_the_portals_words(served):
    """Waitress refuses a body beyond its limit (the cap and 1 MiB) as soon as its headers came,
    before reading it: with the portal's words in the page's language (the browser's, the cookie's),
    as the portal refuses a body over the cap, not with waitress's bare English."""
    from pipeline.portal import texts

    base, _, _ = served
    host, port = base.removeprefix("http://").split(":")
    cap = texts.Megabytes(25 * 2**20)  # the server's default cap
    for header, lang in ((b"Accept-Language: fr-CH, fr;q=0.9", "fr"), (b"Cookie: gtb_lang=es", "es")):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            request = (
                f"POST /entity/UNEP/upload/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {2**30}\r\n"
            )
            sock.sendall(request.encode() + header + b"\r\n\r\n")  # the headers alone: the body is never sent
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 "), head
        assert b"content-type: text/html; charset=utf-8" in head.lower()
        for name in (b"content-security-policy", b"x-frame-options: deny", b"cache-control: no-store"):
            assert name in head.lower(), name  # the portal's headers, as on every answer
        page = body.decode("utf-8")  # a page of the portal's, as a browser without scripts shows it
        assert html.escape(texts.text("refused.too-large", lang, cap=cap)) in page, page
        assert f'<html lang="{lang}">' in page and 'href="/static/portal/portal.css"' in page
        assert html.escape(texts.text("error.back", lang)) in page


# What of a list of uploads or events a reader could not read on a phone: a word of a short column
# (a date, a time, a name, an action, a verdict, a link) broken inside (`21:1` above `1:23`, `fp` above
# `a`), a date on two lines; and how wide the free text (the file name, the event's detail) stays.
LIST_BREAKS = """() => {
    const out = [], lines = range => new Set([...range.getClientRects()].map(b => Math.round(b.top))).size;
    const cells = document.querySelectorAll('table.uploads tbody td, table.events tbody td');
    for (const td of cells) {
        if (td.classList.contains('text')) continue;
        const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let node = walk.nextNode(); node; node = walk.nextNode())
            for (const m of node.textContent.matchAll(/[^\\s-]+/g)) {
                const r = document.createRange();
                r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
                if (lines(r) > 1) out.push(['word', m[0]]);
            }
        if (td.classList.contains('when')) {
            const r = document.createRange(); r.selectNodeContents(td);
            if (lines(r) > 1) out.push(['date on two lines', td.innerText]);
        }
    }
    const texts = [...document.querySelectorAll('table.uploads td.text, table.events td.text')];
    const boxes = [...document.querySelectorAll('table.uploads, table.events')]
        .map(t => getComputedStyle(t.parentElement).overflowX);
    const hidden = [...cells].filter(td => td.getBoundingClientRect().right > window.innerWidth + 1)
        .map(td => td.innerText);
    return {breaks: out.slice(0, 10), cells: cells.length, page: document.documentElement.scrollWidth, hidden,
            narrowest: Math.min(...texts.map(td => td.getBoundingClientRect().width)), boxes};
}"""


def test_the_lists_of_uploads_and_events_keep_their_words_whole_on_a_phone(served, tmp_path):
    """SUN's correction of 2,000 characters in the review page's history, and the lists of uploads,
    on a 390 px phone in English, French and Spanish: no date, time, name, action, verdict or link
    is broken inside a word (the date stays on one line), the detail and the file name keep a
    readable width, every cell is in view without scrolling, and the page never scrolls sideways."""
    from playwright.sync_api import sync_playwright

    base, _site, root = served
    message = ("Please check the Facilities sheet again: the electricity of the compound was entered twice. " * 25)[
        :2000
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            upload(focal, workbook(tmp_path, "WFP_2024.xlsx", "WFP"))
            sun = sign_in(browser, base, "sun")
            sun.wait_for_url("**/tracker/")
            sun.goto(base + f"/review/WFP/{YEAR}/")
            sun.fill("#correction-form textarea[name=message]", message)
            sun.click("#correction-form button[type=submit]")
            sun.wait_for_selector("dl.facts .badge[data-status=correction-requested]")
            for browsing, url in ((sun, f"/review/WFP/{YEAR}/"), (focal, "/entity/WFP/")):
                browsing.set_viewport_size({"width": 390, "height": 844})
                for lang in ("en", "fr", "es"):
                    browsing.goto(base + f"{url}?lang={lang}")
                    found = browsing.evaluate(LIST_BREAKS)
                    assert found["cells"] > 4, found
                    assert found["breaks"] == [], (url, lang, found["breaks"])
                    assert found["page"] <= 390, f"{url} {lang}: {found['page']} px of page in a 390 px window"
                    assert found["narrowest"] >= 100, (url, lang, found["narrowest"])
                    assert found["hidden"] == [], (url, lang, found["hidden"][:5])  # every cell in view, no scrolling
                    assert set(found["boxes"]) == {"auto"}, found
            sun.goto(base + f"/review/WFP/{YEAR}/?lang=en")
            sun.screenshot(path=str(root / "portal-review-phone.png"), full_page=True)
        finally:
            browser.close()


def test_an_upload_cut_off_can_be_sent_again_and_its_verdict_is_read_out(served, tmp_path):
    """The network drops the upload: the form says so and its button works again, to send the
    workbook once more without reloading; the page that comes back focuses its verdict, the
    message a screen reader then reads, and keeps the report in view."""
    from playwright.sync_api import sync_playwright

    base, _site, _root = served
    wb = workbook(tmp_path, "WFP_2024.xlsx", "WFP", Facilities_E2="litre")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            focal.route("**/entity/WFP/upload/", lambda route: route.abort("connectionreset"))
            focal.set_input_files("#workbook", str(wb))
            button = focal.locator("#upload-form button[type=submit]")
            button.click()
            focal.wait_for_function("() => document.querySelector('.progress-text').textContent.includes('failed')")
            assert button.is_enabled()
            focal.unroute("**/entity/WFP/upload/")
            upload(focal, wb)
            assert focal.evaluate("document.activeElement.matches('ul.messages')")
            assert "error" in focal.inner_text("ul.messages")
            top = focal.evaluate("document.getElementById('report').getBoundingClientRect().top")
            assert 0 <= top < 900, top
        finally:
            browser.close()


def _raw_answer(base: str, request: bytes) -> tuple[bytes, bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.replace(b"{host}", f"{host}:{port}".encode()))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"Connection: close" not in answer and b"connection: close" not in answer:
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.lower(), body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /login/ HTTP/1.1\r\nHost: {host}\r\nContent-Length: 12abc\r\n\r\n",  # a length that is no number
        b"POST /login/ HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # a chunk size no hex
    ],
)
def test_the_servers_own_refusals_wear_the_portals_headers(served, request_bytes):
    """Waitress answers a malformed request itself, before the portal sees it: its answers had none
    of the headers every answer carries."""
    from pipeline.portal.middleware import REFUSAL_HEADERS

    head, _ = _raw_answer(served[0], request_bytes)
    assert head.startswith(b"http/1.1 400 "), head[:40]
    for name, value in REFUSAL_HEADERS:
        assert f"{name.lower()}: {value.lower()}".encode() in head, name
    assert b"referrer-policy: same-origin" in head


def test_a_nul_spelt_in_a_cookie_is_a_visitor_not_an_error(served):
    """A quoted cookie may spell a NUL (`\\000`), which Django unquotes; PostgreSQL refuses it in the
    session's lookup, and every such request was a bare 500 with a long traceback in the log."""
    base, _, root = served
    log_before = (root / "server.log").stat().st_size
    request = urllib.request.Request(base + "/login/", headers={"Cookie": 'gtb_session="abcdefgh\\000ij"; gtb_lang=fr'})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200 and response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Content-Language"] == "fr"  # the other cookies are read as sent
    assert "Traceback" not in (root / "server.log").read_text(errors="replace")[log_before:]


def test_the_marked_cell_of_an_extract_is_in_view_on_a_phone(served, tmp_path):
    """On a 390 px phone the extract of a sheet scrolls sideways in its box, and opened at column A:
    the marked cell (a negative quantity in D2) was off to the right, with nothing to say the box
    scrolls. It now opens with the marked cell in view; on a laptop nothing moves."""
    from playwright.sync_api import sync_playwright

    base, _site, root = served
    path = workbook(
        tmp_path,
        "WFP_2024.xlsx",
        "WFP",
        Facilities_A2="Gigiri compound, " * 4,
        Facilities_B2="Kenya (KEN)",
        Facilities_C2="Electricity (purchased or generated)",
        Facilities_D2=-2_400_000,
    )
    in_view = """() => [...document.querySelectorAll('table.excerpt')].filter(t => t.querySelector('td.hit')).map(t => {
        const box = t.getBoundingClientRect(), hit = t.querySelector('td.hit').getBoundingClientRect();
        return {inside: hit.left >= box.left - 1 && hit.right <= box.right + 1, scrolled: t.scrollLeft,
                wide: t.scrollWidth > t.clientWidth};
    })"""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            focal = sign_in(browser, base, "focal-wfp")
            focal.wait_for_url("**/entity/WFP/")
            upload(focal, path)
            report = f"/uploads/{focal.get_attribute('#report', 'data-upload')}/"
            for width in (390, 1280):
                focal.set_viewport_size({"width": width, "height": 900})
                focal.goto(base + report)
                extracts = focal.evaluate(in_view)
                assert extracts and all(e["inside"] for e in extracts), (width, extracts)
                if width == 390:
                    assert any(e["wide"] and e["scrolled"] > 0 for e in extracts), extracts
                else:
                    assert all(e["scrolled"] == 0 for e in extracts if not e["wide"]), extracts
            focal.set_viewport_size({"width": 390, "height": 900})
            focal.goto(base + report)
            focal.locator("table.excerpt:has(td.hit)").first.scroll_into_view_if_needed()
            focal.screenshot(path=str(root / "portal-extract-phone.png"))
        finally:
            browser.close()
