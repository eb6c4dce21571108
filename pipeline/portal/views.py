"""The portal's pages. Each view wears one decorator of `pipeline.portal.access`; each query of
entity data goes through `access.visible` or an entity the decorator has checked. Templates
autoescape everything: no cell value, file name or message is ever marked safe. Every text a page
or a message shows comes from `texts.csv`, in the page's language (`texts.language_of`)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import logging
import time
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from pipeline import api
from pipeline.errors import GtbError
from pipeline.portal import access, jobs, submissions, texts
from pipeline.portal import login as lockout
from pipeline.portal.audit import audit
from pipeline.portal.middleware import CONTENT_SECURITY_POLICY, SIGNED_IN_AT
from pipeline.portal.models import AuditEvent, Case, Explanation, RunJob, Upload
from pipeline.portal.submissions import Refused
from pipeline.portal.texts import language_of, say

logger = logging.getLogger(__name__)

FRAGMENT_HEADER = "HTTP_X_PORTAL_FRAGMENT"  # the page's script asks where to go, not for a redirect
TYPED = "gtb_typed"  # the session's copy of what a refused form held, for its page to show again
STATUS_ORDER = ["not-started", "uploaded", "rejected", "submitted", "correction-requested", "accepted", "loaded"]


def portal_context(request: HttpRequest) -> dict:
    # an error page for a request refused before it reached the sign-in middleware has no user
    user = getattr(request, "user", None) or AnonymousUser()
    lang = language_of(request)
    context: dict = {"is_analyst": access.is_analyst(user), "page_lang": lang, "page_languages": _switch(request, lang)}
    if user.is_authenticated:
        allowed = access.entities_of(user)
        context["my_entities"] = sorted(allowed) if allowed is not None else []
    try:
        context["cycle"] = submissions.cycle()
        context["contact_name"] = context["cycle"].contact_in(lang)
    except GtbError:
        context["cycle"] = None
    return context


def _switch(request: HttpRequest, lang: str) -> list[tuple[str, str, str, bool]]:
    """The language switch in the page's header: (code, its name, this page in it, is it the page's).
    The link is the query alone (`?status=rejected&lang=fr`): this page, whatever its path says."""
    query = request.GET.copy()
    links = []
    for code in texts.LANGS:
        query["lang"] = code
        links.append((code, texts.LANGUAGE_NAMES[code], f"?{query.urlencode()}", code == lang))
    return links


def _today() -> dt.date:
    return timezone.now().date()


def _keep_typed(request: HttpRequest, page: str, fields: dict[str, str]) -> None:
    """Keep what a refused form held (an explanation, SUN's note, message or reason) for `page`,
    where the refusal leads, to put back in its boxes (`_typed`): a refusal never costs what
    someone wrote. Kept in the session until that page is shown next; escaped there as any text."""
    kept = dict(list(fields.items())[: submissions.SHOWN_FINDINGS])
    request.session[TYPED] = {"page": page, "fields": {k: v[: submissions.MAX_EXPLANATION] for k, v in kept.items()}}


def _typed(request: HttpRequest) -> dict[str, str]:
    """What the refused form held, if this page is where its refusal led (`_keep_typed`); taken once."""
    kept = request.session.pop(TYPED, None)
    return kept["fields"] if isinstance(kept, dict) and kept.get("page") == request.path else {}


def _explanations(request: HttpRequest) -> dict[str, str]:
    return {name: text for name, text in request.POST.items() if name.startswith("explain:")}


# --- signing in and out --------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    error, username = "", ""
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip()
        password = request.POST.get("password") or ""
        # counted under the account the name finds, so that no other spelling of it has a count
        # of its own
        account = _account_name(username)
        until = lockout.attempt(account)  # recorded before the password is checked, then counted
        if until is not None:
            error = say(request, "login.locked", time=texts.When(until, "time"))
        else:
            user = authenticate(request, username=account, password=password)
            if user is None:
                lockout.failed(account)
                error = say(request, "login.wrong")
            else:
                lockout.succeeded(account)
                login(request, user)
                request.session[SIGNED_IN_AT] = time.time()  # the 8 hours start again (middleware)
                audit(user.get_username(), "sign-in")
                return redirect(target or "home")
    context = {"error": error, "next": target, "username": username[:150]}  # typed again only for a wrong password
    return render(request, "portal/login.html", context, status=401 if error else 200)


def _account_name(typed: str) -> str:
    """The account's name as written when `typed` is it in another case (`Amina.Otieno` typed
    `amina.otieno`): names are told apart regardless of case (`gtb users add` refuses a second
    name that differs only in case), as the lockout counts them."""
    from django.contrib.auth import get_user_model

    # the database's own folding is not the lockout's: PostgreSQL's UPPER() makes 'ſ' an S and
    # 'ı' an I, so each such spelling of a name would have had a count of its own; names are
    # compared here as the lockout compares them
    candidates = get_user_model().objects.filter(username__iexact=typed).values_list("username", flat=True)[:10]
    found = [name for name in candidates if name.lower() == typed.lower()]
    return found[0] if len(found) == 1 else typed


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit(request.user.get_username(), "sign-out")
    logout(request)
    return redirect("login")


@require_safe
@access.signed_in
def home(request: HttpRequest) -> HttpResponse:
    if access.is_analyst(request.user):
        return redirect("tracker")
    mine = sorted(access.entities_of(request.user) or [])
    if len(mine) == 1:
        return redirect("entity", code=mine[0])
    names = access.known_entities()
    return render(request, "portal/home.html", {"entities": [(c, names.get(c, c)) for c in mine]})


# --- a focal point's page ------------------------------------------------------------------------


def _template_language(request: HttpRequest, offered: tuple[str, ...]) -> str:
    """The template offered first: in the page's language, else the browser's first the template
    exists in, else English."""
    lang = language_of(request)
    if lang in offered:
        return lang
    return texts.from_browser(request.META.get("HTTP_ACCEPT_LANGUAGE", ""), offered) or (
        "en" if "en" in offered else offered[0]
    )


def excerpt_table(excerpt: dict | None) -> dict | None:
    """The excerpt as the template draws it: column letters with the finding's marked, then rows of
    (Excel row, [(text, is the finding's cell)]), the header row first with a gap when apart."""
    if not excerpt:
        return None
    columns = excerpt["columns"]
    hit = columns.index(excerpt["column"]) if excerpt["column"] in columns else -1
    rows = []
    if excerpt.get("header") is not None:
        rows.append({"number": 1, "cells": [(t, False) for t in excerpt["header"]], "header": True})
        if excerpt["rows"] and excerpt["rows"][0][0] > 2:
            rows.append({"number": "\u2026", "cells": [("", False) for _ in columns], "gap": True})
    for number, cells in excerpt["rows"]:
        mine = number == excerpt["row"]
        rows.append(
            {
                "number": number,
                "cells": [(t, mine and i == hit) for i, t in enumerate(cells)],
                "header": number == 1,
                "hit": mine,
            }
        )
    return {"columns": [(c, i == hit) for i, c in enumerate(columns)], "rows": rows}


def findings_by_sheet(upload: Upload, lang: str = texts.DEFAULT_LANG) -> list[tuple[str, list[dict]]]:
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    whole = texts.text("report.whole-workbook", lang)
    for f in upload.findings:
        groups.setdefault(f.get("sheet") or whole, []).append(f | {"table": excerpt_table(f.get("excerpt"))})
    return list(groups.items())


def _figure(value: float | None, kind: str, lang: str = texts.DEFAULT_LANG) -> str:
    """A key figure as the page shows it, in the page's language: shares in %, tonnes to one
    decimal, counts whole (1,234 / 1 234 / 1.234)."""
    if value is None:
        return "–"
    if kind in ("share", "percent"):
        return texts.percent_text(texts.number_text(value * 100 if kind == "share" else value, lang, ".1f"), lang)
    if kind in ("tco2e", "ratio") and abs(value) < 1000:
        return texts.number_text(value, lang, ",.1f")
    return texts.number_text(value, lang, ",.0f")


def _change(change: float | None, lang: str) -> str:
    """A change beside last year in whole per cent, signed ("+25 %", "\u221250 %"), as the report
    signs a change (`report.style.fmt_percent(signed=True)`): one that rounds to nothing is not
    nothing, and keeps its sign ("\u2212<1 %" for \u22120.15 %, never "\u22120 %"); a fall of
    nearly all is not all ("\u2212>99 %"); no change at all is "0 %"."""
    if change is None:
        return "–"
    value = change * 100
    if value == 0:
        return texts.percent_text("0", lang)
    sign = "+" if value > 0 else "\u2212"
    if abs(value) <= 0.5:  # rounds to 0 (at 0.5 too: half to even)
        return texts.percent_text(f"{sign}<1", lang)
    if 99.5 <= -value < 100:
        return texts.percent_text(f"{sign}>99", lang)
    return texts.percent_text(sign + texts.number_text(abs(value), lang, ",.0f"), lang)


def figure_rows(upload: Upload, lang: str = texts.DEFAULT_LANG) -> tuple[list[dict], int | None]:
    """The upload's key figures beside last year's, formatted; and last year (None without one). A
    figure is named by `figure.<key>` of the texts (by its English label where the table has none)."""
    rows, year = [], None
    for f in upload.figures or []:
        year = year or f.get("previous_year")
        name = texts.member("figure", f.get("key", ""))
        rows.append(
            {
                "label": texts.text(name, lang) if name else f["label"],
                "unit": "" if f["kind"] in ("share", "percent") else texts.label("unit", f["unit"], lang),
                "before": _figure(f.get("before"), f["kind"], lang),
                "now": _figure(f.get("now"), f["kind"], lang),
                "change": _change(f.get("change"), lang),
                "flagged": bool(f.get("flagged")),
            }
        )
    return rows, year


def _compare_note(upload: Upload, lang: str) -> str:
    """Why the upload was not compared with last year, in the page's language: no earlier year,
    or the inventory could not be read (a run held it), in general words: the inventory's own
    error names a server path and a command-line option (the server's log keeps it). Such an
    upload is compared when it is submitted (`submissions.submit`)."""
    if upload.compare_note == submissions.NO_EARLIER_YEAR:
        return texts.text("report.no-earlier-year", lang)
    return texts.text("report.inventory-unreadable", lang)


def report_context(upload: Upload | None, lang: str = texts.DEFAULT_LANG, typed: dict[str, str] | None = None) -> dict:
    """The report of `upload` as the pages show it; `typed`: the explanations a refused form held
    (`explain:<key>` fields), shown in their boxes instead of the saved ones."""
    if upload is None:
        return {"upload": None}
    figures, figure_year = figure_rows(upload, lang)
    explanations = {e.key: e for e in Explanation.objects.filter(upload=upload)}
    typed = typed or {}
    flags = [
        dict(f, explanation=explanations.get(f["key"]), typed=typed.get(f"explain:{f['key']}"))
        for f in submissions.flags_of(upload)
    ]
    return {
        "upload": upload,
        "groups": findings_by_sheet(upload, lang),
        "flags": flags,
        "more": max(0, upload.total_findings - len(upload.findings)),
        "unexplained": sum(1 for f in flags if f["explanation"] is None),
        "figure_rows": figures if figure_year else [],
        "figure_year": figure_year,
        "compare_note": _compare_note(upload, lang),
    }


def _entity_context(request: HttpRequest, entity: str) -> dict:
    the_cycle = submissions.cycle()
    year = the_cycle.open_year
    case = Case.objects.filter(entity=entity, year=year).select_related("current", "submitted").first()
    rows, _, busy = submissions.warehouse_state(year)
    row = rows.get(entity)
    where = submissions.standing(case, row)
    status = where.status
    # a run holds the warehouse: whether a workbook sent another way is loaded or rejected cannot be
    # read, and "not started" (or a draft's status) would have the focal point upload again for
    # nothing. Where the portal's case decides (a correction asked for, a submission), it stands.
    if busy and submissions.draft_beside_loaded(case):
        status = submissions.UPDATING
    offered = api.template_languages()
    history = access.visible(request.user, Upload.objects.filter(entity=entity)).order_by("-uploaded_at", "-pk")
    lang = language_of(request)
    analyst = access.is_analyst(request.user)
    return {
        "entity": entity,
        "entity_name": access.known_entities().get(entity, entity),
        "year": year,
        "case": case,
        "status": status,
        "inventory_unread": status == submissions.UPDATING,
        "received": where.received,
        "sent_file": where.sent_file,  # a workbook SUN's inventory loaded or rejected
        "sent_errors": int(getattr(row, "errors", 0) or 0) if where.sent_file else 0,
        "days_left": the_cycle.days_left(_today()),
        "days_late": -the_cycle.days_left(_today()),
        "languages": [(code, texts.LANGUAGE_NAMES.get(code, code)) for code in offered],
        "preferred": _template_language(request, offered),
        "history": history[:50],
        # as `submissions.receive`: refused once accepted in the portal, until SUN asks for a correction;
        # a workbook loaded another way takes a corrected one
        "can_upload": not analyst and not (case is not None and case.status == Case.ACCEPTED),
        # the focal point's actions: an analyst sees the flags and their explanations, read only
        "can_submit": case is not None and case.status == Case.UPLOADED and not analyst,
        "max_mb": settings.GTB_MAX_UPLOAD_BYTES / 2**20,
        "cap": texts.Megabytes(settings.GTB_MAX_UPLOAD_BYTES),
        **report_context(case.current if case else None, lang, _typed(request)),
    }


@require_safe
@access.entity_page()
def entity_page(request: HttpRequest, entity: str) -> HttpResponse:
    return render(request, "portal/entity.html", _entity_context(request, entity))


@require_safe
@access.entity_page()
def template_download(request: HttpRequest, entity: str) -> HttpResponse:
    offered = api.template_languages()
    asked = (request.GET.get("lang") or "").strip().lower()  # 'FR' is fr
    lang = asked or _template_language(request, offered)
    if lang not in offered:
        raise Http404("no template in that language")
    year = submissions.cycle().open_year
    try:
        path = submissions.template_file(entity, year, lang)
    except GtbError as exc:  # a cycle collecting a year the contract does not take yet (2027 in 2026)
        logger.warning("no template of %s %s: %s", entity, year, exc)
        messages.error(request, say(request, "refused.no-template", year=year, email=submissions.cycle().contact_email))
        return redirect("entity", code=entity)
    return _download(path, submissions.template_name(entity, year, lang))


@require_POST
@access.entity_page(focal_point_only=True)
def upload_workbook(request: HttpRequest, entity: str) -> HttpResponse:
    fragment = bool(request.META.get(FRAGMENT_HEADER))
    uploaded = request.FILES.get("workbook")
    status = 200
    if uploaded is None:
        messages.error(request, say(request, "flash.choose"))
        status = 400
    else:
        try:
            upload = submissions.receive(request.user, entity, uploaded, language_of(request))
        except Refused as exc:
            messages.error(request, say(request, exc.said))
            status = 429 if isinstance(exc, submissions.Busy) else 400
        else:
            if upload.is_valid and submissions.needs_comparison(upload):  # its flags come at submission
                messages.success(request, say(request, "flash.valid-not-compared"))
            elif upload.is_valid:
                messages.success(request, say(request, "flash.valid"))
            else:
                messages.error(request, say(request, "flash.errors"))
    page = reverse("entity", kwargs={"code": entity}) + ("#report" if status == 200 else "")
    if fragment:  # the page's script: it shows the upload's progress, then loads the page
        response = JsonResponse({"page": page}, status=status)
        if status == 429:
            response["Retry-After"] = str(submissions.Busy.RETRY_AFTER_SECONDS)
        return response
    return redirect(page)


@require_POST
@access.entity_page(focal_point_only=True)
def submit(request: HttpRequest, entity: str) -> HttpResponse:
    page = reverse("entity", kwargs={"code": entity})
    try:
        submissions.submit(request.user, entity, _posted_upload(request), request.POST.dict())
    except Refused as exc:
        messages.error(request, say(request, exc.said))
        _keep_typed(request, page, _explanations(request))
    else:
        messages.success(request, say(request, "flash.submitted"))
    return redirect(page + "#report")


def _posted_upload(request: HttpRequest) -> int | None:
    """The id of the upload the page showed, as its form carries it (`upload`), or None."""
    try:
        return int(request.POST.get("upload") or "")
    except ValueError:
        return None


@require_safe
@access.upload_page()
def upload_report(request: HttpRequest, upload: Upload) -> HttpResponse:
    context = report_context(upload, language_of(request)) | {
        "entity": upload.entity,
        "entity_name": access.known_entities().get(upload.entity, upload.entity),
    }
    return render(request, "portal/upload.html", context)


@require_POST
@access.upload_page(focal_point_only=True)
def explain(request: HttpRequest, upload: Upload) -> HttpResponse:
    page = reverse("entity", kwargs={"code": upload.entity})
    try:
        saved = submissions.explain(request.user, upload, request.POST.dict())
    except Refused as exc:
        messages.error(request, say(request, exc.said))
        _keep_typed(request, page, _explanations(request))
    else:
        messages.success(request, say(request, "flash.explained", count=saved))
    return redirect(page + "#flags")


def _download(path: Path, name: str) -> FileResponse:
    if not path.is_file():
        raise Http404("no such file")
    kind = "text/csv" if name.endswith(".csv") else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=kind)
    return response


@require_safe
@access.upload_page()
def annotated(request: HttpRequest, upload: Upload) -> HttpResponse:
    folder = Path(settings.GTB_STATE) / upload.report_folder
    return _download(folder / "annotated.xlsx", f"{upload.entity}_{upload.year}_annotated_{upload.pk}.xlsx")


@require_safe
@access.upload_page()
def issues(request: HttpRequest, upload: Upload) -> HttpResponse:
    folder = Path(settings.GTB_STATE) / upload.report_folder
    return _download(folder / "issues.csv", f"{upload.entity}_{upload.year}_issues_{upload.pk}.csv")


# --- SUN: the tracker, a review, runs, the audit log ---------------------------------------------


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or submissions.cycle().open_year)
    except ValueError:
        raise Http404("no such year") from None
    return _known_year(year)


def _known_year(year: int) -> int:
    """A year the portal has pages for; any other (0, 99999999999999999999) is not found."""
    if not 1990 <= year <= 2200:
        raise Http404("no such year")
    return year


@require_safe
@access.analyst_only
def tracker(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    rows, note = submissions.tracker(year, _today())
    counts = {s: sum(r.status == s for r in rows) for s in STATUS_ORDER}
    wanted, late_only, text = request.GET.get("status", ""), request.GET.get("late") == "1", request.GET.get("q", "")
    shown = [
        r
        for r in rows
        if (not wanted or r.status == wanted)
        and (not late_only or r.late)
        and (not text or text.strip().lower() in f"{r.entity} {r.name}".lower())
    ]
    context = {
        "year": year,
        "rows": shown,
        "total": sum(r.expected for r in rows),  # the heading's "N entities expected"
        "counts": [(s, counts[s]) for s in STATUS_ORDER],
        "note": note,
        "wanted": wanted,
        "late_only": late_only,
        "q": text,
        "deadline": submissions.cycle().deadline if year == submissions.cycle().open_year else None,
        "job": RunJob.objects.first(),
        "running": jobs.current(),
        "unattributed": submissions.unattributed_files(year),
    }
    return render(request, "portal/tracker.html", context)


def _known(code: str, year: int | None = None) -> str:
    """The entity of `code`, if the code list knows it, or (with `year`, on SUN's pages) the
    warehouse has a row for it that year (an entity taken off the list stays on the tracker of
    its years); else 404."""
    entity = code.strip().upper()
    if entity not in access.known_entities() and (year is None or entity not in submissions.warehouse_rows(year)[0]):
        raise Http404("no such entity")
    return entity


def _entity_name(entity: str, row: object) -> str:
    """The entity's name: the code list's, else the warehouse's (an entity taken off the list)."""
    return access.known_entities().get(entity) or getattr(row, "name", "") or entity


@require_safe
@access.analyst_only
def review(request: HttpRequest, code: str, year: int) -> HttpResponse:
    year = _known_year(year)
    entity = _known(code, year)
    case = Case.objects.filter(entity=entity, year=year).select_related("current", "submitted").first()
    rows, note = submissions.warehouse_rows(year)
    row = rows.get(entity)
    where = submissions.standing(case, row)
    status = where.status
    shown = submissions.reviewed_upload(case)
    # the workbook the warehouse holds is the portal's upload this page shows (accepted, then loaded)
    in_portal = case is not None and case.status == Case.ACCEPTED and getattr(row, "file", None) == case.accepted_file
    context = {
        "entity": entity,
        "entity_name": _entity_name(entity, row),
        "year": year,
        "case": case,
        "status": status,
        "received": where.received,
        "notes": where.notes,
        "row": row,
        "warehouse_note": note,
        "history": Upload.objects.filter(entity=entity, year=year).order_by("-uploaded_at", "-pk"),
        "events": AuditEvent.objects.filter(entity=entity, year=year)[:50],
        "can_accept": case is not None and case.status == Case.SUBMITTED,
        "can_close_flags": status == "loaded" and row is not None and getattr(row, "open_flags", 0) > 0,
        "typed": _typed(request),  # SUN's note, message or reason of a refused decision
        "accept_note": _sentence(case.accept_note) if case is not None else "",
        "warehouse": submissions.warehouse_findings(entity, year, row, in_portal),
        **report_context(shown, language_of(request)),
    }
    return render(request, "portal/review.html", context)


def _sentence(text: str) -> str:
    """Someone's note as the end of a sentence: a full stop added unless it ends with one already
    (or with "!", "?", "…"), never doubled ("checked against last year.." before)."""
    text = (text or "").strip()
    return text if not text or text.endswith((".", "!", "?", "\u2026")) else text + "."


@require_POST
@access.analyst_only
def accept(request: HttpRequest, code: str, year: int) -> HttpResponse:
    year = _known_year(year)
    entity = _known(code, year)
    try:
        case = submissions.accept(request.user, entity, year, request.POST.get("note", ""), _posted_upload(request))
    except Refused as exc:
        messages.error(request, say(request, exc.said))
        _keep_typed(
            request, reverse("review", kwargs={"code": entity, "year": year}), {"note": request.POST.get("note", "")}
        )
    else:
        if case.submitted is not None and case.accepted_file != submissions.accepted_name(case.submitted):
            messages.success(request, say(request, "flash.accepted-as-loaded", file=case.accepted_file))
        else:
            messages.success(request, say(request, "flash.accepted", file=case.accepted_file))
    return redirect("review", code=entity, year=year)


@require_POST
@access.analyst_only
def request_correction(request: HttpRequest, code: str, year: int) -> HttpResponse:
    year = _known_year(year)
    entity = _known(code, year)
    try:
        submissions.request_correction(
            request.user, entity, year, request.POST.get("message", ""), _posted_upload(request)
        )
    except Refused as exc:
        messages.error(request, say(request, exc.said))
        page = reverse("review", kwargs={"code": entity, "year": year})
        _keep_typed(request, page, {"message": request.POST.get("message", "")})
    else:
        messages.success(request, say(request, "flash.correction"))
    return redirect("review", code=entity, year=year)


@require_POST
@access.analyst_only
def close_flags(request: HttpRequest, code: str, year: int) -> HttpResponse:
    year = _known_year(year)
    entity = _known(code, year)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, say(request, "flash.close-reason"))
        return redirect("review", code=entity, year=year)
    try:
        file_name = request.POST.get("file", "")
        done = submissions.close_flags(request.user, entity, year, reason, file_name, request.POST.get("sha256", ""))
    except Refused as exc:
        messages.error(request, say(request, exc.said))
        _keep_typed(request, reverse("review", kwargs={"code": entity, "year": year}), {"reason": reason})
    else:
        # a case accepted with this very file has nothing left to settle; one accepted with another
        # file (a portal upload accepted since this page was shown, not loaded yet) still has
        Case.objects.filter(entity=entity, year=year, status=Case.ACCEPTED, accepted_file=file_name).update(
            flags_closed=True
        )
        audit(request.user.get_username(), "close-flags", entity, year, detail=f"{done.flags_closed} flag(s): {reason}")
        messages.success(request, say(request, "flash.flags-closed", count=done.flags_closed))
    return redirect("review", code=entity, year=year)


@require_POST
@access.analyst_only
def run_start(request: HttpRequest) -> HttpResponse:
    job, new = jobs.start(request.user)
    if new and settings.GTB_RUN_IN_PROCESS:
        from pipeline.portal.runjob import execute

        execute(job.pk)
    if not new:
        messages.info(request, say(request, "flash.run-going", user=job.started_by))
    return redirect(reverse("tracker") + "#run")


@require_safe
@access.analyst_only
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    jobs.current()  # notices a run whose process has gone
    job = RunJob.objects.filter(pk=pk).first()
    if job is None:
        raise Http404("no such run")
    return JsonResponse(
        {
            "id": job.pk,
            "state": job.state,
            "stage": job.stage,
            "done": job.done,
            "total": job.total,
            "started_by": job.started_by,
            "started_at": job.started_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "summary": job.summary,
        }
    )


@require_safe
@access.analyst_only
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    entity = (request.GET.get("entity") or "").strip().upper()
    if entity:
        events = events.filter(entity=entity)
    return render(request, "portal/audit.html", {"events": events[:500], "entity": entity})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django cannot read (a malformed form body, a field beyond its limits), or one
    sent to an address the portal is not served at (a host outside GTB_PORTAL_ALLOWED_HOSTS)."""
    if isinstance(exception, DisallowedHost):
        return _not_this_address(request)
    return _error_page(request, "error.bad-request", 400)


def _error_page(request: HttpRequest, title: str, status: int, **context: object) -> HttpResponse:
    """The portal's error page: `title` is the key of its text."""
    return render(request, "portal/error.html", {"title": title, "status": status, **context}, status=status)


def _not_this_address(request: HttpRequest) -> HttpResponse:
    """The page for a host the portal does not serve. Its stylesheet comes inside the page: every
    request to that host is refused, the stylesheet's too. The page's Content-Security-Policy
    admits that one style by its hash, and still no script."""
    css = _stylesheet()
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    response = _error_page(request, "error.wrong-address", 400, inline_css=css, not_this_address=True)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'sha256-{digest}'"
    )
    return response


@functools.cache
def _stylesheet() -> str:
    """The portal's stylesheet, as it may stand inside a <style> element (no "</" to close it)."""
    css = (Path(__file__).resolve().parent / "static" / "portal" / "portal.css").read_text(encoding="utf-8")
    return css.replace("</", "<\\/")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, "error.forbidden", 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, "error.not-found", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, "error.server", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(request, "error.expired", 403)
