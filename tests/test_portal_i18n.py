"""The portal in English, French and Spanish: every text of its pages, messages, refusals and
script from `pipeline/portal/texts.csv` in the page's language, dates and numbers as the language
writes them, and the page's language chosen (`?lang=`, remembered, the browser's, English)."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import html as html_module
import re
import string
from pathlib import Path

import pytest

from pipeline import api
from pipeline.portal import texts
from pipeline.portal.models import Case, Upload
from tests.builders import example_rows, fill
from tests.portal_fixtures import PASSWORD, YEAR, client_for, decide, page, submit, upload

PORTAL = Path(texts.__file__).resolve().parent
TEMPLATES = sorted((PORTAL / "templates" / "portal").glob("*.html"))
DEADLINE = dt.date(2027, 1, 2)  # the 2nd: "2 January 2027", "2 janvier 2027", "2 de enero de 2027"
LONG_DEADLINE = {"en": "2 January 2027", "fr": "2 janvier 2027", "es": "2 de enero de 2027"}
OTHERS = ("fr", "es")


# --- the table ------------------------------------------------------------------------------------


def fields(text: str) -> set[tuple[str, str]]:
    return {(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name is not None}


def tags(text: str) -> list[str]:
    return re.findall(r"</?\w+[^>]*>", text)


def family(key: str) -> str:
    return key.split(texts.PLURAL)[0]


def test_every_text_has_english_french_and_spanish_with_the_same_fields():
    with (PORTAL / "texts.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)) > 200
    assert list(rows[0]) == ["key", *texts.LANGS]
    by_family: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        key = row["key"]
        english = row["en"]
        for lang in texts.LANGS:
            said = row[lang]
            assert said and said == said.strip(), (key, lang)
            if family(key) == key:  # a plural form may leave the count out ("l'alerte ouverte")
                assert fields(said) == fields(english), (key, lang)
            by_family.setdefault(family(key), set()).update(fields(said))
            if key.endswith(texts.MARKUP):
                assert tags(said) == tags(english), (key, lang)
            else:
                assert "<" not in said and ">" not in said, (key, lang)
    for key in keys:
        if texts.PLURAL in key:
            base = family(key)
            assert {f"{base}#one", f"{base}#other"} <= set(keys) and base not in keys, key
            assert ("count", ",") in by_family[base] or ("count", "") in by_family[base], key


def test_a_key_that_is_not_in_the_table_fails():
    with pytest.raises(KeyError):
        texts.text("entity.no-such-text", "fr")
    with pytest.raises(KeyError):
        texts.html("count.errors", "fr")  # a plural text needs its count


TAG = re.compile(r"""\{%\s*(t|t_of)\s+(?:"([^"]+)"|'([^']+)'|(\S+))""")
# Calls whose string arguments are keys (or, for the prefixed, the prefix of a family of keys).
KEYED = {"say", "text", "html", "Said", "Refused", "Busy", "_error_page", "template"}
PREFIXED = {"label", "member"}
KEY_SHAPE = re.compile(r"^[a-z][\w-]*(\.[\w/-]+)+$")


def keys_in_templates() -> tuple[set[str], set[str]]:
    keys, prefixes = set(), set()
    for path in TEMPLATES:
        for tag, double, single, _variable in TAG.findall(path.read_text(encoding="utf-8")):
            literal = double or single
            if literal:
                (keys if tag == "t" else prefixes).add(literal)
    return keys, prefixes


def keys_in_code() -> tuple[set[str], set[str]]:
    keys, prefixes = set(), set()
    for name in ("views.py", "submissions.py", "middleware.py", "texts.py", "login.py"):
        tree = ast.parse((PORTAL / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if called in PREFIXED:
                prefixes.update(literals[:1])
            elif called in KEYED:
                keys.update(v for v in literals if KEY_SHAPE.match(v))
    return keys, prefixes


def exists(key: str) -> bool:
    table = texts.table()
    return key in table or {f"{key}#one", f"{key}#other"} <= set(table)


def test_every_key_the_pages_and_the_code_use_is_in_the_table():
    template_keys, template_prefixes = keys_in_templates()
    code_keys, code_prefixes = keys_in_code()
    assert len(template_keys) > 150 and len(code_keys) > 30, "the scan finds the keys"
    assert {"entity.drop_html", "count.errors", "script.uploading-share"} <= template_keys
    assert {"refused.busy", "flash.valid", "error.not-found", "login.wrong"} <= code_keys
    missing = sorted(k for k in template_keys | code_keys if not exists(k))
    assert missing == []
    for prefix in template_prefixes | code_prefixes:
        assert any(k.startswith(prefix + ".") for k in texts.table()), prefix
    # every key of the table is used somewhere (a family by its prefix)
    used = template_keys | code_keys
    dynamic = ("status.", "warehouse.", "severity.", "run.", "figure.", "unit.", "month.", "refused.how.", "action.")
    unused = [
        k
        for k in texts.table()
        if family(k) not in used and not k.startswith(dynamic) and not k.startswith(("date.", "number.", "size."))
    ]
    assert unused == []


def audited_actions() -> set[str]:
    """The actions the audit log records: audit(who, "action", ...) anywhere in the portal."""
    actions = set()
    for path in PORTAL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "audit" and len(node.args) > 1:
                action = node.args[1]
                said = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
                actions.update(a.value for a in said if isinstance(a, ast.Constant))
    return actions


def test_the_families_read_from_codes_are_complete():
    from pipeline.portal import submissions
    from pipeline.portal.models import RunJob
    from pipeline.run import KEY_FIGURES

    for status in submissions.STATUSES:
        assert texts.member("status", status), status
    assert submissions.LABELS["not-started"] == "not started"  # the audit log's words stay English
    for status in ("accepted", "loaded", "loaded-with-flags", "rejected", "history-only", "missing"):
        assert texts.member("warehouse", status), status
    for severity in ("error", "warning"):
        assert texts.member("severity", severity)
    for state in (RunJob.RUNNING, RunJob.DONE, RunJob.FAILED, RunJob.INTERRUPTED, "starting", "reading", "loading"):
        assert texts.member("run", state), state
    keys = {row["key"]: row for row in csv.DictReader((Path(api.__file__).parent / "indicators" / "keys.csv").open())}
    for key in KEY_FIGURES:
        assert texts.member("figure", key), key
        if keys[key]["kind"] not in ("share", "percent"):
            assert texts.member("unit", keys[key]["unit"]), keys[key]["unit"]
    actions = audited_actions()
    assert {"sign-in", "upload", "submit", "accept", "account-added", "account-replaced"} <= actions
    assert [a for a in sorted(actions) if not texts.member("action", a)] == []
    for month in range(1, 13):
        assert texts.member("month", str(month)) and texts.member("month.short", str(month))


# --- plurals, dates, numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "count", "said"),
    [
        ("en", 0, "0 errors"),
        ("en", 1, "1 error"),
        ("en", 2, "2 errors"),
        ("fr", 0, "0 erreur"),
        ("fr", 1, "1 erreur"),
        ("fr", 2, "2 erreurs"),
        ("es", 0, "0 errores"),
        ("es", 1, "1 error"),
        ("es", 2, "2 errores"),
        ("en", 1234, "1,234 errors"),
        ("fr", 1234, "1\u202f234 erreurs"),
        ("es", 1234, "1.234 errores"),
    ],
)
def test_counts_take_the_plural_of_their_language_and_its_separators(lang, count, said):
    assert texts.text("count.errors", lang, count=count) == said


def test_dates_and_figures_are_written_as_each_language_writes_them():
    at = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    assert [texts.date_text(DEADLINE, lang, "long") for lang in texts.LANGS] == list(LONG_DEADLINE.values())
    assert [texts.date_text(at, lang) for lang in texts.LANGS] == ["3 Dec 2026", "3 déc. 2026", "3 dic 2026"]
    assert [texts.date_text(at, lang, "datetime") for lang in texts.LANGS] == [
        "3 Dec 2026, 14:05",
        "3 déc. 2026 à 14:05",
        "3 dic 2026, 14:05",
    ]
    assert texts.date_text(dt.date(2027, 3, 1), "fr", "long") == "1er mars 2027"
    assert texts.date_text(dt.datetime(2027, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3))), "en") == (
        "2 Mar 2027"  # the pages' dates are UTC
    )
    from pipeline.portal.views import _change, _figure

    assert [_figure(12345.6, "tco2e", lang) for lang in texts.LANGS] == ["12,346", "12\u202f346", "12.346"]
    assert [_figure(0.125, "share", lang) for lang in texts.LANGS] == ["12.5 %", "12,5\u202f%", "12,5\u202f%"]
    assert _change(-0.5, "fr") == "\u221250\u202f%" and _change(0.25, "en") == "+25 %"
    # a change that rounds to nothing keeps its sign, as the report says it: never "\u22120 %"
    assert [_change(-0.0015, lang) for lang in texts.LANGS] == ["\u2212<1 %", "\u2212<1\u202f%", "\u2212<1\u202f%"]
    assert _change(0.004, "en") == "+<1 %" and _change(0.0, "en") == "0 %" and _change(-0.997, "en") == "\u2212>99 %"
    assert _change(-0.006, "en") == "\u22121 %" and _change(12.3456, "es") == "+1.235\u202f%"


def test_the_warehouses_statuses_are_words_in_english_too():
    """Not a code ("loaded-with-flags") beside the French and Spanish words."""
    for status in ("loaded-with-flags", "history-only"):
        assert "-" not in texts.label("warehouse", status, "en"), status
    assert texts.label("warehouse", "loaded-with-flags", "en") == "loaded with open flags"


@pytest.mark.parametrize("note", ["Figures checked against last year.", "Checked!", "Figures checked"])
def test_an_acceptance_note_ends_with_one_full_stop_in_every_language(portal, personas, note):
    """SUN's note closes the acceptance's sentence: a full stop is added only when it has none."""
    Case.objects.create(
        entity="UNEP",
        year=YEAR,
        status=Case.ACCEPTED,
        accepted_by="sun",
        accepted_at=dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC),
        accept_note=note,
        accepted_file="UNEP_2024_portal-1.xlsx",
    )
    analyst = client_for(personas["analyst"])
    for lang in texts.LANGS:
        html = page(analyst, f"/review/UNEP/{YEAR}/?lang={lang}")
        shown = re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))
        ended = note if note.endswith((".", "!")) else note + "."
        assert f"{ended} " in shown and f"{ended}." not in shown, (lang, shown)


# --- choosing the page's language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE,de;q=0.9,es;q=0.8,en;q=0.7", "es"),
        ("en;q=0.5, es-MX;q=0.9", "es"),
        ("de, *;q=0.5", None),
        ("fr;q=0, en", "en"),
        ("", None),
    ],
)
def test_the_browsers_languages_are_taken_by_their_quality(header, lang):
    assert texts.from_browser(header) == lang


def test_the_sign_in_page_speaks_the_browsers_language_or_the_one_asked_for_and_remembers_it(personas):
    from django.test import Client

    browser = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    french = browser.get("/login/")
    assert '<html lang="fr">' in french.content.decode() and french["Content-Language"] == "fr"
    assert "gtb_lang" not in french.cookies  # nothing chosen: nothing remembered
    spanish = browser.get("/login/?lang=es")
    assert '<html lang="es">' in spanish.content.decode()
    cookie = spanish.cookies["gtb_lang"]
    assert cookie.value == "es" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert '<html lang="es">' in browser.get("/login/").content.decode()  # the cookie, over the browser's
    wrong = browser.post("/login/", {"username": "focal-a", "password": "not it"})
    assert "Nombre de usuario o contraseña incorrectos." in wrong.content.decode()
    browser.post("/login/", {"username": "focal-a", "password": PASSWORD})
    assert '<html lang="es">' in browser.get("/entity/UNEP/").content.decode()
    browser.get("/entity/UNEP/?lang=fr")
    assert browser.session[texts.SESSION_KEY] == "fr"
    assert '<html lang="fr">' in browser.get("/entity/UNEP/").content.decode()
    browser.post("/logout/")
    assert '<html lang="fr">' in browser.get("/login/").content.decode()  # still French, signed out
    assert '<html lang="en">' in Client().get("/login/").content.decode()  # nothing said: English
    assert '<html lang="en">' in Client(HTTP_ACCEPT_LANGUAGE="de-DE").get("/login/").content.decode()
    assert '<html lang="en">' in Client().get("/login/?lang=xx").content.decode()


def test_the_template_links_lang_chooses_the_template_not_the_page(portal, personas):
    client = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE="es")
    page = client.get("/entity/UNEP/").content.decode()
    assert re.search(r'<a href="/entity/UNEP/template.xlsx\?lang=es"[^>]*class="button"', page)  # the page's first
    answer = client.get("/entity/UNEP/template.xlsx?lang=fr")
    assert answer["Content-Disposition"].endswith('_template_fr.xlsx"') and "gtb_lang" not in answer.cookies
    assert '<html lang="es">' in client.get("/entity/UNEP/").content.decode()
    assert client.get("/entity/UNEP/template.xlsx")["Content-Disposition"].endswith('_template_es.xlsx"')


def test_the_header_offers_every_language_on_the_same_page(personas):
    html = client_for(personas["analyst"]).get("/tracker/?year=2024&status=rejected").content.decode()
    switch = re.search(r'<nav class="langs"[^>]*>(.*?)</nav>', html, re.S)
    assert switch is not None
    assert 'aria-current="true">EN<' in switch.group(1)
    for code in OTHERS:
        assert f'href="?year=2024&amp;status=rejected&amp;lang={code}"' in switch.group(1)  # this page


# --- the pages in French and Spanish: no English left --------------------------------------------------


def english_chunks(lang: str) -> list[str]:
    """The English texts of the table, cut at their fields and markup, that the language does not
    use itself (`Pages`, `tCO2e` are French too): none may be on a page in that language."""
    own = " ".join(row[lang] for row in texts.table().values())
    chunks = set()
    for row in texts.table().values():
        for chunk in re.split(r"\{[^}]*\}|<[^>]+>", row["en"]):
            chunk = chunk.strip(" .,:;()…↓#")
            if len(chunk) >= 4 and re.search(r"[A-Za-z]{3}", chunk) and chunk not in own:
                chunks.add(chunk)
    return sorted(chunks, key=len, reverse=True)


WORKBOOK_DATA = [
    r'<table class="excerpt".*?</table>',  # the cells of the workbook, as typed
    r'<span class="code">.*?</span>',  # finding codes (implausible-change), the same in every language
    r"<footer>.*?</footer>",  # SUN's contact, as the reporting cycle names it
    r'<(small|span) class="[^"]*\bname\b[^"]*"[^>]*>.*?</\1>',  # entities' names (kept in English)
    r'<strong class="file">.*?</strong>',  # the file's name
    r'<td class="[^"]*\b(detail|first-finding)\b[^"]*"[^>]*>.*?</td>',  # the audit's record, a workbook's finding
    r"<title>.*?</title>",
    r"<style>.*?</style>",  # the stylesheet inside the page for a host the portal does not serve
]
SHOWN_ATTRIBUTES = re.compile(r'(?:aria-label|title|placeholder|data-say-[\w-]+|data-stage-[\w-]+)="([^"]*)"')


def shown_text(html: str) -> str:
    """What a reader sees or hears of the page's own words: its text and the attributes read out or
    shown (labels, titles, placeholders, the script's texts), the workbook's data left out."""
    for pattern in WORKBOOK_DATA:
        html = re.sub(pattern, " ", html, flags=re.S)
    said = " ".join(SHOWN_ATTRIBUTES.findall(html))
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"[ \t\r\n]+", " ", html_module.unescape(f"{text} {said}"))


def assert_no_english(html: str, lang: str) -> None:
    assert f'<html lang="{lang}">' in html
    shown = shown_text(html)
    english = [c for c in english_chunks(lang) if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", shown)]
    assert english == [], (english, shown)


def french_workbook(folder: Path, lang: str, **changes: object) -> Path:
    rows = example_rows("UNEP", YEAR)
    for where, value in changes.items():
        sheet, column = where.split("__")
        rows[sheet][0][column] = value
    folder.mkdir(parents=True, exist_ok=True)
    blank = api.template("UNEP", YEAR, folder / "blank.xlsx", lang=lang)
    return fill(blank, rows, folder / f"UNEP_{YEAR}_{lang}.xlsx", lang=lang, labels=True)


@pytest.mark.parametrize("lang", OTHERS)
def test_the_sign_in_and_error_pages_have_no_english(personas, lang):
    from django.test import Client

    browser = Client(HTTP_ACCEPT_LANGUAGE=lang)
    assert_no_english(page(browser, "/login/"), lang)
    wrong = browser.post("/login/", {"username": "focal-a", "password": "not it"})
    assert wrong.status_code == 401
    assert_no_english(wrong.content.decode(), lang)
    for _ in range(5):
        locked = browser.post("/login/", {"username": "focal-a", "password": "not it"})
    assert_no_english(locked.content.decode(), lang)
    assert texts.template("login.locked", lang).split("{time}")[0] in html_module.unescape(locked.content.decode())
    focal = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE=lang)
    for url, status in (("/entity/WFP/", 404), ("/tracker/", 403)):
        refused = focal.get(url)
        assert refused.status_code == status
        assert_no_english(refused.content.decode(), lang)
    host = focal.get("/", HTTP_HOST="evil.example")
    assert host.status_code == 400 and texts.text("error.wrong-address", lang) in shown_text(host.content.decode())
    assert_no_english(host.content.decode(), lang)


@pytest.mark.parametrize("lang", OTHERS)
def test_an_address_that_takes_a_form_opened_as_a_link_speaks_the_language(personas, lang):
    """A GET of /logout/, an upload's, a run's or a decision's address: the portal's 405 page in
    the language asked for, with its way back (and, at /logout/, the sign-out button)."""
    for persona, url in (
        ("focal_a", "/entity/UNEP/upload/"),
        ("analyst", "/runs/"),
        ("analyst", f"/review/UNEP/{YEAR}/accept/"),
        (None, "/logout/"),
        ("focal_a", "/logout/"),
    ):
        response = client_for(personas[persona] if persona else None).get(f"{url}?lang={lang}")
        assert response.status_code == 405, url
        html = response.content.decode()
        assert_no_english(html, lang)
        shown = shown_text(html)
        assert texts.text("error.back", lang) in shown
        title = "site.sign-out" if persona and url == "/logout/" else "error.method"
        assert texts.text(title, lang) in shown and texts.text("error.status", lang, status=405) in shown


@pytest.mark.parametrize("lang", ("en", *OTHERS))
def test_a_focal_points_empty_page_speaks_the_language_with_its_deadline_and_template(portal, personas, lang):
    portal.cycle(deadline=DEADLINE)
    html = page(client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE=lang), "/entity/UNEP/")
    shown = shown_text(html)
    assert LONG_DEADLINE[lang] in shown and texts.text("status.not-started", lang) in shown
    assert texts.text("entity.step-2", lang) in shown
    assert texts.text("entity.template-link", lang, entity="UNEP", year=YEAR, language="Español") in shown
    assert f'data-say-share="{texts.text("script.uploading-share", lang, percent="{percent}")}"' in html
    contact = {"en": "SUN test desk", "fr": "le bureau SUN", "es": "la oficina SUN"}[lang]  # the cycle's names
    assert texts.text("site.questions", lang, name=contact) in html_module.unescape(html)  # in the footer
    if lang != "en":
        assert_no_english(html, lang)


@pytest.mark.parametrize("lang", OTHERS)
def test_a_report_with_an_error_then_a_flag_and_the_submission_speak_the_language(warehouse, personas, tmp_path, lang):
    """A focal point working in French (or Spanish) with a workbook of that language: the report on
    an upload with an error, on one with a flag against last year, the refusal of a submission
    without an explanation, the submission: every text, message and date in that language."""
    client = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE=lang)
    answer = upload(client, "UNEP", french_workbook(tmp_path / "1", lang, Facilities__quantity=-5))
    assert answer.status_code == 302
    html = page(client, "/entity/UNEP/")
    shown = shown_text(html)
    assert texts.text("flash.errors", lang) in shown and texts.text("count.errors", lang, count=1) in shown
    assert texts.text("status.rejected", lang) in shown and texts.text("severity.error", lang) in shown
    assert_no_english(html, lang)
    first = Upload.objects.get()
    assert_no_english(page(client, f"/uploads/{first.pk}/"), lang)

    upload(client, "UNEP", french_workbook(tmp_path / "2", lang, Facilities__quantity=2_400_000_000))
    flagged = Upload.objects.latest("pk")
    assert flagged.is_valid and flagged.flags >= 1
    html = page(client, "/entity/UNEP/")
    shown = shown_text(html)
    assert texts.text("flash.valid", lang) in shown and texts.text("flags.why", lang) in shown
    assert texts.text("figure.electricity_kwh", lang) in shown and texts.text("figures.flagged", lang) in shown
    assert texts.text("count.flags", lang, count=flagged.flags) in shown
    assert_no_english(html, lang)

    submit(client)  # no explanation: refused, in the language
    html = page(client, "/entity/UNEP/")
    assert texts.text("refused.unexplained", lang, count=flagged.flags) in shown_text(html)
    assert_no_english(html, lang)

    keys = [f["key"] for f in flagged.findings if f["flag"]]
    client.post(f"/uploads/{flagged.pk}/explain/", {f"explain:{keys[0]}": "un nouveau centre de données"})
    html = page(client, "/entity/UNEP/")
    assert texts.text("flash.explained", lang, count=1) in shown_text(html)
    submit(client, answers={f"explain:{k}": "un nouveau centre de données" for k in keys})
    case = Case.objects.get()
    assert case.status == Case.SUBMITTED
    html = page(client, "/entity/UNEP/")
    shown = shown_text(html)
    when = texts.date_text(case.submitted_at, lang, "datetime")
    assert texts.text("flash.submitted", lang) in shown and texts.text("entity.submitted", lang, when=when) in shown
    assert texts.text("status.submitted", lang) in shown
    assert_no_english(html, lang)
    submit(client)  # again: nothing to submit, said with the status in the language
    said = texts.text("refused.nothing", lang, status=texts.text("status.submitted", lang))
    assert said in shown_text(page(client, "/entity/UNEP/"))


@pytest.mark.parametrize("lang", OTHERS)
def test_sun_sees_its_pages_in_its_language_too(portal, personas, tmp_path, lang):
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", french_workbook(tmp_path, lang))
    submit(focal)
    analyst = client_for(personas["analyst"], HTTP_ACCEPT_LANGUAGE=lang)
    analyst.post(f"/review/UNEP/{YEAR}/close-flags/", {"reason": " "})
    html = page(analyst, f"/review/UNEP/{YEAR}/")
    assert texts.text("flash.close-reason", lang) in shown_text(html)
    assert_no_english(html, lang)
    decide(analyst, "accept", {"note": "vérifié"})
    html = page(analyst, f"/review/UNEP/{YEAR}/")
    assert texts.text("status.accepted", lang) in shown_text(html)
    assert_no_english(html, lang)
    tracker = page(analyst, f"/tracker/?year={YEAR}")
    assert texts.text("tracker.heading", lang, year=YEAR) in shown_text(tracker)
    assert_no_english(tracker, lang)
    assert_no_english(page(analyst, "/audit/"), lang)


@pytest.mark.parametrize("lang", OTHERS)
def test_a_correction_request_once_answered_is_said_as_past_in_the_language(portal, personas, tmp_path, lang):
    """SUN's review page: the request in its notice while awaited; once the focal point uploaded
    again, a line saying it was asked earlier, in the page's language."""
    focal = client_for(personas["focal_a"])
    upload(focal, "UNEP", french_workbook(tmp_path / "1", lang))
    submit(focal)
    analyst = client_for(personas["analyst"], HTTP_ACCEPT_LANGUAGE=lang)
    decide(analyst, "correction", {"message": "gazole ?"})
    html = page(analyst, f"/review/UNEP/{YEAR}/")
    assert texts.text("review.correction", lang) in shown_text(html) and 'class="notice correction"' in html
    upload(focal, "UNEP", french_workbook(tmp_path / "2", lang))
    html = page(analyst, f"/review/UNEP/{YEAR}/")
    assert 'class="notice correction"' not in html
    earlier = texts.text("review.correction-past", lang, user="analyst", date="{date}").split("{date}")[0]
    assert earlier in shown_text(html) and "gazole ?" in shown_text(html)
    assert_no_english(html, lang)


def test_an_upload_over_the_cap_is_refused_in_the_browsers_language(portal, personas, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.GTB_MAX_UPLOAD_BYTES = 100_000
    client = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE="fr")
    big = SimpleUploadedFile("big.xlsx", b"x" * 400_000)
    response = client.post("/entity/UNEP/upload/", {"workbook": big})
    assert response.status_code == 413
    body = response.content.decode()  # a page of its own, in French: a browser without scripts shows it
    assert response["Content-Type"] == "text/html; charset=utf-8" and '<html lang="fr">' in body
    assert f'<li class="error">{texts.text("refused.too-large", "fr", cap=texts.Megabytes(100_000))}</li>' in body
    assert "0,1 Mo" in body and texts.text("error.back", "fr") in body


@pytest.mark.parametrize("lang", OTHERS)
def test_a_file_that_cannot_be_read_is_told_so_in_the_pages_language(portal, personas, tmp_path, lang):
    """A text file named .xlsx has no sheet names to tell its language: the verdict and what to
    do about it are in the page's language, which the upload keeps as its findings'."""
    from pipeline import catalogue

    client = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE=lang)
    (tmp_path / "UNEP_2024.xlsx").write_text("site,quantity\nGigiri,1200\n", encoding="utf-8")
    upload(client, "UNEP", tmp_path / "UNEP_2024.xlsx")
    sent = Upload.objects.get()
    assert not sent.readable and sent.lang == lang
    html = page(client, "/entity/UNEP/")
    english = catalogue.text("fix.save-as-xlsx", "en")
    said = catalogue.text("fix.save-as-xlsx", lang)
    assert said != english and html_module.escape(said, quote=False) in html and english not in html
    assert re.search(rf'<p class="msg" lang="{lang}">[^<]*{re.escape(html_module.escape(said, quote=False))}', html)


@pytest.mark.parametrize("lang", OTHERS)
def test_findings_are_marked_with_the_workbooks_language_on_a_page_in_another(portal, personas, tmp_path, lang):
    """A French workbook's findings on an English page (and the reverse) are marked with their own
    language, for a screen reader's voice and for reading '2,5' as a French or Spanish number."""
    english = client_for(personas["focal_a"], HTTP_ACCEPT_LANGUAGE="en")
    upload(english, "UNEP", french_workbook(tmp_path / "1", lang, Facilities__quantity=-5))
    first = Upload.objects.get()
    assert first.lang == lang
    for url in ("/entity/UNEP/", f"/uploads/{first.pk}/"):
        html = page(english, url)
        assert html.startswith('<!doctype html>\n<html lang="en">')
        messages = re.findall(r'<p class="msg"( lang="[a-z]+")?>', html)
        assert messages and set(messages) == {f' lang="{lang}"'}, url
    analyst = client_for(personas["analyst"], HTTP_ACCEPT_LANGUAGE="en")
    assert f'<td class="small first-finding" lang="{lang}">' in page(analyst, f"/tracker/?year={YEAR}")
    assert re.search(r'<td class="small text detail" lang="en">', page(analyst, "/audit/"))


def test_a_findings_sentence_starts_with_a_capital_on_the_page(portal, personas, tmp_path):
    """The catalogue's messages are clauses ('expected a number; found ...'), as issues.csv and the
    console show them after a cell; on the page each is a sentence of its own, and starts as one."""
    from tests.portal_fixtures import workbook

    client = client_for(personas["focal_a"])
    upload(client, "UNEP", workbook(tmp_path, Facilities_D2="douze mille"))
    [message] = [f["message"] for f in Upload.objects.get().findings if f["cell"] == "D2"]
    assert message.startswith("expected a number")  # the finding as recorded
    html = page(client, "/entity/UNEP/")
    assert re.search(r'<p class="msg"( lang="en")?>Expected a number; found', html)
    paragraphs = re.findall(r'<p class="msg"[^>]*>(.)', html)
    assert paragraphs and all(not c.islower() for c in paragraphs), paragraphs
