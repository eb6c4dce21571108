"""The tracker: every entity expected for a year, and where its submission stands (`gtb status`).

Statuses, one per expected entity (schemas/codelists/entities.csv: expected_from, expected_until):

- `missing`: nothing received for the year;
- `rejected`: received, but no workbook of the year is loaded (the newest rejection is shown);
- `loaded-with-flags`: loaded, with plausibility flags still open (also after an acceptance, when
  a run compared it again with an earlier year reloaded since and raised new ones);
- `loaded`: loaded, no open flag, not yet accepted;
- `accepted`: loaded and accepted by an analyst (`gtb accept`);
- `history-only`: no workbook, but published totals for the year (inputs/history).

A loaded row whose flags may be stale (`compare_again`: the earlier year it is compared with was
received or recalculated after it was last compared, and no run has found its workbook since)
keeps its status, but says so: an `accepted` there is the acceptance of a comparison that may no
longer hold, and `gtb report --final` refuses the year until a run compares it again.

An entity not expected for the year (before its `expected_from`, after its `expected_until`) is
listed too when a workbook of the year came from it, marked `expected: false`: its rejections
and flags would otherwise be in no list, while the run and the report point to this one.

A rejected file whose entity or year could not be read (a code not in the reference list, an
empty Entity sheet, a file that is no workbook) belongs to no entity row; `unattributed` lists
those of the year (by the year read, else by the year folder it sits in; without either, in
every year), the newest file of each path only, so that one resubmitted under the same name
that now reads is gone from the list.

The loaded submission decides a row's status, but a rejected file of the entity-year that no
loaded workbook has replaced since (a correction sent after it and rejected) is not hidden: the
row lists it (`rejected_files`: file, errors, first finding, newest first), as every other
rejected file of the entity-year still standing beside the one the row shows. A rejected file
belongs to the year of the folder it sits in, else to the year it reads: a workbook of last year
put in this year's folder (`year-mismatch`) is listed in this year's row of its entity, with the
year the workbook names (`year`), not in last year's, where nobody looks for it.

Before any run has completed (the first one was stopped), the warehouse holds no entity yet: the
rows are then those of the code list, and `no_run_completed` says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import duckdb

from pipeline import codelists
from pipeline.review.stale import not_compared_again

STATUSES = ("missing", "rejected", "loaded", "loaded-with-flags", "accepted", "history-only")

# A submission's first finding, as issues.csv lists it (errors first, by sheet, row and cell):
# shared by the tracker's rows and its list of files no entity row shows.
FIRST_FINDING = """first_error AS (
    SELECT submission_id, arg_min(
        coalesce(nullif(sheet, '') || coalesce('!' || nullif(cell, ''), '') || ': ', '') || message,
        (severity <> 'error', sheet, excel_row, cell)
    ) AS first_finding
    FROM findings GROUP BY submission_id
)"""

# The year folder a file sits in (`submissions/2025/x.xlsx`: 2025), as the run's `year-mismatch`
# reads it; a rejected file belongs to that year, else to the year it reads.
FOLDER_YEAR = r"try_cast(regexp_extract({path}, '(?:^|[/\\])((?:19|20)\d\d)[/\\][^/\\]*$', 1) AS INTEGER)"

# The submissions of entity-years, each in the year it belongs to (`year`): a loaded one in its
# own, a rejected one in its folder's (only workbooks whose entity and year could be read).
RECEIVED = f"""received AS (
    SELECT *, CASE WHEN status = 'rejected' THEN coalesce({FOLDER_YEAR.format(path="file_path")}, reporting_year)
                   ELSE reporting_year END AS year
    FROM submissions WHERE entity_code IS NOT NULL AND reporting_year IS NOT NULL
)"""

# A rejected file still stands (for the year it belongs to) unless a valid one replaced it: one of
# its own year, or, for a file of another year's folder (last year's workbook misfiled here), those
# very bytes, since loaded in the year they read. A misfiled file whose read year got another
# workbook loaded still stands for its folder's year: it was sent for that year. One taken out of the
# inputs (`withdrawn_at`, set by the run that found it gone) no longer stands.
STANDS = """({r}withdrawn_at IS NULL AND ({r}superseded_by IS NULL OR ({r}year <> {r}reporting_year
    AND coalesce({r}sha256, '') NOT IN (
    SELECT sha256 FROM submissions WHERE status <> 'rejected' AND coalesce(sha256, '') <> ''))))"""

STATUS_SQL = f"""
WITH {RECEIVED}, latest AS (  -- the loaded submission, else the newest file received for the entity-year
    SELECT entity_code, arg_max(submission_id, (status = 'loaded', received_at, submission_id)) AS submission_id
    FROM received WHERE year = $year AND (status <> 'rejected' OR {STANDS.format(r="")})
    GROUP BY entity_code
), known AS (  -- the warehouse's entities; before any run has completed, those of the code list
    SELECT entity_code, entity_name, expected_from, expected_until FROM entities
    UNION ALL
    SELECT * FROM (
        SELECT unnest($codes), unnest($names),
               TRY_CAST(nullif(unnest($froms), '') AS INTEGER), TRY_CAST(nullif(unnest($untils), '') AS INTEGER)
    ) WHERE NOT EXISTS (SELECT 1 FROM entities)
), listed AS (  -- every entity expected for the year, and any other that sent a workbook for it
    SELECT entity_code, entity_name,
           coalesce(expected_from, 0) <= $year AND coalesce(expected_until, 9999) >= $year AS is_expected
    FROM known
), expected AS (
    SELECT * FROM listed WHERE is_expected OR entity_code IN (SELECT entity_code FROM latest)
), {FIRST_FINDING}, open_flags AS (
    SELECT submission_id, count(*) FILTER (WHERE status = 'open') AS open_flags FROM flags GROUP BY submission_id
), accepted AS (
    SELECT DISTINCT submission_id FROM reviews WHERE action = 'accept'
)
SELECT e.entity_code, e.entity_name, s.status AS submission_status, s.file_name, s.received_at,
       coalesce(s.error_count, 0) AS errors, coalesce(s.warning_count, 0) AS warnings,
       coalesce(o.open_flags, 0) AS open_flags, a.submission_id IS NOT NULL AS is_accepted,
       f.first_finding, h.entity_code IS NOT NULL AS has_history, e.is_expected, s.reporting_year,
       s.submission_id, s.report_path, s.run_id, s.file_modified_at, s.sha256
FROM expected e
LEFT JOIN latest l USING (entity_code)
LEFT JOIN submissions s ON s.submission_id = l.submission_id
LEFT JOIN first_error f ON f.submission_id = s.submission_id
LEFT JOIN open_flags o ON o.submission_id = s.submission_id
LEFT JOIN accepted a ON a.submission_id = s.submission_id
LEFT JOIN history_totals h ON h.entity_code = e.entity_code AND h.year = $year
ORDER BY e.entity_code
"""

# The rejected files of the year's entity-years that still stand (`STANDS`), the newest file of
# each path only, newest first.
REJECTED_SQL = f"""
WITH {RECEIVED}, newest AS (
    SELECT file_path, max(submission_id) AS submission_id FROM submissions GROUP BY file_path
), {FIRST_FINDING}
SELECT r.entity_code, r.submission_id, r.file_name, r.file_path, r.reporting_year, r.received_at,
       r.error_count, f.first_finding, r.report_path, r.run_id, r.file_modified_at
FROM received r JOIN newest n USING (submission_id) LEFT JOIN first_error f USING (submission_id)
WHERE r.year = $year AND r.status = 'rejected' AND {STANDS.format(r="r.")}
ORDER BY r.entity_code, r.received_at DESC, r.submission_id DESC
"""


@dataclass(frozen=True)
class RejectedFile:
    """A rejected file of an entity-year besides the one its row shows, not replaced since."""

    file: str
    path: str
    year: int  # the year the workbook names: another than the row's for a workbook in another year's folder
    received_at: str | None
    errors: int
    first_finding: str | None
    newer: bool  # received after the file the row shows (after the loaded one: a rejected correction)
    report: str | None = None  # the folder of its issues.csv and annotated.xlsx


@dataclass(frozen=True)
class EntityStatus:
    entity: str
    status: str
    file: str | None
    received_at: str | None
    errors: int
    warnings: int
    open_flags: int
    first_finding: str | None
    name: str = ""
    expected: bool = True  # False: not expected for the year, listed because it sent a workbook
    # the entity-year's other rejected files not replaced since, newest first (in the JSON when any)
    rejected_files: tuple[RejectedFile, ...] = field(default=())
    workbook_year: int | None = None  # the year the row's file names, when another (in the JSON then)
    report: str | None = None  # the folder of the row's file's issues.csv and annotated.xlsx (as the run wrote it)
    # the earlier year the loaded file must be compared with again (`stale`), when its flags may
    # be stale: that year was received or recalculated since (in the JSON then)
    compare_again: int | None = None
    # the SHA-256 of the row's file, when its bytes were read: what a page that shows the file
    # hands back with a decision on it (`flags.accept`), so that a file of the same name loaded
    # since is told apart
    sha256: str | None = None

    @property
    def rejected_since(self) -> tuple[RejectedFile, ...]:
        """The files rejected after the one the row shows: after the loaded one, rejected corrections."""
        return tuple(r for r in self.rejected_files if r.newer)

    def as_json(self) -> dict:
        out = asdict(self)
        del out["name"]
        if not self.rejected_files:
            del out["rejected_files"]
        if self.workbook_year is None:
            del out["workbook_year"]
        if self.compare_again is None:
            del out["compare_again"]
        return out


def no_run_completed(con: duckdb.DuckDBPyConnection) -> bool:
    """No `gtb run` has committed on the warehouse yet (the first one was stopped, say): it holds
    no entity, no submission."""
    return not con.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]  # type: ignore[index]


def _code_list() -> dict[str, list[str]]:
    """The entities of the code list, as the parameters of `STATUS_SQL`'s fallback."""
    rows = codelists.table("entities")
    return {
        "codes": [r["code"] for r in rows],
        "names": [r["name"] for r in rows],
        "froms": [r.get("expected_from") or "" for r in rows],
        "untils": [r.get("expected_until") or "" for r in rows],
    }


def _when(received) -> str | None:
    return received.isoformat(sep=" ", timespec="seconds") if received else None


Order = tuple[int, dt.datetime, int]  # `_order`: (run, file saved, submission)


def rejected_files(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, list[tuple[Order, RejectedFile]]]:
    """Entity code -> (`_order`, file) of its rejected files of `year` that still stand."""
    out: dict[str, list[tuple[Order, RejectedFile]]] = {}
    for code, sid, file, path, read_year, received, errors, first, report, run, modified in con.execute(
        REJECTED_SQL, {"year": year}
    ).fetchall():
        shown = RejectedFile(file, path, int(read_year), _when(received), int(errors), first or None, False, report)
        out.setdefault(code, []).append((_order(run, modified, sid), shown))
    return out


def _order(run: int | None, modified: dt.datetime | None, sid: int) -> Order:
    """Which of two files came later: the later run; in one run, the file saved later (the rule by
    which a run's rejected file is replaced by the one it loads, `warehouse.load.record`); else the
    order they were read in."""
    return (int(run or 0), modified or dt.datetime.min, int(sid))


def status(con: duckdb.DuckDBPyConnection, year: int) -> list[EntityStatus]:
    """One row per entity expected for `year`, and per other entity that sent a workbook for it, in
    entity order."""
    out = []
    others = rejected_files(con, year)
    stale = {entity: earlier for entity, _, earlier in not_compared_again(con, year)}
    for row in con.execute(STATUS_SQL, {"year": year, **_code_list()}).fetchall():
        code, name, sub_status, file, received, errors, warnings, flags, accepted, first, history, expected = row[:12]
        read_year, sid, report, run, modified, digest = row[12:]
        shown = _order(run, modified, sid) if sid is not None else None
        also = tuple(
            RejectedFile(**{**asdict(r), "newer": shown is not None and other > shown})
            for other, r in others.get(code, [])
            if other != shown
        )
        if sub_status == "loaded":
            # open flags first: a flag raised after an acceptance (a later year compared again) is open
            state = "loaded-with-flags" if flags else ("accepted" if accepted else "loaded")
        elif sub_status in ("rejected", "superseded"):
            state = "rejected"
        elif history:
            state = "history-only"
        else:
            state = "missing"
        out.append(
            EntityStatus(
                entity=code,
                status=state,
                file=file,
                received_at=_when(received),
                errors=int(errors),
                warnings=int(warnings),
                open_flags=int(flags),
                first_finding=first or None,
                name=name,
                expected=bool(expected),
                rejected_files=also,
                workbook_year=int(read_year) if read_year is not None and read_year != year else None,
                report=report,
                compare_again=stale.get(code) if sub_status == "loaded" else None,
                sha256=digest or None,
            )
        )
    return out


UNATTRIBUTED_SQL = f"""
WITH newest AS (  -- the newest file recorded at each path: one resubmitted there replaces it
    SELECT file_path, max(submission_id) AS submission_id FROM submissions GROUP BY file_path
), candidates AS (
    SELECT s.*, {FOLDER_YEAR.format(path="s.file_path")} AS folder_year
    FROM submissions s JOIN newest n USING (submission_id)
    WHERE s.status = 'rejected' AND (s.entity_code IS NULL OR s.reporting_year IS NULL) AND s.withdrawn_at IS NULL
), {FIRST_FINDING}
SELECT c.file_name, c.file_path, c.entity_code, c.reporting_year, c.received_at, c.error_count, f.first_finding,
       c.report_path
FROM candidates c LEFT JOIN first_error f USING (submission_id)
WHERE coalesce(c.reporting_year, c.folder_year, $year) = $year
ORDER BY c.file_path
"""


@dataclass(frozen=True)
class Unattributed:
    """A rejected file of the year that no entity row shows: its entity or year could not be read."""

    file: str
    path: str
    entity: str | None  # the entity, when only the year could not be read
    year: int | None  # the year read, if any
    received_at: str | None
    errors: int
    first_finding: str | None
    report: str | None = None  # the folder of its issues.csv and annotated.xlsx

    def as_json(self) -> dict:
        return asdict(self)


def unattributed(con: duckdb.DuckDBPyConnection, year: int) -> list[Unattributed]:
    """The rejected files of `year` that belong to no entity row of the tracker, by path."""
    return [
        Unattributed(
            file=file,
            path=path,
            entity=entity,
            year=read_year,
            received_at=_when(received),
            errors=int(errors),
            first_finding=first or None,
            report=report,
        )
        for file, path, entity, read_year, received, errors, first, report in con.execute(
            UNATTRIBUTED_SQL, {"year": year}
        ).fetchall()
    ]


@dataclass(frozen=True)
class Tracker:
    """What `gtb status` prints: the entities' rows, the rejected files no row shows, and whether
    no run has completed on the database yet (the rows are then the code list's expected entities)."""

    rows: list[EntityStatus]
    unattributed: list
    no_run_completed: bool
    # the year's factor sets and how many loaded workbooks use each, when two or more
    # (`calculate.mixed_sets`): the year's report and export are drafts until it is restated
    mixed_sets: tuple[tuple[str, int], ...] = ()
