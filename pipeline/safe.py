"""Text that came from a submission, made safe for where the pipeline writes it.

Whatever a focal point typed (a cell, a header, a sheet or file name) may reach a CSV, an xlsx,
the console or a folder name. Each destination has one function here:

- `formula_safe`: a spreadsheet never evaluates it (OWASP CSV injection rule: a text starting
  with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe; plain numbers such
  as `-5` stay as they are). Every CSV writer applies it, within `csv_safe`.
- `console_safe`: a terminal never interprets it: control characters (C0, DEL, C1, which carry
  ANSI escape sequences and carriage returns) and bidirectional overrides are shown as visible
  `\\x1b`-style escapes, so a cell cannot clear the screen or forge a line.
- `csv_safe`: both rules for a CSV file, which is opened in a spreadsheet and printed in a
  terminal alike (`cat issues.csv`): `formula_safe`, then the same guard inside the text after
  each character a spreadsheet may split a CSV line at (`;`, `,`, tab, line end: Excel set to
  French, Spanish or German splits a `.csv` at `;`, which the writer does not quote, so
  'Annex;=cmd|...' would give a cell '=cmd|...'), then the control characters shown as escapes
  as on the console, except tab and line feed (plain text in a cell, and quoted by the CSV
  writer). Every CSV writer of the pipeline uses it; `csv_safe_sql` is the same rule as a
  DuckDB expression, for COPY.
- `sheet_safe`: `console_safe` for a spreadsheet cell: what the pipeline shows of a submission
  in a sheet of its own (the annotated copy's summary, the template's Last year sheet) reads as
  on the console, the characters XML cannot hold shown as escapes rather than dropped, and an
  `_xHHHH_` (a character to Excel, LibreOffice and calamine) with its underscore as `\\x5f`.
- `file_name`: a file or path name as text that can be stored and written anywhere: bytes of a
  name that are not UTF-8 (Linux allows them; Python holds them as lone surrogates, which no
  database, CSV or page can take) shown as `\\xff` escapes.
- `slug`: a folder or file name that is never empty, never dot-only, ASCII letters, digits,
  `_` and `-` only, so it always stays inside the folder it is joined to.

defusedcsv implements the CSV rule but leaves a leading tab or carriage return alone (both in
the OWASP list), so the rule is written out here once (docs/decisions.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits only
# The characters a terminal may act on, as code point ranges: C0 controls, DEL, C1 controls, and
# the bidirectional marks, embeddings, overrides and isolates.
_CONTROL_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0x61C, 0x61C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069))
_CSV_KEEPS = "\t\n"  # in a CSV cell: plain text to a terminal, and quoted by the writer
# A formula's first character after a character some spreadsheet splits a CSV line at (and any
# spaces): an apostrophe goes before it, as before a formula at the start. No number is spared
# there: '-5+cmd|...' is a number's start too. The same pattern in Python's re and DuckDB's RE2.
_FIELD_START = r"([;,\t\n\r] *)([=+@-])"
_FIELD_GUARD = r"\1'\2"
_FIELD_STARTS = re.compile(_FIELD_START)


def _ranges(keep: str = "") -> list[tuple[int, int]]:
    """`_CONTROL_RANGES` without the characters of `keep`."""
    out: list[tuple[int, int]] = []
    for low, high in _CONTROL_RANGES:
        start = low
        for code in sorted(ord(c) for c in keep if low <= ord(c) <= high):
            if start < code:
                out.append((start, code - 1))
            start = code + 1
        if start <= high:
            out.append((start, high))
    return out


def _class(ranges: list[tuple[int, int]], escape: Callable[[int], str]) -> str:
    return "[" + "".join(escape(lo) if lo == hi else f"{escape(lo)}-{escape(hi)}" for lo, hi in ranges) + "]"


_CONTROL = re.compile(_class(_ranges(), lambda code: f"\\U{code:08x}"))  # what a terminal may act on
# The characters that show nothing, as code point ranges: the controls above, and the format
# characters (soft hyphen, zero-width space and joiners, word joiner, invisible operators,
# deprecated format characters, BOM, interlinear annotation marks). Pasted in from web pages and
# PDFs; the one definition the code lists' character class (`codelists.UNSEEN`) is written from.
UNSEEN_RANGES = (
    *_CONTROL_RANGES[:2],
    (0xAD, 0xAD),
    (0x61C, 0x61C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
)
# On the console all of them: a tab 'Fac\u200bilities' printed as 'Facilities' hides why it is
# not the Facilities sheet. Not in CSV or on pages, whose text is data.
_CONSOLE = re.compile(_class(list(UNSEEN_RANGES), lambda code: f"\\U{code:08x}"))
_CSV_CONTROL = re.compile(_class(_ranges(_CSV_KEEPS), lambda code: f"\\U{code:08x}"))
_CSV_CONTROL_RE2 = _class(_ranges(_CSV_KEEPS), lambda code: f"\\x{{{code:x}}}")  # DuckDB's regexp syntax
assert all(any(lo <= a and b <= hi for lo, hi in UNSEEN_RANGES) for a, b in _CONTROL_RANGES)


def class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regular expression's character class matching the code point ranges
    `ranges`, as the characters themselves (no escapes), so that Python's `re` and Arrow's
    engine read it alike: `f"[{class_body(UNSEEN_RANGES)}]"`."""
    return "".join(chr(lo) if lo == hi else f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


_SLUG_DROP = re.compile(r"[^A-Za-z0-9_-]+")


def formula_safe(value: object) -> object:
    """`value` unchanged unless it is text a spreadsheet would run as a formula; then `'` + text."""
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def formula_safe_sql(expression: str) -> str:
    """`formula_safe` as a DuckDB SQL expression over the text `expression` (for COPY ... TO csv):
    the same triggers and the same plain-number exception, written out from the constants above."""
    starts = " OR ".join(
        f"prefix({expression}, {_sql_text(t) if t.isprintable() else f'chr({ord(t)})'})" for t in FORMULA_TRIGGERS
    )
    return (
        f"CASE WHEN ({starts}) "
        f"AND NOT regexp_full_match({expression}, {_sql_text(_PLAIN_NUMBER.pattern)}) "
        f"THEN {_sql_text(chr(39))} || {expression} ELSE {expression} END"
    )


def csv_safe(value: object) -> object:
    """`value` for a CSV cell: `formula_safe`, then every control character but tab and line feed
    shown as an escape, as on the console (`console_safe`). Numbers and None stay as they are."""
    value = formula_safe(value)
    if isinstance(value, str):
        return _CSV_CONTROL.sub(_escape_control, _FIELD_STARTS.sub(_FIELD_GUARD, value))
    return value


def csv_safe_sql(expression: str) -> str:
    """`csv_safe` as a DuckDB SQL expression over the text `expression` (for COPY ... TO csv)."""
    guarded = (
        f"regexp_replace({formula_safe_sql(expression)}, {_sql_text(_FIELD_START)}, {_sql_text(_FIELD_GUARD)}, 'g')"
    )
    pattern = _sql_text(_CSV_CONTROL_RE2)
    escaped = (
        "CASE WHEN ord(c) < 256 THEN '\\x' || lower(lpad(hex(ord(c)), 2, '0')) "
        "ELSE '\\u' || lower(lpad(hex(ord(c)), 4, '0')) END"
    )
    each_char = f"CASE WHEN regexp_full_match(c, {pattern}) THEN {escaped} ELSE c END"
    each = f"list_transform(string_split({guarded}, ''), lambda c: {each_char})"
    # formula_safe adds an apostrophe only: the text holds a control character if the guarded one does
    return f"CASE WHEN regexp_matches({expression}, {pattern}) THEN array_to_string({each}, '') ELSE {guarded} END"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def console_safe(value: object) -> str:
    """Text for a terminal: every control character shown as an escape (`\\x1b`, `\\r`, `\\u202e`),
    and every character that shows nothing (`\\u200b`)."""
    text = "" if value is None else str(value)
    return _CONSOLE.sub(_escape_control, text)


_PAGE_CONTROL = re.compile(_class(_ranges("\t\n\r"), lambda code: f"\\U{code:08x}"))


_NOT_XML = re.compile("[\ufffe\uffff]")  # the two characters XML forbids that console_safe leaves
# '_x001B_' in a cell's text is an escaped ESC to Excel, LibreOffice and calamine (openpyxl keeps
# it as typed): its underscore is shown as an escape too, so that every reader shows the same text
OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")  # one definition: `xlsx.stored_text` escapes the same
MAX_CELL_CHARS = 32767  # what a cell of Excel holds (cells.MAX_CELL_CHARS)


def sheet_safe(value: object) -> str:
    """Submitted text as a cell of a sheet the pipeline writes shows it: `console_safe`, the
    noncharacters U+FFFE and U+FFFF as `\\ufffe`, the underscore of an `_xHHHH_` as `\\x5f`, cut
    to what a cell holds. Nothing of it is dropped unseen, and no reader turns it into another."""
    text = _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", console_safe(value))
    return OOXML_ESCAPE.sub(r"\\x5f\1", text)[:MAX_CELL_CHARS]


def page_safe(text: str) -> str:
    """Text of a web page with every control character but tab, line feed and carriage return
    (white space to HTML) shown as an escape, as on the console: a right-to-left override typed
    in a cell or a comment would otherwise turn the text after it around on the page."""
    return _PAGE_CONTROL.sub(_escape_control, text)


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def slug(value: object, max_length: int = 60) -> str:
    """ASCII letters, digits, '_' and '-' only; '' when nothing of `value` survives."""
    text = unicodedata.normalize("NFKD", "" if value is None else str(value))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _SLUG_DROP.sub("_", text).strip("_-")
    return re.sub(r"_{2,}", "_", text)[:max_length].strip("_-")


def for_console(value: object) -> str:
    """`console_safe` text with rich markup escaped, for `Console.print` with markup on."""
    from rich.markup import escape

    return escape(console_safe(value))


def file_name(name: str) -> str:
    """`name` (a file name or path as Python gives it) with the bytes that are not UTF-8 shown as
    `\\xff` escapes: 'WFP_2024_\\udcff.xlsx' (from the bytes WFP_2024_\\xff.xlsx) becomes
    'WFP_2024_\\\\xff.xlsx'. Any other lone surrogate is escaped as `\\udcxx`. A name that is
    UTF-8 comes back as it is."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
