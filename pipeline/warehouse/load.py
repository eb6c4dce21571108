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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import __version__, codelists, safe
from pipeline.intake.findings import Finding
from pipeline.intake.history import LISTED, HistoryFile, history_finding
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


@dataclass
class Withdrawn:
    """Rejected files a run found taken out of its inputs (`withdrawn`), and withdrawn ones it found
    back (`back`): (entity or None, year or None, file name, path as recorded)."""

    withdrawn: list[tuple[str | None, int | None, str, str]] = field(default_factory=list)
    back: list[tuple[str | None, int | None, str, str]] = field(default_factory=list)


def withdraw_absent(con: duckdb.DuckDBPyConnection, shas: list[str], paths: list[str]) -> Withdrawn:
    """Mark the standing rejected files (never replaced by a valid workbook) that are no longer in
    the inputs withdrawn, and those withdrawn before that are back, standing again. A file is found
    by its bytes (`shas`, wherever it now lies), one that could not be hashed by its path as
    recorded (`paths`). A withdrawn rejection no longer stands: the tracker, the report's
    completeness and the reports to send back leave it out, as the analyst did. The caller owns the
    transaction."""
    now = utcnow()
    con.execute("CREATE OR REPLACE TEMP TABLE _present_sha AS SELECT unnest(?::VARCHAR[]) AS sha256", [shas])
    con.execute("CREATE OR REPLACE TEMP TABLE _present_path AS SELECT unnest(?::VARCHAR[]) AS file_path", [paths])
    present = """(CASE WHEN coalesce(sha256, '') <> '' THEN sha256 IN (SELECT sha256 FROM _present_sha)
                   ELSE file_path IN (SELECT file_path FROM _present_path) END)"""
    try:
        out = Withdrawn()
        out.withdrawn = con.execute(
            f"""UPDATE submissions SET withdrawn_at = ?
                WHERE status = 'rejected' AND superseded_by IS NULL AND withdrawn_at IS NULL AND NOT {present}
                RETURNING entity_code, reporting_year, file_name, file_path""",
            [now],
        ).fetchall()
        out.back = con.execute(
            f"""UPDATE submissions SET withdrawn_at = NULL
                WHERE status = 'rejected' AND withdrawn_at IS NOT NULL AND {present}
                RETURNING entity_code, reporting_year, file_name, file_path"""
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _present_sha")
        con.execute("DROP TABLE IF EXISTS _present_path")
    out.withdrawn.sort(key=lambda r: (r[0] or "", r[1] or 0, r[3]))
    out.back.sort(key=lambda r: (r[0] or "", r[1] or 0, r[3]))
    return out


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

    @property
    def years(self) -> list[int | None]:
        """The reporting year of each valid submission."""
        return [s.reporting_year for _, s in self.pairs]


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0]


def _modified(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
    except OSError:
        return None


def recorded_path(path: Path, inputs_dir: Path | None) -> str:
    """A submission's `file_path` as recorded: under the inputs folder, both resolved (a folder
    reached through a link is recorded where it is); the path as given when it lies elsewhere."""
    if inputs_dir is None:
        return str(path)
    try:
        return str(path.resolve().relative_to(Path(inputs_dir).resolve()))
    except ValueError:
        return str(path)


def stored_path(path: Path, inputs_dir: Path | None) -> str:
    """`recorded_path` as `submissions.file_path` holds it: bytes that are not UTF-8 escaped."""
    return safe.file_name(recorded_path(path, inputs_dir))


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
        modified = _modified(path)
        status = "loaded" if sub.is_valid else "rejected"
        rows.append(
            {
                "submission_id": sid,
                "run_id": run_id,
                "file_name": sub.file_name,
                "file_path": stored_path(path, inputs_dir),
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
        # ... those received before it; one rejected in the same run only if its file is older (a
        # newer file sent beside it that failed is the focal point's latest word: it stays rejected)
        out.replaced = [
            r[0]
            for r in con.execute(
                """
                UPDATE submissions r SET superseded_by = l.submission_id, superseded_at = ?
                FROM submissions l
                WHERE l.submission_id IN (SELECT unnest(?)) AND r.status = 'rejected' AND r.superseded_by IS NULL
                  AND r.entity_code = l.entity_code AND r.reporting_year = l.reporting_year
                  AND (r.run_id <> l.run_id OR r.file_modified_at < l.file_modified_at)
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


# An entity taken out of entities.csv (a code renamed or merged, an entity closed): expected until
# the `expected_until` its row last had, else its last year with data (a loaded workbook or
# published totals), so that the years it reported keep their completeness and no later year
# waits for it; never, without either (0).
_DELIST_SQL = """
WITH data_years AS (
    SELECT entity_code, reporting_year AS year FROM submissions WHERE status = 'loaded'
    UNION ALL SELECT entity_code, year FROM history_totals
), last_years AS (
    SELECT entity_code, max(year) AS last_year FROM data_years GROUP BY entity_code
), ends AS (
    SELECT e.entity_code, coalesce(e.expected_until, l.last_year, 0) AS until
    FROM entities e LEFT JOIN last_years l USING (entity_code)
    WHERE e.entity_code NOT IN (SELECT entity_code FROM _entities)
)
UPDATE entities SET expected_until = ends.until
FROM ends
WHERE entities.entity_code = ends.entity_code AND entities.expected_until IS DISTINCT FROM ends.until
RETURNING entities.entity_code, entities.expected_until
"""


def sync_entities(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """The entities table mirrors entities.csv (upsert; entities are never deleted: their rows
    stay). One no longer listed is no longer expected after its last year with data
    (`_DELIST_SQL`); returns those this call so ended, with that year (0: never expected)."""
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
        ended = con.execute(_DELIST_SQL).fetchall()
    finally:
        con.unregister("_entities")
    return sorted((str(code), int(until)) for code, until in ended)


# ------------------------------------------------------------------------------ history
Key = tuple[str, int]  # (entity, year)


@dataclass
class HistoryLoad:
    """What `load_history` did: the rows loaded, the files rejected, and what became of the rows
    loaded before from files this run changed or no longer finds."""

    rows: int = 0
    rejected: list[HistoryFile] = field(default_factory=list)
    loaded: list[HistoryFile] = field(default_factory=list)  # the files whose rows this run loaded
    removed: list[tuple[str, int]] = field(default_factory=list)  # (file, its rows in no file now)
    moved: list[tuple[str, str, int]] = field(default_factory=list)  # (file, the file now holding them, rows)
    missing: list[tuple[str, int, int, int]] = field(default_factory=list)  # (file gone, rows kept, first, last year)


@dataclass
class _Claim:
    file: str
    line: int
    held: bool  # loaded from this file before


def loaded_history(con: duckdb.DuckDBPyConnection) -> dict[Key, tuple[str, int, str]]:
    """(entity, year) -> (source file, line, sha256) of every history row loaded."""
    rows = con.execute("SELECT entity_code, year, source_file, source_line, source_sha256 FROM history_totals")
    return {(e, int(y)): (f, int(line), sha) for e, y, f, line, sha in rows.fetchall()}


def load_history(con: duckdb.DuckDBPyConnection, files: list[HistoryFile]) -> HistoryLoad:
    """Replace the rows of each changed valid file; say what became of the rows it no longer holds.

    Each entity-year belongs in one history file, checked against what the run will leave: the new
    rows of the other files loaded by this run, the rows loaded before of those it does not load (a
    file rejected keeps them). A file no longer in the folder keeps its rows, but those another
    file now holds move to it: a file renamed, or rows moved into a new file, is the same rows
    under a new name. A clash is an error on the file that takes the entity-year anew; of two files
    taking it anew, on both.
    """
    out = HistoryLoad()
    _refuse_names_taken(files)
    before = loaded_history(con)
    counts = Counter(f for f, _, _ in before.values())
    present = {hf.name for hf in files}
    loading = {
        hf.name: hf
        for hf in files
        if hf.is_valid and (_sha_of(before, hf.name) != hf.sha256 or counts[hf.name] != len(_frame(hf)))
    }
    while clashes := _clashes(before, present, loading):
        for name, found in clashes.items():
            hf = loading.pop(name)
            hf.findings += found
    claimed = {(e, int(y)): hf.name for hf in loading.values() for e, y in _keys(hf)}
    _account(out, before, present, loading, claimed)
    if loading:
        con.execute("DELETE FROM history_totals WHERE source_file IN (SELECT unnest(?))", [list(loading)])
        taken = [k for k, name in claimed.items() if k in before and before[k][0] != name]
        if taken:  # the rows of files no longer in the folder that another file now holds
            con.execute(
                "DELETE FROM history_totals h USING (SELECT unnest($entities) AS e, unnest($years) AS y) t "
                "WHERE h.entity_code = t.e AND h.year = t.y",
                {"entities": [e for e, _ in taken], "years": [y for _, y in taken]},
            )
        for hf in loading.values():
            out.rows += insert_frame(con, "history_totals", _frame(hf))
    out.loaded = list(loading.values())
    out.rejected = [hf for hf in files if not hf.is_valid]
    return out


def _frame(hf: HistoryFile) -> pd.DataFrame:
    assert hf.frame is not None  # a valid file has its typed rows
    return hf.frame


def _keys(hf: HistoryFile) -> list[tuple[str, int]]:
    frame = _frame(hf)
    return list(zip(frame["entity_code"], frame["year"].astype(int), strict=True))


def _sha_of(before: dict[Key, tuple[str, int, str]], name: str) -> str | None:
    return next((sha for f, _, sha in before.values() if f == name), None)


def _refuse_names_taken(files: list[HistoryFile]) -> None:
    """Two files whose names are recorded alike (a name with bytes that are not UTF-8, 'caf\xe9.csv',
    and one typed with that escape, 'caf\\xe9.csv') would replace each other's rows: the one whose
    recorded name is not its own is refused."""
    by_name: dict[str, list[HistoryFile]] = {}
    for hf in files:
        by_name.setdefault(hf.name, []).append(hf)
    for name, same in by_name.items():
        if len(same) < 2:
            continue
        keep = next((hf for hf in same if hf.path.name == name), same[0])
        for hf in same:
            if hf is not keep:
                hf.frame = None
                hf.findings.append(history_finding(hf.path, "unreadable-file.history-name-taken", other=name))


def _claims(
    before: dict[Key, tuple[str, int, str]], present: set[str], loading: dict[str, HistoryFile]
) -> dict[Key, list[_Claim]]:
    """Who will hold each entity-year: the files to load by their new rows, the other files of the
    folder by the rows they loaded before."""
    claims: dict[Key, list[_Claim]] = {}
    for key, (file, line, _) in before.items():
        if file not in loading and file in present:
            claims.setdefault(key, []).append(_Claim(file, line, True))
    for hf in loading.values():
        for key, line in zip(_keys(hf), _frame(hf)["source_line"], strict=True):
            claims.setdefault(key, []).append(_Claim(hf.name, int(line), before.get(key, ("",))[0] == hf.name))
    return claims


def _clashes(
    before: dict[Key, tuple[str, int, str]], present: set[str], loading: dict[str, HistoryFile]
) -> dict[str, list[Finding]]:
    """The findings of the files to load that take an entity-year another file will hold: its new
    rows when it loads, its rows loaded before otherwise. Each file's first LISTED, then a count."""
    found: dict[str, list[Finding]] = {}
    listed: Counter[str] = Counter()
    for (entity, year), claim in sorted(_claims(before, present, loading).items()):
        holders = [c for c in claim if c.held] or claim
        for c in claim if len(claim) > 1 else []:
            if c.held:
                continue
            other = next(o for o in holders if o is not c)
            listed[c.file] += 1
            if listed[c.file] <= LISTED:
                kind = "history-loaded" if other.file not in loading else "history-other"
                found.setdefault(c.file, []).append(
                    history_finding(
                        loading[c.file].path,
                        f"duplicate-submission.{kind}",
                        line=c.line,
                        column="year",
                        value=year,
                        entity=entity,
                        year=year,
                        other=other.file,
                        other_line=other.line,
                    )
                )
    for name, count in listed.items():
        found[name].sort(key=lambda f: f.row or 0)
        if count > LISTED:
            found[name].append(
                history_finding(loading[name].path, "more-findings.history-rows", count=count - LISTED, listed=LISTED)
            )
    return found


def _account(
    out: HistoryLoad,
    before: dict[Key, tuple[str, int, str]],
    present: set[str],
    loading: dict[str, HistoryFile],
    claimed: dict[Key, str],
) -> None:
    """What becomes of the rows loaded before from the files this run loads or no longer finds:
    kept (a file gone), moved to the file that now holds them, or removed (in no file now)."""
    removed: Counter[str] = Counter()
    moved: Counter[tuple[str, str]] = Counter()
    kept: dict[str, list[int]] = {}
    for key, (file, _, _) in before.items():
        now = claimed.get(key)
        if now is not None and now != file:
            moved[file, now] += 1
        elif now is None and file in loading:
            removed[file] += 1
        elif now is None and file not in present:
            kept.setdefault(file, []).append(key[1])
    out.removed = sorted(removed.items())
    out.moved = sorted((a, b, n) for (a, b), n in moved.items())
    out.missing = sorted((f, len(years), min(years), max(years)) for f, years in kept.items())


def history_in_workbook_years(
    con: duckdb.DuckDBPyConnection, run_id: int
) -> list[tuple[str, int, str, int, str, bool]]:
    """The history rows of years with loaded workbooks: (entity, year, file, line, the entity's
    loaded workbook for the year or '', whether the year has a workbook loaded by run `run_id`)."""
    return [
        (e, int(y), f, int(line), w or "", bool(new))
        for e, y, f, line, w, new in con.execute(
            """
            SELECT h.entity_code, h.year, h.source_file, h.source_line,
                   (SELECT any_value(s.file_name) FROM submissions s WHERE s.status = 'loaded'
                     AND s.entity_code = h.entity_code AND s.reporting_year = h.year),
                   bool_or(y.run_id = ?)
            FROM history_totals h JOIN submissions y ON y.reporting_year = h.year AND y.status = 'loaded'
            GROUP BY ALL ORDER BY h.year, h.entity_code
            """,
            [run_id],
        ).fetchall()
    ]
