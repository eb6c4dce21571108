"""Every text the portal shows, in English, French and Spanish, as data: `texts.csv` (key, en, fr,
es), one row per text. A text is a `str.format` template whose fields the caller fills: names,
dates, counts. A number with a format (`{count:,}`) is written as the language writes numbers
(1,234 / 1 234 with a narrow no-break space / 1.234). A text with plural forms has two rows,
`key#one` and `key#other`, chosen by its `count` (French takes 0 and 1 as singular). A key ending
in `_html` holds markup (`<strong>`, `<code>`); the others are plain text, escaped on the page; the
fields of either are always escaped.

The page's language (`language_of`): `?lang=` on a page (remembered in the session and in a
cookie), else the one remembered, else the browser's first Accept-Language the portal speaks,
else English. Dates are written here too (`date_text`: "2 January 2027", "2 janvier 2027",
"2 de enero de 2027"), month names from the same table.
"""

from __future__ import annotations

import csv
import datetime as dt
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from pipeline.catalogue import localised

HERE = Path(__file__).resolve().parent
LANGS = ("en", "fr", "es")
DEFAULT_LANG = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}  # each in itself, in every language
PLURAL = "#"  # key#one, key#other
MARKUP = "_html"  # a key ending so holds markup
SESSION_KEY = "portal_lang"
COOKIE = "gtb_lang"
COOKIE_AGE = 365 * 24 * 3600
NOT_A_PAGE = {"template"}  # views where ?lang= means something else (the template's language)


@cache
def table() -> dict[str, dict[str, str]]:
    """key -> {lang: text}, as `texts.csv` holds them."""
    with (HERE / "texts.csv").open(newline="", encoding="utf-8") as fh:
        return {row["key"]: {lang: row[lang] for lang in LANGS} for row in csv.DictReader(fh)}


def plural_form(lang: str, count: object) -> str:
    """'one' or 'other' (CLDR's cardinal categories for whole numbers): French says 0 and 1 in the
    singular, English and Spanish 1 only."""
    n = abs(int(count)) if isinstance(count, (int, float)) else 2
    if lang == "fr":
        return "one" if n < 2 else "other"
    return "one" if n == 1 else "other"


def resolved_key(key: str, lang: str, count: object = None) -> str:
    """The row a text is written from: `key` itself, or its plural form for `count`. An unknown key
    is a KeyError (tests/test_portal_i18n.py checks every key used)."""
    rows = table()
    if key in rows:
        return key
    plural = f"{key}{PLURAL}{plural_form(lang, count)}"
    if count is not None and plural in rows:
        return plural
    raise KeyError(f"no portal text {key!r}")


def template(key: str, lang: str, count: object = None) -> str:
    row = table()[resolved_key(key, lang, count)]
    return row.get(lang) or row[DEFAULT_LANG]


def _value(value: object, lang: str, spec: str) -> str:
    if hasattr(value, "render"):  # a Said, a When: written in the text's language
        return value.render(lang)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and spec:
        return localised(format(value, spec), lang)
    return format(value, spec) if spec else str(value)


def _fill(body: str, lang: str, params: dict[str, Any], literal, value) -> str:
    out = []
    for text, name, spec, _conversion in string.Formatter().parse(body):
        out.append(literal(text))
        if name is not None:
            out.append(value(_value(params[name], lang, spec or "") if not _is_safe(params[name]) else params[name]))
    return "".join(out)


def _is_safe(value: object) -> bool:
    return isinstance(value, SafeString)


def text(key: str, lang: str, **params: Any) -> str:
    """The text of `key` in `lang`, its fields filled in: plain text (a message, a script's text)."""
    return _fill(template(key, lang, params.get("count")), lang, params, str, str)


def html(key: str, lang: str, **params: Any) -> SafeString:
    """The text of `key` in `lang` for a page: its fields escaped, its own words escaped too unless
    the key holds markup (`_html`)."""
    name = resolved_key(key, lang, params.get("count"))
    body = template(key, lang, params.get("count"))
    literal = str if name.endswith(MARKUP) else escape
    return mark_safe(_fill(body, lang, params, literal, conditional_escape))


def member(prefix: str, code: str) -> str | None:
    """The key of `code` among `prefix`'s (`status.rejected`), None when the table has none."""
    key = f"{prefix}.{code}"
    return key if key in table() else None


def label(prefix: str, code: str, lang: str) -> str:
    """A status, a severity, a warehouse status in `lang`; the code itself where the table has none."""
    key = member(prefix, code)
    return text(key, lang) if key else code


@dataclass(frozen=True)
class Said:
    """A text to be written later, in the language of whoever reads it (a refusal, a note):
    `Said("refused.busy")`, `Said("refused.nothing", {"status": Said("status.submitted")})`."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return text(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANG)


@dataclass(frozen=True)
class When:
    """A date inside a text, written as the text's language writes dates (`date_text`)."""

    value: dt.date | dt.datetime | None
    style: str = "short"

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return date_text(self.value, lang, self.style)


@dataclass(frozen=True)
class Megabytes:
    """A size in MB (`25 MB`, `0.1 MB`; `25 Mo` in French)."""

    size_bytes: int

    def render(self, lang: str = DEFAULT_LANG) -> str:
        mb = self.size_bytes / 2**20
        return text("size.mb", lang, mb=localised(f"{mb:.0f}" if mb >= 1 else f"{mb:.1f}", lang))


# --- dates and numbers ---------------------------------------------------------------------------


def date_text(value: dt.date | dt.datetime | None, lang: str, style: str = "short") -> str:
    """A date as `lang` writes it: `long` 2 January 2027 / 2 janvier 2027 / 2 de enero de 2027;
    `short` 3 Dec 2026 / 3 déc. 2026 / 3 dic 2026; `datetime` the short date and the time (UTC),
    `seconds` with the seconds too; `time` 14:05 (UTC)."""
    if value is None:
        return ""
    clock = ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        clock, value = value.strftime("%H:%M:%S" if style == "seconds" else "%H:%M"), value.date()
    if style == "time":
        return clock
    day = text("date.first-day", lang) if value.day == 1 else str(value.day)
    month = text(f"month.{value.month}" if style == "long" else f"month.short.{value.month}", lang)
    shown = text("date.long" if style == "long" else "date.short", lang, day=day, month=month, year=str(value.year))
    return text("date.time", lang, date=shown, time=clock) if style in ("datetime", "seconds") and clock else shown


def number_text(value: float, lang: str, spec: str = ",.0f") -> str:
    """A number as `lang` writes it: 1,234.5 / 1 234,5 / 1.234,5."""
    return localised(format(value, spec), lang)


def percent_text(value: str, lang: str) -> str:
    """A number already written (`12,5`) with its per cent sign, as `lang` puts it."""
    return text("number.percent", lang, value=value)


# --- the page's language -------------------------------------------------------------------------


def asked(request: HttpRequest) -> str | None:
    """The language `?lang=` asks for on a page (not on the template's download, where it names the
    template's language)."""
    lang = request.GET.get("lang", "")
    if lang not in LANGS:
        return None
    try:
        if resolve(request.path_info).url_name in NOT_A_PAGE:
            return None
    except Resolver404:
        pass
    return lang


def remembered(request: HttpRequest) -> str | None:
    """The language chosen earlier: the session's, else the cookie's (kept across signing out)."""
    session = getattr(request, "session", None)
    lang = session.get(SESSION_KEY) if session is not None else None
    if lang in LANGS:
        return lang
    lang = request.COOKIES.get(COOKIE)
    return lang if lang in LANGS else None


def from_browser(header: str, offered: tuple[str, ...] = LANGS) -> str | None:
    """The first language of an Accept-Language header (by its q values) that is `offered`."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        name, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        lang = name.strip().split("-")[0].lower()
        if lang in offered and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def choose(request: HttpRequest) -> str:
    """The page's language: asked for (`?lang=`), remembered, the browser's, else English."""
    browser = from_browser(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    return asked(request) or remembered(request) or browser or DEFAULT_LANG


def language_of(request: HttpRequest) -> str:
    """The language of this request's page (set by `middleware.PageLanguage`, or chosen now for a
    request refused before it)."""
    return getattr(request, "portal_lang", None) or choose(request)


def say(request: HttpRequest, key: str | Said, **params: Any) -> str:
    """A text (or a `Said`) in the request's language: a message after an action."""
    lang = language_of(request)
    return key.render(lang) if isinstance(key, Said) else text(key, lang, **params)
