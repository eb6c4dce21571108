"""Historical totals (inputs/history/*.csv), checked like a workbook sheet.

The header must be exactly the columns of the contract's `History` sheet (schemas/columns.csv);
every row is then validated by the same pandera machinery as the workbook's sheets, and each
failure is a finding naming the file, line and column. A file with any error loads nothing
(`pipeline.warehouse.load.load_history` loads the valid ones whole, a changed file replacing the
rows it loaded before).

A file is read as Excel writes one: UTF-8 with or without its byte-order mark, or UTF-16 with one
(Excel's "Unicode text"); separated by commas, or by semicolons with decimal commas (Excel's "CSV"
where the list separator is ';', as in French and Spanish settings); empty columns after the last
one (Excel's `,,`) ignored. Lines are the file's own (`csv.reader(...).line_num`): a quoted field
over several lines counts them, and a form feed or U+2028 inside a line breaks nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import catalogue, paths, safe
from pipeline.catalogue import Message
from pipeline.intake.coerce import typed_column
from pipeline.intake.findings import Finding, finding
from pipeline.intake.validate import SAME_FINDINGS_LISTED
from schemas import checks, contract, schemas

MAX_BYTES = 50 * 1024 * 1024
# A history file holds one row per entity and year: the published totals of 2010-2018 are about
# 1,100 rows. A file of more rows than this is not one (an export of something else, a file
# filled down by mistake) and is refused before its rows are checked: 45 MB of bad rows took six
# minutes, 3 GB and 3.5 million findings, on every run.
MAX_ROWS = 100_000
LISTED = SAME_FINDINGS_LISTED  # findings of one rule on one column listed one by one, as for a workbook
# What ends a line somewhere, inside a value: a code or a number holds none (a cell typed with Alt+Enter)
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
SEPARATORS = {",": "a comma", ";": "a semicolon"}
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d*")  # 1.234,5 as Spanish settings write it
_EXPONENT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*")


@dataclass
class HistoryFile:
    path: Path
    sha256: str
    findings: list[Finding] = field(default_factory=list)
    frame: pd.DataFrame | None = None  # typed rows when valid

    @property
    def name(self) -> str:
        """The file's name as it is recorded and shown (`safe.file_name`)."""
        return safe.file_name(self.path.name)

    @property
    def is_valid(self) -> bool:
        return not any(f.is_error for f in self.findings)


def header() -> list[str]:
    return list(contract.history().names)


def history_finding(
    path: Path, message_id: str, line: int | None = None, column: str = "", value: object = "", **params: Any
) -> Finding:
    return finding(message_id, file=safe.file_name(path.name), row=line, column=column, value=value, **params)


def check_history_file(path: Path) -> HistoryFile:
    """Read and validate one CSV of published totals. A fault of the pipeline on the file (an
    exception, not a finding) is the file's own verdict, never the end of the run."""
    try:
        return _check_history_file(path)
    except Exception as exc:
        from pipeline.intake.normalise import pipeline_fault

        fault = pipeline_fault(exc)  # the verdict of a workbook the pipeline fails on, as a history finding
        return HistoryFile(path, "", [history_finding(path, fault.message_id, **fault.params)])


def _read(path: Path) -> bytes | None:
    """The file's bytes, at most MAX_BYTES + 1 of them; None when it is no regular file (a folder,
    a device such as /dev/zero, a pipe, which would never end or block forever)."""
    try:
        fh = paths.open_regular(path)
    except paths.NotARegularFile:
        return None
    with fh:
        return fh.read(MAX_BYTES + 1)


def _opened(path: Path) -> HistoryFile | bytes:
    """The file's bytes, or the file with its one finding when it cannot be read."""
    try:
        data = _read(path)
    except OSError as exc:
        return HistoryFile(path, "", [history_finding(path, "unreadable-file.not-found", error=exc.strerror or exc)])
    if data is None:
        return HistoryFile(path, "", [history_finding(path, "unreadable-file.history-not-a-file")])
    return data


def _text(path: Path, data: bytes) -> str | Finding:
    """The file's text: UTF-8 (its byte-order mark dropped), or UTF-16 with its byte-order mark;
    else the finding that names the encoding problem and its fix."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return history_finding(path, "unreadable-file.history-encoding")
    head = data[:4096]
    if head.count(0) * 4 >= len(head):  # every other byte NUL: UTF-16 without its byte-order mark
        return history_finding(path, "unreadable-file.history-utf16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1 if b"\n" in data else before.count(b"\r") + 1
        byte = f"\\x{data[exc.start]:02x}"
        return history_finding(path, "unreadable-file.history-not-utf8", line=line, value=byte, byte=byte)


def _separator(text: str) -> str:
    """The separator of the header line: a comma, or a semicolon when the header is the contract's
    columns separated by semicolons (Excel where the list separator is ';')."""
    first = re.split("[\r\n]", text, maxsplit=1)[0]
    for separator in SEPARATORS:
        if _header_cells(next(csv.reader([first], delimiter=separator), [])) == header():
            return separator
    return ","


def _header_cells(cells: list[str]) -> list[str]:
    found = [h.strip().lower() for h in cells]
    while found and not found[-1]:  # Excel's empty columns after the last (`,,`)
        found.pop()
    return found


def _records(path: Path, text: str, separator: str) -> list[tuple[int, list[str]]] | Finding:
    """(the line each record starts on, its cells), the header first; or the one finding of a file
    the csv module cannot read or that holds more than MAX_ROWS rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    out: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for cells in reader:
            if len(out) > MAX_ROWS:  # the header and MAX_ROWS rows are read: this is one too many
                return history_finding(path, "unreadable-file.history-too-many-rows", line=end + 1, limit=MAX_ROWS)
            out.append((end + 1, cells))
            end = reader.line_num
    except csv.Error as exc:  # a field longer than the csv module's limit (128 KiB)
        return history_finding(path, "unreadable-file.history-csv", line=end + 1, detail=str(exc))
    return out


def _header_finding(path: Path, records: list[tuple[int, list[str]]], separator: str) -> Finding | None:
    """The finding of a header that is not the contract's, showing what the first line holds."""
    names = header()
    first = records[0][1] if records else []
    found = _header_cells(first)
    if found == names:
        return None
    written = separator.join(first)
    shown = catalogue.shown(written if len(written) <= 200 else written[:199] + "…")
    missing = [h for h in names if h not in found]
    others = [s for s in ("\t", ";", "|") if s != separator and s in written]
    if len(found) <= 1 and others:
        hint = Message("hint.history-separator", {"found": shown, "separator": repr(others[0])})
    elif missing:
        hint = Message("hint.history-header-missing", {"found": shown, "missing": ", ".join(missing)})
    else:
        hint = Message("hint.history-header-found", {"found": shown})
    return history_finding(path, "missing-column.history-header", line=1, header=",".join(names), found=hint)


class _Listed:
    """Findings of one kind on one column listed one by one up to LISTED; the rest counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts: Counter[tuple[str, str]] = Counter()

    def wanted(self, kind: str, column: str) -> bool:
        self.counts[kind, column] += 1
        return self.counts[kind, column] <= LISTED

    def more(self) -> list[Finding]:
        out = []
        for (_, column), count in self.counts.items():
            if count > LISTED:
                if column:
                    out.append(
                        history_finding(
                            self.path,
                            "more-findings.same",
                            column=column,
                            count=count - LISTED,
                            listed=LISTED,
                            name=column,
                        )
                    )
                else:
                    out.append(
                        history_finding(self.path, "more-findings.history-rows", count=count - LISTED, listed=LISTED)
                    )
        return out


def _rows(
    path: Path, records: list[tuple[int, list[str]]], listed: _Listed
) -> tuple[list[list[str | None]], list[int], list[Finding]]:
    """The rows of values (stripped, None for empty) with their lines; the findings of rows of
    another width. Empty columns after the last are dropped, empty rows skipped."""
    names = header()
    rows, lines, findings = [], [], []
    for line_no, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names) and not any(cell.strip() for cell in cells[len(names) :]):
            cells = cells[: len(names)]
        if len(cells) != len(names):
            if listed.wanted("width", ""):
                findings.append(
                    history_finding(
                        path, "type-error.history-width", line=line_no, expected=len(names), found=len(cells)
                    )
                )
            continue
        rows.append([c.strip() or None for c in cells])
        lines.append(line_no)
    return rows, lines, findings


def _value_findings(
    path: Path, frame: pd.DataFrame, lines: list[int], separator: str, listed: _Listed
) -> tuple[pd.DataFrame, set[tuple[int, str]], list[Finding]]:
    """(the frame as the checks read it: decimal commas of a ';' file as points; the cells already
    found wrong; their findings): a line break inside a value, and a point in a number of a ';'
    file (a decimal mark or a thousands separator?)."""
    read = frame.copy()
    found: set[tuple[int, str]] = set()
    out = []
    numbers = {c.name for c in contract.history().columns if c.dtype in ("number", "integer")}
    for column in frame.columns:
        for position, value in enumerate(frame[column]):
            if value is None:
                continue
            message_id = ""
            if LINE_BREAKS.search(value):
                message_id = "type-error.history-line-break"
            elif separator == ";" and column in numbers:
                if "," in value:
                    read.at[position, column] = (
                        value.replace(".", "") if _GROUPED_COMMA.fullmatch(value) else value
                    ).replace(",", ".")
                elif "." in value:
                    message_id = "type-error.history-decimal-point"
            if message_id:
                found.add((position, column))
                if listed.wanted(message_id, column):
                    out.append(history_finding(path, message_id, lines[position], column, value))
    return read, found, out


def _number_hint(value: object) -> Message | None:
    """A better hint than 'without words or units' for a number written with an exponent (1e3):
    the number in digits, or, beyond any total (1e400), that it is too large."""
    if not isinstance(value, str) or not _EXPONENT.fullmatch(value):
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not math.isfinite(float(number)) or abs(number) >= Decimal("1e15"):
        return Message("hint.history-too-large")
    if number and number.adjusted() < -12:  # 1e-200000000 in digits is 200 million characters
        return None
    digits = f"{number:f}"
    digits = digits.rstrip("0").rstrip(".") if "." in digits else digits
    return Message("hint.history-exponent", {"digits": digits})


def _contents(path: Path, data: bytes) -> tuple[list[tuple[int, list[str]]], str] | Finding:
    """(the file's records with their lines, its separator), or the one finding of a file that is
    empty or too large, in another encoding, not readable as CSV, too long, or whose header is not
    the contract's."""
    if not data or len(data) > MAX_BYTES:
        return history_finding(path, "unreadable-file.history-empty", limit_mb=MAX_BYTES // 2**20)
    text = _text(path, data)
    if isinstance(text, Finding):
        return text
    separator = _separator(text)
    records = _records(path, text, separator)
    if isinstance(records, Finding):
        return records
    return _header_finding(path, records, separator) or (records, separator)


def _check_history_file(path: Path) -> HistoryFile:
    data = _opened(path)
    if isinstance(data, HistoryFile):
        return data
    out = HistoryFile(path, hashlib.sha256(data).hexdigest())
    contents = _contents(path, data)
    if isinstance(contents, Finding):
        out.findings.append(contents)
        return out
    records, separator = contents
    listed = _Listed(path)
    rows, lines, width = _rows(path, records, listed)
    out.findings += width
    if not rows and out.is_valid:  # a header alone loads nothing, and would take the file's rows with it
        out.findings.append(history_finding(path, "unreadable-file.history-no-rows", line=1))
        return out
    written = pd.DataFrame(rows, columns=header(), dtype=object)
    frame, found, value_findings = _value_findings(path, written, lines, separator, listed)
    out.findings += value_findings
    with checks.shared_parsing():
        for failure in checks.failures(schemas()["History"], frame):
            if (failure.position, failure.column) in found:
                continue  # the line break or point said already
            if not listed.wanted(failure.rule.id if failure.rule else "", failure.column):
                continue
            message_id, params = failure.message(written, "missing-value.history")
            value = written.at[failure.position, failure.column]
            if message_id == "type-error.number" and (hint := _number_hint(value)):
                params = {**params, "hint": hint}
            out.findings.append(
                history_finding(path, message_id, lines[failure.position], failure.column, value, **params)
            )
        out.findings += listed.more()
        if out.is_valid:
            out.frame = _typed(frame, lines, out)
    return out


def _typed(frame: pd.DataFrame, lines: list[int], out: HistoryFile) -> pd.DataFrame:
    spec = contract.history()
    typed = pd.DataFrame({c.name: typed_column(frame[c.name], c.dtype) for c in spec.columns})
    typed["year"] = typed["year"].astype("int64")
    typed["personnel"] = typed["personnel"].astype("int64")
    typed["source_file"] = out.name
    typed["source_line"] = pd.Series(lines, dtype="int64")
    typed["source_sha256"] = out.sha256
    return typed
