"""Load: validated submissions -> warehouse rows, inside the caller's transaction.

- `known_files` tells which files (by sha256) were already recorded, so a rerun skips them.
- `loaded_serials` lists the offset serials of the loaded submissions, for the cross-checks.
- `record` writes the submissions history, findings and the Entity and EMS rows of valid
  submissions; a valid resubmission marks the entity-year's earlier submission superseded.
- `insert_activity` writes the activity rows prepared by `pipeline.emissions.prepare`.
- `load_history` loads validated history files (`pipeline.intake.history`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import __version__, codelists, safe
from pipeline.intake.history import HistoryFile, history_finding
from pipeline.intake.validate import Submission
from pipeline.warehouse.db import utcnow


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Bulk insert by name (a DuckDB scan of the DataFrame, no row-wise inserts)."""
    if frame.empty:
        return 0
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    con.register("_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame")
    finally:
        con.unregister("_frame")
    return len(frame)


# ------------------------------------------------------------------------------ what is known
def known_files(con: duckdb.DuckDBPyConnection, shas: list[str]) -> dict[str, str]:
    """sha256 -> status for files already loaded, superseded, or rejected and since replaced
    by a valid submission for their entity and year: never read again.

    Other rejected files are read again on every run: a conflict that made them fail (a
    duplicate submission, a serial claimed elsewhere) may have been resolved since.
    """
    if not shas:
        return {}
    rows = con.execute(
        """
        SELECT sha256, arg_max(status, submission_id) FROM submissions
        WHERE sha256 IN (SELECT unnest(?)) AND (status <> 'rejected' OR superseded_by IS NOT NULL)
        GROUP BY sha256
        """,
        [shas],
    ).fetchall()
    return dict(rows)


def rejected_before(con: duckdb.DuckDBPyConnection) -> set[tuple[str, int]]:
    """(sha256, error count) of rejections recorded by this pipeline version, not to record twice."""
    rows = con.execute(
        "SELECT DISTINCT sha256, error_count FROM submissions WHERE status = 'rejected' AND pipeline_version = ? "
        "AND sha256 <> ''",  # a file that could not even be read has no hash: each attempt is recorded
        [__version__],
    ).fetchall()
    return set(rows)


def loaded_serials(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """(serial range as written, entity, year, file name) of every offset of a loaded submission."""
    return con.execute(
        """
        SELECT o.serial_range, s.entity_code, s.reporting_year, s.file_name
        FROM offsets o JOIN submissions s USING (submission_id)
        WHERE s.status = 'loaded' ORDER BY o.submission_id, o.source_row
        """
    ).fetchall()


# ------------------------------------------------------------------------------ recording
@dataclass
class Recorded:
    loaded: list[int] = field(default_factory=list)  # submission ids loaded by this run
    pairs: list[tuple[int, Submission]] = field(default_factory=list)  # (submission id, valid submission)
    rejected: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)  # earlier submission ids replaced
    replaced: list[str] = field(default_factory=list)  # sha256 of rejected files replaced by a valid one
    repeated: list[int] = field(default_factory=list)  # positions in `subs` of rejections already on record
    superseded_files: list[str] = field(default_factory=list)  # file names of the superseded submissions


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0]


def _modified(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
    except OSError:
        return None


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    subs: list[Submission],
    report_paths: dict[int, Path],
    inputs_dir: Path | None = None,
) -> Recorded:
    """Write submissions, findings, Entity and EMS rows. The caller owns the transaction."""
    out = Recorded()
    now = utcnow()
    sid = next_id(con, "submissions", "submission_id") - 1
    seen_rejections = rejected_before(con)
    rows, finding_rows, loaded_pairs = [], [], []
    for offset, sub in enumerate(subs):
        if not sub.is_valid and (sub.sha256, sub.errors) in seen_rejections:
            out.repeated.append(offset)  # the same file with the same errors is on record already
            continue
        sid += 1
        path = Path(sub.path)
        try:
            shown = str(path.resolve().relative_to(Path(inputs_dir).resolve())) if inputs_dir else str(path)
        except ValueError:
            shown = str(path)
        modified = _modified(path)
        status = "loaded" if sub.is_valid else "rejected"
        rows.append(
            {
                "submission_id": sid,
                "run_id": run_id,
                "file_name": sub.file_name,
                "file_path": safe.file_name(shown),
                "sha256": sub.sha256,
                "size_bytes": sub.size_bytes,
                "received_at": now,
                "file_modified_at": modified,
                "entity_code": sub.entity_code,
                "reporting_year": sub.reporting_year,
                "template_version": sub.entity.get("template_version") if sub.entity else None,
                "pipeline_version": __version__,
                "status": status,
                "error_count": sub.errors,
                "warning_count": sub.warnings,
                "report_path": safe.file_name(str(report_paths[offset])) if offset in report_paths else None,
            }
        )
        for f in sub.findings:
            finding_rows.append(
                {
                    "submission_id": sid,
                    "sheet": f.sheet,
                    "cell": f.cell,
                    "excel_row": f.row,
                    "column_header": f.column,
                    "value": f.value,
                    "code": f.code,
                    "severity": f.severity,
                    "message": f.message,
                }
            )
        if sub.is_valid:
            loaded_pairs.append((sid, sub))
            out.loaded.append(sid)
        else:
            out.rejected.append(sid)

    for sid, sub in loaded_pairs:
        earlier = con.execute(
            "SELECT submission_id, file_name FROM submissions"
            " WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
            [sub.entity_code, sub.reporting_year],
        ).fetchall()
        for old, old_name in earlier:
            out.superseded_files.append(old_name)
            con.execute(
                "UPDATE submissions SET status = 'superseded', superseded_by = ?, superseded_at = ? "
                "WHERE submission_id = ?",
                [sid, now, old],
            )
            out.superseded.append(old)

    insert_frame(con, "submissions", pd.DataFrame(rows))
    if out.loaded:  # rejected files of an entity-year that now has a valid submission are replaced by it
        out.replaced = [
            r[0]
            for r in con.execute(
                """
                UPDATE submissions r SET superseded_by = l.submission_id, superseded_at = ?
                FROM submissions l
                WHERE l.submission_id IN (SELECT unnest(?)) AND r.status = 'rejected' AND r.superseded_by IS NULL
                  AND r.entity_code = l.entity_code AND r.reporting_year = l.reporting_year
                RETURNING r.sha256
                """,
                [now, out.loaded],
            ).fetchall()
        ]
    insert_frame(con, "findings", pd.DataFrame(finding_rows))
    out.pairs = loaded_pairs
    return out


def insert_rows(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame]) -> int:
    """Insert prepared rows, table by table (`pipeline.emissions.prepare`); returns the row count."""
    return sum(insert_frame(con, table, frame) for table, frame in tables.items())


def sync_entities(con: duckdb.DuckDBPyConnection) -> None:
    """The entities table mirrors entities.csv (upsert; entities are never deleted)."""
    frame = pd.DataFrame(codelists.table("entities")).rename(columns={"code": "entity_code", "name": "entity_name"})
    con.register("_entities", frame)
    try:
        con.execute(
            """
            INSERT INTO entities
            SELECT entity_code, entity_name, entity_type, TRY_CAST(nullif(expected_from, '') AS INTEGER),
                   TRY_CAST(nullif(expected_until, '') AS INTEGER)
            FROM _entities
            ON CONFLICT (entity_code) DO UPDATE
                SET entity_name = excluded.entity_name, entity_type = excluded.entity_type,
                expected_from = excluded.expected_from, expected_until = excluded.expected_until
            """
        )
    finally:
        con.unregister("_entities")


# ------------------------------------------------------------------------------ history
def loaded_sha(con: duckdb.DuckDBPyConnection, file_name: str) -> str | None:
    row = con.execute(
        "SELECT any_value(source_sha256) FROM history_totals WHERE source_file = ?", [file_name]
    ).fetchall()[0]
    return row[0] if row else None


def load_history(
    con: duckdb.DuckDBPyConnection, files: list[HistoryFile]
) -> tuple[int, list[HistoryFile], list[tuple[str, int]]]:
    """Replace the rows of each changed valid file; returns (rows loaded, files that clash, and for
    each changed file that no longer holds some entity-years it loaded before, how many: they are
    removed with the file's other old rows, and the run says so).

    An (entity, year) already loaded from another file is an error on the later file.
    """
    loaded = 0
    removed: list[tuple[str, int]] = []
    for hf in files:
        if not hf.is_valid or loaded_sha(con, hf.name) == hf.sha256:
            continue
        frame = hf.frame
        assert frame is not None  # a valid file has its typed rows
        # the file's entity-years, as a table: those another file holds, those it no longer holds
        held = {"file": hf.name, "entities": list(frame["entity_code"]), "years": [int(y) for y in frame["year"]]}
        rows = "(SELECT unnest($entities) AS entity_code, unnest($years) AS year)"
        clash = con.execute(
            f"""
            SELECT h.entity_code, h.year, h.source_file FROM history_totals h
            JOIN {rows} n USING (entity_code, year)
            WHERE h.source_file <> $file
            """,
            held,
        ).fetchall()
        if clash:
            entity, year, other = clash[0]
            hf.findings.append(
                history_finding(
                    hf.path, "duplicate-submission.history-loaded", column="year", entity=entity, year=year, other=other
                )
            )
            continue
        gone = con.execute(
            f"""
            SELECT count(*) FROM history_totals h
            WHERE h.source_file = $file AND NOT EXISTS (
                SELECT 1 FROM {rows} n WHERE n.entity_code = h.entity_code AND n.year = h.year
            )
            """,
            held,
        ).fetchall()[0][0]
        if gone:
            removed.append((hf.name, int(gone)))
        con.execute("DELETE FROM history_totals WHERE source_file = ?", [hf.name])
        loaded += insert_frame(con, "history_totals", frame)
    return loaded, [hf for hf in files if not hf.is_valid], removed
