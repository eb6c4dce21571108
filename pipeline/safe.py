"""Text that came from a submission, made safe for where the pipeline writes it.

Whatever a focal point typed (a cell, a header, a sheet or file name) may reach a CSV, an xlsx,
the console or a folder name. Each destination has one function here:

- `formula_safe`: a spreadsheet never evaluates it (OWASP CSV injection rule: a text starting
  with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe; plain numbers such
  as `-5` stay as they are). Used by every CSV and xlsx writer of the pipeline.
- `console_safe`: a terminal never interprets it: control characters (C0, DEL, C1, which carry
  ANSI escape sequences and carriage returns) and bidirectional overrides are shown as visible
  `\\x1b`-style escapes, so a cell cannot clear the screen or forge a line.
- `slug`: a folder or file name that is never empty, never dot-only, ASCII letters, digits,
  `_` and `-` only, so it always stays inside the folder it is joined to.

defusedcsv implements the CSV rule but leaves a leading tab or carriage return alone (both in
the OWASP list), so the rule is written out here once (docs/decisions.md).
"""

from __future__ import annotations

import re
import unicodedata

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits only
# C0 controls except none, DEL, C1 controls, and the bidi embedding/override/isolate controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
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


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def console_safe(value: object) -> str:
    """Text for a terminal: every control character shown as an escape (`\\x1b`, `\\r`, `\\u202e`)."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(_escape_control, text)


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
