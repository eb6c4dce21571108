"""Excel cells, one definition: references (column letters and numbers, 'D14' and back) and
what counts as a number among the values a cell stores or a focal point types.

Columns are numbered from 1 ('A') as Excel does; rows from 1. No pandas here: the readers'
worker processes use this module without it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

from pipeline import safe
from pipeline.codelists import WHITESPACE

_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,12})")
MAX_CELL_CHARS = safe.MAX_CELL_CHARS  # Excel's limit of the characters a cell holds

NUMBER_TYPES = (int, float, np.int64, np.float64)  # numbers as a cell stores them (not bool)
# Numeric text: thousands separators (white space, apostrophes) dropped, then an optional sign,
# ASCII digits with optional comma thousands and an optional decimal point. `schemas.checks.
# parse_number` runs these over whole columns in Arrow (whose regular expressions know only ASCII
# digits, hence re.ASCII here); `is_number_text` is the same rule for one text.
NUMBER_SPACES = re.compile(f"[{WHITESPACE}']+")
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?|[+-]?\.\d+", re.ASCII)


# The `r` (reference) attribute of a row or cell start tag, in either quotes, spaces around '='
# allowed, as calamine reads it; and any attribute by such a pattern (`tag_attribute`).
R_ATTRIBUTE = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def tag_attribute(pattern: re.Pattern[bytes], attrs: bytes) -> bytes | None:
    """The value of the attribute `pattern` finds in a start tag's attributes (its first group
    the value in double quotes, its second in single quotes), None where the tag has none."""
    found = pattern.search(attrs)
    if not found:
        return None
    return found.group(1) if found.group(1) is not None else found.group(2)


def is_number_text(text: str) -> bool:
    """Whether `parse_number` reads this text as a (finite) number: '1 200', '1,200.5', '-.5'."""
    bare = NUMBER_SPACES.sub("", text.strip())
    return NUMBER_TEXT.fullmatch(bare) is not None and math.isfinite(float(bare.replace(",", "")))


# the format characters (Unicode category Cf) of Python 3.11's Unicode 14.0, as code point ranges,
# so that dropping them is one pass in compiled code (tests/test_odd_text.py holds it equal to
# unicodedata), in a class built as the one of `safe.UNSEEN_RANGES` is
FORMAT_RANGES = (
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
FORMAT_CHARACTERS = re.compile(f"[{safe.class_body(FORMAT_RANGES)}]")


def without_format_characters(text: str) -> str:
    """`text` without its format characters (Unicode category Cf: zero-width space, soft hyphen,
    byte-order mark, left-to-right and right-to-left marks, word joiner...), which a cell shows as
    nothing: pasted in with a value from a web page, an e-mail or a PDF, they made 'KEN' or '1200'
    look valid and be refused. ASCII text, nearly every cell, holds none and costs one test; other
    text, one pass of a compiled pattern."""
    if text.isascii():
        return text
    return FORMAT_CHARACTERS.sub("", text)


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


Box = tuple[int, int, int, int]  # a range of cells: (top row, left column, bottom row, right column)


def parse_range(text: str) -> Box | None:
    """'A5:C7' -> (5, 1, 7, 3), as the guard writes merged ranges (top-left first); None for
    anything that is not two cell references."""
    parts = text.split(":")
    first, last = (parse_cell(parts[0]), parse_cell(parts[-1])) if len(parts) == 2 else (None, None)
    return (*first, *last) if first is not None and last is not None else None


class MergedRanges:
    """Which merged range holds a cell: the ranges over each column, by their first row, and a
    search by row. Merged ranges do not overlap (Excel refuses to merge over a merge), so the one
    starting last at or above a row is the only one that can hold it.

    `columns`: only the ranges over these columns are kept (None: every column); at most
    `max_pairs` (column, range) pairs are kept in all, whatever the ranges' widths (None: all)."""

    def __init__(
        self, boxes: Iterable[Box], columns: Iterable[int] | None = None, max_pairs: int | None = None
    ) -> None:
        wanted = sorted(set(columns)) if columns is not None else None
        left_over = max_pairs
        by_column: dict[int, list[Box]] = {}
        for box in boxes:
            _, left, _, right = box
            if wanted is not None:
                over: Sequence[int] = wanted[bisect.bisect_left(wanted, left) : bisect.bisect_right(wanted, right)]
            else:
                over = range(left, right + 1)
            if left_over is not None:
                over = over[:left_over]
                left_over -= len(over)
            for col in over:
                by_column.setdefault(col, []).append(box)
            if left_over == 0:
                break
        self._tops: dict[int, list[int]] = {}
        self._boxes: dict[int, list[Box]] = {}
        for col, found in by_column.items():
            found.sort()
            self._tops[col] = [box[0] for box in found]
            self._boxes[col] = found

    def __len__(self) -> int:
        """The (column, range) pairs kept."""
        return sum(map(len, self._tops.values()))

    def holding(self, row: int, col: int) -> Box | None:
        """The merged range that holds the cell at (row, col), if any (its top-left included)."""
        tops = self._tops.get(col)
        if not tops:
            return None
        at = bisect.bisect_right(tops, row) - 1
        if at < 0:
            return None
        box = self._boxes[col][at]
        return box if row <= box[2] else None
