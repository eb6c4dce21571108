"""The submission portal through Django's test client: signing in, a focal point's page, uploads
and their reports, explanations, submission, SUN's tracker, review, acceptance, the run, the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import html as html_module
import io
import re
import unicodedata

import duckdb
import pytest
from django.utils import timezone
from openpyxl import load_workbook

from pipeline import api
from pipeline.portal.models import AuditEvent, Case, SignInFailure, Upload
from schemas import i18n
from tests.portal_fixtures import PASSWORD, YEAR, client_for, close_form, decide, page, submit, upload, workbook

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    """The page's text, tags dropped and white space folded (what a reader sees)."""
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


# --- signing in --------------------------------------------------------------------------------


def test_accounts_are_hashed_with_argon2_and_sign_in_sets_safe_cookies(personas):
    from django.test import Client

    assert personas["focal_a"].password.startswith("argon2$argon2id$")
    client = Client()
    form = page(client, "/login/")
    assert 'name="username"' in form and 'name="password"' in form and "csrfmiddlewaretoken" in form
    response = client.post("/login/", {"username": "focal-a", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies["gtb_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert client.get("/").url == "/entity/UNEP/"
    secure = Client()
    done = secure.post("/login/", {"username": "focal-a", "password": PASSWORD}, secure=True)
    assert done.cookies["gtb_session"]["secure"]


def test_repeated_failures_lock_the_name_even_with_the_right_password(personas):
    from django.test import Client

    client = Client()
    for _ in range(5):
        wrong = client.post("/login/", {"username": "focal-a", "password": "not it at all"})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.content.decode()
    locked = client.post("/login/", {"username": "focal-a", "password": PASSWORD})
    assert locked.status_code == 401 and "locked until" in locked.content.decode()
    # another account is not affected; an unknown name is counted (and locked) the same way
    assert client.post("/login/", {"username": "focal-b", "password": PASSWORD}).status_code == 302
    for _ in range(6):
        unknown = client.post("/login/", {"username": "nobody", "password": "x"})
    assert "locked until" in unknown.content.decode()
    # the lock ends after its minutes
    SignInFailure.objects.filter(username="focal-a").update(at=timezone.now() - dt.timedelta(minutes=16))
    assert Client().post("/login/", {"username": "focal-a", "password": PASSWORD}).status_code == 302


def _sqlite_like(fold):
    """SQLite's `X LIKE Y ESCAPE Z` (Django's `iexact`), comparing the two sides folded by `fold`."""

    def like(pattern, string, escape):
        if pattern is None or string is None:
            return None
        out, i = [], 0
        while i < len(pattern):
            char = pattern[i]
            if char == escape and i + 1 < len(pattern):
                out.append(re.escape(fold(pattern[i + 1])))
                i += 2
                continue
            out.append(".*" if char == "%" else "." if char == "_" else re.escape(fold(char)))
            i += 1
        return re.fullmatch("".join(out), fold(string), re.S) is not None

    return like


def test_no_other_spelling_of_a_name_has_a_lockout_count_of_its_own(personas):
    """On PostgreSQL `iexact` compares UPPER() of both sides, which makes 'ſ' an S and 'ı' an I,
    while the lockout counted the name as typed, lowered: 'ſirius' had five tries of its own and
    then signed in as the locked 'sirius' (5 x 2^k passwords for a name with k letters s or i).
    SQLite's LIKE is made to fold as PostgreSQL does for this test."""
    from django.db import connection
    from django.test import Client

    from tests.portal_fixtures import user

    user("sirius", ("UNEP",))
    connection.ensure_connection()
    connection.connection.create_function("like", 3, _sqlite_like(str.upper))
    try:
        client = Client()
        for _ in range(5):
            assert client.post("/login/", {"username": "sirius", "password": "wrong"}).status_code == 401
        for spelling in ("ſirius", "sırius", "SIRIUS", "ſırıuſ"):
            answer = client.post("/login/", {"username": spelling, "password": PASSWORD})
            assert answer.status_code == 401, spelling
            assert "_auth_user_id" not in client.session, spelling
    finally:  # SQLite's own LIKE: ASCII letters folded, nothing else
        connection.connection.create_function(
            "like", 3, _sqlite_like(lambda text: "".join(c.upper() if c.isascii() else c for c in text))
        )
    SignInFailure.objects.all().delete()
    assert Client().post("/login/", {"username": "Sirius", "password": PASSWORD}).status_code == 302


def test_a_wrong_password_keeps_the_name_typed_escaped_and_ties_the_error_to_the_fields(personas):
    """After a wrong password the name stays in its field (only the password is typed again), as
    text whatever it holds; the fields point at the error, and focus goes to the password."""
    from django.test import Client

    client = Client()
    blank = page(client, "/login/")
    assert "aria-invalid" not in blank and re.search(r'<input name="username"[^>]* autofocus>', blank)
    typed = 'focal-a"><script>alert(1)</script>'
    wrong = client.post("/login/", {"username": typed, "password": "not it at all"}).content.decode()
    assert 'value="focal-a&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in wrong and "<script>alert" not in wrong
    assert wrong.count('aria-describedby="login-error"') == 2 and 'id="login-error" role="alert"' in wrong
    assert re.search(r'<input name="password"[^>]* autofocus>', wrong)
    assert not re.search(r'<input name="username"[^>]* autofocus', wrong)


def test_every_page_starts_with_a_link_past_its_header_and_reads_out_its_outcome(personas, tmp_path):
    """Keyboard users skip the header's links; the message a page came back with (an upload's
    verdict) is a status, which the script focuses for a screen reader to read."""
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    html = page(focal, "/entity/UNEP/")
    body = html.split("<body>", 1)[1].lstrip()
    assert body.startswith('<a class="skip" href="#main">Skip to the content</a>') and '<main id="main"' in html
    assert '<ul class="messages" role="status" tabindex="-1">' in html
    assert '<span class="progress-text" role="status">' in html


def test_sign_out_is_a_post_and_ends_the_session(personas):
    client = client_for(personas["focal_a"])
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").url == "/login/"
    assert client.get("/entity/UNEP/").url.startswith("/login/")


def test_a_session_ends_eight_hours_after_signing_in_whatever_was_done_since(personas, monkeypatch):
    """Django counts a session's age from its last change: a language chosen or a workbook uploaded
    pushed the end back 8 hours each time. The end counts from signing in."""
    import time

    from django.test import Client

    client = Client()
    assert client.post("/login/", {"username": "focal-a", "password": PASSWORD}).status_code == 302
    signed_in = time.time()
    assert client.get("/entity/UNEP/").status_code == 200
    later = signed_in + 7.5 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/entity/UNEP/?lang=fr").status_code == 200  # writes the session: no new 8 hours
    later = signed_in + 8 * 3600 + 60
    assert client.get("/entity/UNEP/").url.startswith("/login/")
    assert AuditEvent.objects.filter(username="focal-a", action="sign-out", detail__contains="8 hours").count() == 1
    assert client.get("/entity/UNEP/").url.startswith("/login/")  # signed out, not only refused once
    assert client.post("/login/", {"username": "focal-a", "password": PASSWORD}).status_code == 302
    assert client.get("/entity/UNEP/").status_code == 200  # signing in again starts 8 hours anew


def test_next_after_sign_in_stays_on_the_portal(personas):
    from django.test import Client

    away = Client().post("/login/", {"username": "analyst", "password": PASSWORD, "next": "https://evil.example/"})
    assert away["Location"] == "/"
    here = Client().post("/login/", {"username": "analyst", "password": PASSWORD, "next": "/audit/"})
    assert here["Location"] == "/audit/"


def test_every_page_carries_the_security_headers(personas):
    for client, url in ((client_for(None), "/login/"), (client_for(personas["focal_a"]), "/entity/UNEP/")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cache-Control"] == "no-store"
    elsewhere = client_for(None).get("/login/", HTTP_HOST="portal.other.example")  # a host not served
    assert elsewhere.status_code == 400 and elsewhere["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in elsewhere["Content-Security-Policy"]


# --- a focal point's page ------------------------------------------------------------------------


def test_the_focal_points_page_names_entity_year_status_deadline_and_offers_the_template(portal, personas):
    portal.cycle(deadline=dt.date.today() + dt.timedelta(days=12))
    client = client_for(personas["focal_a"])
    html = text_of(page(client, "/entity/UNEP/"))
    assert "UNEP" in html and "United Nations Environment Programme" in html
    assert f"Reporting year {YEAR}" in html and "not started" in html and "(12 days left)" in html
    assert "sun@example.org" in html
    response = client.get("/entity/UNEP/template.xlsx?lang=en")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="UNEP_{YEAR}_template_en.xlsx"'
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    entity = {row[0].value: row[1].value for row in book["Entity"].iter_rows(min_row=2) if row[0].value}
    assert entity[i18n.header("Entity", "entity_code", "en")] == "UNEP"
    assert entity[i18n.header("Entity", "reporting_year", "en")] == YEAR
    french = client.get("/entity/UNEP/template.xlsx?lang=fr")
    assert french["Content-Disposition"] == f'attachment; filename="UNEP_{YEAR}_template_fr.xlsx"'
    book = load_workbook(io.BytesIO(b"".join(french.streaming_content)))
    assert i18n.sheet_name("Entity", "fr") in book.sheetnames and "Entity" not in book.sheetnames
    assert client.get("/entity/UNEP/template.xlsx?lang=xx").status_code == 404
    upper = client.get("/entity/UNEP/template.xlsx?lang=FR")  # as a hand-typed link may write it
    assert upper["Content-Disposition"] == f'attachment; filename="UNEP_{YEAR}_template_fr.xlsx"'


def test_the_portals_template_names_its_own_file_and_the_deadline_the_page_says(portal, personas):
    """The Instructions sheet of the portal's template told the focal point to save it as
    '.5061a0d256ec.part.xlsx' (the temporary file it was written to), and kept the deadline of
    the first download after SUN moved it: the template made once was handed out again, and its
    cycle was read from another folder than the portal's. It names the downloaded file, and the
    deadline of the portal's cycle, made anew when that changes."""
    first = dt.date.today() + dt.timedelta(days=40)
    portal.cycle(deadline=first)
    client = client_for(personas["focal_a"])

    def instructions() -> str:
        answer = client.get("/entity/UNEP/template.xlsx?lang=en")
        book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
        return " ".join(str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value is not None)

    said = instructions()
    assert f"UNEP_{YEAR}_template_en.xlsx" in said and ".part.xlsx" not in said
    assert first.isoformat() in said and "SUN test desk" in said
    moved = first + dt.timedelta(days=45)
    portal.cycle(deadline=moved)
    said = instructions()
    assert moved.isoformat() in said and first.isoformat() not in said


def test_a_cycle_collecting_a_year_the_contract_does_not_take_yet_gives_no_server_error(portal, personas):
    """SUN opens next year's cycle early (2027 while it is 2026): the template could not be made,
    and its link answered with a server error. The focal point is told, in the page's words."""
    portal.cycle(open_year=dt.date.today().year + 1, deadline=dt.date.today() + dt.timedelta(days=400))
    client = client_for(personas["focal_a"])
    answer = client.get("/entity/UNEP/template.xlsx?lang=fr", follow=True)
    assert answer.status_code == 200
    shown = text_of(answer.content.decode())
    assert f"No template can be made for {dt.date.today().year + 1} yet" in shown, shown[:500]


def test_an_upload_with_a_mistake_shows_the_finding_with_cell_header_value_and_excerpt(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    bad = workbook(tmp_path, "UNEP 2024 draft.xlsx", Facilities_E2="litre")
    response = upload(client, "UNEP", bad)
    assert response.status_code == 302 and response["Location"] == "/entity/UNEP/#report"
    html = page(client, "/entity/UNEP/")
    shown = text_of(html)
    assert "rejected" in shown and "1 error" in shown and "UNEP 2024 draft.xlsx" in shown
    assert "Facilities!E2" in shown and "unit-mismatch" in shown
    assert "Expected one of 'Kilowatt-hour', 'Megawatt-hour', 'Gigajoule'" in shown
    finding = html[html.index("Facilities!E2") : html.index("</li>", html.index("Facilities!E2"))]
    assert '<span class="col" title="header">unit</span>' in finding and "<code>litre</code>" in finding
    # the excerpt: the header row, the rows around row 2, columns C to G, the cell itself marked
    assert '<td class="hit">litre<span class="visually-hidden"> (the cell of this finding)</span></td>' in finding
    assert "energy_type" in finding and "electricity" in finding and "diesel" in finding
    assert re.findall(r"<th(?: class=\"hit\")?>([A-Z])</th>", finding) == ["C", "D", "E", "F", "G"]
    up = Upload.objects.get()
    assert (up.errors, up.readable, up.has_annotated) == (1, True, True)
    assert Case.objects.get(entity="UNEP", year=YEAR).status == Case.REJECTED
    # the annotated copy and issues.csv, as attachments under generated names
    annotated = client.get(f"/uploads/{up.pk}/annotated.xlsx")
    assert annotated["Content-Disposition"] == f'attachment; filename="UNEP_{YEAR}_annotated_{up.pk}.xlsx"'
    marked = load_workbook(io.BytesIO(b"".join(annotated.streaming_content)))
    assert "unit-mismatch" in marked["Facilities"]["E2"].comment.text
    issues = client.get(f"/uploads/{up.pk}/issues.csv")
    assert issues["Content-Disposition"].startswith("attachment;") and issues["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(issues.streaming_content).decode())))
    assert [(r["file"], r["cell"], r["code"]) for r in rows] == [("UNEP 2024 draft.xlsx", "E2", "unit-mismatch")]


def test_the_pages_script_gets_where_to_go_and_the_form_stays_under_the_report(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    answer = upload(client, "UNEP", workbook(tmp_path, Facilities_E2="litre"), HTTP_X_PORTAL_FRAGMENT="1")
    assert answer.status_code == 200 and answer.json() == {"page": "/entity/UNEP/#report"}
    html = page(client, "/entity/UNEP/")
    assert html.index('id="report"') < html.index('id="upload-form"')
    assert "Upload a corrected workbook" in html
    empty = client.post("/entity/UNEP/upload/", {}, HTTP_X_PORTAL_FRAGMENT="1")
    assert empty.status_code == 400 and empty.json() == {"page": "/entity/UNEP/"}


def test_a_fixed_upload_replaces_the_report_and_can_be_submitted(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path / "1", Facilities_E2="litre"))
    assert "Submit for review" not in page(client, "/entity/UNEP/")
    upload(client, "UNEP", workbook(tmp_path / "2"))
    html = text_of(page(client, "/entity/UNEP/"))
    assert "uploaded" in html and "no errors" in html and "Facilities!E2" not in html
    assert "Submit for review" in html
    # no cell to mark: the download is the validation summary alone
    assert "Download the validation summary" in html and "Download the annotated workbook" not in html
    latest = Upload.objects.latest("pk")
    summary = load_workbook(io.BytesIO(b"".join(client.get(f"/uploads/{latest.pk}/annotated.xlsx").streaming_content)))
    assert len(summary.sheetnames) == 1 and summary.active["B3"].value == 0 == summary.active["B4"].value
    assert submit(client).status_code == 302
    case = Case.objects.get(entity="UNEP", year=YEAR)
    assert case.status == Case.SUBMITTED and case.submitted == case.current and case.first_submitted_at
    shown = text_of(page(client, "/entity/UNEP/"))
    assert "submitted" in shown and shown.count("report") >= 2  # both uploads in the history
    actions = list(AuditEvent.objects.filter(entity="UNEP").order_by("id").values_list("action", "username"))
    assert actions == [("upload", "focal-a"), ("upload", "focal-a"), ("submit", "focal-a")]
    first = AuditEvent.objects.filter(action="upload").order_by("id").first()
    assert "not started -> rejected" in first.detail


def test_flags_against_last_year_need_an_explanation_before_submission(warehouse, personas, tmp_path):
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))  # x1,000: kWh typed as Wh?
    up = Upload.objects.get()
    assert up.compared and up.errors == 0 and up.flags >= 1
    html = page(client, "/entity/UNEP/")
    flag = next(f for f in up.findings if f["flag"])
    assert f'name="explain:{flag["key"]}"' in html and "Flags against last year" in html
    submit(client)
    assert Case.objects.get().status == Case.UPLOADED
    assert "Explain each flagged figure" in text_of(page(client, "/entity/UNEP/"))
    answers = {f"explain:{f['key']}": "a new data centre opened in Nairobi" for f in up.findings if f["flag"]}
    submit(client, answers=answers)
    assert Case.objects.get().status == Case.SUBMITTED
    review = text_of(page(client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/"))
    assert "a new data centre opened in Nairobi" in review and "focal-a" in review


def test_two_flags_on_one_cell_each_keep_their_own_explanation(warehouse, personas, tmp_path):
    """kWh typed as Wh moves the total and the figure per person: two flags of one code on one
    cell. Each gets a box of its own, and what is typed in each is kept under it."""
    from pipeline.portal.models import Explanation

    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    flags = [f for f in up.findings if f["flag"]]
    same_cell = [
        f
        for f in flags
        if (f["sheet"], f["cell"], f["code"]) == (flags[0]["sheet"], flags[0]["cell"], flags[0]["code"])
    ]
    assert len(same_cell) >= 2
    names = re.findall(r'<textarea name="([^"]+)"', page(focal, "/entity/UNEP/"))
    assert len(names) == len(flags) == len(set(names))
    answers = {name: f"reason {i}" for i, name in enumerate(names)}
    submit(focal, answers=answers)
    assert Case.objects.get().status == Case.SUBMITTED
    assert sorted(Explanation.objects.values_list("text", flat=True)) == sorted(answers.values())


def test_flag_keys_are_unique_and_the_same_set_in_any_order():
    from pipeline.portal.submissions import flag_keys

    flags = [
        ("Facilities", "D2", "implausible-change"),
        ("Water", "B4", "x"),
        ("Facilities", "D2", "implausible-change"),
    ]
    keys = flag_keys(flags)
    assert keys == ["Facilities!D2 implausible-change", "Water!B4 x", "Facilities!D2 implausible-change (2)"]
    assert set(flag_keys(flags[::-1])) == set(keys)


def test_explanations_cannot_be_rewritten_once_submitted(warehouse, personas, tmp_path):
    """The explanations SUN reads when it accepts stay as submitted: a later post of the submit
    form (with other texts) changes nothing, before or after the acceptance."""
    from pipeline.portal.models import Explanation

    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    keys = [f["key"] for f in up.findings if f["flag"]]
    submit(focal, answers={f"explain:{k}": "a new data centre opened" for k in keys})
    assert Case.objects.get().status == Case.SUBMITTED
    submit(focal, answers={f"explain:{k}": "REWRITTEN after submission" for k in keys})
    decide(analyst, "accept", {"note": "checked"})
    submit(focal, answers={f"explain:{k}": "REWRITTEN after acceptance" for k in keys})
    assert set(Explanation.objects.values_list("text", flat=True)) == {"a new data centre opened"}
    assert Case.objects.get().status == Case.ACCEPTED


def test_an_upload_checked_while_sun_accepts_does_not_undo_the_acceptance(portal, personas, tmp_path, monkeypatch):
    """An upload that passed the 'not accepted' check before SUN accepted, and is recorded
    after: refused, its stored file removed; the case stays accepted with the accepted file."""
    from pipeline import api
    from pipeline.portal import submissions

    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    checking = api.check_upload

    def accepted_meanwhile(*args, **kwargs):
        found = checking(*args, **kwargs)
        submissions.accept(personas["analyst"], "UNEP", YEAR, "", Case.objects.get().submitted_id)
        return found

    monkeypatch.setattr(api, "check_upload", accepted_meanwhile)
    upload(focal, "UNEP", workbook(tmp_path / "late"))
    case = Case.objects.get()
    assert case.status == Case.ACCEPTED and case.current == Upload.objects.get()
    assert [p.name for p in (portal.state / "uploads").iterdir()] == [Upload.objects.get().stored_name]
    assert "has to ask for a correction" in page(focal, "/entity/UNEP/")
    assert (portal.inputs / "submissions" / str(YEAR) / case.accepted_file).is_file()
    del analyst


def test_a_correction_while_the_inventory_is_busy_leaves_the_accepted_file(portal, personas, tmp_path, monkeypatch):
    """Whether the accepted file is loaded cannot be told while a run holds the inventory: the
    correction request is refused then, and the file stays in the inputs (it may be loaded)."""
    from pipeline.portal import submissions

    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    decide(analyst, "accept", {"note": ""})
    portal.db.write_bytes(b"")  # an inventory exists
    monkeypatch.setattr(submissions, "warehouse_rows", lambda year: ({}, "a run holds the inventory"))
    decide(analyst, "correction", {"message": "one more thing"})
    assert Case.objects.get().status == Case.ACCEPTED
    assert "cannot be read just now" in page(analyst, f"/review/UNEP/{YEAR}/")
    assert len(list((portal.inputs / "submissions").rglob("*.xlsx"))) == 1


def test_an_upload_for_another_entity_or_year_is_an_error_on_its_cell(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, entity="WFP"))
    up = Upload.objects.get()
    assert up.errors == 1 and [(f["cell"], f["code"]) for f in up.findings] == [("B2", "entity-mismatch")]
    upload(client, "UNEP", workbook(tmp_path / "y", year=2023))
    [late] = Upload.objects.latest("pk").findings
    assert late["code"] == "year-mismatch"
    assert Case.objects.get().status == Case.REJECTED
    # a late workbook of the year before is not told to be relabelled as this year's
    assert "Send a late or corrected 2023 workbook to SUN directly" in late["message"], late["message"]
    assert "Upload your 2024 workbook, or correct the reporting year" not in late["message"]


# --- SUN: tracker, review, acceptance, the run -----------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the run reports its progress from its reading thread
def test_accept_writes_the_file_and_the_run_from_the_tracker_loads_it(warehouse, portal, personas, tmp_path):
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    up = Upload.objects.get()
    decided = decide(analyst, "accept", {"note": "checked against the 2023 figures"})
    case = Case.objects.get()
    assert case.status == Case.ACCEPTED and case.accepted_by == "analyst"
    # the button that loads it, by the words the tracker shows (the flash named the command line)
    said = text_of(page(analyst, decided["Location"]))
    button = text_of(page(analyst, f"/tracker/?year={YEAR}"))
    assert "Load the accepted workbooks" in button and "“Load the accepted workbooks” on the Tracker" in said
    assert "run gtb run" not in said
    written = portal.inputs / "submissions" / str(YEAR) / f"UNEP_{YEAR}_portal-{up.pk}.xlsx"
    assert case.accepted_file == written.name
    assert written.read_bytes() == (portal.state / "uploads" / up.stored_name).read_bytes()
    assert "Accepted by SUN" in page(focal, "/entity/UNEP/")
    assert analyst.post("/runs/").status_code == 302
    tracker = page(analyst, f"/tracker/?year={YEAR}")
    row = tracker[tracker.index('data-entity="UNEP"') : tracker.index("</tr>", tracker.index('data-entity="UNEP"'))]
    assert "s-loaded" in row and ">loaded<" in row and "on time" in row
    assert "Accepted and loaded" in page(focal, "/entity/UNEP/")
    [status] = [r for r in api.status(YEAR, portal.db) if r.entity == "UNEP"]
    assert (status.status, status.file) == ("accepted", written.name)  # accepted in the warehouse too
    assert AuditEvent.objects.filter(action="loaded", entity="UNEP").exists()
    assert "run-finished" in set(AuditEvent.objects.values_list("action", flat=True))


@pytest.mark.django_db(transaction=True)  # the run reports its progress from its reading thread
def test_a_run_from_the_command_line_settles_what_the_portal_accepted(warehouse, portal, personas, tmp_path, capsys):
    """SUN accepts UNEP's workbook in the portal, then loads the year with `gtb run` in a terminal,
    as the runbook's cycle does. The run loaded it, but only a run started from the portal accepted
    it in the warehouse too: its flags stayed open and the year a draft until a run was started
    from the portal. The command line settles the portal's acceptances as that run does."""
    from pipeline.cli import main

    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    decide(analyst, "accept", {"note": "checked against the 2023 figures"})
    args = ["--inputs", str(portal.inputs), "--db", str(portal.db), "--outputs", str(portal.outputs), "--jobs", "1"]
    capsys.readouterr()
    assert main(["run", *args]) == 0
    said = capsys.readouterr().out
    assert f"portal: UNEP {YEAR}: loaded and accepted" in said, said
    [status] = [r for r in api.status(YEAR, portal.db) if r.entity == "UNEP"]
    assert status.status == "accepted"
    assert Case.objects.get().flags_closed
    assert AuditEvent.objects.filter(action="loaded", entity="UNEP").exists()
    assert main(["run", *args]) == 0
    assert "portal:" not in capsys.readouterr().out, "settled once"


def test_a_run_from_the_command_line_without_a_portal_loads_nothing_of_it(tmp_path):
    """Outputs that never held a portal: nothing of the portal is set up (no state folder made)."""
    from pipeline.portal.runjob import settle_after_run

    assert settle_after_run(tmp_path / "inputs", tmp_path / "gtb.duckdb", tmp_path / "out", "gtb run") is None
    assert not (tmp_path / "out" / "portal").exists()


def test_a_correction_request_reaches_the_focal_point_escaped(portal, personas, tmp_path):
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    decide(analyst, "correction", {"message": "Waste <b>tonnes</b>? Please check row 3."})
    assert Case.objects.get().status == Case.CORRECTION
    html = page(focal, "/entity/UNEP/")
    assert "SUN asked for a correction" in html and "Waste &lt;b&gt;tonnes&lt;/b&gt;? Please check row 3." in html
    upload(focal, "UNEP", workbook(tmp_path / "2"))
    assert Case.objects.get().status == Case.UPLOADED
    submit(focal)
    assert Case.objects.get().status == Case.SUBMITTED


def test_an_accepted_submission_takes_no_more_uploads_until_sun_asks(portal, personas, tmp_path):
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path))
    submit(focal)
    decide(analyst, "accept", {"note": ""})
    upload(focal, "UNEP", workbook(tmp_path / "again"))
    assert Upload.objects.count() == 1
    assert "has to ask for a correction" in page(focal, "/entity/UNEP/")
    # a correction request takes the accepted file (not loaded yet) back out of the inputs
    decide(analyst, "correction", {"message": "one more thing"})
    assert not list((portal.inputs / "submissions").rglob("*.xlsx"))
    assert list((portal.state / "withdrawn").glob("*.xlsx"))


def test_the_tracker_lists_every_expected_entity_with_status_and_filters(portal, personas, tmp_path):
    from pipeline.portal.submissions import expected_entities

    portal.cycle(deadline=dt.date.today() - dt.timedelta(days=1))  # the deadline has passed
    upload(client_for(personas["focal_a"]), "UNEP", workbook(tmp_path, Facilities_E2="litre"))
    analyst = client_for(personas["analyst"])
    html = page(analyst, "/tracker/")
    expected = expected_entities(YEAR)
    assert len(re.findall(r'<tr data-entity="', html)) == len(expected) > 50
    assert "no database" in html  # no warehouse yet: said, and the portal's statuses shown
    row = html[html.index('data-entity="UNEP"') : html.index("</tr>", html.index('data-entity="UNEP"'))]
    assert "rejected" in row and "Facilities!E2" in row and "late" in row
    only = page(analyst, "/tracker/?status=rejected")
    assert re.findall(r'<tr data-entity="(\w+)"', only) == ["UNEP"]
    named = page(analyst, "/tracker/?q=world+food")
    assert re.findall(r'<tr data-entity="([\w-]+)"', named) == ["WFP"]
    late = page(analyst, "/tracker/?late=1")
    assert len(re.findall(r"<tr data-entity=", late)) == len(expected)  # nothing received: all late


def test_the_audit_log_says_who_did_what_when(portal, personas, tmp_path):
    upload(client_for(personas["focal_a"]), "UNEP", workbook(tmp_path))
    html = text_of(page(client_for(personas["analyst"]), "/audit/?entity=UNEP"))
    assert "focal-a upload UNEP" in html and "UNEP_2024.xlsx" in html and "not started -> uploaded" in html


def test_no_cell_value_or_file_name_is_ever_rendered_as_html(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    hostile = workbook(tmp_path, Facilities_C2="<img src=x onerror=alert(1)>", Water_E2="<script>x()</script>")
    upload(client, "UNEP", hostile, name="<i onmouseover=alert(2)>draft.xlsx")
    html = page(client, "/entity/UNEP/")
    assert "<script>x()" not in html and "<img src=x" not in html and "<i onmouseover" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;i onmouseover=alert(2)&gt;draft.xlsx" in html


def test_closing_flags_without_a_reason_asks_for_one_in_the_pages_words(portal, personas):
    analyst = client_for(personas["analyst"])
    analyst.post(f"/review/UNEP/{YEAR}/close-flags/", {"reason": "  "})
    shown = text_of(page(analyst, f"/review/UNEP/{YEAR}/"))
    assert "Say why the flags can be closed" in shown and "--reason" not in shown


def test_a_right_to_left_override_typed_in_a_cell_is_shown_as_an_escape(personas, tmp_path):
    """Autoescaping stops markup, not a U+202E that turns the text after it around: the page shows
    it as `\\u202e`, as the console and the CSV files do."""
    client = client_for(personas["focal_a"])
    bad = workbook(tmp_path, "UNEP_2024.xlsx", Facilities_C2="electri\u202ecity gnissim")
    response = upload(client, "UNEP", bad)
    assert response.status_code == 302
    html = page(client, "/entity/UNEP/")
    assert "\u202e" not in html and "electri\\u202ecity gnissim" in html
    assert not any(unicodedata.category(ch) == "Cf" and ch != "\u00ad" for ch in html)


@pytest.mark.django_db(transaction=True)  # another thread looks the run up, as a page does
def test_a_page_asking_for_the_run_while_it_starts_neither_interrupts_it_nor_lets_a_second_start(
    portal, personas, settings, monkeypatch
):
    """The run's row is made before its process: a page of another server thread asking for the
    run in between saw a running row without a process, marked it interrupted, and a second run
    could start. The lookup now waits for the start to end."""
    import os
    import threading

    from pipeline.portal import jobs
    from pipeline.portal.models import RunJob

    settings.GTB_RUN_IN_PROCESS = False
    seen: dict[str, object] = {}

    class SlowStart:  # stands for a child process that takes a while to start (a loaded machine)
        def __init__(self, *args, **kwargs):
            asker = threading.Thread(target=lambda: seen.setdefault("asked", jobs.current()))
            asker.start()
            asker.join(0.5)  # the page's request, in the window between the row and the process
            seen["asker"] = asker
            self.pid = os.getpid()

        def poll(self):
            return None  # still running

    monkeypatch.setattr(jobs.subprocess, "Popen", SlowStart)
    first, new = jobs.start(personas["analyst"])
    seen["asker"].join(5)
    assert new and isinstance(seen["asked"], RunJob) and seen["asked"].pk == first.pk
    assert RunJob.objects.get(pk=first.pk).state == RunJob.RUNNING
    again, new_again = jobs.start(personas["analyst"])
    assert again.pk == first.pk and not new_again  # one run at a time
    jobs._children.pop(first.pk, None)


def test_a_run_row_whose_process_number_was_taken_by_another_process_blocks_no_run(portal, personas):
    """The server restarted while a run was going: the job's row still says running, with the run's
    process number. Once another process has that number (any process: here, this one), the row
    was taken for a run going on, and every "Load the accepted workbooks" answered that one was
    already going, for as long as that other process lived."""
    import os
    import subprocess
    import sys
    import time

    from pipeline.portal import jobs
    from pipeline.portal.models import RunJob

    gone = RunJob.objects.create(started_by="analyst", state=RunJob.RUNNING, pid=os.getpid())
    assert jobs.current() is None
    assert RunJob.objects.get(pk=gone.pk).state == RunJob.INTERRUPTED
    # a run's own process, started as `jobs.start` starts it, is still taken for the run going on
    going = RunJob.objects.create(started_by="analyst", state=RunJob.RUNNING)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "-m", "pipeline.portal.runjob", str(going.pk)],
        stdin=subprocess.DEVNULL,
    )
    try:
        RunJob.objects.filter(pk=going.pk).update(pid=child.pid)
        time.sleep(0.2)  # its command line is the child's own once it has started
        running = jobs.current()
        assert running is not None and running.pk == going.pk
    finally:
        child.kill()
        child.wait()


@pytest.mark.django_db(transaction=True)  # runs
def test_the_loaded_workbook_sent_again_after_a_correction_request_is_accepted_as_loaded(
    warehouse, portal, personas, tmp_path
):
    """SUN asks for a correction of a loaded workbook; the figure was right, and the focal point
    sends the same bytes again. A run never reads them twice: the acceptance names the loaded
    file, the portal shows it loaded, and the new note reaches the warehouse."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    wb = workbook(tmp_path, Facilities_D2=2_400_000_000)  # flagged

    def send(note: str) -> None:
        upload(focal, "UNEP", wb)
        keys = [f["key"] for f in Upload.objects.latest("pk").findings if f["flag"]]
        submit(focal, answers={f"explain:{k}": "new data centre" for k in keys})
        decide(analyst, "accept", {"note": note})
        analyst.post("/runs/")

    send("first look")
    first = Case.objects.get().accepted_file
    decide(analyst, "correction", {"message": "Please confirm the electricity figure"})
    send("confirmed by phone")
    case = Case.objects.get()
    assert case.accepted_file == first and case.flags_closed
    assert [p.name for p in (portal.inputs / "submissions" / str(YEAR)).glob("*.xlsx")] == [first]  # no second copy
    assert "Accepted and loaded" in text_of(page(focal, "/entity/UNEP/"))
    import duckdb

    with duckdb.connect(str(portal.db), read_only=True) as con:
        reasons = [r[0] for r in con.execute("SELECT reason FROM reviews ORDER BY reviewed_at").fetchall()]
    assert any("confirmed by phone" in r for r in reasons)


@pytest.mark.django_db(transaction=True)  # runs
def test_an_earlier_version_sent_again_is_not_accepted_as_if_it_would_load(warehouse, portal, personas, tmp_path):
    """v1 loaded, then v2; v1's very bytes sent again would never be loaded (the run reads no
    bytes twice): SUN's acceptance is refused, saying why and what the focal point can do."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    v1, v2 = workbook(tmp_path / "v1"), workbook(tmp_path / "v2", Water_D2=25000)

    def send(wb) -> str:
        upload(focal, "UNEP", wb)
        submit(focal)
        answer = decide(analyst, "accept", {"note": "ok"}, follow=True)
        analyst.post("/runs/")
        return text_of(answer.content.decode())

    accepted = []
    send(v1)
    accepted.append(Case.objects.get().accepted_file)
    decide(analyst, "correction", {"message": "water volume?"})
    send(v2)
    accepted.append(Case.objects.get().accepted_file)
    decide(analyst, "correction", {"message": "the first water figure was right"})
    said = send(v1)
    assert "byte for byte" in said and "save it, and upload the saved file" in said
    assert Case.objects.get().status == Case.SUBMITTED
    row = {r.entity: r for r in api.status(YEAR, portal.db)}["UNEP"]
    assert row.file == Case.objects.get().accepted_file == accepted[1]  # v2's


def test_the_accepted_banner_goes_once_a_correction_is_requested(portal, personas, tmp_path):
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    submit(focal)
    decide(analyst, "accept", {"note": ""})
    assert "Accepted by" in text_of(page(analyst, f"/review/UNEP/{YEAR}/"))
    decide(analyst, "correction", {"message": "water in m3 please"})
    upload(focal, "UNEP", workbook(tmp_path / "2", Water_D2=25000))
    submit(focal)
    assert Case.objects.get().status == Case.SUBMITTED
    assert "Accepted by" not in text_of(page(analyst, f"/review/UNEP/{YEAR}/"))


def test_user_names_are_not_case_sensitive_at_sign_in(portal, db):
    from django.test import Client

    from tests.portal_fixtures import user

    user("Amina.Otieno", ("UNEP",))
    assert Client().post("/login/", {"username": "amina.otieno", "password": PASSWORD}).status_code == 302
    assert Client().post("/login/", {"username": " AMINA.OTIENO", "password": PASSWORD}).status_code == 302
    with pytest.raises(api.GtbError, match="differs only in case"):
        user("amina.otieno", ("UNEP",))


def test_the_annotated_copy_names_the_file_as_uploaded(portal, personas, tmp_path):
    """The copy's summary sheet gives the name the focal point knows, not the stored copy's."""
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_E2="litre"), name="UNEP GHG 2024 final.xlsx")
    up = Upload.objects.get()
    assert up.stored_name != up.original_name
    data = b"".join(client.get(f"/uploads/{up.pk}/annotated.xlsx").streaming_content)
    summary = load_workbook(io.BytesIO(data)).worksheets[0]
    assert "UNEP GHG 2024 final.xlsx" in [c.value for row in summary.iter_rows(max_row=6) for c in row]
    assert up.stored_name not in [c.value for row in summary.iter_rows() for c in row]


def test_a_flag_of_a_french_template_names_its_column_as_written(warehouse, personas, tmp_path):
    from tests.builders import example_rows, fill

    rows = example_rows("UNEP", YEAR)
    rows["Facilities"][0]["quantity"] = 2_400_000_000
    blank = api.template("UNEP", YEAR, tmp_path / "blank.xlsx", lang="fr")
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", fill(blank, rows, tmp_path / "flagged.xlsx", lang="fr", labels=True))
    flags = [f for f in Upload.objects.get().findings if f["flag"] and f["cell"] == "D2"]
    assert flags and {f["column"] for f in flags} == {"Quantité"}
    # rounded as the message rounds it, without the message's grouping: a number in any language
    values = {f["value"] for f in flags}
    assert "2400000000" in values and all(v.isdigit() for v in values), values
    assert any("2\u202f400\u202f000\u202f000" in f["message"] for f in flags)  # the message, French style


def test_an_entity_not_expected_that_year_that_submits_is_on_the_tracker(portal, tmp_path):
    """UNSSC reports from 2021; its focal point sends a 2020 workbook all the same: SUN's tracker
    lists it, marked as not expected, never late."""
    from tests.portal_fixtures import user

    portal.cycle(open_year=2020)
    focal, sun = user("unssc-fp", ("UNSSC",)), user("sun", analyst=True)
    upload(client_for(focal), "UNSSC", workbook(tmp_path, "UNSSC_2020.xlsx", "UNSSC", 2020))
    submit(client_for(focal), "UNSSC")
    html = page(client_for(sun), "/tracker/?year=2020")
    row = re.search(r'<tr data-entity="UNSSC">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "not expected in 2020" in text_of(row.group(1)) and "late" not in text_of(row.group(1))
    from pipeline.portal.submissions import expected_entities

    assert f"{len(expected_entities(2020))} entities expected" in text_of(html), "UNSSC is listed, not counted"
    others = re.findall(r'<tr data-entity="([\w-]+)">(.*?)</tr>', html, re.S)
    assert len(others) > 1 and all("not expected" not in text_of(r) for code, r in others if code != "UNSSC")


def test_an_entity_taken_off_the_list_stays_expected_where_the_warehouse_expects_it(warehouse, portal, monkeypatch):
    """UNEP is taken out of entities.csv after its 2023 workbook loaded; the next run keeps it
    expected until 2023, as `gtb status` says. The portal's tracker read the code list alone and
    said "not expected in 2023" of an entity the inventory counts in that year."""
    from pipeline import codelists
    from tests.portal_fixtures import user

    real_table = codelists.table
    kept = tuple(r for r in real_table("entities") if r["code"] != "UNEP")
    monkeypatch.setattr(codelists, "table", lambda name: kept if name == "entities" else real_table(name))
    with duckdb.connect(str(warehouse)) as con:  # as the run's sync leaves it
        con.execute("UPDATE entities SET expected_until = 2023 WHERE entity_code = 'UNEP'")
    assert {r.entity: r.expected for r in api.status(2023, warehouse)}["UNEP"] is True
    sun = client_for(user("sun", analyst=True))
    tracker = page(sun, "/tracker/?year=2023")
    row = re.search(r'<tr data-entity="UNEP">(.*?)</tr>', tracker, re.S)
    assert row is not None and "not expected" not in text_of(row.group(1))
    assert f"{len(kept) + 1} entities expected" in text_of(tracker)
    review = page(sun, "/review/UNEP/2023/")  # the row's link: the page opens, named by the warehouse
    assert "United Nations Environment Programme" in review and "UNEP_2023.xlsx" in review
    assert sun.get("/review/NOPE/2023/").status_code == 404
    assert '<tr data-entity="UNEP">' not in page(sun, "/tracker/?year=2024"), "not expected after its last year"


@pytest.mark.django_db(transaction=True)  # runs
def test_a_draft_checked_beside_a_loaded_workbook_leaves_the_entity_loaded(warehouse, portal, personas, tmp_path):
    """WFP's workbook came by e-mail and is loaded; its focal point then checks a draft with an
    error in the portal. The inventory still holds the loaded workbook: the tracker says loaded,
    and notes the draft."""
    workbook(portal.inputs / "submissions" / str(YEAR), f"WFP_{YEAR}.xlsx", "WFP", YEAR)
    analyst = client_for(personas["analyst"])
    analyst.post("/runs/")
    upload(client_for(personas["focal_b"]), "WFP", workbook(tmp_path, entity="WFP", Facilities_E2="litre"))
    assert Case.objects.get(entity="WFP").status == Case.REJECTED
    row = re.search(r'<tr data-entity="WFP">(.*?)</tr>', page(analyst, f"/tracker/?year={YEAR}"), re.S)
    assert row is not None
    shown = text_of(row.group(1))
    assert "loaded" in shown and "a newer draft in the portal is rejected" in shown


def test_the_report_on_an_upload_shows_its_figures_beside_last_years(warehouse, personas, tmp_path):
    """As the workbook would load, beside the inventory's 2023: the total, per capita, the sources;
    a figure a flag is about is marked, and SUN's review page shows the same table."""
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    figures = {f["key"]: f for f in up.figures}
    assert {"total_tco2e", "per_capita_tco2e", "facilities_tco2e", "electricity_kwh"} <= set(figures)
    assert all(f["previous_year"] == YEAR - 1 for f in figures.values())
    assert figures["electricity_kwh"]["flagged"] and not figures["water_m3"]["flagged"]
    assert figures["electricity_kwh"]["now"] == 1000 * figures["electricity_kwh"]["before"]
    html = page(focal, "/entity/UNEP/")
    table = re.search(r'<table class="list figures">(.*?)</table>', html, re.S)
    assert table is not None and f"Your figures beside {YEAR - 1}" in text_of(html)
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S) if "Electricity" in r)
    assert "flagged" in text_of(row) and "%" in text_of(row)
    # SUN's pages name the entity: "Your figures" would speak to the analyst as to the focal point
    for url in (f"/review/UNEP/{YEAR}/", f"/uploads/{up.pk}/", "/entity/UNEP/"):
        shown = text_of(page(client_for(personas["analyst"]), url))
        assert f"UNEP's figures beside {YEAR - 1}'s" in shown and "Your figures" not in shown, url
    shown = text_of(page(client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/?lang=fr"))
    assert f"Les chiffres de UNEP comparés à ceux de {YEAR - 1}" in shown and "Vos chiffres" not in shown


def test_the_portals_template_carries_last_years_sheet(warehouse, personas, tmp_path):
    """What `gtb template --db` gives, the portal hands out: the entity's 2023 beside the blank."""
    client = client_for(personas["focal_a"])
    response = client.get("/entity/UNEP/template.xlsx?lang=fr")
    assert response.status_code == 200
    given = load_workbook(io.BytesIO(b"".join(response.streaming_content))).sheetnames
    made = load_workbook(api.template("UNEP", YEAR, tmp_path / "cli.xlsx", lang="fr", db=warehouse)).sheetnames
    blank = load_workbook(api.template("UNEP", YEAR, tmp_path / "blank.xlsx", lang="fr")).sheetnames
    assert given == made and len(made) > len(blank)


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(portal, personas, db):
    from django.conf import settings
    from django.test import Client

    focal = client_for(personas["focal_a"])
    assert focal.get("/entity/UNEP/").status_code == 200
    settings.GTB_STATE.mkdir(parents=True, exist_ok=True)  # the test portal's accounts are in a test database
    api.users_disable("focal-a", settings.GTB_OUTPUTS)
    ended = focal.get("/entity/UNEP/")
    assert ended.status_code == 302 and "/login/" in ended["Location"]
    refused = Client().post("/login/", {"username": "focal-a", "password": PASSWORD})
    assert refused.status_code != 302
    assert AuditEvent.objects.filter(action="account-disabled", detail="focal-a").exists()


def test_an_analyst_sees_a_focal_points_flags_read_only_with_nothing_to_submit(warehouse, personas, tmp_path):
    """The entity page of an upload waiting for its focal point: the analyst sees the flags and
    what was explained, but no box to explain, no "Save the explanations", no "Submit for review"
    (the focal point's actions, forbidden to analysts); the focal point keeps them."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path / "flagged", Facilities_D2=2_400_000_000))
    flag = next(f for f in Upload.objects.get().findings if f["flag"])
    focal.post(f"/uploads/{Upload.objects.get().pk}/explain/", {f"explain:{flag['key']}": "a new data centre"})
    assert Case.objects.get().status == Case.UPLOADED
    html = page(analyst, "/entity/UNEP/")
    assert "Flags against last year" in html and "a new data centre" in text_of(html)
    assert 'id="flags-form"' not in html and "<textarea" not in html
    assert "Save the explanations" not in html and "Submit for review" not in html
    assert "/entity/UNEP/submit/" not in html and "/explain/" not in html
    mine = page(focal, "/entity/UNEP/")
    assert 'id="flags-form"' in mine and "Save the explanations" in mine and "Submit for review" in mine
    # an upload without flags: its focal point's "Submit for review", not the analyst's
    upload(client_for(personas["focal_b"]), "WFP", workbook(tmp_path / "plain", "WFP_2024.xlsx", "WFP"))
    assert Case.objects.get(entity="WFP").status == Case.UPLOADED and not Upload.objects.get(entity="WFP").flags
    assert "Submit for review" in page(client_for(personas["focal_b"]), "/entity/WFP/")
    assert "Submit for review" not in page(analyst, "/entity/WFP/")


def test_the_correction_notice_on_the_review_page_stays_only_while_the_correction_is_awaited(
    portal, personas, tmp_path
):
    """SUN's review page shows the yellow "Correction requested" notice while the status is
    "correction requested"; once the focal point uploaded again (and submitted, and SUN accepted)
    the request is shown as past, in a line of its own, and kept in the history."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    review = f"/review/UNEP/{YEAR}/"
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    submit(focal)
    decide(analyst, "correction", {"message": "the diesel of the generators, please"})
    html = page(analyst, review)
    assert 'class="notice correction"' in html and "the diesel of the generators, please" in html
    upload(focal, "UNEP", workbook(tmp_path / "2"))
    for step in ("uploaded", "submitted", "accepted"):
        if step == "submitted":
            submit(focal)
        if step == "accepted":
            decide(analyst, "accept", {"note": ""})
        assert Case.objects.get().status == step
        html = page(analyst, review)
        assert 'class="notice correction"' not in html, step
        assert "Earlier, analyst asked for a correction" in text_of(html), step
        assert "the diesel of the generators, please" in text_of(html), step


def test_the_figures_compare_with_the_latest_loaded_year_when_the_year_before_never_loaded(
    warehouse, portal, personas, tmp_path
):
    """UNEP's 2024 never loaded (rejected, or never sent): its 2025 upload is compared with 2023,
    its latest loaded year before, as its flags and the template's "Last year" sheet are; the
    table is shown, headed with 2023."""
    portal.cycle(open_year=YEAR + 1)
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path, "UNEP_2025.xlsx", year=YEAR + 1, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    assert up.year == YEAR + 1 and up.figures
    assert all(f["previous_year"] == YEAR - 1 for f in up.figures)
    electricity = next(f for f in up.figures if f["key"] == "electricity_kwh")
    assert electricity["now"] == 1000 * electricity["before"] and electricity["flagged"]
    html = page(focal, "/entity/UNEP/")
    assert re.search(r'<table class="list figures">', html) and f"Your figures beside {YEAR - 1}" in text_of(html)
    assert any(str(YEAR - 1) in f["message"] for f in up.findings if f["flag"])  # the flags say the same year


def test_gtb_compare_names_the_earlier_year_it_compares_with(warehouse, portal, tmp_path, capsys):
    """`gtb compare` of a year whose year before never loaded: beside the latest loaded year before,
    which its header names."""
    from pipeline.cli import main

    inputs = tmp_path / "inputs"
    workbook(inputs / "submissions" / str(YEAR + 1), "UNEP_2025.xlsx", year=YEAR + 1)
    api.run(inputs, warehouse, tmp_path / "outputs")
    result = api.compare("UNEP", YEAR + 1, warehouse)
    assert result.previous_year == YEAR - 1
    personnel = next(line for line in result.lines if line.key.key == "personnel")
    assert personnel.before == personnel.now == 1250 and personnel.change == 0
    assert main(["compare", "UNEP", "--year", str(YEAR + 1), "--db", str(warehouse)]) == 0
    shown = capsys.readouterr().out
    assert f"UNEP: {YEAR - 1} and {YEAR + 1}" in shown and f"{YEAR}" not in shown.splitlines()[0]


def test_the_tracker_lists_the_rejected_files_no_entity_row_shows(portal, personas, tmp_path):
    """A workbook e-mailed with an entity code not in the list, loaded by `gtb run`: rejected, in
    no entity's row. The tracker lists it apart, named by its path, in the page's language."""
    inputs = portal.inputs / "submissions" / str(YEAR)
    workbook(inputs, "FOO_<b>2024</b>.xlsx", Entity_B2="FOO")
    api.run(portal.inputs, portal.db, portal.outputs, jobs=1)
    analyst = client_for(personas["analyst"])
    html = page(analyst, "/tracker/")
    assert "1 rejected file of 2024 not attributed to an entity" in html
    assert "FOO_&lt;b&gt;2024&lt;/b&gt;.xlsx" in html and "<b>2024</b>" not in html  # escaped, as every cell
    assert "FOO" in html[html.index("not attributed") :]
    french = page(analyst, "/tracker/?lang=fr")
    assert "1 fichier rejeté de 2024 non attribué à une entité" in french
    assert "not attributed" not in page(client_for(personas["analyst"]), f"/tracker/?year={YEAR - 1}")


# --- acting on the workbook the page showed ------------------------------------------------------


def test_submit_sends_only_the_upload_the_page_showed(warehouse, personas, tmp_path):
    """Two focal points of UNEP: the first reads their flagged upload and explains it; the second
    uploads another workbook meanwhile. The first one's "Submit" (its form carries the upload it
    was rendered for) is refused: nothing submitted, no explanation saved on the colleague's
    upload, and the page says why; submitted from the page showing the new upload, it goes."""
    from pipeline.portal.models import Explanation
    from tests.portal_fixtures import user

    first, second = client_for(personas["focal_a"]), client_for(user("focal-a2", ("UNEP",)))
    upload(first, "UNEP", workbook(tmp_path / "1", Facilities_D2=2_400_000_000))
    seen = Upload.objects.get()
    html = page(first, "/entity/UNEP/")
    assert f'<input type="hidden" name="upload" value="{seen.pk}">' in html
    answers = {f"explain:{f['key']}": "a new data centre opened" for f in seen.findings if f["flag"]}
    assert answers and all(f'name="{name}"' in html for name in answers)

    upload(second, "UNEP", workbook(tmp_path / "2", Facilities_D2=4_800_000_000))
    newer = Upload.objects.latest("pk")
    assert {f"explain:{f['key']}" for f in newer.findings if f["flag"]} == set(answers)  # the same flags
    first.post("/entity/UNEP/submit/", {"upload": seen.pk, **answers})
    case = Case.objects.get()
    assert (case.status, case.current, case.submitted) == (Case.UPLOADED, newer, None)
    assert not Explanation.objects.exists()
    shown = text_of(page(first, "/entity/UNEP/"))
    assert "Nothing was submitted and nothing saved: focal-a2 uploaded a newer workbook" in shown
    first.post("/entity/UNEP/submit/", answers)  # a form without the upload it showed: refused alike
    assert Case.objects.get().status == Case.UPLOADED and not Explanation.objects.exists()

    submit(first, answers=answers)  # from the page showing the newer upload
    case = Case.objects.get()
    assert (case.status, case.submitted) == (Case.SUBMITTED, newer)
    assert set(Explanation.objects.values_list("upload", flat=True)) == {newer.pk}


def test_accept_and_correction_act_only_on_the_workbook_the_review_page_showed(portal, personas, tmp_path):
    """SUN reads a submitted workbook; its focal point uploads and submits another before SUN
    clicks. "Accept" (and "Request a correction") from the page read before are refused: nothing
    accepted, nothing written to the inputs; from the page showing the new submission, they go."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    review = f"/review/UNEP/{YEAR}/"
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    submit(focal)
    read = Upload.objects.get()
    html = page(analyst, review)
    for form in ("accept-form", "correction-form"):
        assert re.search(
            rf'id="{form}">\s*<input type="hidden" name="csrfmiddlewaretoken"[^>]*>\s*'
            rf'<input type="hidden" name="upload" value="{read.pk}">',
            html,
        ), form

    upload(focal, "UNEP", workbook(tmp_path / "2", Water_D2=25000))
    submit(focal)
    newer = Upload.objects.latest("pk")
    analyst.post(f"{review}accept/", {"upload": read.pk, "note": "figures as last year"})
    case = Case.objects.get()
    assert (case.status, case.submitted, case.accepted_file) == (Case.SUBMITTED, newer, "")
    assert not list((portal.inputs / "submissions").rglob("*.xlsx"))
    assert f"Nothing was done: UNEP's {YEAR} workbook changed after this page was shown" in text_of(
        page(analyst, review)
    )
    analyst.post(f"{review}correction/", {"upload": read.pk, "message": "the water of the first one?"})
    analyst.post(f"{review}accept/", {"note": "a form without the workbook it showed"})
    assert Case.objects.get().status == Case.SUBMITTED and not Case.objects.get().correction_message

    decide(analyst, "accept", {"note": "figures as last year"})  # from the page showing the new one
    case = Case.objects.get()
    assert case.status == Case.ACCEPTED and case.accepted_file == f"UNEP_{YEAR}_portal-{newer.pk}.xlsx"


def _open_flag(db, entity: str = "UNEP", year: int = YEAR - 1) -> None:
    """An open flag on the entity-year's loaded submission of the warehouse at `db`."""
    import duckdb

    with duckdb.connect(str(db)) as con:
        sid = con.execute(
            "SELECT submission_id FROM submissions WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
            [entity, year],
        ).fetchone()[0]
        con.execute(
            "INSERT INTO flags (flag_id, submission_id, code, check_name, sheet, cell, message, status) "
            "VALUES (900, ?, 'implausible-change', 'test', 'Facilities', 'D2', 'moved far', 'open')",
            [sid],
        )


def _flags_and_reviews(db) -> tuple[list[str], int]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        flags = [row[0] for row in con.execute("SELECT status FROM flags ORDER BY flag_id").fetchall()]
        return flags, con.execute("SELECT count(*) FROM reviews").fetchone()[0]


def test_flags_are_closed_only_on_the_loaded_workbook_the_review_page_showed(warehouse, personas):
    """ "Close the flags" carries the loaded file the page showed, and `api.accept` checks it on the
    connection that closes the flags: once another file of the entity-year is loaded (a run between
    the page and the click), its flags are not closed unseen; the page says so in its words and
    keeps the reason typed."""
    _open_flag(warehouse)
    Case.objects.create(entity="UNEP", year=YEAR - 1, status=Case.ACCEPTED, accepted_file="UNEP_2023.xlsx")
    analyst = client_for(personas["analyst"])
    review, url = f"/review/UNEP/{YEAR - 1}/", f"/review/UNEP/{YEAR - 1}/close-flags/"
    assert 'name="file" value="UNEP_2023.xlsx"' in page(analyst, review)
    analyst.post(url, {"reason": "checked <b>by phone</b>", "file": "UNEP_2023_before-the-run.xlsx"})
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    html = page(analyst, review)
    assert f"Nothing was done: UNEP's {YEAR - 1} workbook changed after this page was shown" in text_of(html)
    assert "the loaded submission is" not in html  # the pipeline's English words stay in the log
    assert (
        '<textarea name="reason" dir="auto" rows="2" maxlength="2000" required>'
        "checked &lt;b&gt;by phone&lt;/b&gt;</textarea>" in html
    )
    analyst.post(url, {"reason": "checked by phone"})  # a form without the file it showed: refused alike
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    analyst.post(url, {"reason": "checked by phone", "file": "UNEP_2023.xlsx"})  # nor without its bytes'
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    analyst.post(url, {"reason": "checked by phone", **close_form(page(analyst, review))})
    assert _flags_and_reviews(warehouse) == (["accepted"], 1)
    assert "1 flag closed" in text_of(page(analyst, review))
    assert Case.objects.get().flags_closed  # accepted with the file whose flags were closed: nothing to settle


@pytest.mark.django_db(transaction=True)  # runs
def test_closing_the_flags_shown_is_refused_once_a_file_of_the_same_name_is_loaded(portal, personas):
    """SUN's review page shows WFP's loaded workbook and its open flag; SUN then copies a corrected
    workbook over it, under the same name, and a run loads it. "Close the flags" on the page shown
    before closed the new file's flags, which nobody had seen, with the reason written for the
    old one: the form carried the file's name only. It now carries its bytes' SHA-256 too."""
    import duckdb

    folder = portal.inputs / "submissions" / str(YEAR)
    analyst = client_for(personas["analyst"])
    workbook(folder, f"WFP_{YEAR}.xlsx", "WFP")
    analyst.post("/runs/")
    _open_flag(portal.db, "WFP", YEAR)
    shown = close_form(page(analyst, f"/review/WFP/{YEAR}/"))
    assert shown["file"] == f"WFP_{YEAR}.xlsx" and len(shown["sha256"]) == 64
    workbook(folder, f"WFP_{YEAR}.xlsx", "WFP", Water_D2=25000)  # the corrected workbook, copied over it
    analyst.post("/runs/")
    with duckdb.connect(str(portal.db)) as con:
        loaded = con.execute(
            "SELECT submission_id, sha256 FROM submissions WHERE entity_code = 'WFP' AND status = 'loaded'"
        ).fetchone()
        assert loaded[1] != shown["sha256"]
        con.execute(
            "INSERT INTO flags (flag_id, submission_id, code, check_name, sheet, cell, message, status) "
            "VALUES (901, ?, 'implausible-change', 'test', 'Water', 'D2', 'moved far', 'open')",
            [loaded[0]],
        )
    answer = analyst.post(f"/review/WFP/{YEAR}/close-flags/", {"reason": "checked by phone", **shown}, follow=True)
    assert f"Nothing was done: WFP's {YEAR} workbook changed after this page was shown" in text_of(
        answer.content.decode()
    )
    with duckdb.connect(str(portal.db), read_only=True) as con:
        assert con.execute("SELECT status FROM flags WHERE flag_id = 901").fetchall() == [("open",)]


def test_closing_an_earlier_files_flags_leaves_a_workbook_accepted_since_to_be_settled(warehouse, personas):
    """The review page offers to close the flags of UNEP's loaded 2023 workbook; meanwhile another
    analyst accepts a corrected workbook uploaded in the portal, not loaded yet. Closing the loaded
    file's flags marked every case of the entity-year settled, so the run that loaded the accepted
    workbook never accepted it in the warehouse: its flags stayed open, the year a draft."""
    _open_flag(warehouse)
    analyst = client_for(personas["analyst"])
    review = page(analyst, f"/review/UNEP/{YEAR - 1}/")
    Case.objects.create(entity="UNEP", year=YEAR - 1, status=Case.ACCEPTED, accepted_file="UNEP_2023_portal-7.xlsx")
    analyst.post(f"/review/UNEP/{YEAR - 1}/close-flags/", {"reason": "checked by phone", **close_form(review)})
    assert _flags_and_reviews(warehouse) == (["accepted"], 1)
    assert not Case.objects.get().flags_closed  # still to be accepted in the warehouse once loaded


def test_a_correction_requested_while_a_run_settles_is_not_overridden(warehouse, personas, monkeypatch):
    """A portal run loads UNEP's accepted workbook and settles the acceptances it read at its
    start; between that read and the settling, an analyst asks for a correction. The run accepted
    the workbook in the warehouse anyway, with the withdrawn acceptance's note: the warehouse said
    accepted, the portal "correction requested". The case is read again, held, as it is settled."""
    from types import SimpleNamespace

    from pipeline.portal import runjob, submissions

    _open_flag(warehouse)
    case = Case.objects.create(
        entity="UNEP", year=YEAR - 1, status=Case.ACCEPTED, accepted_by="analyst", accepted_file="UNEP_2023.xlsx"
    )
    as_read = SimpleNamespace(entity="UNEP", file=case.accepted_file, status="loaded", open_flags=1)
    monkeypatch.setattr(submissions, "warehouse_rows", lambda year: ({"UNEP": as_read}, ""))

    def compare_while_a_correction_is_requested(*args):
        Case.objects.filter(pk=case.pk).update(status=Case.CORRECTION, correction_message="water volume?")
        return SimpleNamespace(flags=[])

    monkeypatch.setattr(api, "compare", compare_while_a_correction_is_requested)
    lines = runjob.settle_acceptances("analyst")
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    assert Case.objects.get().status == Case.CORRECTION and "no longer accepted" in lines[0]


def test_api_accept_closes_flags_only_of_the_file_it_is_told_and_without_one_as_the_cli_does(warehouse):
    from pipeline.errors import GtbError

    _open_flag(warehouse)
    with pytest.raises(GtbError, match="the loaded submission is UNEP_2023.xlsx, not UNEP_2023_v1.xlsx") as refused:
        api.accept("UNEP", YEAR - 1, "checked", warehouse, by="sun", file_name="UNEP_2023_v1.xlsx")
    assert (refused.value.named, refused.value.loaded) == ("UNEP_2023_v1.xlsx", "UNEP_2023.xlsx")
    with pytest.raises(GtbError, match="no submission is loaded"):
        api.accept("UNEP", YEAR, "checked", warehouse, by="sun", file_name="UNEP_2024.xlsx")
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    done = api.accept("UNEP", YEAR - 1, "checked", warehouse, by="sun")  # `gtb accept`: no file named
    assert (done.flags_closed, _flags_and_reviews(warehouse)) == (1, (["accepted"], 1))
    with pytest.raises(GtbError, match="has no loaded submission for 2024"):
        api.accept("UNEP", YEAR, "checked", warehouse, by="sun")


def test_a_run_settling_acceptances_closes_no_flags_of_a_file_loaded_since(warehouse, personas, monkeypatch):
    """The run's end accepts in the warehouse each accepted case whose file it loaded: only while
    that file is still the loaded one (a later run may have loaded another since it looked)."""
    from types import SimpleNamespace

    from pipeline.portal import runjob, submissions

    _open_flag(warehouse)
    case = Case.objects.create(
        entity="UNEP",
        year=YEAR - 1,
        status=Case.ACCEPTED,
        accepted_by="analyst",
        accepted_file="UNEP_2023_portal-1.xlsx",
    )
    as_read = SimpleNamespace(entity="UNEP", file=case.accepted_file, status="loaded", open_flags=1)
    monkeypatch.setattr(submissions, "warehouse_rows", lambda year: ({"UNEP": as_read}, ""))
    monkeypatch.setattr(api, "compare", lambda *args: SimpleNamespace(flags=[]))
    lines = runjob.settle_acceptances("analyst")
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    assert not Case.objects.get().flags_closed and "flags left open" in lines[0]


def test_a_run_settling_an_acceptance_names_the_accepted_bytes(warehouse, personas, monkeypatch):
    """An acceptance of a file loaded already keeps its name (UNEP_2023.xlsx); SUN then copies a
    corrected workbook over it under that name, and a run loads it. Settling checked the name
    only, and closed the new file's flags with the note written for the old one's: it now checks
    the accepted upload's bytes too."""
    from types import SimpleNamespace

    from pipeline.portal import runjob, submissions

    _open_flag(warehouse)
    case = Case.objects.create(
        entity="UNEP", year=YEAR - 1, status=Case.ACCEPTED, accepted_by="analyst", accepted_file="UNEP_2023.xlsx"
    )
    accepted = Upload.objects.create(
        case=case, entity="UNEP", year=YEAR - 1, stored_name="x", original_name="UNEP_2023.xlsx", size_bytes=1,
        sha256="0" * 64, uploaded_by="focal-a",
    )  # fmt: skip
    Case.objects.filter(pk=case.pk).update(submitted=accepted)
    as_read = SimpleNamespace(entity="UNEP", file=case.accepted_file, status="loaded", open_flags=1)
    monkeypatch.setattr(submissions, "warehouse_rows", lambda year: ({"UNEP": as_read}, ""))
    monkeypatch.setattr(api, "compare", lambda *args: SimpleNamespace(flags=[]))
    lines = runjob.settle_acceptances("analyst")
    assert _flags_and_reviews(warehouse) == (["open"], 0)
    assert not Case.objects.get().flags_closed and "flags left open" in lines[0], lines


def test_a_decision_on_a_workbook_uploaded_again_since_says_it_changed_as_a_correction_does(portal, personas, tmp_path):
    """SUN reads a submitted workbook; its focal point uploads another without submitting it.
    "Accept" answers as "Request a correction" does: the workbook changed after the page was shown
    (not "only a submitted workbook can be accepted"), and, the new one not being submitted, that
    there is nothing to accept yet (not "review it, then decide again"). The message SUN typed is
    back in its box, escaped, and only once."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    review = f"/review/UNEP/{YEAR}/"
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    submit(focal)
    read = Upload.objects.get()
    upload(focal, "UNEP", workbook(tmp_path / "2", Water_D2=25000))
    changed = f"Nothing was done: UNEP's {YEAR} workbook changed after this page was shown"
    draft = "The workbook below has not been submitted for review: there is nothing to accept until"
    analyst.post(f"{review}accept/", {"upload": read.pk, "note": "figures as last year"})
    shown = text_of(page(analyst, review))
    assert changed in shown and draft in shown
    assert "Only a submitted workbook" not in shown and "decide again" not in shown
    message = 'Water <b>again</b> & "the second site"'
    analyst.post(f"{review}correction/", {"upload": read.pk, "message": message})
    html = page(analyst, review)
    assert changed in text_of(html) and draft in text_of(html)
    assert Case.objects.get().status == Case.UPLOADED and not Case.objects.get().correction_message
    assert "<b>again</b>" not in html
    assert "required>Water &lt;b&gt;again&lt;/b&gt; &amp; &quot;the second site&quot;</textarea>" in html
    assert "Water &lt;b&gt;again" not in page(analyst, review)  # taken once

    submit(focal)  # the new one submitted: the page read before is refused with "decide again"
    note = "checked <i>by phone</i>"
    analyst.post(f"{review}accept/", {"upload": read.pk, "note": note})
    html = page(analyst, review)
    assert changed in text_of(html) and "Review it below, then decide again" in text_of(html)
    assert 'maxlength="2000">checked &lt;i&gt;by phone&lt;/i&gt;</textarea>' in html
    assert Case.objects.get().status == Case.SUBMITTED


def test_explanations_typed_on_a_refused_page_come_back_in_the_boxes(warehouse, personas, tmp_path):
    """A focal point explains the flags; a colleague uploads a newer workbook with the same flags
    meanwhile. "Submit" and "Save the explanations" are refused, nothing saved, and what was typed
    is back in the boxes of the flags the newer workbook has too, escaped. Refused without any
    explanation posted, the refusal does not say "nothing saved"."""
    from pipeline.portal.models import Explanation
    from tests.portal_fixtures import user

    first, second = client_for(personas["focal_a"]), client_for(user("focal-a2", ("UNEP",)))
    upload(first, "UNEP", workbook(tmp_path / "1", Facilities_D2=2_400_000_000))
    seen = Upload.objects.get()
    keys = [f["key"] for f in seen.findings if f["flag"]]
    upload(second, "UNEP", workbook(tmp_path / "2", Facilities_D2=4_800_000_000))
    typed = {f"explain:{k}": f"a <new> data centre & {n}" for n, k in enumerate(keys)}
    refusals = {
        "/entity/UNEP/submit/": "Nothing was submitted and nothing saved: focal-a2 uploaded a newer workbook",
        f"/uploads/{seen.pk}/explain/": "Only the flags of the latest upload, before it is submitted, can be explained",
    }
    for url, refused in refusals.items():
        first.post(url, {"upload": seen.pk, **typed})
        html = page(first, "/entity/UNEP/")
        assert refused in text_of(html), url
        assert not Explanation.objects.exists() and Case.objects.get().status == Case.UPLOADED
        for n, k in enumerate(keys):
            box = re.search(rf'<textarea name="explain:{re.escape(k)}"[^>]*>([^<]*)</textarea>', html)
            assert box is not None and box.group(1) == f"a &lt;new&gt; data centre &amp; {n}", (url, k)
    assert re.search(r'<textarea name="explain:[^"]*"[^>]*></textarea>', page(first, "/entity/UNEP/"))  # once

    upload(second, "UNEP", workbook(tmp_path / "3", Facilities_D2=4_800_000_000))
    first.post("/entity/UNEP/submit/", {"upload": seen.pk})  # nothing typed: nothing to say unsaved
    shown = text_of(page(first, "/entity/UNEP/"))
    assert "Nothing was submitted: focal-a2 uploaded a newer workbook" in shown and "nothing saved" not in shown


def test_the_uploads_lists_tell_two_uploads_of_one_minute_apart(portal, personas, tmp_path):
    """ "Your uploads" and the review page's list give the time to the second."""
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    upload(focal, "UNEP", workbook(tmp_path / "2", Water_D2=25000))
    for client, url in ((focal, "/entity/UNEP/"), (client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/")):
        times = re.findall(r'<td class="when">([^<]*)</td>', page(client, url))
        assert len(times) >= 2 and all(re.search(r"\b\d\d:\d\d:\d\d$", t) for t in times[:2]), (url, times)


class BusyReviewer:
    """The reviewer while `gtb run` holds the inventory: its error names the server's path and an
    option, whether it is asked for the whole check of an upload or for a comparison."""

    def check(self, subs, db, *args, **kwargs):
        self.review(subs, db)

    def review(self, subs, db):
        from pipeline.errors import GtbError

        raise GtbError(
            "database is in use by another run: /srv/gtb/outputs/gtb.duckdb (wait for it to finish, or use --db)"
        )


def test_an_upload_checked_while_a_run_held_the_inventory_is_compared_when_submitted(
    warehouse, personas, tmp_path, monkeypatch
):
    """An upload checked while a run held the inventory could not be compared with last year: its
    page says so in the portal's words (no server path, no command-line option), and it cannot be
    submitted without its flags: "Submit" compares it first; while the inventory is still busy it
    is refused ("try again in a minute"); once compared, its flags need explanations as any."""
    from pipeline.portal import submissions

    focal = client_for(personas["focal_a"])
    reviewer = submissions._reviewer_for_uploads
    monkeypatch.setattr(submissions, "_reviewer_for_uploads", BusyReviewer)
    upload(focal, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))  # x1,000: flagged once compared
    up = Upload.objects.get()
    assert (up.is_valid, up.compared, up.flags) == (True, False, 0)
    # the upload's banner says what comes at submission, not "Explain any flagged figure" (there is none yet)
    banner = text_of(page(focal, "/entity/UNEP/"))
    assert "could not be compared with last year yet: it is compared when you submit it" in banner
    assert "Explain any flagged figure" not in banner
    for url in ("/entity/UNEP/", f"/uploads/{up.pk}/", "/entity/UNEP/?lang=fr"):
        shown = text_of(page(focal, url))
        assert "/srv/gtb" not in shown and "--db" not in shown and "in use by another run" not in shown, url
    html = page(focal, "/entity/UNEP/?lang=en")
    shown = text_of(html)
    assert "It is compared when the workbook is submitted: a figure flagged then needs an explanation" in shown
    assert "Submit for review" in shown
    assert re.search(r'<div class="notice not-compared" role="status">Not compared with last year', html)

    submit(focal)  # the inventory still busy
    assert Case.objects.get().status == Case.UPLOADED and not Upload.objects.get().compared
    assert "your workbook still has to be compared with last year" in text_of(page(focal, "/entity/UNEP/"))

    monkeypatch.setattr(submissions, "_reviewer_for_uploads", reviewer)  # the run has finished
    submit(focal)
    up = Upload.objects.get()
    assert Case.objects.get().status == Case.UPLOADED and up.compared and up.flags >= 1
    html = page(focal, "/entity/UNEP/")
    assert "Explain each flagged figure" in text_of(html) and "Not compared" not in text_of(html)
    keys = [f["key"] for f in up.findings if f["flag"]]
    assert all(f'name="explain:{k}"' in html for k in keys)
    assert AuditEvent.objects.filter(action="compare", entity="UNEP").exists()
    issues = b"".join(focal.get(f"/uploads/{up.pk}/issues.csv").streaming_content).decode()
    assert "implausible-change" in issues and up.has_annotated  # the reports are the new check's too
    submit(focal, answers={f"explain:{k}": "a new data centre opened" for k in keys})
    assert Case.objects.get().status == Case.SUBMITTED


@pytest.mark.django_db(transaction=True)  # two requests at once, each with its own connection
def test_an_explanation_posted_while_the_submission_goes_through_never_rewrites_it(
    warehouse, personas, tmp_path, monkeypatch
):
    """One focal point saves an explanation while a colleague's "Submit" goes through: the check
    "latest upload, not submitted" and the save are one step under the case's lock, so the text
    SUN reads is the one submitted, never one written after the submission."""
    import threading

    from django.db import connection

    from pipeline.portal import submissions
    from pipeline.portal.models import Explanation

    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    keys = [f["key"] for f in up.findings if f["flag"]]
    checked, submitted = threading.Event(), threading.Event()
    saving = submissions.save_explanations

    def slow_save(user, upload, posted):  # the explain request, between its check and its save
        if any("REWRITTEN" in text for text in posted.values()):
            checked.set()
            submitted.wait(3)
        return saving(user, upload, posted)

    monkeypatch.setattr(submissions, "save_explanations", slow_save)

    def explain() -> None:
        try:
            client_for(personas["focal_a"]).post(
                f"/uploads/{up.pk}/explain/", {f"explain:{k}": "REWRITTEN while submitting" for k in keys}
            )
        finally:
            connection.close()

    other = threading.Thread(target=explain)
    other.start()
    assert checked.wait(30)
    submit(focal, answers={f"explain:{k}": "a new data centre opened" for k in keys})
    submitted.set()
    other.join(30)
    assert Case.objects.get().status == Case.SUBMITTED
    assert set(Explanation.objects.values_list("text", flat=True)) == {"a new data centre opened"}


def test_parallel_sign_ins_check_no_more_passwords_than_the_lockout_allows(personas, monkeypatch):
    """Attempts sent while another's password is being checked: each is recorded before its
    password is checked, then counted, so that no more than five passwords of a name are ever
    tried within the window (checked first and recorded after, eight got through)."""
    from django.test import Client

    from pipeline.portal import views

    checked = []

    def slow_check(request, username, password):  # the first check takes long: seven more arrive meanwhile
        checked.append(password)
        if len(checked) == 1:
            for n in range(7):
                Client().post("/login/", {"username": "focal-a", "password": f"guess {n}"})
        return None

    monkeypatch.setattr(views, "authenticate", slow_check)
    answer = Client().post("/login/", {"username": "focal-a", "password": "first guess"})
    assert answer.status_code == 401
    assert len(checked) == 5
    monkeypatch.undo()
    locked = Client().post("/login/", {"username": "focal-a", "password": PASSWORD})
    assert locked.status_code == 401 and "locked until" in locked.content.decode()
    assert SignInFailure.objects.filter(username="focal-a").count() == 5  # knocking does not lengthen the lock


def test_a_very_long_cell_value_is_cut_on_the_page_and_kept_whole_in_its_title(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_E2="kWh" + "L" * 10_000))
    html = page(client, "/entity/UNEP/")
    value = re.search(r'<span class="val">[^<]*<code([^>]*)>([^<]*)</code>', html)
    assert value is not None
    assert value.group(1) == f' title="kWh{"L" * 10_000}"'
    assert value.group(2) == "kWh" + "L" * 196 + "\u2026"


def test_a_flag_explained_in_the_workbooks_comment_column_starts_its_box_with_that_comment(
    warehouse, personas, tmp_path
):
    """The flag's message asks for the reason in the Comment column of its row; the portal asks in
    a box of its own. A focal point who did what the message says finds the comment in the box,
    and submits it without typing it again."""
    from pipeline.portal.models import Explanation

    client = client_for(personas["focal_a"])
    book = workbook(
        tmp_path,
        Facilities_D2=2_400_000_000,
        Facilities_H1="comment",
        Facilities_H2="  New data centre <b>opened</b> in Nairobi  ",
        Facilities_H3="diesel as usual",
    )
    upload(client, "UNEP", book)
    up = Upload.objects.get()
    flags = [f for f in up.findings if f["flag"]]
    on_row_2 = [f for f in flags if f["row"] == 2]
    assert on_row_2 and all(f["comment"] == "New data centre <b>opened</b> in Nairobi" for f in on_row_2)
    html = page(client, "/entity/UNEP/")
    boxes = dict(re.findall(r'<textarea name="explain:([^"]+)"[^>]*>([^<]*)</textarea>', html))
    assert {boxes[f["key"]] for f in on_row_2} == {"New data centre &lt;b&gt;opened&lt;/b&gt; in Nairobi"}
    assert "diesel as usual" not in html, "another row's comment is not put in a flag's box"
    assert "a comment typed on its row of the workbook is already there" in text_of(html)
    # the page posts the boxes as they stand: the comment becomes the flag's explanation
    posted = {f"explain:{k}": v.replace("&lt;", "<").replace("&gt;", ">") or "checked" for k, v in boxes.items()}
    submit(client, answers=posted)
    assert Case.objects.get().status == Case.SUBMITTED
    saved = dict(Explanation.objects.values_list("key", "text"))
    assert {saved[f["key"]] for f in on_row_2} == {"New data centre <b>opened</b> in Nairobi"}


def test_a_flag_on_a_row_without_a_comment_starts_with_an_empty_box(warehouse, personas, tmp_path):
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    flags = [f for f in Upload.objects.get().findings if f["flag"]]
    assert flags and all(f["comment"] is None for f in flags)
    boxes = re.findall(r'<textarea name="explain:[^"]+"[^>]*>([^<]*)</textarea>', page(client, "/entity/UNEP/"))
    assert boxes and all(b == "" for b in boxes)


def test_the_uploads_list_reads_the_same_for_the_focal_point_and_for_sun(portal, personas, tmp_path):
    """The entity's page and SUN's review page list the uploads with one template: each with its
    verdict and its warnings, the one shown above marked."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path / "1"))
    upload(focal, "UNEP", workbook(tmp_path / "2", Water_D2=25000))
    first, second = Upload.objects.order_by("pk")
    Upload.objects.filter(pk=first.pk).update(warnings=3)
    submit(focal)
    for client, url in ((focal, "/entity/UNEP/"), (analyst, f"/review/UNEP/{YEAR}/")):
        listed = re.search(r'<table class="list uploads">.*?</table>', page(client, url), re.S)
        assert listed, url
        rows = re.findall(r"<tr[ >].*?</tr>", listed.group(), re.S)[1:]
        assert len(rows) == 2, url
        assert "3 warnings" in text_of(rows[1]) and "warning" not in text_of(rows[0]), url
        assert 'class="current"' in rows[0] and 'class="current"' not in rows[1], url


def test_links_repeated_down_a_list_say_which_row_they_open(personas, tmp_path):
    """A screen reader's list of links read "review, review, review" (61 times in the tracker) and
    "report" once per upload: each now says its entity or file, in text only a reader hears; no
    column header is empty."""
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path / "1", Facilities_E2="litre"))
    tracker = page(analyst, f"/tracker/?year={YEAR}")
    assert 'review<span class="visually-hidden"> UNEP</span></a>' in tracker
    entity = page(focal, "/entity/UNEP/")
    assert re.search(r'report<span class="visually-hidden"> · UNEP_2024\.xlsx, [^<]+</span></a>', entity)
    for html in (tracker, entity):
        assert "<th></th>" not in html
    assert '<span class="visually-hidden"> (the cell of this finding)</span></td>' in entity


def test_sun_reading_an_entitys_page_is_not_addressed_as_its_focal_point(personas, tmp_path):
    focal, analyst = client_for(personas["focal_a"]), client_for(personas["analyst"])
    upload(focal, "UNEP", workbook(tmp_path / "1", Facilities_E2="litre"))
    assert "<h2>Report on your latest upload</h2>" in page(focal, "/entity/UNEP/")
    html = page(analyst, "/entity/UNEP/")
    assert "<h2>The latest upload</h2>" in html and "<h2>Uploads</h2>" in html
    assert "your latest upload" not in html and "Your uploads" not in html


def test_a_pages_title_says_what_came_of_the_last_action(personas, tmp_path):
    """A screen reader says the title first: after an upload it says the verdict, after a wrong
    password the error; an upload's report names its entity."""
    from django.test import Client

    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", workbook(tmp_path / "1", Facilities_E2="litre"))
    html = page(focal, "/entity/UNEP/")
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)  # type: ignore[union-attr]
    assert title.startswith("The workbook has errors") and f"UNEP {YEAR}" in title, title
    assert '<ul class="messages"' in html  # the message is still shown on the page
    assert re.search(r"<title>[^<]*UNEP \d{4}[^<]*</title>", page(focal, f"/uploads/{Upload.objects.get().pk}/"))
    wrong = Client().post("/login/", {"username": "focal-a", "password": "not it at all"}).content.decode()
    assert "<title>Wrong user name or password. · Sign in" in wrong


def test_a_direction_mark_typed_in_an_explanation_survives_save_then_submit(warehouse, personas, tmp_path):
    """Hebrew or Arabic typed on Windows holds right-to-left marks. The page showed every control
    character as an escape, text boxes included, so the box held the six characters `\\u200f`
    after "Save", and "Submit" (which posts the boxes as they stand) stored them in place of the
    mark. Boxes now keep what was typed; the rest of the page still shows the escape."""
    from pipeline.portal.models import Explanation

    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    typed = {
        f"explain:{f['key']}": "\u05de\u05e8\u05db\u05d6 \u200fnew data centre\u202e" for f in up.findings if f["flag"]
    }
    client.post(f"/uploads/{up.pk}/explain/", {"upload": up.pk, **typed})
    html = page(client, "/entity/UNEP/")
    boxes = dict(re.findall(r'<textarea name="(explain:[^"]+)"[^>]*>([^<]*)</textarea>', html))
    assert boxes == typed, "the boxes hold what was typed"
    outside = re.sub(r"<textarea\b.*?</textarea>", "", html, flags=re.S)
    assert "\u200f" not in outside and "\u202e" not in outside
    submit(client, answers=boxes)  # as the browser posts the page
    assert Case.objects.get().status == Case.SUBMITTED
    assert set(Explanation.objects.values_list("text", flat=True)) == set(typed.values())
    review = page(client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/")
    assert "\\u200fnew data centre\\u202e" in review and "\u202e" not in review


def test_form_text_is_left_as_typed_and_everything_around_it_escaped():
    from pipeline.portal.middleware import page_safe_but_form_text

    page = (
        '<p title="a\u202eb">x\u202ey</p><textarea name="n" data-x="\u202e">kept\u200f\n</textarea>'
        '<input type="hidden" name="next" value="/r\u200fq"><INPUT data-value="\u202e" VALUE="v\u202e">'
        "<textarea>second\u202e</textarea>tail\u202e"
    )
    assert page_safe_but_form_text(page) == (
        '<p title="a\\u202eb">x\\u202ey</p><textarea name="n" data-x="\\u202e">kept\u200f\n</textarea>'
        '<input type="hidden" name="next" value="/r\u200fq"><INPUT data-value="\\u202e" VALUE="v\u202e">'
        "<textarea>second\u202e</textarea>tail\\u202e"
    )


def test_a_nul_in_a_workbook_compared_at_submission_is_recorded_as_its_escape(
    warehouse, personas, tmp_path, monkeypatch
):
    """The check made at submission (the inventory was busy at the upload) saved its verdict
    without writing a NUL as its escape, as the upload's does: on PostgreSQL, a 500 there."""
    import json

    from pipeline.portal import submissions

    focal = client_for(personas["focal_a"])
    reviewer = submissions._reviewer_for_uploads
    monkeypatch.setattr(submissions, "_reviewer_for_uploads", BusyReviewer)
    book = workbook(
        tmp_path, Facilities_D2=2_400_000_000, Facilities_H1="comment", Facilities_H2="new_x0000_ data centre"
    )
    upload(focal, "UNEP", book)
    monkeypatch.setattr(submissions, "_reviewer_for_uploads", reviewer)
    submit(focal)
    up = Upload.objects.get()
    assert up.compared and up.flags >= 1
    recorded = json.dumps([up.findings, up.figures, up.first_finding])
    assert "\\u0000" not in recorded and "new\\\\x00 data centre" in recorded


def test_explanations_take_the_direction_of_their_own_script(warehouse, personas, tmp_path):
    """An explanation typed in Hebrew or Arabic is written right to left in its box (`dir="auto"`)
    and shown isolated from the name before it (`<bdi>`), which it would otherwise reorder."""
    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    html = page(client, "/entity/UNEP/")
    boxes = re.findall(r"<textarea [^>]*>", html)
    assert boxes and all('dir="auto"' in box for box in boxes)
    answers = {
        f"explain:{f['key']}": "\u05de\u05e8\u05db\u05d6 \u05e0\u05ea\u05d5\u05e0\u05d9\u05dd"
        for f in up.findings
        if f["flag"]
    }
    submit(client, answers=answers)
    review = page(client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/")
    assert "<bdi>\u05de\u05e8\u05db\u05d6 \u05e0\u05ea\u05d5\u05e0\u05d9\u05dd</bdi>" in review
    assert all('dir="auto"' in box for box in re.findall(r"<textarea [^>]*>", review))


def test_a_flags_figure_is_written_as_the_page_writes_numbers_and_the_analyst_reads_no_instructions(
    warehouse, personas, tmp_path
):
    """A flag's figure stood as the check keeps it ('2400000000') on a French page that writes
    2 400 000 000, under the word 'figure' beside a cell holding a row's value: it is now 'figure
    compared', in the page's numbers. The analyst's review page said "If it is right, say why in
    the box under it ... upload the workbook again", the focal point's instructions, above flags
    it cannot edit: it now says what the boxes hold."""
    from pipeline.portal import texts

    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2=2_400_000_000))
    up = Upload.objects.get()
    assert "2400000000" in [f["value"] for f in up.findings if f["flag"]]
    french = page(client, "/entity/UNEP/?lang=fr")
    shown = texts.number_text(2_400_000_000, "fr")
    assert shown != "2400000000" and f"{texts.text('findings.figure', 'fr')} <code>{shown}</code>" in french
    assert "<code>2400000000</code>" not in french
    answers = {f"explain:{f['key']}": "a new data centre" for f in up.findings if f["flag"]}
    submit(client, answers=answers)
    review = page(client_for(personas["analyst"]), f"/review/UNEP/{YEAR}/")
    escape = html_module.escape
    assert escape(texts.text("flags.intro-read", "en")) in review
    assert escape(texts.text("flags.intro", "en")) not in review


@pytest.mark.parametrize(
    ("value", "lang", "decimals"), [("16903400", "fr", 0), ("1.82", "es", 2), ("-2.5", "en", 1), ("n/a", "fr", None)]
)
def test_the_figure_tag_writes_a_plain_number_in_the_pages_language(value, lang, decimals):
    from django.template import Context, Template

    from pipeline.portal import texts

    out = Template("{% load portal %}{% figure value %}").render(Context({"value": value, "page_lang": lang}))
    assert out == (value if decimals is None else texts.number_text(float(value), lang, f",.{decimals}f"))
    assert decimals is None or lang == "en" or "." not in out
