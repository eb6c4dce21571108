"""Nobody sees another entity's data: every URL pattern of the portal against every persona
(anonymous, a focal point of UNEP, a focal point of WFP, an analyst), with the expected answer.

The matrix is keyed by URL name and the test walks the URL resolver: a new URL without a row
here fails. Answers: a status code, "login" (sent to the sign-in page) or "redirect" (done, or
refused with a message, and sent back to a page of the portal). Each request comes from a fresh
client, so that signing out or a refusal cannot change the next one.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from pipeline.portal.models import RunJob, Upload
from tests.portal_fixtures import YEAR, client_for, upload, workbook

pytestmark = pytest.mark.django_db

A, B = "UNEP", "WFP"
PERSONAS = ("anonymous", "focal_a", "focal_b", "analyst")


def answers(anonymous, focal_a, focal_b, analyst) -> dict[str, object]:
    return dict(zip(PERSONAS, (anonymous, focal_a, focal_b, analyst), strict=True))


# name -> [(method, url with {a}/{b} upload ids and {job}, expected per persona)]
MATRIX: dict[str, list[tuple[str, str, dict[str, object]]]] = {
    "home": [("GET", "/", answers("login", "redirect", "redirect", "redirect"))],
    "login": [("GET", "/login/", answers(200, 200, 200, 200))],
    "logout": [
        ("POST", "/logout/", answers("login", "login", "login", "login")),
        ("GET", "/logout/", answers(405, 405, 405, 405)),
    ],
    "entity": [
        ("GET", f"/entity/{A}/", answers("login", 200, 404, 200)),
        ("GET", f"/entity/{B}/", answers("login", 404, 200, 200)),
        ("GET", f"/entity/{A.lower()}/", answers("login", 200, 404, 200)),
        ("GET", "/entity/NOPE/", answers("login", 404, 404, 404)),
    ],
    "template": [
        ("GET", f"/entity/{A}/template.xlsx", answers("login", 200, 404, 200)),
        ("GET", f"/entity/{B}/template.xlsx", answers("login", 404, 200, 200)),
    ],
    "upload": [
        ("POST", f"/entity/{A}/upload/", answers("login", "redirect", 404, 403)),
        ("POST", f"/entity/{B}/upload/", answers("login", 404, "redirect", 403)),
        ("GET", f"/entity/{A}/upload/", answers(405, 405, 405, 405)),  # the method first: it tells nothing
    ],
    "submit": [
        ("POST", f"/entity/{A}/submit/", answers("login", "redirect", 404, 403)),
        ("POST", f"/entity/{B}/submit/", answers("login", 404, "redirect", 403)),
    ],
    "upload-report": [
        ("GET", "/uploads/{a}/", answers("login", 200, 404, 200)),
        ("GET", "/uploads/{b}/", answers("login", 404, 200, 200)),
        ("GET", "/uploads/999999/", answers("login", 404, 404, 404)),
    ],
    "explain": [
        ("POST", "/uploads/{a}/explain/", answers("login", "redirect", 404, 403)),
        ("POST", "/uploads/{b}/explain/", answers("login", 404, "redirect", 403)),
    ],
    "annotated": [
        ("GET", "/uploads/{a}/annotated.xlsx", answers("login", 200, 404, 200)),
        ("GET", "/uploads/{b}/annotated.xlsx", answers("login", 404, 200, 200)),
    ],
    "issues": [
        ("GET", "/uploads/{a}/issues.csv", answers("login", 200, 404, 200)),
        ("GET", "/uploads/{b}/issues.csv", answers("login", 404, 200, 200)),
    ],
    "tracker": [("GET", "/tracker/", answers("login", 403, 403, 200))],
    "review": [
        ("GET", f"/review/{A}/{YEAR}/", answers("login", 403, 403, 200)),
        ("GET", f"/review/NOPE/{YEAR}/", answers("login", 403, 403, 404)),
        ("GET", f"/review/{A}/0/", answers("login", 403, 403, 404)),  # the tracker's years only
        ("GET", f"/review/{A}/99999999999999999999/", answers("login", 403, 403, 404)),
    ],
    "accept": [("POST", f"/review/{A}/{YEAR}/accept/", answers("login", 403, 403, "redirect"))],
    "request-correction": [("POST", f"/review/{B}/{YEAR}/correction/", answers("login", 403, 403, "redirect"))],
    "close-flags": [("POST", f"/review/{A}/{YEAR}/close-flags/", answers("login", 403, 403, "redirect"))],
    "run-start": [("POST", "/runs/", answers("login", 403, 403, "redirect"))],
    "run-status": [("GET", "/runs/{job}/", answers("login", 403, 403, 200))],
    "audit": [("GET", "/audit/", answers("login", 403, 403, 200))],
    "static": [
        ("GET", "/static/portal/portal.css", answers(200, 200, 200, 200)),
        ("GET", "/static/portal/../settings.py", answers(404, 404, 404, 404)),
    ],
}


def url_names(patterns=None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            names |= url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL pattern {pattern.pattern} has no name: the matrix needs one"
            names.add(pattern.name)
    return names


def test_every_url_pattern_has_a_row_in_the_matrix():
    assert url_names() == set(MATRIX), "add the new URL to MATRIX with the answer for each persona"


def outcome(response) -> object:
    if response.status_code in (301, 302, 303):
        return "login" if response["Location"].startswith("/login/") else "redirect"
    return response.status_code


def test_every_url_answers_every_persona_as_the_matrix_says(personas, tmp_path, monkeypatch):
    from pipeline.portal import jobs

    ids = {}
    for key, entity, owner in (("a", A, "focal_a"), ("b", B, "focal_b")):
        upload(client_for(personas[owner]), entity, workbook(tmp_path / key, entity=entity, Facilities_E2="litre"))
        ids[key] = Upload.objects.get(entity=entity).pk
    ids["job"] = RunJob.objects.create(started_by="analyst", state=RunJob.DONE).pk
    launched = []

    def start_without_a_run(user):  # the matrix checks who may start a run, not the run itself
        launched.append(user.get_username())
        return RunJob.objects.get(pk=ids["job"]), False

    monkeypatch.setattr(jobs, "start", start_without_a_run)
    wrong = []
    for name, requests in MATRIX.items():
        for method, url, expected in requests:
            url = url.format(**ids)
            for persona in PERSONAS:
                client = client_for(personas[persona])
                response = client.get(url) if method == "GET" else client.post(url, {})
                if outcome(response) != expected[persona]:
                    wrong.append(
                        f"{persona} {method} {url} ({name}): {outcome(response)}, expected {expected[persona]}"
                    )
                if method == "GET":  # what monitors and link checkers send: answered as the GET, no body
                    head = client_for(personas[persona]).head(url)
                    body = b"".join(head.streaming_content) if head.streaming else head.content
                    if outcome(head) != expected[persona] or body:
                        wrong.append(f"{persona} HEAD {url} ({name}): {outcome(head)}, expected {expected[persona]}")
    assert not wrong, "\n".join(wrong)
    assert launched == ["analyst"]


def test_queries_are_cut_to_the_users_entities(personas, tmp_path):
    from pipeline.portal import access

    for key, entity, owner in (("a", A, "focal_a"), ("b", B, "focal_b")):
        upload(client_for(personas[owner]), entity, workbook(tmp_path / key, entity=entity))
    assert {u.entity for u in access.visible(personas["focal_a"], Upload.objects.all())} == {A}
    assert {u.entity for u in access.visible(personas["focal_b"], Upload.objects.all())} == {B}
    assert {u.entity for u in access.visible(personas["analyst"], Upload.objects.all())} == {A, B}
    history_a = client_for(personas["focal_a"]).get(f"/entity/{A}/").content.decode()
    assert "WFP_2024.xlsx" not in history_a and "UNEP_2024.xlsx" in history_a
