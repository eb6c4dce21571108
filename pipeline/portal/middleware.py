"""Middleware: the upload size cap before any body is read, security headers, Secure cookies
behind HTTPS, sessions that end 8 hours after signing in, control characters shown on pages, the
page's language, the portal's page for a 405."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, UnreadablePostError
from django.shortcuts import render

from pipeline.portal import texts
from pipeline.safe import page_safe

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# What a form's fields besides the file may add to the body of an upload.
FORM_ALLOWANCE = 64 * 1024


def too_large(request: HttpRequest) -> HttpResponse:
    """The refusal (413) of a body over the upload cap, in the language the page would have
    (`?lang=`, the language cookie, the browser's: the session is not read yet): a page of its
    own with the portal's style and a way back, since a browser without scripts shows it in place
    of the page the file was sent from. Built here, not from a template: neither the session nor
    the user is read for a body refused unread."""
    from django.urls import reverse
    from django.utils.html import escape

    lang = texts.choose(request)
    said = escape(texts.text("refused.too-large", lang, cap=texts.Megabytes(settings.GTB_MAX_UPLOAD_BYTES)))
    title = escape(texts.text("site.title", lang))
    back = f'<a href="{reverse("home")}">{escape(texts.text("error.back", lang))}</a>'
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><link rel="stylesheet" href="{reverse("static", args=["portal/portal.css"])}"></head>'
        f'<body><main><section class="card narrow"><h1>{title}</h1>'
        f'<ul class="messages" role="status"><li class="error">{said}</li></ul>'
        f'<p class="muted">{back}.</p></section></main></body></html>\n'
    )
    return HttpResponse(page, status=413, content_type="text/html; charset=utf-8")


class UploadSizeLimit:
    """Refuse (413) a request whose body is larger than the upload cap, before anything reads it
    (the CSRF check reads form bodies, so this comes first). Waitress refuses larger bodies too
    (`max_request_body_size`), as soon as their headers came, with the same words (`too_large`,
    `server.PortalRefusal`); this keeps the same limit under any server."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if length > settings.GTB_MAX_UPLOAD_BYTES + FORM_ALLOWANCE:
            return too_large(request)
        return self.get_response(request)


class PageLanguage:
    """The language of the request's pages (`texts.choose`: `?lang=`, the session's or the cookie's,
    the browser's, English), kept on the request for the views and templates. A language asked for
    with `?lang=` is remembered: in the session of a signed-in user, and in a cookie that outlives
    signing out (the sign-in page speaks it too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        asked = texts.asked(request)
        request.portal_lang = asked or texts.choose(request)
        if asked and request.user.is_authenticated and request.session.get(texts.SESSION_KEY) != asked:
            request.session[texts.SESSION_KEY] = asked
        response = self.get_response(request)
        if asked and request.COOKIES.get(texts.COOKIE) != asked:
            response.set_cookie(
                texts.COOKIE,
                asked,
                max_age=texts.COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Language", request.portal_lang)
        return response


# What a form posts back as it stands: a text box's content and an input's value. Rewritten, a
# right-to-left mark typed in an explanation (Hebrew or Arabic typed on Windows holds them) was
# posted back as the six characters `\u200f` by the next "Save" or "Submit", and stored so.
_FORM_TEXT = re.compile(r"(<textarea\b[^>]*>)(.*?)(</textarea>)|(\svalue=\")([^\"]*)(\")", re.S | re.I)


def page_safe_but_form_text(text: str) -> str:
    """`safe.page_safe` of an HTML page, except in the text of its text boxes and the values of
    its inputs, which the browser shows inside the control (an override there turns nothing
    else around) and posts back as they stand."""
    out: list[str] = []
    end = 0
    for match in _FORM_TEXT.finditer(text):
        out.append(page_safe(text[end : match.start()]))
        groups = match.groups()
        opening, kept, closing = groups[0:3] if groups[0] is not None else groups[3:6]
        out += [page_safe(opening), kept, closing]
        end = match.end()
    out.append(page_safe(text[end:]))
    return "".join(out)


class ShowUnseenCharacters:
    """Every control character of an HTML page (but tab and line breaks) shown as an escape
    (`\\u202e`), as on the console and in CSV files (`safe.page_safe`): the pages show what
    submitters typed (values, file names, explanations, corrections), autoescaped for HTML, but
    a right-to-left override among them would still turn the text after it around. The portal's
    own pages hold none; pages are built whole (no streaming), so the body is rewritten once.
    Text boxes and input values are left as typed (`page_safe_but_form_text`): they are posted
    back, and what was typed is what is kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        text = response.content.decode(response.charset or "utf-8")
        shown = page_safe_but_form_text(text)
        if shown != text:
            response.content = shown.encode(response.charset or "utf-8")
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


class NoNulInCookies:
    """A cookie whose value holds a NUL is left out, as if it had not been sent. A quoted cookie
    may spell one with an octal escape (`"ab\\000c"`), which Django unquotes: PostgreSQL refuses
    a NUL in text, so the session's lookup failed, the error page looked the session up again and
    failed too, and an anonymous 120-byte request got a bare 500 and left a long traceback in the
    log. A session cookie left out is a visitor not signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if "\x00" not in k and "\x00" not in v}
        return self.get_response(request)


class NoNulInText:
    """Refuse (400) a request whose query or form fields hold a NUL character. No text anyone
    types holds one; PostgreSQL's text columns refuse it, which ended such a request in an error
    page, some of its action done (an acceptance recorded in the inventory, not in the audit);
    SQLite would keep it. Django's CSRF check runs later (in `process_view`, after every
    middleware's call), so this is the first to read the form; a request it refuses does nothing.
    A file sent with an empty file name (`filename=""`) is a field to Django, its bytes (NULs
    among them) the field's text: refused the same way, with the portal's translated 400 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            fields = [request.GET] + ([request.POST] if request.method == "POST" else [])
            has_nul = any(
                "\x00" in key or any("\x00" in value for value in values)
                for params in fields
                for key, values in params.lists()
            )
        except UnreadablePostError:  # the client went away while sending: the view answers it as before
            has_nul = False
        # a body Django cannot parse (MultiPartParserError, a field beyond its limits) goes up: Django
        # answers it with the portal's 400 page (handler400), as it would when the CSRF check read it
        if has_nul:  # the portal's page (400) in the page's language, as `views.bad_request` answers
            context = {"title": "error.bad-request", "status": 400}
            return render(request, "portal/error.html", context, status=400)
        return self.get_response(request)


# on every answer, the refusals made before Django's own middleware too (413, 400 of `readable_requests`)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
# a refusal made outside Django's middleware (`readable_requests`, the server's own refusals): no
# caching either, and the Referrer-Policy Django's SecurityMiddleware sets on the others
# (settings.SECURE_REFERRER_POLICY)
REFUSAL_HEADERS = (*SECURITY_HEADERS, ("Cache-Control", "no-store"), ("Referrer-Policy", "same-origin"))


class SecurityHeaders:
    """Content-Security-Policy (scripts and styles from the portal only, no framing) and the
    headers Django's SecurityMiddleware does not set; no page is cached by a shared cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


SIGNED_IN_AT = "gtb_signed_in_at"  # the session's key: when its user signed in (seconds since the epoch)


class SessionEndsAfterAWorkingDay:
    """A session ends SESSION_COOKIE_AGE (8 hours) after its user signed in, whatever was done
    since. Django counts the age from the session's last change, so each upload, submission or
    choice of language pushed the end back 8 hours, and a session could last for days. The
    first request of a session notes when; a request past the end signs the user out (the page
    then asks to sign in again, as for any visitor)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(SIGNED_IN_AT)
            if not isinstance(started, (int, float)) or started > now:
                request.session[SIGNED_IN_AT] = now
            elif now - started > settings.SESSION_COOKIE_AGE:
                from pipeline.portal.audit import audit  # the models: imported once Django is set up

                name = request.user.get_username()
                logout(request)
                audit(name, "sign-out", detail="the session ended, 8 hours after signing in")
        return self.get_response(request)


class SecureCookiesBehindHttps:
    """Session and CSRF cookies get the Secure flag whenever the request came over HTTPS (directly,
    or through a proxy waitress trusts: GTB_PORTAL_TRUSTED_PROXY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response


class RefusalsOnOneLine(logging.Filter):
    """A refused request (4xx: a focal point on another entity's page, an expired form) is logged
    on one line, without the traceback Django attaches: it tells of no fault, and a few of them
    would bury the server's log. A fault (5xx) keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info, record.exc_text = None, None
        return True


def readable_requests(app: Callable) -> Callable:
    """WSGI: refuse (400) a request whose Content-Type names a character set that is no text
    encoding Python knows (`charset=rot13`, `charset=base64`). Django fails while it builds such a
    request, before any middleware or error page can answer, so the server answered 500 and
    logged a traceback for anyone who sent one."""
    from django.utils.http import parse_header_parameters

    def wrapped(environ: dict, start_response: Callable) -> object:
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        charset = params.get("charset")
        if charset is not None:
            try:  # bytes.decode and str.encode take text encodings only, and run nothing else
                b"".decode(charset)
                "".encode(charset)
                text = True
            except (LookupError, TypeError, ValueError):
                text = False
            if not text:
                body = b"The request names a character set that is not a text encoding; send it as UTF-8."
                start_response(
                    "400 Bad Request",
                    [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        *REFUSAL_HEADERS,
                    ],
                )
                return [body]
        return app(environ, start_response)

    return wrapped


class MethodNotAllowedPage:
    """The portal's error page in place of Django's empty 405, which `require_POST` and
    `require_http_methods` answer: a GET of a form's address (/logout/, an upload's, a decision's)
    shows a page of the portal, in the page's language, with a way back, and keeps the `Allow`
    header. At /logout/, a signed-in user's page offers the sign-out button (signing out is a form
    post). Last of the middleware: the user and the language are known. The page is the one the
    views' error pages render (`portal/error.html`), rendered here: the views import this module."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        sign_out = match is not None and match.url_name == "logout" and user is not None and user.is_authenticated
        if sign_out:
            page = _error_page(request, "site.sign-out", 405, sign_out=True)
        else:
            page = _error_page(request, "error.method", 405)
        page["Allow"] = response["Allow"]
        return page


def _error_page(request: HttpRequest, title: str, status: int, **context: object) -> HttpResponse:
    """The portal's error page, as the views render it: `title` is the key of its text."""
    return render(request, "portal/error.html", {"title": title, "status": status, **context}, status=status)
