"""The finding catalogue: every code and every message the pipeline gives, as data (frictionless style).

- `codes.csv`: per finding code its severity, a title and a description. Codes are stable: a
  code is never renamed once published.
- `messages.csv`: per message id (`type-error.number`, `unreadable-file.zip-bomb-ratio`, ...)
  its finding code and one template per language (`en`; columns `fr`, `es` where translated).
  Templates are `str.format` strings whose fields the caller fills; `[[other.id]]` includes the
  text of another message (a shared fix, a hint); `<<AirTravel.distance_km>>` names a column
  by its header in the message's language ('Distancia (km)'). A message without a code is a
  fragment (a hint, a fix) meant for inclusion.

`text(id, lang, **params)` renders a message; a `Message` (or any `Rendered`: a `Number`, a
translated note) given as a parameter is rendered in the same language, so hints compose. A
language without a template falls back to English. `docs/validation-codes.md` is generated from both files.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ERROR = "error"
WARNING = "warning"
DEFAULT_LANG = "en"
_INCLUDE = re.compile(r"\[\[([\w.-]+)\]\]")
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("gtb_language", default=DEFAULT_LANG)


def current_language() -> str:
    """The language findings are written in here (the workbook's, while it is being checked)."""
    return _LANGUAGE.get()


@contextlib.contextmanager
def using_language(lang: str | None) -> Iterator[None]:
    """Within this block, findings are written in `lang` (None: keep the current language)."""
    if lang is None:
        yield
        return
    token = _LANGUAGE.set(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    title: str
    description: str


class Rendered:
    """A message parameter written in the language of the message it is shown in (`text`)."""

    def render(self, lang: str = DEFAULT_LANG) -> str:
        raise NotImplementedError

    def cell_value(self) -> object:
        """What it stands for in a finding's `value` column, the cell's content (itself by
        default: its text)."""
        return self


@dataclass(frozen=True)
class Message(Rendered):
    """A message id with its parameters, rendered in whatever language it is shown in."""

    id: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return text(self.id, lang, **self.params)


@cache
def codes() -> dict[str, Code]:
    with (HERE / "codes.csv").open(newline="", encoding="utf-8") as fh:
        return {r["code"]: Code(r["code"], r["severity"], r["title"], r["description"]) for r in csv.DictReader(fh)}


@cache
def _messages() -> dict[str, dict[str, str]]:
    with (HERE / "messages.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    known = codes()
    for row in rows.values():
        assert not row["code"] or row["code"] in known, f"message {row['id']}: unknown code {row['code']!r}"
    return rows


def languages() -> tuple[str, ...]:
    """The languages the catalogue has a column for, English first."""
    first = next(iter(_messages().values()))
    return tuple(k for k in first if k not in ("id", "code"))


def code_of(message_id: str) -> str:
    code = _messages()[message_id]["code"]
    assert code, f"message {message_id} is a fragment, not a finding"
    return code


def code_of_or_none(message_id: str) -> str | None:
    return _messages()[message_id]["code"] or None


def raw_template(message_id: str, lang: str = DEFAULT_LANG) -> str:
    """The template as written in `lang` ('' when not translated)."""
    return _messages()[message_id].get(lang, "")


def severity_of(code: str) -> str:
    return codes()[code].severity


def template(message_id: str, lang: str = DEFAULT_LANG) -> str:
    row = _messages()[message_id]
    return row.get(lang) or row[DEFAULT_LANG]


def text(message_id: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """The message in `lang` (English where it has no translation), its fields filled in: a
    `Rendered` (a `Message`, a `Number`, a translated note) rendered in that language, and a number the template formats
    (`{rows:,}`, `{size_mb:.0f}`) written with the language's separators."""
    body, numbers = _compiled(message_id, lang)
    shown = {k: (v.render(lang) if isinstance(v, Rendered) else v) for k, v in params.items()}
    for placeholder, name, spec in numbers:
        value = shown[name]
        formatted = format(value, spec)
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        shown[placeholder] = localised(formatted, lang) if is_number else formatted
    return body.format(**shown)


# A column named in a message, `<<AirTravel.distance_km>>`: written as the template's header in
# the message's language ('Distance (km)', 'Distancia (km)'), not by its contract name.
_COLUMN = re.compile(r"<<(\w+)\.(\w+)>>")
_headers: list[Callable[[str, str, str], str]] = []  # (sheet, column, lang) -> header: schemas.i18n's


def name_columns_with(headers: Callable[[str, str, str], str]) -> None:
    """How messages name a column (`<<Sheet.column>>`): `headers(sheet, column, lang)`, given by
    the layer that knows the template's headers (`schemas.i18n`); until then by the column's name."""
    _headers[:] = [headers]
    _compiled.cache_clear()


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_KEPT_SPACES = frozenset("\xa0\u202f\u2007")  # the no-break spaces French typography puts before ':' and in numbers


def _shown_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"  # doubled, as repr writes it: a typed '\\u200b' is no escape
    if ch.isprintable() or ch in _KEPT_SPACES:
        return ch
    return repr(ch)[1:-1]  # '\\x1b', '\\u200b': what shows nothing or acts on a terminal, escaped


def quoted(text: str) -> str:
    """Text as a message quotes it, as `repr` does (every character that shows nothing or acts on
    a terminal escaped: 'Fac\\u200bilities'), but with the no-break spaces kept as they are
    ('véhicule-km\xa0: distance') and no quote mark escaped: a value holding both reads
    'it's "x"', not 'it\\'s "x"'."""
    mark = '"' if "'" in text and '"' not in text else "'"
    return mark + "".join(map(_shown_char, text)) + mark


def column_named(sheet: str, column: str, lang: str) -> str:
    """A column as messages name it: its header in the template of `lang`, quoted ('Commentaire');
    its contract name where the sheet has no such column."""
    try:
        return quoted(_headers[0](sheet, column, lang)) if _headers else column
    except KeyError:
        return column


@cache
def _compiled(message_id: str, lang: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """The template, its columns named (`<<Sheet.column>>`), and in a language other than
    English, its fields with a format of their own (`{rows:,}`) taken out as (placeholder,
    parameter, format), to be formatted, then written with the language's separators."""
    body = _INCLUDE.sub(lambda m: template(m.group(1), lang), template(message_id, lang))
    body = _COLUMN.sub(lambda m: _braces(column_named(m.group(1), m.group(2), lang)), body)
    if lang == DEFAULT_LANG:
        return body, ()
    parts: list[str] = []
    numbers: list[tuple[str, str, str]] = []
    for literal, name, spec, conversion in string.Formatter().parse(body):
        parts.append(_braces(literal))
        if name is None:
            continue
        if spec and not conversion:
            placeholder = f"_number_{len(numbers)}"
            numbers.append((placeholder, name, spec))
            parts.append("{" + placeholder + "}")
        else:
            parts.append("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(parts), tuple(numbers)


def localised(number: str, lang: str) -> str:
    """A number written the English way (1,234.5) as `lang` writes it: 1 234,5 in French (a
    narrow no-break space), 1.234,5 in Spanish."""
    if lang == "fr":
        return number.replace(",", "\u202f").replace(".", ",")
    if lang == "es":
        return number.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return number


def number_text(value: float, lang: str = DEFAULT_LANG, grouped: bool = True) -> str:
    """A number for people in `lang`: 1,000,000 (en), 1 000 000 (fr), 1.000.000 (es), up to 15
    significant digits; `grouped=False` for a year (2008)."""
    return localised(f"{value:{',' if grouped else ''}.15g}", lang)


@dataclass(frozen=True)
class Number(Rendered):
    """A number inside a message, written as the language of the message writes numbers
    (`grouped=False`: a year)."""

    value: float
    grouped: bool = True

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return number_text(self.value, lang, self.grouped)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class SignedPercent(Rendered):
    """A change as a whole percentage with its sign, written as the language writes percentages:
    +67% in English, +67 % in French and Spanish (a narrow no-break space before the sign)."""

    fraction: float  # 0.67 for +67%

    def render(self, lang: str = DEFAULT_LANG) -> str:
        number = localised(f"{self.fraction * 100:+,.0f}", lang)
        return number + ("%" if lang == DEFAULT_LANG else "\u202f%")

    def __str__(self) -> str:
        return self.render()


def fields_of(message_id: str, lang: str = DEFAULT_LANG) -> set[str]:
    """The parameters a message's template needs."""
    body = _INCLUDE.sub(lambda m: template(m.group(1), lang), template(message_id, lang))
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(body) if name}


def ids() -> tuple[str, ...]:
    return tuple(_messages())


# --- how values are shown in messages ------------------------------------------------------------


def year_ranges(years: list[int]) -> str:
    """Years as a message says them: [2010, 2011, 2012, 2019, 2020] -> '2010-2012, 2019-2020'."""
    spans: list[list[int]] = []
    for y in sorted(set(years)):
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


EXACT_INTEGERS = 2**53  # the whole numbers a float holds exactly


def display_value(value: object) -> str:
    """How a cell value is shown in a finding: the text as typed, no trailing '.0' for integers
    (those a float holds exactly: 1e308 is shown so, not as 309 digits of which 293 are noise)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) <= EXACT_INTEGERS:
            return str(int(value))
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, dt.timedelta):  # a number in a cell formatted as a duration: its days
        return display_value(value / dt.timedelta(days=1))
    return str(value)


# A text longer than this is quoted by its start and its length: a message quoting a pasted
# paragraph (or 32,767 characters, a cell's most) whole says nothing more; the finding's value
# column keeps it all.
QUOTED_LIMIT = 200
QUOTED_START = 60


@dataclass(frozen=True)
class CellNumber(Rendered):
    """A number a cell holds, inside a message: as the cell shows it in the General format, with the
    decimal mark of the message's language (1234.5, 1234,5), every digit kept and no grouping."""

    value: float

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return localised(display_value(self.value), lang)  # no grouping to localise: the decimal mark alone

    def __str__(self) -> str:
        return self.render()


def shown(value: object) -> Rendered | str:
    """A value inside a message: 'text' quoted, numbers as the cell shows them in the message's
    language, dates as typed, an empty cell named."""
    if isinstance(value, str):
        text = display_value(value)
        if len(text) > QUOTED_LIMIT:
            return Message("value.long", {"start": quoted(text[:QUOTED_START] + "…"), "length": Number(len(text))})
        return quoted(text)
    if isinstance(value, dt.timedelta):  # a number in a cell formatted as a duration: its days
        value = value / dt.timedelta(days=1)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and display_value(value):
        return CellNumber(value)
    return display_value(value) or Message("value.empty")
