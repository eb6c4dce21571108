"""Excerpts: the cells around a finding, as the focal point sees them in their sheet.

`excerpts(path, cells)` reads the workbook again, through the guard and calamine exactly as
`read.read_workbook` does, and cuts out, for each (sheet, cell), a small window of the cells
around it (two rows and two columns each side by default), with the sheet's header row. Like
every read of an untrusted file it runs in an isolated worker (`read_excerpts`). Values are
plain display text (`catalogue.display_value`), cut to `MAX_TEXT` characters: an excerpt is for
recognising the place, not for carrying data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from pipeline.catalogue import display_value
from pipeline.cells import column_letter, parse_cell
from pipeline.errors import UnreadableFile
from pipeline.intake.guard import DEFAULT_LIMITS, Limits
from pipeline.intake.read import read_many, read_workbook

MAX_TEXT = 40  # characters of a cell shown in an excerpt
AROUND = 2  # rows and columns shown on each side of the cell


@dataclass(frozen=True)
class Excerpt:
    """A window of a sheet: `columns` are letters, `rows` (Excel row, texts) with `row` and
    `column` marking the finding's cell; `header` is row 1 when the window does not reach it."""

    sheet: str
    cell: str
    row: int
    column: str
    columns: tuple[str, ...]
    header: tuple[str, ...] | None
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def _text(value: object) -> str:
    text = display_value(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "\u2026"


def excerpts(
    path: Path | str, cells: tuple[tuple[str, str], ...], around: int = AROUND, limits: Limits = DEFAULT_LIMITS
) -> dict[tuple[str, str], Excerpt]:
    """The window around each (sheet, cell) of `cells` that names a cell of a sheet in the file."""
    book = read_workbook(path, limits)
    out: dict[tuple[str, str], Excerpt] = {}
    for sheet, cell in cells:
        raw = book.sheets.get(sheet)
        where = parse_cell(cell) if cell else None
        if raw is None or where is None:
            continue
        row, col = where
        values = {1: raw.header, **dict(raw.rows)}
        first_col = max(1, col - around)
        numbers = range(first_col, col + around + 1)
        first_row = max(1, row - around)

        def texts(line: list[object], numbers: range = numbers) -> tuple[str, ...]:
            return tuple(_text(line[n - 1]) if n - 1 < len(line) else "" for n in numbers)

        rows = tuple((r, texts(values.get(r, []))) for r in range(first_row, row + around + 1))
        out[(sheet, cell)] = Excerpt(
            sheet=sheet,
            cell=cell,
            row=row,
            column=column_letter(col),
            columns=tuple(column_letter(n) for n in numbers),
            header=texts(raw.header) if first_row > 1 else None,
            rows=rows,
        )
    return out


def read_excerpts(
    path: Path, cells: list[tuple[str, str]], around: int = AROUND, limits: Limits = DEFAULT_LIMITS
) -> dict[tuple[str, str], Excerpt]:
    """`excerpts` in an isolated worker; nothing (an empty dict) when the file cannot be read."""
    if not cells:
        return {}
    work = functools.partial(excerpts, cells=tuple(cells), around=around, limits=limits)
    for _path, result in read_many([path], jobs=1, limits=limits, work=work):
        if isinstance(result, dict):
            return result
        if not isinstance(result, UnreadableFile):
            raise TypeError(f"unexpected excerpt result {type(result).__name__}")
    return {}
