"""Comparing a later year again when the earlier year it was compared with is reloaded.

A year's change flags (`implausible-change`: a figure x3.1 on last year's, a source reported last
year and not this year) compare it with the entity's latest earlier loaded year. When a run loads
that earlier year anew (a correction, or a late workbook for a year in between), the later
year's flags no longer say what its figures are against what is loaded: a flag can name a figure
that is gone, and a change the correction brings goes unflagged. So the run compares the later
year again, on its own workbook read anew (the flag is put on its cell, in its language, as when
it was loaded):

- a change flag (open or accepted) that comparing again raises again stays as it is: the same
  check on the same cell with the same message and figures (`plausibility.flag_key`), whatever
  the words, which take this pipeline's wording (an upgrade may reword a message);
- one it no longer raises is `withdrawn` (kept, with the run and why), and its finding leaves the
  submission's findings and warning count;
- one it raises anew is recorded open, like any flag of a run.

When its flags change, the run writes the later year's issues.csv and annotated.xlsx anew from
its findings as the warehouse then holds them (`run._rewrite_later_reports`).

The later year is the entity's next loaded year after each year the run loads, unless the run
loads that year too (it is compared afresh anyway). A later year whose workbook is no longer in
the inputs folder with the bytes that were loaded cannot be placed on its cells: it is left as it
was, and the run says so; it stays stale (`STALE_SQL`: the year it compares with was received
after it was last compared), so a later run that finds the workbook compares it again, as it
does for the years a `gtb recalculate` changed the emissions of (per capita is compared).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipeline.intake.validate import Submission
from pipeline.review import flags as review_flags
from pipeline.review import plausibility
from pipeline.review.plausibility import Flag
from pipeline.review.stale import STALE_SQL
from pipeline.warehouse.db import utcnow

BY = "gtb run"  # flags.reviewed_by of a flag a run withdrew


@dataclass(frozen=True)
class Later:
    """A loaded submission of a later year whose change flags a run's loads make stale."""

    submission_id: int
    entity: str
    year: int
    file_name: str
    file_path: str  # as recorded: under the inputs folder
    sha256: str
    earlier_year: int  # the year the run loads that it is now compared with
    report_path: str | None = None  # the folder of its issues.csv and annotated.xlsx, as recorded


@dataclass
class Rereviewed:
    """What comparing one later year again did."""

    entity: str
    year: int
    earlier_year: int
    withdrawn: int = 0
    raised: int = 0


@dataclass
class Rereview:
    done: list[Rereviewed] = field(default_factory=list)
    not_found: list[Later] = field(default_factory=list)  # its workbook is no longer in the inputs, as loaded


def later_loaded(con: duckdb.DuckDBPyConnection, loading: list[tuple[str, int]]) -> list[Later]:
    """The loaded submissions compared with a year of `loading` (the entity-years a run is about to
    load) once it is loaded: each entity's next loaded year after each of them, unless that year is
    itself being loaded."""
    by_entity: dict[str, set[int]] = {}
    for entity, year in loading:
        by_entity.setdefault(entity, set()).add(int(year))
    if not by_entity:
        return []
    rows = con.execute(
        """
        SELECT submission_id, entity_code, reporting_year, file_name, file_path, sha256, report_path FROM submissions
        WHERE status = 'loaded' AND list_contains(?, entity_code)
        """,
        [sorted(by_entity)],
    ).fetchall()
    loaded: dict[str, dict[int, tuple]] = {}
    for row in rows:
        loaded.setdefault(row[1], {})[int(row[2])] = row
    out: dict[int, Later] = {}
    for entity, years in by_entity.items():
        have = loaded.get(entity, {})
        every = set(have) | years
        for year in sorted(years):
            after = [y for y in every if y > year]
            if not after:
                continue
            following = min(after)
            if following in years:  # loaded by this run: compared afresh
                continue
            sid, _, _, file_name, file_path, sha, report = have[following]
            out.setdefault(int(sid), Later(int(sid), entity, following, file_name, file_path, sha or "", year, report))
    return list(out.values())


def stale(con: duckdb.DuckDBPyConnection, loading: list[tuple[str, int]]) -> list[Later]:
    """Every loaded submission to compare again in a run that loads `loading`: those the run's
    loads make stale (`later_loaded`) and those stale already (`STALE_SQL`: an earlier run could
    not find the workbook, or a year was recalculated since), except the entity-years it loads."""
    out = {item.submission_id: item for item in later_loaded(con, loading)}
    being_loaded = {(entity, int(year)) for entity, year in loading}
    for sid, entity, year, file_name, file_path, sha, earlier, report in con.execute(STALE_SQL).fetchall():
        if (entity, int(year)) not in being_loaded and int(sid) not in out:
            out[int(sid)] = Later(int(sid), entity, int(year), file_name, file_path, sha or "", int(earlier), report)
    return sorted(out.values(), key=lambda item: (item.entity, item.year))


def rereview(con: duckdb.DuckDBPyConnection, run_id: int, later: list[tuple[Later, Submission]]) -> list[Rereviewed]:
    """Compare each later submission again with the earlier year now loaded (within the caller's
    transaction); `later` pairs each with its workbook read anew."""
    if not later:
        return []
    subs = {item.submission_id: sub for item, sub in later}
    change = {c.name for c in plausibility.checks() if c.check == "change"}
    raised = [f for f in plausibility.flags(con, list(subs)) if f.check.name in change]
    fresh: dict[tuple, tuple[Flag, str]] = {}  # (submission, check, sheet, cell, key) -> the flag, its text
    by_text: dict[tuple, tuple] = {}  # (submission, check, sheet, cell, text) -> its key there
    for flag in raised:
        found = review_flags.to_finding(flag, subs[flag.submission_id])
        where = (flag.submission_id, flag.check.name, found.sheet, found.cell)
        keyed = (*where, plausibility.flag_key(flag))
        fresh[keyed] = (flag, found.message)
        by_text[(*where, found.message)] = keyed
    standing = con.execute(
        """
        SELECT flag_id, submission_id, check_name, sheet, cell, message, code, message_key FROM flags
        WHERE list_contains(?, submission_id) AND status IN ('open', 'accepted') AND list_contains(?, check_name)
        """,
        [sorted(subs), sorted(change)],
    ).fetchall()
    kept = set()
    now = utcnow()
    done = {item.submission_id: Rereviewed(item.entity, item.year, item.earlier_year) for item, _ in later}
    for flag_id, sid, check, sheet, cell, message, code, message_key in standing:
        # a flag recorded before flags had keys is recognised by its text
        key = (sid, check, sheet, cell, message_key) if message_key else by_text.get((sid, check, sheet, cell, message))
        if key in fresh:
            kept.add(key)
            _same_flag_worded_now(con, flag_id, (sid, code, sheet, cell, message), fresh[key][1], key[-1])
            continue
        item = next(i for i, _ in later if i.submission_id == sid)
        reason = (
            f"withdrawn by run {run_id}: {item.entity} {item.year} compared again with {item.entity} "
            f"{item.earlier_year} as it now stands, which no longer raises this flag"
        )
        con.execute(
            "UPDATE flags SET status = 'withdrawn', reviewed_by = ?, reviewed_at = ?, review_reason = ? "
            "WHERE flag_id = ?",
            [BY, now, reason, flag_id],
        )
        gone = con.execute(
            """
            DELETE FROM findings WHERE submission_id = ? AND code = ? AND sheet IS NOT DISTINCT FROM ?
              AND cell IS NOT DISTINCT FROM ? AND message = ? RETURNING 1
            """,
            [sid, code, sheet, cell, message],
        ).fetchall()
        con.execute(
            "UPDATE submissions SET warning_count = greatest(warning_count - ?, 0) WHERE submission_id = ?",
            [len(gone), sid],
        )
        done[sid].withdrawn += 1
    new = [flag for key, (flag, _) in fresh.items() if key not in kept]
    review_flags.record_flags(con, new, subs)
    for flag in new:
        done[flag.submission_id].raised += 1
    for item, _ in later:
        result = done[item.submission_id]
        con.execute(
            "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, 'compare-again', ?, ?)",
            [
                now,
                BY,
                item.submission_id,
                item.entity,
                item.year,
                result.withdrawn,
                f"run {run_id} loaded {item.entity} {item.earlier_year}: {result.withdrawn} flag(s) withdrawn, "
                f"{result.raised} raised",
            ],
        )
    return [done[item.submission_id] for item, _ in later]


def _same_flag_worded_now(con: duckdb.DuckDBPyConnection, flag_id: int, finding: tuple, worded: str, key: str) -> None:
    """A standing flag the comparison raises again keeps its status, review and explanation; its
    message takes the wording of this pipeline (an upgrade may have reworded it), in the flags
    table and in its submission's findings, and a flag recorded before keys gets its key."""
    con.execute("UPDATE flags SET message = ?, message_key = ? WHERE flag_id = ?", [worded, key, flag_id])
    if worded != finding[-1]:  # its finding: (submission, code, sheet, cell, message as it was)
        con.execute(
            """
            UPDATE findings SET message = ? WHERE submission_id = ? AND code = ? AND sheet IS NOT DISTINCT FROM ?
              AND cell IS NOT DISTINCT FROM ? AND message = ?
            """,
            [worded, *finding],
        )
