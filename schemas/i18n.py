"""The workbook in English, French and Spanish: names, headers, labels and texts as data.

The contract's sheet and column names (`Facilities`, `energy_type`) and codes (`natural_gas`)
are the canonical identifiers; people see and type the words of their language. The column maps
that lead from what people type back to the contract are data, kept per language (as PUDL keeps
its column maps per source):

- `schemas/i18n/sheets.csv`: sheet, lang, name (the sheet's tab), purpose (one sentence);
- `schemas/i18n/columns.csv`: sheet, column, lang, header (with its unit), help (plain words);
- `schemas/i18n/bound_notes.csv`: sheet, column, lang, note: why a column's upper bound is what
  it is (`columns.csv`'s `bound_note`, in English), in French and Spanish;
- the code lists' `label`, `label_fr`, `label_es` columns (`schemas/codelists/`), countries'
  names in French and Spanish from pycountry's translations, and `schemas/i18n/synonyms.csv`
  for the other ways people type a code (Y, Oui, m³);
- `schemas/i18n/code_hints.csv`: codelist, text, code, note: what people call a code's thing
  ('Propane', 'Chilled water'), for the hint "Did you mean ...?" (never read as the code);
- `schemas/i18n/other_units.csv`: text, unit, factor, symbol, one, note: units the template does not
  take (gallons, therms, pounds), for the hint that says how to convert them;
- `schemas/i18n/country_names.csv`: code, text, note: common, former and UN names of countries
  ('South Korea', 'Ivory Coast'), for the hint of a country typed as a name (never read as one);
- `schemas/i18n/text.csv`: key, lang, text: every other string of the template and reports.

Reading accepts every language at once, and the template of 2025.1 (headers = column names):
`sheet_lookup()`, `header_lookup(sheet)` and `code_lookup(codelist)` map a folded form of what
was typed (`fold`: case, accents, spaces, hyphens, underscores and dots ignored) to the canonical
name. `detect_language(sheet names)` tells which language a workbook was made in.
"""

from __future__ import annotations

import csv
import gettext
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import catalogue, codelists
from schemas import contract

HERE = Path(__file__).resolve().parent / "i18n"
LANGS = ("en", "fr", "es")
DEFAULT_LANG = "en"
LANG_NAMES = {"en": "English", "fr": "Français", "es": "Español"}
_FOLD_DROP = re.compile(r"[\s_\-.'’]+")
_TRAILING_CODE = re.compile(r"^(.*?)\s*[\(\[]\s*([A-Za-z0-9]{2,3})\s*[\)\]]\s*$")
_UNIT_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")


def fold(text: object) -> str:
    """The form names and codes are matched in: NFKC (m³ -> m3), accents and format characters
    (a zero-width space, a soft hyphen: Unicode Cf, which show nothing) dropped, case folded,
    spaces, hyphens, underscores, dots and apostrophes removed: 'Gaz naturel' -> 'gaznaturel';
    the ligatures œ and æ as oe and ae."""
    if text is None:
        return ""
    plain = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", str(text)))
    if not plain.isascii():
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
        return _FOLD_DROP.sub("", plain.casefold().translate(_LIGATURES))
    return _FOLD_DROP.sub("", plain.casefold())


# Letters no decomposition splits, written as their two letters on keyboards without them (an
# AZERTY has no œ): 'mis en oeuvre' is 'mis en œuvre'.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; supported: {', '.join(LANGS)}")
    return lang


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- sheets -------------------------------------------------------------------------------------
@cache
def _sheets() -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["sheet"], r["lang"]): (r["name"], r["purpose"]) for r in _rows("sheets.csv")}


def sheet_name(sheet: str, lang: str) -> str:
    """The tab name of a contract sheet (or of Instructions, Lists, LastYear) in `lang`."""
    return _sheets()[(sheet, lang)][0]


def sheet_purpose(sheet: str, lang: str) -> str:
    return _sheets()[(sheet, lang)][1]


_UNSEEN = re.compile(f"[{codelists.UNSEEN}]")


def tab_key(name: object) -> str:
    """A tab's name as it is matched to a sheet: `fold`, after dropping the characters that show
    nothing (a zero-width space pasted in) and reading Cyrillic or Greek letters drawn as Latin
    ones as those: a tab that looks like 'Facilities' is the Facilities sheet, wherever a tab is
    looked up (`sheet_lookup`)."""
    return fold(codelists.to_latin(_UNSEEN.sub("", str(name))))


@cache
def sheet_lookup() -> dict[str, str]:
    """fold(name in any language, or the contract name) -> contract sheet (or template sheet)."""
    out: dict[str, str] = {}
    for (sheet, _lang), (name, _) in _sheets().items():
        out[fold(name)] = sheet
        out[fold(sheet)] = sheet
    return out


def sheet_of(tab: str) -> str:
    """The contract sheet a tab names, in any language ('Installations' -> 'Facilities'); the tab
    itself where it names none."""
    return sheet_lookup().get(tab_key(tab), tab)


def detect_language(names: list[str]) -> str | None:
    """The language whose tab names the workbook uses most; None when only names shared by all
    languages (or none) are found."""
    votes: Counter[str] = Counter()
    by_tab = _tab_languages()
    for name in names:
        langs = by_tab.get(tab_key(name), set())
        if 0 < len(langs) < len(LANGS):
            votes.update(langs)
    return votes.most_common(1)[0][0] if votes else None


@cache
def _tab_languages() -> dict[str, set[str]]:
    """A tab name folded -> the languages that name a sheet so."""
    out: dict[str, set[str]] = {}
    for (_sheet, lang), (tab, _) in _sheets().items():
        out.setdefault(fold(tab), set()).add(lang)
    return out


# --- columns ------------------------------------------------------------------------------------
@cache
def _columns() -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(r["sheet"], r["column"], r["lang"]): (r["header"], r["help"]) for r in _rows("columns.csv")}


@cache
def _bound_notes() -> dict[tuple[str, str, str], str]:
    return {(r["sheet"], r["column"], r["lang"]): r["note"] for r in _rows("bound_notes.csv")}


@dataclass(frozen=True)
class BoundNote(catalogue.Rendered):
    """Why a column's bounds are what they are, in the language of the finding that gives it
    (English, the contract's own words, where `bound_notes.csv` has no translation)."""

    sheet: str
    column: str
    english: str

    def render(self, lang: str = catalogue.DEFAULT_LANG) -> str:
        return _bound_notes().get((self.sheet, self.column, lang), self.english)


def header(sheet: str, column: str, lang: str) -> str:
    """The header of a column (the field name of a Field/Value sheet) in `lang`, with its unit."""
    return _columns()[(sheet, column, lang)][0]


catalogue.name_columns_with(header)  # a message naming a column names it by its header


def column_help(sheet: str, column: str, lang: str) -> str:
    return _columns()[(sheet, column, lang)][1]


@cache
def header_lookup(sheet: str) -> dict[str, str]:
    """fold(header) -> contract column of `sheet`: the column name itself (template 2025.1), and
    each language's header with and without its unit in brackets."""
    out = {fold(c.name): c.name for c in contract.sheet(sheet).columns}
    for (s, column, _lang), (text, _) in _columns().items():
        if s != sheet:
            continue
        for variant in (text, without_unit(text)):
            out.setdefault(fold(variant), column)
    return out


def without_unit(header: str) -> str:
    """A header without its unit or note in brackets at its end: 'Quantity (kWh)' -> 'Quantity'."""
    return _UNIT_SUFFIX.sub("", header)


# --- code labels --------------------------------------------------------------------------------
def _label_column(lang: str) -> str:
    return "label" if lang == DEFAULT_LANG else f"label_{lang}"


@cache
def _country_names(lang: str) -> dict[str, str]:
    """ISO alpha-3 -> country name in `lang` (pycountry's translations; English as given)."""
    rows = codelists.table("countries")
    if lang == DEFAULT_LANG:
        return {r["code"]: r["label"] for r in rows}
    try:
        import pycountry

        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        names = {r["code"]: tr.gettext(r["label"]) for r in rows}
        return names | {code: name for (language, code), name in _COUNTRY_NAME_FIXES.items() if language == lang}
    except (ImportError, OSError):
        return {r["code"]: r["label"] for r in rows}


# Misspellings in the translations pycountry ships: Åland is not Äland, Marfil takes no accent.
_COUNTRY_NAME_FIXES = {("es", "ALA"): "Islas Åland", ("es", "CIV"): "Costa de Marfil"}


@cache
def city_names() -> tuple[dict[str, str], ...]:
    """Cities' names in French and Spanish (and a few other spellings) with the name the airport
    reference gives them (`city_names.csv`: text, city, note): Genève, Geneva. Only for the hint
    of a city typed for an airport."""
    return tuple(_rows("city_names.csv"))


@cache
def country_aliases() -> tuple[dict[str, str], ...]:
    """Common and former country names, and UN names the drop-down's labels do not give
    (`country_names.csv`: code, text, note), for the hints of a country typed as a name."""
    return tuple(_rows("country_names.csv"))


@cache
def code_hints(codelist: str) -> dict[str, tuple[str, ...]]:
    """fold(what people call a code's thing) -> the codes it may mean, for the hint 'Did you mean
    ...?' of a value no code is read as (`code_hints.csv`: codelist, text, code, note; a text on
    two rows means either): 'Propane' is LPG; 'Gasoil' in a vehicle is road diesel or a boat's
    marine gas oil. Never read as a code (`code_lookup` drops them, a label's words included): a
    word can name more than one thing ('Gas', 'Solar')."""
    out: dict[str, tuple[str, ...]] = {}
    for row in _rows("code_hints.csv"):
        if row["codelist"] == codelist:
            key = fold(row["text"])  # 'Gas oil' and 'Gasoil' alike
            if row["code"] not in out.get(key, ()):
                out[key] = (*out.get(key, ()), row["code"])
    return out


@cache
def other_units() -> dict[str, dict[str, str]]:
    """fold(a unit the template does not take) -> its row of `other_units.csv` (unit, factor,
    symbol, one: the unit's name in the hint, note): 'gallons' is 3.785 L. For the hint of such a
    unit; never converted silently, as the focal point alone knows which gallon the bill meant."""
    return {fold(row["text"]): row for row in _rows("other_units.csv")}


def country_names(lang: str) -> dict[str, str]:
    """ISO alpha-3 -> country name in `lang` (as the country drop-down shows it, without its code)."""
    return dict(_country_names(lang))


def code_label(codelist: str, code: str, lang: str) -> str:
    """What a drop-down shows for `code`: its label in `lang` (English where not translated);
    for countries and airports 'Name (CODE)'."""
    if codelist == "countries":
        return f"{_country_names(lang).get(code, code)} ({code})"
    if codelist == "entities":
        return code
    for row in codelists.table(codelist):
        if row.get("code") == code:
            return row.get(_label_column(lang)) or row.get("label") or code
    return code


@dataclass(frozen=True)
class CodeLabels(catalogue.Rendered):
    """Codes of a list as its drop-down shows them, in the language of the message that lists
    them, each quoted: 'Oui', 'Non' in French (a code typed as it is is read too)."""

    codelist: str
    codes: tuple[str, ...]

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return ", ".join(catalogue.quoted(code_label(self.codelist, code, lang)) for code in self.codes)


@dataclass(frozen=True)
class MetroCity(catalogue.Rendered):
    """The city of an IATA metropolitan area code (`airport_metro_areas.csv`: LON, London), named
    in the language of the message: Londres in French and Spanish."""

    code: str

    def render(self, lang: str = DEFAULT_LANG) -> str:
        row = metro_areas()[self.code]
        return row.get("city" if lang == DEFAULT_LANG else f"city_{lang}") or row["city"]


@cache
def metro_areas() -> dict[str, dict[str, str]]:
    """IATA metropolitan area code -> its row of `airport_metro_areas.csv` (city, in each
    language, and its airports, space-separated): codes of all of a city's airports together,
    which a booking shows and a ticket's coupons never carry."""
    return {row["code"]: row for row in codelists.table("airport_metro_areas")}


@cache
def _synonyms() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in _rows("synonyms.csv"):
        out.setdefault(r["codelist"], {})[fold(r["text"])] = r["code"]
    return out


@cache
def code_lookup(codelist: str) -> dict[str, str]:
    """fold(code, label in any language, synonym) -> code, for an enumeration's code list."""
    out: dict[str, str] = {}
    rows = codelists.table(codelist)
    for row in rows:
        if "code" not in row:
            continue
        for lang in LANGS:
            label = row.get(_label_column(lang))
            if label:
                for variant in (label, strip_note(label), *strip_note(label).split(" / ")):
                    out.setdefault(fold(variant), row["code"])  # 'Diésel / gasóleo': either word
    out.update(_synonyms().get(codelist, {}))
    for key in code_hints(codelist):  # words that may mean two things: hinted, never read
        out.pop(key, None)  # 'gas oil', of the label 'Marine diesel / gas oil'
    for row in rows:  # the codes themselves win over any label
        if "code" in row:
            out[fold(row["code"])] = row["code"]
    return out


def strip_note(text: str) -> str:
    """A label without its note in brackets: 'Measured (meters, invoices)' -> 'Measured'. Only for
    the labels themselves (`code_lookup`): a note typed after a value is read by `split_note` and
    `is_label_note`, as dropping any note silently lost 'Litre (thousands)'."""
    return _UNIT_SUFFIX.sub("", text)


# what parts a label's note: 'meters, invoices, booking records', 'extrapolated or modelled',
# 'extrapolation ou modélisation', 'extrapolación o modelización', 'purchased / generated'
_NOTE_PARTS = re.compile(r"\s*(?:[/,;]|\b(?:or|ou|o|and|et|y)\b)\s*", re.IGNORECASE)
_NOTE = re.compile(r"^(.*?\S)\s*\(([^()]*)\)\s*$", re.DOTALL)


def split_note(text: str) -> tuple[str, str] | None:
    """(text before, note) of a text ending with a note in brackets: 'Litre (thousands)' ->
    ('Litre', 'thousands'); None without one."""
    m = _NOTE.match(text.strip())
    return (m.group(1), m.group(2).strip()) if m else None


@cache
def _label_notes(codelist: str) -> dict[str, frozenset[str]]:
    """code -> the notes its labels carry, folded, in any language, whole and each part of one
    ('Measured (meters, invoices, booking records)': 'meters,invoices,bookingrecords', 'meters',
    'invoices', 'bookingrecords'; 'Estimated (extrapolated or modelled)': 'extrapolated'...)."""
    out: dict[str, set[str]] = {}
    for row in codelists.table(codelist):
        if "code" not in row:
            continue
        for lang in LANGS:
            split = split_note(row.get(_label_column(lang)) or "")
            if split:
                parts = (split[1], *_NOTE_PARTS.split(split[1]))
                out.setdefault(row["code"], set()).update(fold(part) for part in parts if part.strip())
    return {code: frozenset(notes) for code, notes in out.items()}


def is_label_note(codelist: str, code: str, note: str) -> bool:
    """Whether a note in brackets typed after a value of `code` is one the drop-down's labels
    carry, or names the same code: 'Électricité (purchased or generated)', 'Kilowatt-hour (kWh)',
    'Litre (L)' (nothing is lost when it is dropped)."""
    key = fold(note)
    return key in _label_notes(codelist).get(code, frozenset()) or code_lookup(codelist).get(key) == code


@cache
def countries_named() -> dict[str, frozenset[str]]:
    """fold(a country's name in English, French or Spanish) -> the ISO alpha-3 codes so named."""
    out: dict[str, set[str]] = {}
    for lang in LANGS:
        for code, name in _country_names(lang).items():
            out.setdefault(fold(name), set()).add(code)
    return {name: frozenset(codes) for name, codes in out.items()}


def code_in_brackets(value: str) -> str | None:
    """'Kenya (KEN)' -> 'KEN'; None when the text does not end with a code in brackets."""
    m = _TRAILING_CODE.match(value)
    return m.group(2).upper() if m else None


def name_before_code(value: str) -> str:
    """'Kenya (KEN)' -> 'Kenya'; "" when the text does not end with a code in brackets."""
    m = _TRAILING_CODE.match(value)
    return m.group(1).strip() if m else ""


# --- texts --------------------------------------------------------------------------------------
@cache
def _texts() -> dict[tuple[str, str], str]:
    return {(r["key"], r["lang"]): r["text"] for r in _rows("text.csv")}


def text(key: str, lang: str, **params: Any) -> str:
    """A string of the template or the reports in `lang` (English where not translated)."""
    body = _texts().get((key, lang)) or _texts()[(key, DEFAULT_LANG)]
    return body.format(**params) if params else body


@cache
def text_keys() -> frozenset[str]:
    return frozenset(key for key, _ in _texts())


def text_or(key: str, lang: str, fallback: str) -> str:
    """`text(key, lang)` where the table has `key`, else `fallback` (a unit or a figure's name
    the table does not say: shown as stored)."""
    return text(key, lang) if key in text_keys() else fallback
