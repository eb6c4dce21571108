"""Cells read as people type them, in the workbook's language.

Normalise hands each sheet's frame here before validation; what can be read without doubt
becomes the contract's value, the rest stays as typed for the validator to report:

- a code, a drop-down label in any of the three languages or a known synonym -> the code
  (`Gaz naturel`, `Natural Gas`, `natural gas` -> natural_gas; `ISO 14001` -> iso14001;
  `m³` -> m3; `Oui`, `Y`, `Sí` -> yes);
- a country or airport chosen as 'Name (CODE)' -> CODE;
- a number typed as text, by the workbook's language: `1 200`, `1.234,5` and `1.234,567`
  (fr, es) or `1,234.5` and `1,234.567` (en), `2.450.000`: a number with both separators is
  read in any language, the last one being the decimal mark; a single separator before exactly
  three digits (`1.234`, `1,234`) can be a decimal or a thousands separator: read by the
  language, with an `ambiguous-number` warning; a decimal comma in scientific notation
  (`1,2E6`) in French and Spanish, as `1,2` is read;
- a percentage: `85%` typed in a percent column is 85, and 0.85 in a cell formatted as a
  percentage (what people see as 85 %) is 85; a finding on such a cell quotes both what it
  holds and the percentage read (`PercentCell`: "80 (read as 8000 % ...)");
- a date typed as `dd/mm/yyyy` (or with dots or hyphens): read day first, with an
  `ambiguous-date` warning when day and month could be swapped, and one when only month first
  reads it (`11/13/2024`); a 0 in a date cell, Excel's empty date, shown as 0 that is no date;
- a code, a number or a date holding format characters that show nothing (a zero-width space,
  a soft hyphen, a byte-order mark, a left-to-right mark: Unicode Cf), pasted in from a web page,
  an e-mail or a PDF: read without them, without a word (`KEN\u200b` -> KEN); a minus sign typed
  as another dash (`\u22121200`) is one, and -0 is 0; in a column of whole numbers, `1.250` is
  1250, with an `ambiguous-number` warning.

What was typed is kept (`typed_as`) so that a finding on such a cell still quotes it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline import catalogue, codelists
from pipeline.cells import is_number_text, without_format_characters
from pipeline.intake.findings import Finding, finding
from schemas import i18n
from schemas.contract import ColumnSpec, SheetSpec

_GROUP_MARKS = " \u00a0\u202f\u2007\u2009'’"  # what groups thousands besides '.' and ','
_GROUP_MARK = re.compile(f"[{_GROUP_MARKS}]")
# 1 234 567 / 1'234,5: a head of 1-3 digits, then groups of exactly 3 after one mark, the same
# throughout (checked), then an ungrouped decimal part
_SPACED = re.compile(f"([+-]?)([1-9]\\d{{0,2}})((?:([{_GROUP_MARKS}])\\d{{3}})+)([.,]\\d+)?")
_SIGN_SPACE = re.compile(r"^([+-])\s+")
_SPACE_RUN = re.compile("[ \u00a0\u202f\u2007\u2009]+")
_INTEGER = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"([+-]?)(\d{1,3})((?:([.,])\d{3})+)")  # 1.234 / 1,234,567 / 2.450.000
_EN_STYLE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")  # 1,234.5
_EU_STYLE = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+")  # 1.234,5
_DECIMAL = re.compile(r"([+-]?\d*)([.,])(\d+)")  # 1.5, 1,5, .5
_EXPONENT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")
_PERCENT = re.compile(r"(.*?)\s*%\s*")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
# A date with its month in words, as people write one in English, French or Spanish: '15 mars
# 2025', '1er mars 2025', '15 de marzo de 2025', '15-Mar-2025', 'March 15, 2025'. A month's name
# says which number is the day, so such a date is never ambiguous.
_DAY_MONTH_YEAR = re.compile(
    r"(\d{1,2})(?:er|st|nd|rd|th|º|°)?\.?[\s\-/]*(?:de\s+)?([^\W\d_]+)\.?[\s\-/,]*(?:de\s+|del\s+)?(\d{4})"
)
_MONTH_DAY_YEAR = re.compile(r"([^\W\d_]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_MONTH_NAMES = (  # each month's names and usual abbreviations in English, French and Spanish
    "january jan janvier janv enero ene",
    "february feb février févr fév febrero",
    "march mar mars marzo",
    "april apr avril avr abril abr",
    "may mai mayo",
    "june jun juin junio",
    "july jul juillet juil julio",
    "august aug août aout agosto ago",
    "september sep sept septembre septiembre setiembre set",
    "october oct octobre octubre",
    "november nov novembre noviembre",
    "december dec décembre déc diciembre dic",
)
DECIMAL_MARK = {"en": ".", "fr": ",", "es": ","}
# What reads as a minus sign besides '-': the minus sign (Word, PDFs), the en dash typed or
# autocorrected for one, and the small and full-width hyphen-minus; not the em dash (a nil in a
# table) nor the hyphens, which no one writes for a minus
_MINUS_SIGNS = str.maketrans(dict.fromkeys("\u2212\u2013\ufe63\uff0d", "-"))
# (column, frame index) -> (cell, Excel row, header as written)
LocateFn = Callable[[str, object], tuple[str, "int | None", str]]


@dataclass
class Read:
    """What reading a sheet's columns gave: the columns, what was typed where a value was read, warnings."""

    columns: dict[str, list[object]]  # contract column -> its values, row by row
    tab: str = ""
    file: str = ""  # the workbook's name, as its findings give it
    typed_as: dict[tuple[str, object], object] = field(default_factory=dict)  # (column, index) -> as typed
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class PercentCell(catalogue.Rendered):
    """What a cell formatted as a percentage holds, as a finding on it quotes it: the number the
    cell holds and the percentage it is read as (80 in such a cell shows, and is read, as
    8000 %), so that 'at most 100; found ...' does not contradict itself. Kept as the cell's
    `typed_as`; shown in `lang`, the workbook's language, which its findings are written in."""

    held: float
    read: float
    lang: str

    def render(self, lang: str | None = None) -> str:
        lang = lang or self.lang
        percent = catalogue.number_text(self.read, lang, grouped=False)
        return catalogue.text(
            "value.percent-cell", lang, held=catalogue.CellNumber(self.held).render(lang), percent=percent
        )

    def __str__(self) -> str:
        return self.render()

    def cell_value(self) -> object:
        return self.held  # the value column gives what the cell holds; the message says how it was read


class NotANumber(str):
    """A text the reader refuses as a number although the checks' looser reading would join its
    digits (`pipeline.cells.is_number_text` drops every space: '12 34' -> 1234): the cell holds
    it as this type, which the checks never read as a number (they read `str` cells only), so it
    is reported as the 'expected a number' type error its typed text (`typed_as`) is quoted in."""

    __slots__ = ()


def number_from_text(text: str, lang: str, whole: bool = False) -> tuple[float | None, bool]:
    """(value, ambiguous) of a number typed as text; (None, False) when it is no number.

    Spaces (no-break and narrow ones too) and apostrophes group thousands only in valid groups
    (`_SPACED`): '1 234 567', '1'234,5'; '12 34', '1 2345' or '1,234 5' are no number, not
    the digits joined (which read '1,234 5' as 1.2345). The format characters a cell shows as
    nothing are dropped ('1200\u200b' is 1200), a minus sign typed as another dash ('\u22121200')
    is one (`_MINUS_SIGNS`), and -0 is 0. `whole`: for a column of whole numbers, where a single
    separator before exactly three digits ('1.250', '1,250') can only separate thousands: read so
    in any language, still ambiguous (said)."""
    if not text.isascii():
        text = without_format_characters(text).translate(_MINUS_SIGNS)
    value, ambiguous = _number(text, lang, whole)
    return (None if value is None else value + 0.0), ambiguous  # -0.0 + 0.0 is 0.0


def _number(text: str, lang: str, whole: bool) -> tuple[float | None, bool]:
    t = _SIGN_SPACE.sub(r"\1", text.strip().strip("'’").strip())
    if not t:
        return None, False
    if _GROUP_MARK.search(t):
        # the spaces are one mark, however typed: a run of them, a no-break space beside a plain
        # one ('1 234\u00a0567', a number copied from a French workbook and retyped in part)
        t = _SPACE_RUN.sub(" ", t).replace("’", "'")
        m = _SPACED.fullmatch(t)
        if not m or len(set(m.group(3)[::4])) != 1:  # one mark throughout
            return None, False
        t = m.group(1) + m.group(2) + m.group(3).replace(m.group(4), "") + (m.group(5) or "")
    if _INTEGER.fullmatch(t):
        return float(t), False
    if (m := _GROUPED.fullmatch(t)) and len(set(m.group(3)[::4])) == 1:  # one separator throughout
        return _grouped(m, lang, whole)
    if _EN_STYLE.fullmatch(t):
        return float(t.replace(",", "")), False
    if _EU_STYLE.fullmatch(t):
        return float(t.replace(".", "").replace(",", ".")), False
    if m := _DECIMAL.fullmatch(t):
        return float(f"{m.group(1) or '0'}.{m.group(3)}"), False
    return _exponent(t, lang), False


def _exponent(t: str, lang: str) -> float | None:
    """A number in scientific notation ('1.2E6'; '1,2E6' where the language's decimal mark is a
    comma, as Excel in French or Spanish shows a number too wide for its column), else None."""
    if DECIMAL_MARK[lang] == ",":
        t = t.replace(",", ".", 1)
    return float(t) if _EXPONENT.fullmatch(t) else None


def _grouped(m: re.Match[str], lang: str, whole: bool = False) -> tuple[float | None, bool]:
    """A number written as digits in groups of three after one separator or more, the same one
    throughout (`_GROUPED`; a number with both is `_EN_STYLE` or `_EU_STYLE`): thousands with two
    groups or more; with one, thousands or a decimal part by the language (ambiguous), or
    thousands where the column takes `whole` numbers only (still ambiguous), but a decimal part
    when the head is 0, as no number's thousands start with 0."""
    sign, head, groups, sep = m.group(1), m.group(2), m.group(3), m.group(4)
    if head.startswith("0"):  # '0,250' is a quarter, in any language; '0,250,000' no number
        return (float(sign + head + "." + groups[1:]), False) if len(groups) == 4 else (None, False)
    if len(groups) > 4:  # two or more groups: thousands separators, whatever the language
        return float(sign + head + groups.replace(sep, "")), False
    decimal = sep == DECIMAL_MARK[lang] and not whole
    value = float(sign + head + "." + groups[1:]) if decimal else float(sign + head + groups[1:])
    return value, True


def date_from_text(text: str) -> tuple[dt.date | None, str]:
    """(date, doubt) of 'dd/mm/yyyy': day first; 'mm/dd' only where the day cannot be first. The
    doubt is "" (one reading), "day-month" (day and month could be swapped: read day first) or
    "month-first" (read month first, against the contract: whoever typed it writes dates the US
    way, and their other dates may have been read the wrong way round)."""
    plain = without_format_characters(text).strip()
    m = _DMY.fullmatch(plain)
    if not m:
        return _date_in_words(plain), ""
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    day, month = (a, b) if a > 12 or b <= 12 else (b, a)
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None, ""
    if a <= 12 and b <= 12 and a != b:
        return value, "day-month"
    return value, "month-first" if (day, month) == (b, a) and a != b else ""


@functools.cache
def _months() -> dict[str, int]:
    """fold(a month's name or abbreviation) -> its number."""
    return {i18n.fold(name): n for n, names in enumerate(_MONTH_NAMES, start=1) for name in names.split()}


def _date_in_words(text: str) -> dt.date | None:
    """The date of '15 mars 2025', '15 de marzo de 2025' or 'March 15, 2025'; None for any other text."""
    if len(text) > 40 or not any(ch.isalpha() for ch in text):
        return None
    for pattern, day_at, month_at in ((_DAY_MONTH_YEAR, 1, 2), (_MONTH_DAY_YEAR, 2, 1)):
        m = pattern.fullmatch(text)
        month = _months().get(i18n.fold(m.group(month_at))) if m else None
        if m and month:
            try:
                return dt.date(int(m.group(3)), month, int(m.group(day_at)))
            except ValueError:  # 31 February
                return None
    return None


def read_sheet(
    columns: dict[str, list[object]],
    index: Sequence[object],
    spec: SheetSpec,
    lang: str,
    locate: LocateFn,
    percent_cells: frozenset[str] = frozenset(),
    tab: str = "",
    file_name: str = "",
) -> Read:
    """Read every column of a sheet (its raw cell values, row by row, under the frame index
    `index`) as people type them; `tab` is the sheet's name as written and `file_name` the
    workbook's, for the findings. The columns given are left as they are: a column with values
    read is a new list."""
    out = Read(dict(columns), tab=tab or spec.name, file=file_name)
    for col in spec.columns:
        values = out.columns.get(col.name)
        if values is None:
            continue
        changes: _Changes = []
        if col.dtype in ("enum", "yesno") and col.codelist:
            changes = _codes(out, spec, col, values, index, locate)
        elif col.dtype in ("iso3", "iata"):
            changes = _references(out, col, values, index, locate)
        elif col.dtype == "entity":
            changes = _changed(values, _shown_text)  # 'UNEP\u200b' is UNEP
        elif col.dtype in ("number", "integer"):
            changes = _numbers(out, col, values, index, lang, locate, percent_cells)
        elif col.dtype == "date":
            changes = _dates(out, col, values, index, lang, locate)
        _apply(out, col, changes, index)
    return out


_Changes = list[tuple[int, object, object]]  # (position in the column, as typed, as read)


def _shown_text(typed: str) -> str | None:
    """A text without the format characters it holds, which show nothing; None without any."""
    text = without_format_characters(typed)
    return text if text != typed else None


def _text_cells(values: list[object]) -> list[tuple[int, str]]:
    if not _has_text(values):
        return []
    return [(position, v) for position, v in enumerate(values) if isinstance(v, str)]


def _has_text(values: list[object]) -> bool:
    """Whether any cell holds text (one pass over the cells' types in compiled code)."""
    return any(issubclass(kind, str) for kind in set(map(type, values)))


def _changed(values: list[object], read_text: Callable[[str], object]) -> _Changes:
    """(position, as typed, as read) of every cell holding a text that `read_text` reads as
    something else (None: left as typed); each distinct text is read once (a column repeats a
    few texts thousands of times), and a column whose texts all stay as typed costs no pass over
    its cells."""
    read: dict[object, object] = {}
    for v in set(values):
        if isinstance(v, str) and (value := read_text(v)) is not None:
            read[v] = value
    if not read:
        return []
    get = read.get  # only texts are keys: no value of another type equals one
    return [(position, typed, value) for position, typed in enumerate(values) if (value := get(typed)) is not None]


def _apply(out: Read, col: ColumnSpec, changes: _Changes, index: Sequence[object]) -> None:
    """Put the values read into a copy of the column (the column given is left as it is)."""
    if not changes:
        return
    column = list(out.columns[col.name])
    typed_as = out.typed_as
    name = col.name
    for position, typed, value in changes:
        column[position] = value
        typed_as[(name, index[position])] = typed
    out.columns[name] = column


def _codes(
    out: Read, spec: SheetSpec, col: ColumnSpec, values: list[object], index: Sequence[object], locate: LocateFn
) -> _Changes:
    """Codes, labels in any language and synonyms read as their code. A value followed by a note
    in brackets ('Yes (partially)') is read as the value, but a note is only dropped without a
    word when the drop-down's own label carries it or it names the same code ('Measured (meters,
    invoices, booking records)', 'Kilowatt-hour (kWh)'): any other note is a finding
    (`_note_finding`)."""
    assert col.codelist
    codelist = col.codelist
    lookup = i18n.code_lookup(codelist)
    notes: dict[str, tuple[str, str]] = {}  # text -> (code read, note not kept)

    def code(typed: str) -> str | None:
        text = without_format_characters(typed)  # 'kWh\u200e' is kWh (`i18n.fold` drops them too)
        found = lookup.get(i18n.fold(text))
        if found is None and (split := i18n.split_note(text)):
            head, note = split
            if (found := lookup.get(i18n.fold(head))) is not None and not _note_kept(col, found, note):
                notes[typed] = (found, note)
        return found if found != typed else None

    changes = _changed(values, code)
    for position, typed, _ in changes:
        if isinstance(typed, str) and typed in notes:
            code_read, note = notes[typed]
            where = _where(out, col, index[position], typed, locate)
            out.findings.append(_note_finding(spec, col, code_read, note, where))
    if col.dtype == "yesno" and bool in set(map(type, values)):
        # TRUE/FALSE typed in Excel or LibreOffice (VRAI, VERDADERO...), a Google Sheets checkbox:
        # a boolean cell, read as yes or no. Only a boolean: 1 and 0 stay what they are (an error)
        answers: _Changes = [
            (position, typed, YES_NO[typed]) for position, typed in enumerate(values) if type(typed) is bool
        ]
        changes = sorted(changes + answers, key=lambda change: change[0])
    return changes


YES_NO: dict[object, str] = {True: "yes", False: "no"}

# A note that scales the figures, read whole (after its digits' group marks are dropped, its
# accents and case folded): an optional 'in', 'en', 'x' or '×', then a scale ('thousands', "'000",
# '1000', 'milliers', 'miles', 'millones', 'mio', 'bn', 'k'...), then anything ('of litres').
_SCALE = {
    **dict.fromkeys(("thousand", "millier", "mille", "mil", "millar", "k"), 1e3),
    **dict.fromkeys(("million", "millon", "mio", "mln"), 1e6),
    **dict.fromkeys(("billion", "milliard", "bn"), 1e9),
}
_PLURAL = {"thousands", "milliers", "miles", "millares", "millions", "millones", "billions", "milliards"}
_SCALE_NOTE = re.compile(
    r"(?P<prefix>(?:in|en|x|×|\*)\s*)?"
    r"(?P<scale>'0{3}(?:'?s)?|0{3}'?s|1(?:0{9}|0{6}|0{3})|[a-z]+)"
    r"(?P<tail>\s+\S.*)?",
    re.DOTALL,
)
_DIGIT_GROUP = re.compile(r"(?<=\d)[\s\u00a0\u202f'’,.](?=\d{3}(?!\d))")
# the columns a scale in a note says nothing about: a note there is a comment ('Economy (K)', a
# fare class; 'No (one way, 1 000 km)'; 'Estimated (2k run)'; EMS 'Yes (1000 staff trained)')
_SCALELESS = frozenset({"yes_no", "data_quality", "cabin_class", "ems_status", "ems_standard"})


def note_factor(note: str, unit: bool = True) -> float | None:
    """The factor a note in brackets after a value of a unit column (`unit`) or of an activity
    column scales the figures of its row by, read whole: 'thousands', "'000", 'x1,000', 'in
    thousands of litres', 'k' (a unit's only): 1000; 'millones', 'mio': 1,000,000; None for any
    other note. A scale followed by a unit defines a unit, after a unit ('MWh (1000 kWh)',
    'm3 (thousand litres)'), and scales the figures after an activity ('Diesel (thousand
    litres)'); a plural scale ('thousands of litres'), "'000" or a leading 'x' or 'in' scale
    them anywhere."""
    text = " ".join(_DIGIT_GROUP.sub("", _plain(note).replace("’", "'")).split())
    m = _SCALE_NOTE.fullmatch(text)
    if m is None:
        return None
    scale = m.group("scale")
    if scale in _PLURAL:
        factor = _SCALE[scale.removesuffix("s").removesuffix("e") if scale != "miles" else "mil"]
    elif scale in _SCALE:
        factor = _SCALE[scale]
    elif scale[0] in "'01":
        factor = 10.0 ** scale.count("0")
    else:
        return None
    if scale == "k" and not unit:
        return None  # 'Diesel (K)': no scale anyone writes after an activity
    if m.group("tail") and unit and not (m.group("prefix") or scale in _PLURAL or scale[0] in "'0"):
        return None  # 'MWh (1000 kWh)', 'Tonne (1 000 kg)', 'm3 (thousand litres)': a definition
    return factor


def _note_kept(col: ColumnSpec, code: str, note: str) -> bool:
    """Whether nothing is lost when the note in brackets after a value of `code` is dropped: a
    label of the code carries it, or it names the same code (`i18n.is_label_note`); after a unit,
    it names the same unit in any spelling of any unit list ('m³ (cubic metres)', 'kWh
    (kilowatt hours)', 't (metric tonnes)', 'Tonne (metric)' on Waste: `_same_unit`)."""
    assert col.codelist
    return i18n.is_label_note(col.codelist, code, note) or (_is_unit(col) and _same_unit(code, note))


@functools.cache
def _unit_lists() -> tuple[str, ...]:
    """Every code list of units: the unit columns' lists and the (type, unit) pairs tables."""
    from schemas.contract import sheets

    lists = [c.codelist for s in sheets() for c in s.columns if c.codelist and _is_unit(c)]
    return tuple(dict.fromkeys([*lists, *codelists.pairs_tables().values()]))


_METRIC = re.compile(r"\bm[eé]tri(?:c|que|ca|co)s?\b")


def _same_unit(code: str, note: str) -> bool:
    """Whether `note` names the unit `code` in a spelling of any unit list, read with 'metric'
    dropped, 'meter' as 'metre' and each word's plural 's' dropped ('cubic meters', 'metric
    tons', 'kilowatt hours')."""
    words = _METRIC.sub(" ", note.casefold()).replace("meter", "metre").split()
    variants = {note, " ".join(words), " ".join(w[:-1] if len(w) > 2 and w.endswith("s") else w for w in words)}
    for name in _unit_lists():
        lookup = i18n.code_lookup(name)
        if i18n.is_label_note(name, code, note) or any(lookup.get(i18n.fold(v)) == code for v in variants if v):
            return True
    return not words and code == "tonne"  # 'Tonne (metric)'


def _where(out: Read, col: ColumnSpec, at: object, typed: object, locate: LocateFn) -> dict[str, Any]:
    """The place of a finding on the value `typed` of column `col` at index `at`: its file, sheet,
    cell, row, column header as written and value, as `finding` takes them."""
    cell, row, header = locate(col.name, at)
    return {"file": out.file, "sheet": out.tab, "cell": cell, "row": row, "column": header, "value": typed}


def _is_unit(col: ColumnSpec) -> bool:
    """A unit column: a note after a unit can change the quantity ('Litre (US gallons)')."""
    return col.codelist == "unit" or str(col.codelist).endswith("_unit")


@dataclass(frozen=True)
class _ColumnName(catalogue.Rendered):
    """A column (or field) named by its header in the language of the message."""

    sheet: str
    column: str

    def render(self, lang: str = catalogue.DEFAULT_LANG) -> str:
        return catalogue.column_named(self.sheet, self.column, lang)


@dataclass(frozen=True)
class _TabName(catalogue.Rendered):
    sheet: str

    def render(self, lang: str = catalogue.DEFAULT_LANG) -> str:
        return catalogue.quoted(i18n.sheet_name(self.sheet, lang))


def _note_finding(spec: SheetSpec, col: ColumnSpec, code: str, note: str, where: dict[str, Any]) -> Finding:
    """The finding on a value read with a note in brackets its label does not carry (the decision
    is in docs/decisions.md): an error where dropping the note could change a figure, a note
    that scales the figures ('Litre (thousands)': 'not-in-codelist.note-multiplier'), one naming
    another code of the list ('Economy (business)', 'Kilowatt-hour (MWh)') or any other note on a
    unit ('Litre (US gallons)'); a warning on any other value ('Yes (partially)', read as yes):
    the note, not kept, belongs in the row's comment."""
    assert col.codelist
    codelist = col.codelist
    read = i18n.CodeLabels(codelist, (code,))
    shown_note = catalogue.quoted(f"({note})")
    if codelist not in _SCALELESS and (factor := note_factor(note, _is_unit(col))) is not None:
        return finding(
            "not-in-codelist.note-multiplier", note=shown_note, factor=catalogue.Number(factor), read=read, **where
        )
    other = i18n.code_lookup(codelist).get(i18n.fold(note))
    if other is not None and other != code:
        other_read = i18n.CodeLabels(codelist, (other,))
        return finding("not-in-codelist.note-other-code", note=shown_note, read=read, other=other_read, **where)
    comment = _ColumnName(spec.name, "comment")
    if _is_unit(col):
        return finding("not-in-codelist.note-unit", note=shown_note, read=read, comment=comment, **where)
    if any(c.name == "comment" for c in spec.columns):
        return finding("dropped-note.comment", note=shown_note, read=read, comment=comment, **where)
    entity = _ColumnName("Entity", "comment")
    return finding(
        "dropped-note.entity-comment", note=shown_note, read=read, comment=entity, entity=_TabName("Entity"), **where
    )


@functools.cache
def valid_references(dtype: str) -> frozenset[str]:
    """The codes a country (`iso3`) or airport (`iata`) column accepts."""
    return frozenset(codelists.codes("countries" if dtype == "iso3" else "airports"))


def _references(
    out: Read, col: ColumnSpec, values: list[object], index: Sequence[object], locate: LocateFn
) -> _Changes:
    """'Name (CODE)' read as CODE; but where, for a country, the name is a known country name of
    other codes only and not a part of the coded country's name ('Kenya (UGA)', but not 'Congo
    (COD)'), an error naming both (`_contradiction`): the code may be the slip as well as the name.
    An airport's city is not checked so: the airport list names many main airports by a suburb
    ('Istanbul (IST)' is listed under Arnavutköy, Venice's under Tessera)."""
    valid = valid_references(col.dtype)
    said: dict[str, tuple[str, tuple[str, ...]]] = {}  # text -> (code, codes of the name)

    def code(typed: str) -> str | None:
        text = without_format_characters(typed)  # 'KEN\u200b' is KEN
        found = i18n.code_in_brackets(text)
        if found not in valid:
            return _shown_text(typed)  # checked as what shows: 'KEN'; 'XYZ', 'Kenya' (with a hint)
        if col.dtype == "iso3":
            name = i18n.name_before_code(text)
            named = tuple(sorted(i18n.countries_named().get(i18n.fold(name), ())))
            if named and found not in named and _contradicts(name, found):
                said[typed] = (found, named)
        return found

    changes = _changed(values, code)
    for position, typed, _ in changes:
        if isinstance(typed, str) and typed in said:
            found, named = said[typed]
            out.findings.append(
                finding(
                    "not-in-codelist.name-code",
                    named=i18n.CodeLabels("countries", named),
                    coded=i18n.CodeLabels("countries", (found,)),
                    **_where(out, col, index[position], typed, locate),
                )
            )
    return changes


def _contradicts(name: str, code: str) -> bool:
    """Whether a country's name contradicts the country code after it: unless every word of the
    name is a word of the coded country's name in English, French or Spanish ('Congo (COD)',
    'Sudan (SSD)', 'Guinea (GNB)' name a part of it)."""
    words = set(_words(name))
    return not any(words <= set(_words(i18n.country_names(lang).get(code, ""))) for lang in i18n.LANGS)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _plain(text))


def _plain(text: str) -> str:
    """`text` with its accents dropped and its case folded ('Côte' -> 'cote'), its spaces kept."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).casefold()


def _numbers(
    out: Read,
    col: ColumnSpec,
    values: list[object],
    index: Sequence[object],
    lang: str,
    locate: LocateFn,
    percent_cells: frozenset[str],
) -> _Changes:
    is_percent = col.unit == "percent"
    if is_percent:
        _fraction_findings(out, col, values, index, lang, locate, percent_cells)
    by_percent = is_percent and bool(percent_cells)
    if not by_percent and not _has_text(values):
        return []  # numbers as stored: nothing to read
    changes: _Changes = []
    for position, typed in enumerate(values):
        if by_percent and isinstance(typed, (int, float)) and not isinstance(typed, bool):
            cell = locate(col.name, index[position])[0]
            if cell in percent_cells:  # 0.85 shown as 85 %
                percent = round(float(typed) * 100, 10)
                changes.append((position, PercentCell(typed, percent, lang), percent))
            continue
        if (
            isinstance(typed, str)
            and (read := _number_text(out, col, index[position], typed, lang, locate)) is not None
        ):
            changes.append((position, typed, read))
    return changes


def _number_text(out: Read, col: ColumnSpec, at: object, typed: str, lang: str, locate: LocateFn) -> object:
    """What a text in a number column is read as: its number (with an `ambiguous-number` warning
    where the language decided), `NotANumber` where the checks would join digits the reader
    refuses ('12 34'), None where it stays as typed. In a column of whole numbers, '1.250' is
    1250 in any language (said: `_ambiguous`), but '1.5' stays a decimal, which the checks refuse."""
    text = without_format_characters(typed)
    if col.unit == "percent" and (m := _PERCENT.fullmatch(text)):
        text = m.group(1)
    whole = col.dtype == "integer"
    value, ambiguous = number_from_text(text, lang, whole)
    if value is None:
        return NotANumber(typed) if is_number_text(typed) else None
    if ambiguous:
        out.findings.append(_ambiguous(out, col, at, typed, text, value, lang, locate, whole))
    return value


def _ambiguous(
    out: Read,
    col: ColumnSpec,
    at: object,
    typed: str,
    text: str,
    value: float,
    lang: str,
    locate: LocateFn,
    whole: bool = False,
) -> Finding:
    """The `ambiguous-number` warning on a number read by the workbook's language, or, in a column
    of whole numbers, as thousands (`ambiguous-number.whole`: the decimal reading is no whole number)."""
    other_lang = "en" if DECIMAL_MARK[lang] == "," else "fr"
    if whole:
        readings = (number_from_text(text, lang)[0], number_from_text(text, other_lang)[0])
        return finding(
            "ambiguous-number.whole",
            read=_shown_number(value, lang),
            other=_shown_number(next((r for r in readings if r != value), None), lang),
            mark=next((ch for ch in text if ch in ".,"), ""),
            **_where(out, col, at, typed, locate),
        )
    other, _ = number_from_text(text, other_lang)
    return finding(
        "ambiguous-number.separator",
        read=_shown_number(value, lang),
        other=_shown_number(other, lang),
        mark=DECIMAL_MARK[lang],
        language=i18n.text(f"language.{lang}", lang),
        **_where(out, col, at, typed, locate),
    )


def _fraction_findings(
    out: Read,
    col: ColumnSpec,
    values: list[object],
    index: Sequence[object],
    lang: str,
    locate: LocateFn,
    percent_cells: frozenset[str],
) -> None:
    """A warning on a share in percent above 0 and below 1 (`implausible-value.percent-fraction`):
    85 % typed as 0.85, or typed as 85 % in a cell whose number format kept the fraction
    (LibreOffice keeps the template's 0.0 and stores 0.85), reads as 0.85 %, which a coverage
    rarely is. Not on a cell formatted as a percentage (read as its percentage) nor on text typed
    with its percent sign ('0.5 %'): those say they are percentages. 1 is left alone."""
    for position, typed in enumerate(values):
        if isinstance(typed, bool) or not isinstance(typed, (int, float, str)):
            continue
        if isinstance(typed, str):
            if "%" in typed:
                continue
            share, _ = number_from_text(typed, lang)
        else:
            share = float(typed)
        if share is None or not 0 < share < 1:
            continue
        where = _where(out, col, index[position], typed, locate)
        if where["cell"] in percent_cells:
            continue
        out.findings.append(
            finding(
                "implausible-value.percent-fraction",
                share=catalogue.CellNumber(share),
                percent=catalogue.Number(round(share * 100, 10)),
                **where,
            )
        )


@dataclass(frozen=True)
class EmptyDate(catalogue.Rendered):
    """What a date cell holding the number 0 shows as in a finding: calamine reads it as the time
    00:00:00, and Excel shows it as the date 00/01/1900, Excel's empty date: the cell holds 0 and
    no date. Kept as the cell's `typed_as` (shown in `lang`, the workbook's language); the
    column holds 0, which the checks refuse as no date."""

    lang: str

    def render(self, lang: str | None = None) -> str:
        return catalogue.text("value.empty-date", lang or self.lang)

    def __str__(self) -> str:
        return self.render()

    def cell_value(self) -> object:
        return 0


_ZERO_TIMES = (dt.time(0, 0), dt.timedelta(0))  # a 0 in a cell formatted as a date (or a duration)


def _dates(
    out: Read, col: ColumnSpec, values: list[object], index: Sequence[object], lang: str, locate: LocateFn
) -> _Changes:
    """Dates typed as 'dd/mm/yyyy' read (`date_from_text`); a text holding format characters, which
    show nothing, read as the text without them (which the checks read as a date, or refuse); a
    0 in a date cell (read as the time 00:00:00) as 0, shown as Excel's empty date (`EmptyDate`)."""
    changes: _Changes = []
    kinds = set(map(type, values))
    if dt.time in kinds or dt.timedelta in kinds:
        changes = [
            (position, EmptyDate(lang), 0)
            for position, typed in enumerate(values)
            if type(typed) in (dt.time, dt.timedelta) and typed in _ZERO_TIMES
        ]
    for position, typed in _text_cells(values):
        value, doubt = date_from_text(typed)
        if value is None:
            if (plain := _shown_text(typed)) is not None:  # '2025-03-15\u200b': checked as what shows
                changes.append((position, typed, plain))
            continue
        changes.append((position, typed, value))
        if doubt:
            out.findings.append(
                finding(
                    f"ambiguous-date.{doubt}",
                    read=value.isoformat(),
                    month=value.day,  # month-first: the number that cannot be a month
                    **_where(out, col, index[position], typed, locate),
                )
            )
    return sorted(changes, key=lambda change: change[0])


def _shown_number(value: float | None, lang: str) -> str:
    """A number in a message about separators: no grouping at all (61000), the language's
    decimal mark (1,234 in French), so that it cannot be misread in turn."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.15g}".replace(".", DECIMAL_MARK[lang])
