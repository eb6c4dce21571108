"""Uploads are untrusted: bombs, files that are no workbook, names meant to trick a path or a
spreadsheet, files beyond the size cap, forms posted from elsewhere."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from pipeline.portal.models import Case, Upload
from tests import hostile
from tests.portal_fixtures import client_for, page, upload, workbook
from tests.test_portal_access import MATRIX

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "make, says",
    [
        (hostile.zip_bomb, "zip bomb"),
        (hostile.xml_bomb, "DOCTYPE"),
        (hostile.csv_renamed, "text"),
        (hostile.random_bytes, "not"),
        (hostile.empty_file, "empty"),
        (hostile.legacy_xls, ".xls"),
    ],
)
def test_a_hostile_or_foreign_file_is_kept_as_rejected_with_the_guards_reason(portal, personas, tmp_path, make, says):
    client = client_for(personas["focal_a"])
    path = make(tmp_path)
    upload(client, "UNEP", path)
    up = Upload.objects.get()
    assert (up.readable, up.errors, up.has_annotated) == (False, 1, False)
    assert up.findings[0]["code"] == "unreadable-file" and says.lower() in up.findings[0]["message"].lower()
    assert Case.objects.get().status == Case.REJECTED
    stored = portal.state / "uploads" / up.stored_name
    assert stored.read_bytes() == path.read_bytes()  # kept, as received, under a generated name
    assert up.stored_name.startswith("UNEP_2024_") and up.stored_name != path.name
    html = client.get("/entity/UNEP/").content.decode()
    assert "it could not be read" in html


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../../etc/passwd.xlsx", "passwd.xlsx"),
        ("..\\..\\windows\\evil.xlsx", "evil.xlsx"),
        ("/absolute/path.xlsx", "path.xlsx"),
        ("report\x1b[31m\r.xlsx", "report[31m.xlsx"),  # control characters never reach the metadata
    ],
)
def test_path_tricks_in_the_name_stay_metadata(portal, personas, tmp_path, name, shown):
    upload(client_for(personas["focal_a"]), "UNEP", workbook(tmp_path), name=name)
    up = Upload.objects.get()
    assert up.original_name == shown
    assert [p.name for p in (portal.state / "uploads").iterdir()] == [up.stored_name]
    outside = {p for p in portal.outputs.parent.rglob("*") if p.is_file()} - {
        p for p in portal.outputs.rglob("*") if p.is_file()
    }
    assert not any(p.name in ("passwd.xlsx", "evil.xlsx", "path.xlsx") for p in outside)


def test_a_formula_looking_name_and_cells_are_inert_in_every_file_served(portal, personas, tmp_path):
    client = client_for(personas["focal_a"])
    name = '=HYPERLINK("evil.example","click").xlsx'
    bad = workbook(tmp_path, Facilities_E2="=1+1", Water_E2="@SUM(A1)")
    upload(client, "UNEP", bad, name=name)
    up = Upload.objects.get()
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(f"/uploads/{up.pk}/issues.csv")).decode())))
    assert rows and all(r["file"] == "'" + name for r in rows)
    for row in rows:
        for value in row.values():
            assert (
                not value.startswith(("=", "+", "-", "@", "\t", "\r")) or value.lstrip("-").replace(".", "").isdigit()
            )
    book = load_workbook(io.BytesIO(b"".join(client.get(f"/uploads/{up.pk}/annotated.xlsx").streaming_content)))
    summary = book.worksheets[0]
    for row in summary.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    template = client.get("/entity/UNEP/template.xlsx")
    assert template["Content-Disposition"].startswith("attachment;")


def test_an_upload_beyond_the_cap_is_refused_before_it_is_read(portal, personas, tmp_path, settings):
    settings.GTB_MAX_UPLOAD_BYTES = 100_000
    client = client_for(personas["focal_a"])
    big = SimpleUploadedFile("big.xlsx", b"x" * 400_000)
    response = client.post("/entity/UNEP/upload/", {"workbook": big})
    assert response.status_code == 413 and b"up to 0.1 MB" in response.content
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Cache-Control"):
        assert response.has_header(header), header  # refused before Django's middleware, headers still on
    assert not Upload.objects.exists() and not (portal.state / "uploads").exists()
    # a body within the allowance for form fields but over the cap is stopped while it is copied
    nearly = SimpleUploadedFile("nearly.xlsx", b"x" * 120_000)
    response = client.post("/entity/UNEP/upload/", {"workbook": nearly})
    assert response.status_code == 302 and not Upload.objects.exists()
    assert not list((portal.state / "uploads").iterdir())
    assert "too large" in client.get("/entity/UNEP/").content.decode()


def test_every_form_needs_its_csrf_token(personas):
    posts = [url for requests in MATRIX.values() for method, url, _ in requests if method == "POST"]
    assert len(posts) >= 9
    for persona in ("focal_a", "analyst"):
        client = client_for(personas[persona], enforce_csrf_checks=True)
        for url in posts:
            response = client.post(url.format(a=1, b=2, job=1), {})
            assert response.status_code == 403 and b"The form has expired" in response.content, (persona, url)
    login = client_for(None, enforce_csrf_checks=True).post("/login/", {"username": "analyst", "password": "x"})
    assert login.status_code == 403


def test_a_nul_character_in_any_field_is_refused_before_the_view(personas):
    """PostgreSQL's text columns refuse NUL, which ended such requests in an error page after
    part of their action; every query and form field holding one is refused (400) first."""
    from django.test import Client

    anonymous = Client()
    assert anonymous.post("/login/", {"username": "x\x00", "password": "p"}).status_code == 400
    analyst = client_for(personas["analyst"])
    assert analyst.get("/audit/?entity=%00").status_code == 400
    assert analyst.post("/review/UNEP/2024/correction/", {"message": "check\x00"}).status_code == 400
    assert analyst.get("/audit/?entity=UNEP").status_code == 200


def test_a_nul_spelt_in_the_session_cookie_never_reaches_the_session_store(personas, monkeypatch):
    """A quoted cookie may spell a NUL (`"ab\\000c"`), which Django unquotes. PostgreSQL refuses a
    NUL in text: the session's lookup failed, and so did the error page's. The store here refuses
    it as PostgreSQL does; the cookie is left out, and the request is a visitor's."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import DataError
    from django.test import Client

    looked_up = SessionStore._get_session_from_db

    def as_postgresql(self):
        if "\x00" in (self.session_key or ""):
            raise DataError("A string literal cannot contain NUL (0x00) characters.")
        return looked_up(self)

    monkeypatch.setattr(SessionStore, "_get_session_from_db", as_postgresql)
    anonymous = Client(HTTP_COOKIE='gtb_session="abcdefgh\\000ij"; gtb_lang=es')
    response = anonymous.get("/login/")
    assert response.status_code == 200 and response["Content-Language"] == "es"
    signed_in = client_for(personas["analyst"])
    signed_in.cookies["other"] = "x\x00y"  # a cookie of another name with a NUL: left out alone
    assert signed_in.get("/audit/?entity=UNEP").status_code == 200


def test_a_nul_in_a_cell_is_recorded_as_the_escape_the_page_shows(portal, personas, tmp_path):
    """Excel writes a NUL in a cell as `_x0000_`, and the reader gives it back; a finding quotes the
    value. PostgreSQL refuses a NUL in text and in JSON: the upload failed with a 500, was never
    recorded, and its stored copy and reports were left behind. What is recorded holds the escape."""
    import json

    client = client_for(personas["focal_a"])
    response = upload(client, "UNEP", workbook(tmp_path, Facilities_D2="12_x0000_34", Facilities_A3="Gigiri_x0000_"))
    assert response.status_code == 302
    sent = Upload.objects.get()
    recorded = json.dumps([sent.findings, sent.figures, sent.first_finding, sent.compare_note])
    assert "\\u0000" not in recorded and "\\\\x00" in recorded, "the NUL is written as its escape"
    assert any(f["cell"] == "D2" and f["value"] == "12\\x0034" for f in sent.findings)
    assert "12\\x0034" in page(client, "/entity/UNEP/")


def test_an_upload_the_database_refuses_leaves_no_file_behind(portal, personas, tmp_path, monkeypatch, settings):
    from pathlib import Path

    from django.db import DataError

    def refused(*args, **kwargs):
        raise DataError("unsupported Unicode escape sequence")

    monkeypatch.setattr(Upload.objects, "create", refused)
    client = client_for(personas["focal_a"])
    client.raise_request_exception = False
    assert upload(client, "UNEP", workbook(tmp_path)).status_code == 500
    state = Path(settings.GTB_STATE)
    assert not any((state / "uploads").iterdir()) and not any((state / "reports").iterdir())
    assert not Upload.objects.exists()


def test_a_file_sent_without_a_file_name_gets_the_portals_page_in_the_pages_language(personas):
    """A file part with `filename=""` is a field to Django, the workbook's bytes (NULs among them) its
    text: refused as any NUL is, with the portal's 400 page in the page's language, not plain English."""
    client = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE="fr")
    body = (
        b'--b\r\nContent-Disposition: form-data; name="workbook"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nPK\x03\x04\x14\x00\x00\x00\r\n--b--\r\n"
    )
    answer = client.post("/entity/UNEP/upload/", data=body, content_type="multipart/form-data; boundary=b")
    html = answer.content.decode()
    assert answer.status_code == 400 and answer["Content-Type"].startswith("text/html")
    assert "La requête n&#x27;a pas pu être lue" in html and "NUL" not in html
    assert not Upload.objects.exists()


def _holding_a_check_slot(username: str):
    """A thread that holds `username`'s place among the uploads being checked (as an upload whose
    check takes long does) until the returned event is set."""
    import threading

    from pipeline.portal import submissions

    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with submissions.check_slot(username):
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(10)
    return release, thread


def test_uploads_never_hold_every_thread_of_the_server(portal, personas, tmp_path):
    """A user's second upload while the first is checked, and anyone's upload while the checker has
    as many as it takes, are refused at once (429 and Retry-After for the page's script; nothing
    stored), so that a burst of large uploads cannot leave the server without a thread for pages."""
    from pipeline.portal import server, submissions

    assert server.THREADS - submissions.CHECKS_AT_ONCE >= 2  # pages always have two threads
    focal_a, focal_b = client_for(personas["focal_a"]), client_for(personas["focal_b"])
    good = workbook(tmp_path)
    uploads = portal.state / "uploads"

    release_a, thread_a = _holding_a_check_slot("focal-a")
    answer = upload(focal_a, "UNEP", good, HTTP_X_PORTAL_FRAGMENT="1")
    assert answer.status_code == 429 and answer["Retry-After"] == "30"
    assert answer.json() == {"page": "/entity/UNEP/"}
    page = focal_a.get("/entity/UNEP/")
    assert page.status_code == 200 and "still being checked" in page.content.decode()
    assert not Upload.objects.exists()
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing stored

    # one place is left: another focal point's upload is checked
    wfp = workbook(tmp_path / "wfp", name="WFP_2024.xlsx", entity="WFP")
    assert upload(focal_b, "WFP", wfp, HTTP_X_PORTAL_FRAGMENT="1").status_code == 200
    assert Upload.objects.filter(entity="WFP").count() == 1

    # every place taken: refused, without a redirect for the form posted without the script
    release_x, thread_x = _holding_a_check_slot("someone-else")
    plain = upload(focal_b, "WFP", wfp)
    assert plain.status_code == 302
    assert "checking other workbooks" in focal_b.get(plain["Location"]).content.decode()
    assert Upload.objects.filter(entity="WFP").count() == 1
    assert sorted(p.name for p in uploads.iterdir()) == [Upload.objects.get().stored_name]

    release_a.set(), release_x.set()
    thread_a.join(10), thread_x.join(10)
    assert upload(focal_a, "UNEP", good, HTTP_X_PORTAL_FRAGMENT="1").status_code == 200
    assert Upload.objects.filter(entity="UNEP").count() == 1


def test_a_check_that_fails_gives_its_place_back(portal, personas, tmp_path, monkeypatch, settings):
    """... and keeps nothing of the upload it could not check (its stored copy was left behind)."""
    from pathlib import Path

    from pipeline import api

    client = client_for(personas["focal_a"], raise_request_exception=False)
    real = api.check_upload

    def broken(*args, **kwargs):
        raise RuntimeError("a fault of the checker")

    monkeypatch.setattr(api, "check_upload", broken)
    assert upload(client, "UNEP", workbook(tmp_path)).status_code == 500
    assert not any((Path(settings.GTB_STATE) / "uploads").iterdir())
    monkeypatch.setattr(api, "check_upload", real)
    assert upload(client, "UNEP", workbook(tmp_path), HTTP_X_PORTAL_FRAGMENT="1").status_code == 200
    assert Upload.objects.get().is_valid


@pytest.mark.parametrize(
    "body, kind",
    [
        (b'--x\r\nContent-Disposition: form-data; name="workbook"\r\n\r\nno end', "multipart/form-data; boundary="),
        (b"\xff" * 64, "multipart/form-data; boundary=\xff"),
    ],
)
@pytest.mark.parametrize("csrf", [True, False])
def test_a_body_django_cannot_read_gets_the_portals_own_page(portal, personas, body, kind, csrf):
    """Refused with the portal's page, whether the CSRF check (as in the server) or the NUL check
    (first to read the form when the CSRF check is off) meets it first, never read as no file."""
    client = client_for(personas["focal_a"], enforce_csrf_checks=csrf, raise_request_exception=False)
    client.get("/entity/UNEP/")
    token = client.cookies["gtb_csrf"].value if csrf else ""
    answer = client.post("/entity/UNEP/upload/", data=body, content_type=kind, HTTP_X_CSRFTOKEN=token)
    html = answer.content.decode()
    assert answer.status_code == 400 and "The request could not be read" in html and "Back to your page" in html
    assert "Sign out" in html and personas["focal_a"].username in html  # still signed in, as they are
    assert not Upload.objects.exists()


def test_a_host_the_portal_does_not_serve_gets_its_own_page_styled_from_within(portal, personas):
    """Every request to that host is refused, the stylesheet's too: the page carries its style,
    which its Content-Security-Policy admits by hash (and nothing else: no script, no other style)."""
    import base64
    import hashlib
    import re

    answer = client_for(personas["focal_a"]).get("/", HTTP_HOST="evil.example")
    html = answer.content.decode()
    assert answer.status_code == 400 and "The portal is not served at this address" in html
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert style.strip() and "<script" not in html and 'rel="stylesheet"' not in html
    assert "&gt;" not in style and "&#x27;" not in style  # the stylesheet as it is, not escaped
    policy = answer.headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy and "style-src 'self'" not in policy
    assert client_for(personas["focal_a"]).get("/static/portal/portal.css", HTTP_HOST="evil.example").status_code == 400
    ordinary = client_for(personas["focal_a"]).get("/")
    assert "<style>" not in ordinary.content.decode()
    assert "style-src 'self'" in ordinary.headers["Content-Security-Policy"]


def test_a_refused_request_is_logged_on_one_line_and_a_fault_with_its_traceback(portal, personas, monkeypatch):
    import io
    import logging

    [handler] = [h for h in logging.getLogger("django").handlers if isinstance(h, logging.StreamHandler)]
    log = io.StringIO()
    monkeypatch.setattr(handler, "stream", log)
    focal = client_for(personas["focal_a"], raise_request_exception=False)
    assert focal.get("/review/WFP/2024/").status_code == 403
    refused = log.getvalue()
    assert "Forbidden" in refused and "/review/WFP/2024/" in refused and "Traceback" not in refused

    from pipeline.portal import views

    def broken(*args, **kwargs):
        raise RuntimeError("a fault")

    monkeypatch.setattr(views, "_entity_context", broken)
    log.truncate(0), log.seek(0)
    assert focal.get("/entity/UNEP/").status_code == 500
    fault = log.getvalue()
    assert "Internal Server Error" in fault and "Traceback" in fault and "RuntimeError: a fault" in fault


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "no-such-charset"])
def test_a_request_in_a_charset_that_is_no_text_encoding_is_refused_before_django_builds_it(portal, charset):
    """Django fails while building such a request (`'rot13' is not a text encoding`), before any
    middleware or error page: the server answered 500 with a logged traceback. The WSGI wrapper
    the server runs refuses it with a 400 first; other requests pass through unchanged."""
    import io

    from django.core.wsgi import get_wsgi_application

    from pipeline.portal.middleware import readable_requests

    def environ(content_type: str) -> dict:
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/login/",
            "QUERY_STRING": "next=%2F",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": "0",
            "wsgi.input": io.BytesIO(b""),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
        }

    hostile = environ(f"application/x-www-form-urlencoded; charset={charset}")
    if charset != "no-such-charset":  # Django ignores a charset it does not know
        with pytest.raises(LookupError):
            get_wsgi_application()(environ(hostile["CONTENT_TYPE"]), lambda status, headers: None)
    answered: list[str] = []
    sent: dict[str, str] = {}
    body = readable_requests(get_wsgi_application())(
        hostile, lambda status, headers: answered.append(status) or sent.update(headers)
    )
    assert answered == ["400 Bad Request"] and b"not a text encoding" in b"".join(body)
    assert "frame-ancestors 'none'" in sent["Content-Security-Policy"] and sent["X-Frame-Options"] == "DENY"
    assert sent["X-Content-Type-Options"] == "nosniff" and sent["Cache-Control"] == "no-store"

    passed: list[dict] = []
    inner = readable_requests(lambda env, start: passed.append(env) or [b"ok"])
    for fine in ("application/x-www-form-urlencoded; charset=UTF-8", "multipart/form-data; boundary=x", ""):
        assert inner(environ(fine), lambda status, headers: None) == [b"ok"]
    assert len(passed) == 3
