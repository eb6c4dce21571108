"""Historical totals (inputs/history/*.csv), checked like a workbook sheet.

The header must be exactly the columns of the contract's `History` sheet (schemas/columns.csv);
every row is then validated by the same pandera machinery as the workbook's sheets, and each
failure is a finding naming the file, line and column. A file with any error loads nothing
(`pipeline.warehouse.load.load_history` loads the valid ones whole, a changed file replacing the
rows it loaded before).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import paths, safe
from pipeline.intake.coerce import typed_column
from pipeline.intake.findings import Finding, finding
from schemas import checks, contract, schemas

MAX_BYTES = 50 * 1024 * 1024


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


def _csv_rows(path: Path, data: bytes) -> list[list[str]] | Finding:
    """The file's rows, or the one finding of a file that is empty, too large, not UTF-8 or not
    readable as CSV."""
    if not data or len(data) > MAX_BYTES:
        return history_finding(path, "unreadable-file.history-empty", limit_mb=MAX_BYTES // 2**20)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return history_finding(path, "unreadable-file.history-encoding")
    try:
        return list(csv.reader(text.splitlines()))
    except csv.Error as exc:  # a field longer than the csv module's limit (128 KiB)
        return history_finding(path, "unreadable-file.history-csv", detail=str(exc))


def _check_history_file(path: Path) -> HistoryFile:
    data = _opened(path)
    if isinstance(data, HistoryFile):
        return data
    out = HistoryFile(path, hashlib.sha256(data).hexdigest())
    rows = _csv_rows(path, data)
    if isinstance(rows, Finding):
        out.findings.append(rows)
        return out
    names = header()
    found = [h.strip().lower() for h in rows[0]] if rows else []
    if found != names:
        missing = [h for h in names if h not in found]
        detail = f"missing: {', '.join(missing)}" if missing else f"found {','.join(found)}"
        out.findings.append(
            history_finding(path, "missing-column.history-header", line=1, header=",".join(names), found=detail)
        )
        return out
    records, lines = [], []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            out.findings.append(
                history_finding(path, "type-error.history-width", line=line_no, expected=len(names), found=len(row))
            )
            continue
        records.append([c.strip() or None for c in row])
        lines.append(line_no)
    if not records and out.is_valid:  # a header alone loads nothing, and would take the file's rows with it
        out.findings.append(history_finding(path, "unreadable-file.history-no-rows", line=1))
        return out
    frame = pd.DataFrame(records, columns=names, dtype=object)
    spec = contract.history()
    with checks.shared_parsing():
        for failure in checks.failures(schemas()["History"], frame):
            message_id, params = failure.message(frame, "missing-value.history")
            value = frame.at[failure.position, failure.column]
            out.findings.append(
                history_finding(path, message_id, lines[failure.position], failure.column, value, **params)
            )
        if out.is_valid:
            typed = pd.DataFrame({c.name: typed_column(frame[c.name], c.dtype) for c in spec.columns})
            typed["year"] = typed["year"].astype("int64")
            typed["personnel"] = typed["personnel"].astype("int64")
            typed["source_file"] = out.name
            typed["source_line"] = pd.Series(lines, dtype="int64")
            typed["source_sha256"] = out.sha256
            out.frame = typed
    return out
