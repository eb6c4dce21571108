"""Rows whose values sit one column away from their headers (a cell left out or added).

A focal point who skips a cell, or pastes a block one column off, gives a row whose every value
is wrong for its column but right for the neighbouring one: without this, one finding per cell
and no hint. For each row this compares how many values fit their own column with how many
would fit if the row were moved back one column (to the left or to the right), from some column
on; when moving back makes at least two more values fit, and at least two did not fit where
they are, the row gets one `shifted-columns` finding naming the first such column, and its other
checks wait.

Only columns whose values say something about their kind are compared: numbers, codes of a
list, countries, airports, dates (a text column accepts anything). Vectorised over the rows:
each column's values are tested against their own rule and their neighbours' rules once. No
pandas: this runs in the readers' worker processes, which start without it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.cells import NUMBER_TYPES, is_number_text
from pipeline.intake.reading import number_from_text, valid_references
from schemas import i18n
from schemas.contract import ColumnSpec, SheetSpec

MIN_GAIN = 2  # values that would fit once moved back, beyond those that fit where they are


@dataclass(frozen=True)
class Shift:
    row: int  # Excel row
    column: str  # the first contract column whose value sits one column off
    side: str  # "right" (values moved right: a cell added) or "left" (a cell left out)
    value: object  # that column's value as typed (it belongs to the neighbouring column)
    found_under: str  # the contract column the value sits under ("" for a column of no contract header)
    first: int  # 0-based position of the row's first cell that is off: the column's own cell when a
    # cell was added before it (right), the cell its value sits in when a cell was left out (left)
    held: object  # what that first cell holds as typed: the value (left), the cell added (right)


def _fits(col: ColumnSpec) -> Callable[[np.ndarray], np.ndarray] | None:
    """A test of whether raw values suit `col`'s kind; None for columns that accept anything."""
    if col.dtype in ("number", "integer"):
        return _numbers_fit
    if col.dtype in ("enum", "yesno") and col.codelist:
        lookup = i18n.code_lookup(col.codelist)
        texts = _texts_fit(lambda v: i18n.fold(v) in lookup)
        if col.dtype == "enum":
            return texts
        return lambda a: texts(a) | np.fromiter((type(v) is bool for v in a.tolist()), bool, len(a))  # TRUE/FALSE
    if col.dtype in ("iso3", "iata"):
        valid = valid_references(col.dtype)
        return _texts_fit(lambda v: _reference(v) in valid)
    if col.dtype == "date":
        return lambda a: np.fromiter((isinstance(v, (dt.date, dt.datetime)) for v in a.tolist()), bool, len(a))
    return None


def _texts_fit(test: Callable[[str], bool]) -> Callable[[np.ndarray], np.ndarray]:
    """A test for columns that only text can suit: `test` of each distinct text once (a column
    repeats a few codes thousands of times), then one lookup per cell in compiled code; any
    other value does not fit (no text equals a value of another type)."""

    def fit(values: np.ndarray) -> np.ndarray:
        cells = values.tolist()
        fits = {v: bool(test(v)) for v in set(cells) if isinstance(v, str)}
        return np.fromiter(map(fits.get, cells, itertools.repeat(False)), dtype=bool, count=len(cells))

    return fit


_NUMBER, _TEXT = 1, 2
_KINDS: dict[type, int] = {**dict.fromkeys(NUMBER_TYPES, _NUMBER), str: _TEXT}


def _numbers_fit(values: np.ndarray) -> np.ndarray:
    """Finite numbers as stored, and text that reads as a number ('1 200', '1,200.5', '1.200,5');
    each distinct text parsed once (`_texts_fit`). Cells are sorted by type in one pass in
    compiled code."""
    cells = values.tolist()
    kind_of = _KINDS.get
    kinds = np.fromiter(map(kind_of, map(type, cells), itertools.repeat(0)), dtype=np.int8, count=len(cells))
    out = np.zeros(len(values), dtype=bool)
    numbers = np.flatnonzero(kinds == _NUMBER)
    if numbers.size:
        out[numbers] = _finite(values[numbers].tolist())
    texts = np.flatnonzero(kinds == _TEXT)
    if texts.size:
        out[texts] = _number_texts_fit(values[texts])
    return out


def _finite(numbers: list) -> np.ndarray | list[bool]:
    """Whether each number is finite; an integer beyond any float is not."""
    try:
        return np.isfinite(np.array(numbers, dtype=float))
    except OverflowError:
        out = []
        for v in numbers:
            try:
                out.append(math.isfinite(v))
            except OverflowError:
                out.append(False)
        return out


def _present(values: np.ndarray) -> np.ndarray:
    """Cells holding a value (not None, not NaN)."""
    blank = np.full(len(values), None, dtype=object)
    return np.not_equal(values, blank) & np.equal(values, values)


def _typed_as_number(value: object) -> bool:
    """Text the reader takes for a number typed in English (`reading.number_from_text`)."""
    return isinstance(value, str) and number_from_text(value, "en")[0] is not None


_number_texts_fit = _texts_fit(lambda text: is_number_text(text) or _typed_as_number(text))


def _reference(value: str) -> str:
    return i18n.code_in_brackets(value) or value.strip().upper()


def grid(rows: list[tuple[int, list[object]]]) -> np.ndarray:
    """The rows' values as one object grid, None where a row is shorter than the longest; rows
    of one length (as calamine reads a sheet) are laid in by one pass in compiled code."""
    lines = list(map(operator.itemgetter(1), rows))
    lengths = set(map(len, lines))
    width = max(lengths)
    if len(lengths) == 1:
        cells = itertools.chain.from_iterable(lines)
        return np.fromiter(cells, dtype=object, count=len(rows) * width).reshape(len(rows), width)
    grid = np.empty((len(rows), width), dtype=object)
    for i, (_, values) in enumerate(rows):
        grid[i, : len(values)] = values
    return grid


def find_shifts(
    spec: SheetSpec, positions: dict[str, int], rows: list[tuple[int, list[object]]], cells: np.ndarray | None = None
) -> list[Shift]:
    """The shifted rows among `rows` ((Excel row, values by position) of the sheet's data rows),
    given where each contract column's header is (`positions`). `cells`: the rows as `grid`
    lays them out, when the caller has it already."""
    tested = sorted(
        ((positions[c.name], c, fit) for c in spec.columns if c.name in positions and (fit := _fits(c)) is not None),
        key=lambda t: t[0],
    )
    if len(tested) < MIN_GAIN or not rows:
        return []
    laid = grid(rows) if cells is None else cells
    width = laid.shape[1]

    def at(pos: int) -> np.ndarray:
        return laid[:, pos]

    present = np.column_stack([_present(at(pos)) for pos, _, _ in tested])
    own = np.column_stack([fit(at(pos)) for pos, _, fit in tested]) & present  # fits where it is
    wrong = present & ~own  # a value that does not fit where it is (a blank is neither)
    candidates = np.flatnonzero(wrong.sum(axis=1) >= MIN_GAIN)
    if candidates.size == 0:
        return []
    out: list[Shift] = []
    best: dict[int, tuple[int, int, str]] = {}  # candidate -> (gain, start index, side)
    for side, step in (("right", 1), ("left", -1)):
        moved = np.column_stack(
            [
                fit(at(pos + step)[candidates]) if 0 <= pos + step < width else np.zeros(len(candidates), dtype=bool)
                for pos, _, fit in tested
            ]
        )
        gain = moved.astype(int) - own[candidates].astype(int)
        from_k = np.cumsum(gain[:, ::-1], axis=1)[:, ::-1]  # gain of moving back columns k.. on
        lost = np.cumsum(wrong[candidates][:, ::-1], axis=1)[:, ::-1]
        # the shift starts at a column that fits once moved back: the first of the best such
        score = np.where((lost >= MIN_GAIN) & (gain > 0), from_k, -1)
        start = score.argmax(axis=1)
        for i, cand in enumerate(candidates):
            value = int(score[i, start[i]])
            if value >= MIN_GAIN and value > best.get(int(cand), (0, 0, ""))[0]:
                best[int(cand)] = (value, int(start[i]), side)
    names_at = {pos: name for name, pos in positions.items()}
    for index, (_, k, side) in sorted(best.items()):
        column_pos, col, _ = tested[k]
        excel_row, values = rows[index]
        source = column_pos + (1 if side == "right" else -1)
        first = min(column_pos, source)
        out.append(
            Shift(
                row=excel_row,
                column=col.name,
                side=side,
                value=values[source] if 0 <= source < len(values) else None,
                found_under=names_at.get(source, ""),
                first=first,
                held=values[first] if first < len(values) else None,
            )
        )
    return out
