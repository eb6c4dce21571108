"""Historical totals (inputs/history/*.csv): validated like workbooks, loaded whole or not at all.

A bad row is reported by file, line and column, and nothing of that file is loaded (a version
of the file loaded earlier stays). A changed file replaces the rows it loaded before.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import codelists
from pipeline.intake.findings import Finding, finding
from pipeline.warehouse.load import insert_frame
from schemas.checks import current_year, parse_number
from schemas.contract import HISTORY_HEADER, HISTORY_OPTIONAL

HEADER = list(HISTORY_HEADER)
OPTIONAL = HISTORY_OPTIONAL
MAX_BYTES = 50 * 1024 * 1024
# Upper bounds, as for the workbook columns (schemas/columns.csv): beyond any entity, a typing slip.
HISTORY_MAX = {
    "personnel": 2_000_000,
    "facilities_tco2e": 1e9,
    "air_travel_tco2e": 1e9,
    "other_travel_tco2e": 1e9,
    "offsets_tco2e": 1e9,
    "waste_tonnes": 1e9,
    "water_m3": 1e11,
}


@dataclass
class HistoryFile:
    path: Path
    sha256: str
    findings: list[Finding] = field(default_factory=list)
    frame: pd.DataFrame | None = None  # typed rows when valid

    @property
    def is_valid(self) -> bool:
        return not any(f.is_error for f in self.findings)


def _err(path: Path, code: str, message: str, line: int | None = None, column: str = "", value: object = "") -> Finding:
    return finding(code, message, file=path.name, row=line, column=column, value=value)


def check_history_file(path: Path) -> HistoryFile:
    """Read and validate one CSV of published totals."""
    data = path.read_bytes() if path.stat().st_size <= MAX_BYTES else b""
    out = HistoryFile(path, hashlib.sha256(data).hexdigest())
    if not data:
        out.findings.append(_err(path, "unreadable-file", f"the file is empty or larger than {MAX_BYTES // 2**20} MB."))
        return out
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.findings.append(_err(path, "unreadable-file", "the file is not UTF-8 text; save it as CSV UTF-8."))
        return out
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if header != HEADER:
        missing = [h for h in HEADER if h not in header]
        out.findings.append(
            _err(path, "missing-column", f"the header must be exactly {','.join(HEADER)}; "
                 + (f"missing: {', '.join(missing)}" if missing else f"found {','.join(header)}"), line=1)
        )
        return out
    records, lines = [], []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            out.findings.append(_err(path, "type-error", f"expected {len(HEADER)} values, found {len(row)}.", line=line_no))
            continue
        records.append(dict(zip(HEADER, (c.strip() for c in row))))
        lines.append(line_no)
    frame = pd.DataFrame(records, columns=HEADER, dtype=object)
    frame.index = lines
    entities = set(codelists.codes("entities"))
    typed = pd.DataFrame(index=frame.index)
    typed["entity_code"] = frame["entity_code"].str.upper()
    for line, raw, code in zip(frame.index, frame["entity_code"], typed["entity_code"]):
        if code not in entities:
            out.findings.append(_err(path, "not-in-codelist", f"unknown entity code {raw!r}.", line, "entity_code", raw))
    for column in HEADER[1:]:
        raw = frame[column]
        blank = raw.eq("") | raw.isna()
        values = parse_number(raw.where(~blank, None))
        typed[column] = values
        for line in frame.index[blank & (column not in OPTIONAL)]:
            out.findings.append(_err(path, "missing-value", f"{column} is required.", line, column))
        for line in frame.index[~blank & values.isna()]:
            out.findings.append(_err(path, "type-error", f"expected a number; found {raw[line]!r}.", line, column, raw[line]))
        integer = column in ("year", "personnel")
        low, strict = {"year": (2008, False), "personnel": (0, True)}.get(column, (0, False))
        bad = (values <= low) if strict else (values < low)
        bad |= values > HISTORY_MAX.get(column, float("inf"))
        if integer:
            bad |= (values % 1) > 0
        if column == "year":
            bad |= values > current_year()
        for line in frame.index[bad.fillna(False)]:
            out.findings.append(_err(path, "out-of-range", f"{column} {raw[line]} is out of range.", line, column, raw[line]))
    dup = typed.duplicated(["entity_code", "year"], keep="first")
    for line in typed.index[dup]:
        out.findings.append(
            _err(path, "duplicate-submission", f"{typed.at[line, 'entity_code']} {int(typed.at[line, 'year'])} appears twice in the file.", line, "year")
        )
    if out.is_valid:
        typed["year"] = typed["year"].astype("int64")
        typed["personnel"] = typed["personnel"].astype("int64")
        typed["source_file"] = path.name
        typed["source_line"] = typed.index.astype("int64")
        typed["source_sha256"] = out.sha256
        out.frame = typed.reset_index(drop=True)
    return out


def loaded_sha(con: duckdb.DuckDBPyConnection, file_name: str) -> str | None:
    row = con.execute("SELECT any_value(source_sha256) FROM history_totals WHERE source_file = ?", [file_name]).fetchall()[0]
    return row[0] if row else None


def load_history(con: duckdb.DuckDBPyConnection, files: list[HistoryFile]) -> tuple[int, list[HistoryFile]]:
    """Replace the rows of each changed valid file; returns (rows loaded, files that clash).

    An (entity, year) already loaded from another file is an error on the later file.
    """
    loaded = 0
    for hf in files:
        if not hf.is_valid or loaded_sha(con, hf.path.name) == hf.sha256:
            continue
        clash = con.execute(
            """
            SELECT h.entity_code, h.year, h.source_file FROM history_totals h
            JOIN (SELECT unnest(?) AS entity_code, unnest(?) AS year) n USING (entity_code, year)
            WHERE h.source_file <> ?
            """,
            [list(hf.frame["entity_code"]), [int(y) for y in hf.frame["year"]], hf.path.name],
        ).fetchall()
        if clash:
            entity, year, other = clash[0]
            hf.findings.append(
                _err(hf.path, "duplicate-submission", f"{entity} {year} is already loaded from {other}; each entity-year belongs in one history file.", column="year")
            )
            continue
        con.execute("DELETE FROM history_totals WHERE source_file = ?", [hf.path.name])
        loaded += insert_frame(con, "history_totals", hf.frame)
    return loaded, [hf for hf in files if not hf.is_valid]
