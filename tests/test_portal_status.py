"""Where an entity-year stands, said alike by every page: the tracker's row, SUN's review page and
the focal point's page (`submissions.standing`), for workbooks loaded or rejected by a run without
a portal upload (sent by e-mail and put in the inputs by SUN); and the portal's page for a method
an address does not take (405)."""

from __future__ import annotations

import html as html_module
import re

import pytest

from pipeline import api
from pipeline.portal.models import Case
from tests.portal_fixtures import YEAR, client_for, close_form, page, workbook

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


def tracker_row(client, entity: str, year: int = YEAR) -> str:
    found = re.search(rf'<tr data-entity="{entity}">(.*?)</tr>', page(client, f"/tracker/?year={year}"), re.S)
    assert found is not None, entity
    return found.group(1)


def badge(html: str) -> str:
    """The status the page's facts (the review page, the entity page) show."""
    found = re.search(r'<dd><span class="badge s-[\w-]+" data-status="([\w-]+)">', html)
    assert found is not None
    return found.group(1)


def tracker_badge(row: str) -> str:
    found = re.search(r'<span class="badge s-([\w-]+)">', row)
    assert found is not None
    return found.group(1)


def sent_by_email(portal, name: str, entity: str = "WFP", **cells) -> None:
    """A workbook that came by e-mail, put in the inputs by SUN: the next run reads it."""
    workbook(portal.inputs / "submissions" / str(YEAR), name, entity, YEAR, **cells)


# --- D1: loaded outside the portal ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # runs
def test_a_workbook_loaded_outside_the_portal_is_loaded_on_every_page(warehouse, portal, personas):
    """WFP's workbook came by e-mail; SUN put it in the inputs and loaded it with the tracker's
    run. The tracker, the review page and WFP's focal point's page all say loaded; the focal
    point is told their workbook is in, and may still upload a corrected one (the portal takes
    one beside a workbook loaded another way)."""
    sent_by_email(portal, f"WFP_{YEAR}.xlsx")
    analyst, focal = client_for(personas["analyst"]), client_for(personas["focal_b"])
    assert analyst.post("/runs/").status_code == 302
    assert not Case.objects.exists()
    row = tracker_row(analyst, "WFP")
    assert tracker_badge(row) == "loaded"
    assert f'href="/review/WFP/{YEAR}/"' in row  # a review page to go to, with no portal case
    review = page(analyst, f"/review/WFP/{YEAR}/")
    assert badge(review) == "loaded"
    mine = page(focal, "/entity/WFP/")
    assert badge(mine) == "loaded"
    shown = text_of(mine)
    assert f"Your workbook WFP_{YEAR}.xlsx is loaded into the inventory" in shown
    assert "Upload your workbook" not in shown and "Upload a corrected workbook" in shown
    assert 'id="upload-form"' in mine
    assert "Received" in shown  # the date the warehouse received it, as on the tracker


@pytest.mark.django_db(transaction=True)  # runs
def test_while_a_run_holds_the_inventory_the_focal_points_page_says_so_not_not_started(warehouse, portal, personas):
    """WFP's e-mailed workbook is loaded. While a run holds the warehouse (another process has it
    open to write), WFP's page said "Status: not started", with no word, inviting an upload for
    nothing; it now says the inventory is being updated, and to reload in a minute."""
    import subprocess
    import sys

    sent_by_email(portal, f"WFP_{YEAR}.xlsx")
    analyst, focal = client_for(personas["analyst"]), client_for(personas["focal_b"])
    analyst.post("/runs/")
    assert badge(page(focal, "/entity/WFP/")) == "loaded"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print(1, flush=True); time.sleep(60)",
            str(portal.db),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"1"
        for lang, said in (("en", "inventory is being updated just now"), ("fr", "en cours de mise à jour")):
            held = page(focal, f"/entity/WFP/?lang={lang}")
            assert badge(held) == "updating" and said in text_of(held), text_of(held)[:600]
    finally:
        holder.kill()
        holder.wait()
    after = page(focal, "/entity/WFP/?lang=en")
    assert badge(after) == "loaded" and "being updated" not in text_of(after)


def test_while_the_inventory_is_held_a_correction_asked_for_stands_and_a_damaged_file_is_not_busy(
    portal, personas, monkeypatch
):
    """The "being updated" notice said there was no need to upload again, on the page of a focal
    point SUN had asked for a correction; and any failure to read the warehouse (a damaged file)
    read as a run holding it. The case's status stands where the portal decides it, and only the
    warehouse's lock is "being updated"."""
    from django.utils import timezone

    from pipeline.portal import submissions

    Case.objects.create(
        entity="UNEP", year=YEAR, status=Case.CORRECTION, correction_message="water?", correction_at=timezone.now()
    )
    focal = client_for(personas["focal_a"])
    monkeypatch.setattr(submissions, "warehouse_state", lambda year: ({}, "database is in use", True))
    held = page(focal, "/entity/UNEP/")
    assert badge(held) == "correction-requested" and "no need to upload again" not in text_of(held)
    portal.db.write_bytes(b"not a database")
    monkeypatch.undo()
    assert badge(page(client_for(personas["focal_b"]), "/entity/WFP/")) == "not-started"


@pytest.mark.django_db(transaction=True)  # runs
def test_a_draft_beside_a_workbook_loaded_outside_leaves_every_page_loaded(warehouse, portal, personas, tmp_path):
    """After the e-mailed workbook is loaded, WFP's focal point checks a draft with an error in
    the portal: every page still says loaded, the tracker and the review page note the draft."""
    from tests.portal_fixtures import upload

    sent_by_email(portal, f"WFP_{YEAR}.xlsx")
    analyst, focal = client_for(personas["analyst"]), client_for(personas["focal_b"])
    analyst.post("/runs/")
    upload(focal, "WFP", workbook(tmp_path, entity="WFP", Facilities_E2="litre"))
    assert Case.objects.get(entity="WFP").status == Case.REJECTED
    row = tracker_row(analyst, "WFP")
    review = page(analyst, f"/review/WFP/{YEAR}/")
    assert tracker_badge(row) == badge(review) == badge(page(focal, "/entity/WFP/")) == "loaded"
    assert "a newer draft in the portal is rejected" in text_of(row)
    assert "a newer draft in the portal is rejected" in text_of(review)


def _open_flag(db, entity: str = "UNEP", year: int = YEAR - 1, explanation: str | None = None) -> None:
    """An open flag on the entity-year's loaded submission of the warehouse at `db` (with the focal
    point's comment in the workbook as its `explanation`, when given)."""
    import duckdb

    with duckdb.connect(str(db)) as con:
        sid = con.execute(
            "SELECT submission_id FROM submissions WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
            [entity, year],
        ).fetchone()[0]
        con.execute(
            "INSERT INTO flags (flag_id, submission_id, code, check_name, sheet, cell, message, status, explanation) "
            "VALUES (900, ?, 'implausible-change', 'test', 'Facilities', 'D2', 'moved far', 'open', ?)",
            [sid, explanation],
        )


def test_a_loaded_year_with_open_flags_and_no_portal_case_offers_to_close_them(warehouse, personas):
    """UNEP's 2023 workbook was loaded by a run (no portal case) and has an open flag: the tracker
    says loaded with one open flag, and so does the review page, which offers "Close the flags";
    closing them works from it."""
    import duckdb

    _open_flag(warehouse)
    analyst = client_for(personas["analyst"])
    row = tracker_row(analyst, "UNEP", year=YEAR - 1)
    assert tracker_badge(row) == "loaded" and re.findall(r'<td class="num">(\d+)</td>', row)[2:] == ["1"]
    review = page(analyst, f"/review/UNEP/{YEAR - 1}/")
    assert badge(review) == "loaded"
    assert 'id="close-flags-form"' in review and 'name="file" value="UNEP_2023.xlsx"' in review
    assert 'id="correction-form"' not in review  # nothing uploaded in the portal to ask a correction of
    analyst.post(f"/review/UNEP/{YEAR - 1}/close-flags/", {"reason": "checked by phone", **close_form(review)})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT status FROM flags").fetchall() == [("accepted",)]
    assert "1 flag closed" in text_of(page(analyst, f"/review/UNEP/{YEAR - 1}/"))


def test_the_review_of_a_year_loaded_outside_the_portal_shows_the_flags_it_offers_to_close(warehouse, personas):
    """UNEP's 2023 workbook was loaded by a run (no portal upload) with an open flag: the review
    page that offers "Close the 1 open flag" shows that flag (its cell, its message, the focal
    point's comment in the workbook), the flags SUN is asked to justify; once closed, none is
    listed as open. A focal point never reaches the page."""
    _open_flag(warehouse, explanation="a new data centre")
    analyst = client_for(personas["analyst"])
    review = page(analyst, f"/review/UNEP/{YEAR - 1}/")
    assert 'id="close-flags-form"' in review and 'id="warehouse-flags"' in review
    flags = text_of(review.split('id="warehouse-flags"', 1)[1])
    assert "Facilities!D2 moved far" in flags and "Comment in the workbook: a new data centre" in flags
    assert "What the warehouse holds" in text_of(review) and "UNEP_2023.xlsx" in text_of(review)
    analyst.post(f"/review/UNEP/{YEAR - 1}/close-flags/", {"reason": "checked by phone", **close_form(review)})
    after = page(analyst, f"/review/UNEP/{YEAR - 1}/")
    assert 'id="warehouse-flags"' not in after and "moved far" not in text_of(after)
    assert client_for(personas["focal_a"]).get(f"/review/UNEP/{YEAR - 1}/").status_code == 403


def test_a_flag_without_a_comment_is_shown_unexplained_in_every_language(warehouse, personas):
    _open_flag(warehouse)
    analyst = client_for(personas["analyst"])
    for lang in ("en", "fr", "es"):
        from pipeline.portal import texts

        review = text_of(page(analyst, f"/review/UNEP/{YEAR - 1}/?lang={lang}"))
        assert texts.text("review.warehouse-flags", lang) in review
        assert f"Facilities!D2 moved far {texts.text('flags.not-explained', lang)}" in review


# --- D2: rejected by the warehouse ---------------------------------------------------------------


def test_a_file_the_warehouse_rejected_is_rejected_in_the_counts_the_filter_and_every_page(portal, personas):
    """WFP's e-mailed workbook has an error; the run rejects it, and nothing was uploaded in the
    portal. The tracker counts it rejected (not "not started"), the filter finds it, the review
    page and the focal point's page say rejected, and the focal point is asked for a corrected one."""
    sent_by_email(portal, f"WFP_{YEAR}.xlsx", Facilities_E2="litre")
    api.run(portal.inputs, portal.db, portal.outputs, jobs=1)
    analyst, focal = client_for(personas["analyst"]), client_for(personas["focal_b"])
    row = tracker_row(analyst, "WFP")
    assert tracker_badge(row) == "rejected"
    html = page(analyst, f"/tracker/?year={YEAR}")
    assert "1 rejected" in text_of(html)
    only = page(analyst, f"/tracker/?year={YEAR}&status=rejected")
    assert re.findall(r'<tr data-entity="([\w-]+)"', only) == ["WFP"]
    review = page(analyst, f"/review/WFP/{YEAR}/")
    assert badge(review) == "rejected"
    # the review page shows what the run found: the file, its errors, its first finding
    [first] = [r.first_finding for r in api.status(YEAR, portal.db) if r.entity == "WFP"]
    assert first and "Facilities!E2" in first
    shown = text_of(review.split('id="warehouse"', 1)[1])
    assert f"WFP_{YEAR}.xlsx Rejected, 1 error" in shown and f"First finding: {first}" in shown
    mine = page(focal, "/entity/WFP/")
    assert badge(mine) == "rejected"
    assert f"The workbook WFP_{YEAR}.xlsx sent to SUN was rejected (1 error)" in text_of(mine)
    assert 'id="upload-form"' in mine


@pytest.mark.django_db(transaction=True)  # runs
def test_a_correction_rejected_after_the_loaded_workbook_is_on_the_tracker_row(warehouse, portal, personas):
    """WFP's workbook is loaded; a correction e-mailed later has an error and the next run rejects
    it. The loaded workbook stands (loaded), and the tracker's row and the review page say that a
    correction was rejected, naming it and its errors."""
    sent_by_email(portal, f"WFP_{YEAR}.xlsx")
    analyst = client_for(personas["analyst"])
    analyst.post("/runs/")
    sent_by_email(portal, f"WFP_{YEAR}_v2.xlsx", Facilities_E2="litre")
    analyst.post("/runs/")
    [status] = [r for r in api.status(YEAR, portal.db) if r.entity == "WFP"]
    assert [f.file for f in status.rejected_since] == [f"WFP_{YEAR}_v2.xlsx"]  # as the warehouse says it
    row = tracker_row(analyst, "WFP")
    assert tracker_badge(row) == "loaded"
    assert f"correction rejected: WFP_{YEAR}_v2.xlsx, 1 error" in text_of(row)
    review = page(analyst, f"/review/WFP/{YEAR}/")
    assert badge(review) == "loaded" and f"correction rejected: WFP_{YEAR}_v2.xlsx, 1 error" in text_of(review)
    shown = text_of(review.split('id="warehouse"', 1)[1])  # and what the run found in it
    assert f"WFP_{YEAR}_v2.xlsx Rejected, after the loaded workbook, 1 error" in shown
    assert f"First finding: {status.rejected_since[0].first_finding}" in shown
    assert f"WFP_{YEAR}.xlsx Loaded" in shown


@pytest.mark.django_db(transaction=True)  # runs
def test_a_loaded_year_whose_comparison_is_stale_says_so_on_the_tracker_and_review_page(warehouse, portal, personas):
    """WFP 2024 is loaded and compared with 2023; 2023 is then recalculated with another factor
    set, so 2024's flags may no longer hold until a run compares it again. The tracker's row and
    the review page said only "loaded"."""
    sent_by_email(portal, f"WFP_{YEAR}.xlsx")
    analyst = client_for(personas["analyst"])
    analyst.post("/runs/")
    assert "compare again" not in text_of(tracker_row(analyst, "WFP"))
    api.recalculate(YEAR - 1, "gtb-2026.1", "new factors", portal.db)
    [status] = [r for r in api.status(YEAR, portal.db) if r.entity == "WFP"]
    assert status.compare_again == YEAR - 1
    said = f"to compare again with {YEAR - 1}, changed since: a run does it when the workbook is in the inputs"
    row = tracker_row(analyst, "WFP")
    assert tracker_badge(row) == "loaded" and said in text_of(row), text_of(row)
    assert said in text_of(page(analyst, f"/review/WFP/{YEAR}/"))
    assert "compare again" not in text_of(page(client_for(personas["focal_b"]), "/entity/WFP/"))
    analyst.post("/runs/")  # the workbook is in the inputs: the run compares it again
    assert "compare again" not in text_of(tracker_row(analyst, "WFP"))


# --- D3: an address that takes a form, opened as a link --------------------------------------------


FORM_ADDRESSES = ["/entity/UNEP/upload/", "/entity/UNEP/submit/", "/runs/", f"/review/UNEP/{YEAR}/accept/"]


@pytest.mark.parametrize("url", [*FORM_ADDRESSES, "/uploads/1/explain/"])
def test_a_get_of_a_form_address_shows_the_portals_page_with_a_way_back(personas, url):
    response = client_for(personas["analyst"]).get(url)
    assert response.status_code == 405 and response["Allow"] == "POST"
    html = response.content.decode()
    assert "This address is not a page to open" in text_of(html) and "Error 405." in text_of(html)
    assert '<a href="/">Back to your page</a>' in html
    assert "Content-Security-Policy" in response.headers  # a page of the portal, with its headers


def test_signing_out_by_a_link_shows_the_sign_out_button(personas):
    client = client_for(personas["focal_a"])
    response = client.get("/logout/")
    assert response.status_code == 405
    html = response.content.decode()
    assert 'id="sign-out-form"' in html and "does not sign you out" in text_of(html)
    assert client.get("/entity/UNEP/").status_code == 200  # still signed in
    anonymous = client_for(None).get("/logout/")
    assert anonymous.status_code == 405 and "This address is not a page to open" in text_of(anonymous.content.decode())
