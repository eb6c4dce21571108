"""The tracker: every entity expected for a year, and where its submission stands (`gtb status`).

Statuses, one per expected entity (schemas/codelists/entities.csv: expected_from, expected_until):

- `missing`: nothing received for the year;
- `rejected`: received, but no workbook of the year is loaded (the newest rejection is shown);
- `loaded-with-flags`: loaded, with plausibility flags still open;
- `loaded`: loaded, no open flag, not yet accepted;
- `accepted`: loaded and accepted by an analyst (`gtb accept`);
- `history-only`: no workbook, but published totals for the year (inputs/history).

An entity not expected for the year (before its `expected_from`, after its `expected_until`) is
listed too when a workbook of the year came from it, marked `expected: false`: its rejections
and flags would otherwise be in no list, while the run and the report point to this one.

A rejected file whose entity or year could not be read (a code not in the reference list, an
empty Entity sheet, a file that is no workbook) belongs to no entity row; `unattributed` lists
those of the year (by the year read, else by the year folder it sits in; without either, in
every year), the newest file of each path only, so that one resubmitted under the same name
that now reads is gone from the list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

STATUSES = ("missing", "rejected", "loaded", "loaded-with-flags", "accepted", "history-only")

# A submission's first finding, as issues.csv lists it (errors first, by sheet, row and cell):
# shared by the tracker's rows and its list of files no entity row shows.
FIRST_FINDING = """first_error AS (
    SELECT submission_id, arg_min(
        coalesce(sheet || coalesce('!' || nullif(cell, ''), '') || ': ', '') || message,
        (severity <> 'error', sheet, excel_row, cell)
    ) AS first_finding
    FROM findings GROUP BY submission_id
)"""

STATUS_SQL = f"""
WITH latest AS (  -- the loaded submission, else the newest file received for the entity-year
    SELECT entity_code, arg_max(submission_id, (status = 'loaded', received_at, submission_id)) AS submission_id
    FROM submissions WHERE reporting_year = $year AND entity_code IS NOT NULL GROUP BY entity_code
), listed AS (  -- every entity expected for the year, and any other that sent a workbook for it
    SELECT entity_code, entity_name,
           coalesce(expected_from, 0) <= $year AND coalesce(expected_until, 9999) >= $year AS is_expected
    FROM entities
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
       f.first_finding, h.entity_code IS NOT NULL AS has_history, e.is_expected
FROM expected e
LEFT JOIN latest l USING (entity_code)
LEFT JOIN submissions s ON s.submission_id = l.submission_id
LEFT JOIN first_error f ON f.submission_id = s.submission_id
LEFT JOIN open_flags o ON o.submission_id = s.submission_id
LEFT JOIN accepted a ON a.submission_id = s.submission_id
LEFT JOIN history_totals h ON h.entity_code = e.entity_code AND h.year = $year
ORDER BY e.entity_code
"""


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

    def as_json(self) -> dict:
        out = asdict(self)
        del out["name"]
        return out


def status(con: duckdb.DuckDBPyConnection, year: int) -> list[EntityStatus]:
    """One row per entity expected for `year`, and per other entity that sent a workbook for it, in
    entity order."""
    out = []
    for row in con.execute(STATUS_SQL, {"year": year}).fetchall():
        code, name, sub_status, file, received, errors, warnings, flags, accepted, first, history, expected = row
        if sub_status == "loaded":
            state = "accepted" if accepted else ("loaded-with-flags" if flags else "loaded")
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
                received_at=received.isoformat(sep=" ", timespec="seconds") if received else None,
                errors=int(errors),
                warnings=int(warnings),
                open_flags=int(flags),
                first_finding=first or None,
                name=name,
                expected=bool(expected),
            )
        )
    return out


UNATTRIBUTED_SQL = rf"""
WITH newest AS (  -- the newest file recorded at each path: one resubmitted there replaces it
    SELECT file_path, max(submission_id) AS submission_id FROM submissions GROUP BY file_path
), candidates AS (
    SELECT s.*, try_cast(regexp_extract(s.file_path, '(?:^|[/\\])((?:19|20)\d\d)[/\\][^/\\]*$', 1) AS INTEGER)
               AS folder_year
    FROM submissions s JOIN newest n USING (submission_id)
    WHERE s.status = 'rejected' AND (s.entity_code IS NULL OR s.reporting_year IS NULL)
), {FIRST_FINDING}
SELECT c.file_name, c.file_path, c.entity_code, c.reporting_year, c.received_at, c.error_count, f.first_finding
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
            received_at=received.isoformat(sep=" ", timespec="seconds") if received else None,
            errors=int(errors),
            first_finding=first or None,
        )
        for file, path, entity, read_year, received, errors, first in con.execute(
            UNATTRIBUTED_SQL, {"year": year}
        ).fetchall()
    ]
