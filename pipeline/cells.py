"""Excel cell references, one definition: column letters and numbers, 'D14' and back.

Columns are numbered from 1 ('A') as Excel does; rows from 1.
"""

from __future__ import annotations

import re

_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,12})")


def column_letter(number: int) -> str:
    """1 -> 'A', 27 -> 'AA', 16384 -> 'XFD'."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27, 'XFD' -> 16384 (case ignored)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def cell_name(row: int, column: int) -> str:
    """(14, 4) -> 'D14'."""
    return f"{column_letter(column)}{row}"


def parse_cell(ref: str | bytes) -> tuple[int, int] | None:
    """'D14' (or '$D$14', b'D14') -> (14, 4); None for anything that is not one cell reference."""
    text = ref.decode("ascii", errors="replace") if isinstance(ref, bytes) else str(ref)
    found = _REF.fullmatch(text.strip())
    if not found:
        return None
    return int(found.group(2)), column_number(found.group(1))
