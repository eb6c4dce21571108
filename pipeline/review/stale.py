"""Stale comparisons: loaded submissions whose year-on-year flags may no longer be those their data
raise, because the year they are compared with was received or recalculated after they were last
compared. A run compares them again when it finds their workbook in the inputs (`rereview`);
`gtb report --final` refuses while one of the year stands, and `gtb status` marks its row.

Kept apart from `flags` so the tracker reads it without the validation code `flags` imports.
"""

from __future__ import annotations

import duckdb

# The loaded submissions whose year-on-year comparison is stale: the year each is compared with was
# received (or recalculated) after it was last compared (`rereview`: a run compares them again when
# it finds their workbook in the inputs).
STALE_SQL = """
WITH loaded AS (
    SELECT submission_id, entity_code, reporting_year, received_at, file_name, file_path, sha256, report_path
    FROM submissions WHERE status = 'loaded'
), previous AS (
    SELECT l.submission_id, arg_max(p.received_at, p.reporting_year) AS received_at,
           max(p.reporting_year) AS year
    FROM loaded l JOIN loaded p ON p.entity_code = l.entity_code AND p.reporting_year < l.reporting_year
    GROUP BY l.submission_id
), recalculated AS (
    SELECT reporting_year, max(recalculated_at) AS at FROM recalculations GROUP BY reporting_year
), compared AS (
    SELECT submission_id, max(reviewed_at) AS at FROM reviews WHERE action = 'compare-again' GROUP BY submission_id
)
SELECT l.submission_id, l.entity_code, l.reporting_year, l.file_name, l.file_path, l.sha256, p.year, l.report_path
FROM loaded l JOIN previous p USING (submission_id)
LEFT JOIN recalculated rp ON rp.reporting_year = p.year
LEFT JOIN recalculated rl ON rl.reporting_year = l.reporting_year
LEFT JOIN compared c USING (submission_id)
WHERE greatest(p.received_at, coalesce(rp.at, p.received_at), coalesce(rl.at, p.received_at))
      > greatest(l.received_at, coalesce(c.at, l.received_at))
ORDER BY l.entity_code, l.reporting_year
"""


def not_compared_again(con: duckdb.DuckDBPyConnection, year: int) -> list[tuple[str, str, int]]:
    """The loaded submissions of `year` whose comparison is stale (`STALE_SQL`): (entity, file
    name, the year they are compared with). Their flags may not be those the data raise now. The
    year is filtered in the query, which DuckDB pushes down to the year's submissions: the tracker
    asks this on every page view, whatever the warehouse's number of years."""
    return [
        (entity, file_name, earlier)
        for entity, file_name, earlier in con.execute(
            f"SELECT entity_code, file_name, year FROM ({STALE_SQL}) WHERE reporting_year = ? "
            "ORDER BY entity_code, file_name",
            [year],
        ).fetchall()
    ]
