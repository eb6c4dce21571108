"""Every URL of the portal. `tests/test_portal_access.py` walks this list: a new pattern without
an entry in its persona matrix fails the test."""

from __future__ import annotations

from pathlib import Path

from django.urls import path, re_path
from django.views.static import serve

from pipeline.portal import views

STATIC = Path(__file__).resolve().parent / "static"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("entity/<str:code>/", views.entity_page, name="entity"),
    path("entity/<str:code>/template.xlsx", views.template_download, name="template"),
    path("entity/<str:code>/upload/", views.upload_workbook, name="upload"),
    path("entity/<str:code>/submit/", views.submit, name="submit"),
    path("uploads/<int:pk>/", views.upload_report, name="upload-report"),
    path("uploads/<int:pk>/explain/", views.explain, name="explain"),
    path("uploads/<int:pk>/annotated.xlsx", views.annotated, name="annotated"),
    path("uploads/<int:pk>/issues.csv", views.issues, name="issues"),
    path("tracker/", views.tracker, name="tracker"),
    path("review/<str:code>/<int:year>/", views.review, name="review"),
    path("review/<str:code>/<int:year>/accept/", views.accept, name="accept"),
    path("review/<str:code>/<int:year>/correction/", views.request_correction, name="request-correction"),
    path("review/<str:code>/<int:year>/close-flags/", views.close_flags, name="close-flags"),
    path("runs/", views.run_start, name="run-start"),
    path("runs/<int:pk>/", views.run_status, name="run-status"),
    path("audit/", views.audit_log, name="audit"),
    re_path(r"^static/(?P<path>portal/[\w./-]+)$", serve, {"document_root": STATIC}, name="static"),
]

handler400 = views.bad_request
handler403 = views.forbidden
handler404 = views.not_found
handler500 = views.server_error
