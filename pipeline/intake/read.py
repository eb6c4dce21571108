"""Read submission workbooks into plain values: guard first, then calamine, in child processes.

`read_workbook(path)` runs `guard.check_bytes` on the file's bytes and hands the very same
bytes to python-calamine, returning a `RawWorkbook`: per sheet the row-1 header and the
non-blank rows with their Excel row numbers (counted from row 1 even when leading rows or
columns are blank), values as plain Python objects.

`read_many(paths, jobs)` reads many files in a small pool of worker processes (forkserver),
each with an address-space limit, and a timeout per file: a reader that aborts (calamine
aborts the process on allocation failure), runs out of memory or hangs costs only that file,
which comes back as an `UnreadableFile`; the other files go on. The worker function is
pluggable, so callers can read and normalise in the workers.

Cell values: empty or whitespace-only text -> None; numbers as int when integral (calamine
returns every number as float; 2024.0 -> 2024), float otherwise; booleans as bool; dates and
date-times as `datetime.date` / `datetime.datetime` (times and durations as `datetime.time` /
`datetime.timedelta`); error cells (#DIV/0!, #N/A) read as None and are listed in
`RawSheet.error_cells` (found by the guard; the error values calamine does not read, Excel 365's
#SPILL!, #CALC! and the like, are #N/A in the copy of the package calamine is given, and
listed as written). Merged cells hold their value
in the top-left cell only. Formula cells are read by their cached value; the cells without
one are listed in `RawSheet.formula_cells_without_value` (found by the guard).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import python_calamine

from pipeline import paths, safe
from pipeline.catalogue import Message
from pipeline.cells import parse_cell, without_format_characters
from pipeline.errors import UnreadableFile
from pipeline.intake import guard
from pipeline.intake.guard import DEFAULT_LIMITS, GuardReport, Limits
from pipeline.intake.workbook import RawSheet, RawWorkbook
from pipeline.workers import Work, run_isolated

MAX_EXACT_INT = 2**53  # floats beyond this are not converted to int


# --- one workbook ---------------------------------------------------------------------------


def read_workbook(path: Path | str, limits: Limits = DEFAULT_LIMITS, *, overlap: bool = False) -> RawWorkbook:
    """Guard and read one workbook; raise UnreadableFile (with a focal-point message) if it cannot be.

    `overlap`: calamine parses the worksheets in a thread of this process (it lets go of the
    interpreter while it parses) while the guard scans their XML, from the moment the package
    itself has passed the guard (`guard.check_bytes(structure_passed=...)`). What calamine
    parsed is used only if the guard then lets the file through: the verdict is the guard's
    either way. Only in a bounded worker with a core to spare (`ahead.side_by_side`): a part
    calamine is given before the guard has scanned it may exhaust the worker's memory, which is
    why `ahead.Reading` reads a file again without overlap when its worker crashed or ran out
    of memory. A refusal met while calamine still parses retires the worker after this task
    (`workers.retire_after_task`) rather than let the parse run on into the next file."""
    path = Path(path)
    data = file_bytes(path, limits)
    parsing = _Parsing(data) if overlap else None
    try:
        report = guard.check_bytes(data, limits, structure_passed=parsing.start if parsing else None)
    except BaseException:
        if parsing is not None and parsing.is_running():
            from pipeline.workers import retire_after_task

            retire_after_task()
        raise
    sheets = _read_sheets(data, report, parsing)
    return RawWorkbook(
        path=str(path),
        file_name=safe.file_name(path.name),
        sha256=report.sha256,
        size_bytes=report.size_bytes,
        sheets=sheets,
        date1904=report.date1904,
    )


def file_bytes(path: Path, limits: Limits) -> bytes:
    """The file's bytes, if it is a regular file of at most `limits.max_file_bytes` (checked on
    the file opened, and on what was read: a file that grows while it is read is refused too).
    A folder, a device (/dev/zero would never end) or a pipe (which would wait for a writer)
    is refused at once."""
    limit = limits.max_file_bytes
    try:
        with paths.open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(limit + 1) if size <= limit else b""
    except paths.NotARegularFile:
        raise guard.refuse("not-found", error=Message("unreadable-file.not-regular")) from None
    except OSError as exc:
        raise guard.refuse("not-found", error=exc.strerror or str(exc)) from None
    if size > limit or len(data) > limit:
        raise guard.refuse("too-large", size_mb=max(size, len(data)) / guard.MiB, limit_mb=limit / guard.MiB)
    return data


class _Parsing:
    """calamine parsing a workbook's worksheets in a thread, for `read_workbook(overlap=True)`."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.book: python_calamine.CalamineWorkbook | None = None
        self.error: BaseException | None = None  # opening the workbook failed
        self.sheets: dict[str, object] = {}  # worksheet -> its CalamineSheet, or what its parse raised
        self._thread = threading.Thread(target=self._parse, name="gtb-calamine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def _parse(self) -> None:
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        except BaseException as exc:  # CalamineError, pyo3's PanicException: raised where the serial read raises them
            self.error = exc
            return
        self.book = book
        for meta in book.sheets_metadata:
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:
                try:
                    self.sheets[meta.name] = book.get_sheet_by_name(meta.name)
                except BaseException as exc:
                    self.sheets[meta.name] = exc

    def discard(self) -> None:
        """Wait for the parse to end and drop what it parsed (the package is read from a copy instead)."""
        self._thread.join()
        self.book, self.error, self.sheets = None, None, {}

    def result(self) -> python_calamine.CalamineWorkbook:
        """The workbook as calamine opened it, once the guard has let the file through."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.book is not None
        return self.book


def _read_sheets(data: bytes, report: GuardReport, parsing: _Parsing | None = None) -> dict[str, RawSheet]:
    source, book = _open_book(data, report, parsing)
    if source is not data:
        parsing = None
    sheets: dict[str, RawSheet] = {}
    percent = _percent_cells(data, report)
    parsed = parsing.sheets if parsing else {}  # each popped as it is read: freed as in the serial read
    with book:
        if list(book.sheet_names) != report.sheet_names:
            raise guard.refuse("damaged-part", detail=Message("unreadable-file.detail.sheets-inconsistent"))
        for name in report.sheet_names:
            try:
                sheets[name] = _raw_sheet(name, _rows_from_a1(book, name, report, parsed.pop(name, None)), report)
            except Exception as exc:
                raise _sheet_error(source, report, name, exc) from None
            except BaseException as exc:
                if type(exc).__name__ != "PanicException":
                    raise
                raise _sheet_error(source, report, name, exc) from None
            sheets[name].percent_cells = percent.get(name, [])
    return sheets


def _open_book(
    data: bytes, report: GuardReport, parsing: _Parsing | None
) -> tuple[bytes, python_calamine.CalamineWorkbook]:
    """The bytes calamine reads and the workbook it opened from them: the file's bytes, or a copy
    where the error values it does not read (#SPILL! and the like) are #N/A; what the overlapped
    parse (`parsing`) read of the file itself is then dropped."""
    source = data
    if report.other_error_parts:
        if parsing is not None:
            parsing.discard()
            parsing = None
        source = _with_classic_errors(data, report.other_error_parts)
    try:
        book = parsing.result() if parsing else python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
    except Exception as exc:  # CalamineError and pyo3's PanicException (a BaseException) below
        raise _reader_error(exc) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise _reader_error(exc) from None
    return source, book


def _with_classic_errors(data: bytes, parts: list[str]) -> bytes:
    """The package with the error values calamine does not read (#SPILL!, #CALC!...) of the
    worksheet parts `parts` made #N/A (`guard.classic_errors`), every other part as it is. Only
    workbooks holding such values pay for this copy."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type = zipfile.ZIP_DEFLATED
            with src.open(info) as reader, dst.open(copy, "w") as writer:
                if info.filename in parts:
                    guard.classic_errors(reader, writer)
                else:
                    shutil.copyfileobj(reader, writer, guard.MiB)
    return out.getvalue()


def _rows_from_a1(
    book: python_calamine.CalamineWorkbook, name: str, report: GuardReport, parsed: object = None
) -> Iterator[list[object]]:
    """The sheet's rows from A1, one at a time (as `to_python(skip_empty_area=False)` gives them,
    without holding them all): calamine's rows start at row 1 but its columns at the first used
    one, so the columns before it are filled in as empty. `parsed`: the sheet as calamine has
    parsed it already (`_Parsing`), or the exception that parse raised."""
    if report.sheet_kinds.get(name) != "worksheets":
        return
    if isinstance(parsed, BaseException):
        raise parsed
    sheet = parsed if isinstance(parsed, python_calamine.CalamineSheet) else book.get_sheet_by_name(name)
    start = sheet.start
    if not sheet.height or start is None:
        return
    lead: list[object] = [None] * start[1]
    for row in sheet.iter_rows():
        yield [*lead, *row] if lead else row  # type: ignore[misc]  # cell values are objects


def _percent_cells(data: bytes, report: GuardReport) -> dict[str, list[str]]:
    """Percent-formatted cells of the Field/Value sheets (their tabs in any language)."""
    from pipeline.intake.formats import percent_cells
    from schemas import contract, i18n

    field_value = {s.name for s in contract.sheets() if not s.is_table}
    lookup = i18n.sheet_lookup()
    parts = {
        name: member
        for name, member in report.sheet_parts.items()
        if lookup.get(i18n.tab_key(name)) in field_value and report.sheet_kinds.get(name) == "worksheets"
    }
    return percent_cells(data, parts, DEFAULT_LIMITS.max_part_bytes_in_memory)


def _sheet_error(data: bytes, report: GuardReport, sheet: str, exc: BaseException) -> UnreadableFile:
    """What calamine's refusal of a sheet means: the cell it refused (`guard.unreadable_cell`,
    in the focal point's language), else calamine's own words."""
    part = report.sheet_parts.get(sheet)
    found = guard.unreadable_cell(data, part, sheet) if part and report.sheet_kinds.get(sheet) == "worksheets" else None
    return found if found is not None else _reader_error(exc, sheet)


def _reader_error(exc: BaseException, sheet: str | None = None) -> UnreadableFile:
    where = f"sheet '{sheet}': " if sheet else ""
    return UnreadableFile("unreadable-file.reader-error", {"detail": f"{where}{type(exc).__name__}: {exc}"})


def _raw_sheet(name: str, grid: Iterable[Sequence[object]], report: GuardReport) -> RawSheet:
    """Rows from A1 -> header and (Excel row, values) of non-blank rows.

    Equal texts become one object (one per distinct text of the sheet), so that the rows cost
    less memory and travel to the parent process as one pickled copy of each text. A text that
    shows nothing (spaces, or only format characters such as a zero-width space or a soft
    hyphen) is an empty cell, as the focal point sees it (`_text`)."""
    texts: dict[str, str | None] = {}
    rows_from_a1 = iter(grid)
    first = next(rows_from_a1, None)
    header = _clean(first, texts) if first is not None else []
    rows: list[tuple[int, list[object]]] = []
    for excel_row, values in enumerate(rows_from_a1, start=2):
        clean = _clean(values, texts)
        if clean.count(None) != len(clean):
            rows.append((excel_row, clean))
    if name in report.boolean_cells:
        _booleans(header, rows, report.boolean_cells[name])
    return RawSheet(
        name=name,
        header=header,
        rows=rows,
        formula_cells_without_value=list(report.formula_cells_without_value.get(name, [])),
        error_cells=dict(report.error_cells.get(name, {})),
        linked_cells=list(report.linked_cells.get(name, [])),
        hidden=name in report.hidden_sheets,
        merged_ranges=list(report.merged_ranges.get(name, [])),
        hidden_rows=list(report.hidden_rows.get(name, [])),
        sum_cells=dict(report.sum_cells.get(name, {})),
    )


def _booleans(header: list[object], rows: list[tuple[int, list[object]]], cells: dict[str, bool]) -> None:
    """The cells of the formula TRUE() or FALSE() (`GuardReport.boolean_cells`) as the booleans
    they show, where calamine read the number 1 or 0 LibreOffice stored."""
    by_row = {excel_row: values for excel_row, values in rows}
    for ref, boolean in cells.items():
        row, column = parse_cell(ref) or (0, 0)
        values = header if row == 1 else by_row.get(row)
        if values is not None and 0 < column <= len(values) and type(values[column - 1]) is int:
            values[column - 1] = boolean


def _clean(values: Sequence[object], texts: dict[str, str | None] | None = None) -> list[object]:
    if texts is None:
        texts = {}
    return [
        (texts[v] if v in texts else _text(v, texts)) if type(v) is str else (_number(v) if type(v) is float else v)
        for v in values
    ]


def _text(v: str, texts: dict[str, str | None]) -> str | None:
    """A text met for the first time in a sheet (`texts` keeps what it is read as): None where it
    shows nothing, spaces or only format characters (a zero-width space or soft hyphen pasted
    alone into a cell, which Excel shows as blank, read as a value it would say 'expected a
    number' of, or count as a column's values under no header)."""
    shown = texts[v] = v if v.strip() and (v.isascii() or without_format_characters(v).strip()) else None
    return shown


def _number(v: float) -> object:
    """2024.0 -> 2024; a non-finite number (<v>NaN</v>, <v>inf</v>) -> its text, so it is no number."""
    if v.is_integer() and -MAX_EXACT_INT <= v <= MAX_EXACT_INT:
        return int(v)
    if v != v or v in (float("inf"), float("-inf")):
        return repr(v)
    return v


# --- many workbooks, in worker processes ----------------------------------------------------


@overload
def read_many(
    paths: Iterable[Path | str],
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
    work: None = None,
    wanted: Callable[[Path], bool] | None = None,
    on_part: Callable[[Path, object], object] | None = None,
) -> Iterator[tuple[Path, RawWorkbook | UnreadableFile]]: ...


@overload
def read_many(
    paths: Iterable[Path | str],
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
    work: Work,
    wanted: Callable[[Path], bool] | None = None,
    on_part: Callable[[Path, object], object] | None = None,
) -> Iterator[tuple[Path, object]]: ...


def read_many(
    paths: Iterable[Path | str],
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
    work: Work | None = None,
    wanted: Callable[[Path], bool] | None = None,
    on_part: Callable[[Path, object], object] | None = None,
) -> Iterator[tuple[Path, object]]:
    """Yield (path, result) for every path, in completion order; result is an UnreadableFile on failure.

    `work(path)` runs in a worker process and defaults to `read_workbook(path, limits)`; it
    must be a picklable top-level function (or functools.partial of one) returning a
    picklable value. An UnreadableFile it raises is yielded as the result; so are crashes
    (ReaderFailed "crashed"), runs beyond `limits.reader_timeout_s` ("timeout") and any other
    exception ("internal-error"). Each worker's address space is capped at
    `limits.reader_memory_bytes`. Workers are reused from file to file; one that fails is replaced.
    A file for which `wanted(path)` is false by the time its turn comes is left out (not yielded).
    `on_part(path, part)` hears what `work` sends ahead of its result (`workers.send_part`).
    """
    if work is None:
        work = functools.partial(read_workbook, limits=limits)
    items = ((Path(p), (Path(p),)) for p in paths)
    yield from run_isolated(items, work, jobs, limits=limits, wanted=wanted, on_part=on_part)


__all__ = ["read_many", "read_workbook"]
