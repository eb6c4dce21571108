"""Flags: plausibility findings tied to their cells, recorded, explained and accepted.

A flag becomes a warning finding on the cell of the row that drives it (so it shows in
issues.csv and annotated.xlsx like any finding), and, for a loaded submission, a row of the
`flags` table, open until an analyst accepts it with `gtb accept ENTITY YEAR --reason ...`; the
focal point's comment on that row (the sheet's comment column) is kept as its explanation.
While any flag of a year is open, `gtb report` writes a draft.
"""

from __future__ import annotations

import getpass
import re
from collections import Counter
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline import safe
from pipeline.catalogue import display_value
from pipeline.errors import GtbError
from pipeline.intake.findings import Finding, finding
from pipeline.intake.validate import Submission
from pipeline.review.compare import SHA256_SHOWN, SHA256_SHOWN_MIN
from pipeline.review.plausibility import Flag, flag_key, plain
from pipeline.warehouse.db import transaction, utcnow
from pipeline.warehouse.load import insert_frame, next_id
from schemas import contract


def to_finding(flag: Flag, sub: Submission) -> Finding:
    """The warning of a flag, on the driving cell of the submission's workbook."""
    spec = contract.sheet(flag.sheet)
    if spec.is_table:
        letter = sub.letters.get((flag.sheet, flag.column), "")
        cell = f"{letter}{flag.row}" if letter and flag.row else ""
        row = flag.row
    else:
        cell = sub.cells.get((flag.sheet, flag.column), "")
        row = int(cell[1:]) if cell else None
    return finding(
        flag.message_id,
        **flag.params,
        lang=sub.lang,
        file=sub.file_name,
        sheet=sub.tab(flag.sheet),
        cell=cell,
        row=row,
        column=sub.header(flag.sheet, flag.column),  # as the workbook writes it, like every finding's
        value=plain(flag.value),  # rounded as the message rounds it, a number in any language
    )


def _explanation(con: duckdb.DuckDBPyConnection, flag: Flag) -> str | None:
    """The focal point's comment on the flag's row; for a flag on a whole table sheet (no row: a
    source not reported this year), the year's comment on the Entity sheet."""
    spec = contract.sheet(flag.sheet)
    if spec.is_table and flag.row is None:  # a flag on the whole sheet: the year's comment
        spec = contract.sheet("Entity")
    if "comment" not in spec.names:
        return None
    if spec.is_table:
        found = con.execute(
            f"SELECT comment FROM {spec.table} WHERE submission_id = ? AND source_row = ?",
            [flag.submission_id, flag.row],
        ).fetchall()
    else:
        found = con.execute(
            f"SELECT comment FROM {spec.table} WHERE submission_id = ?", [flag.submission_id]
        ).fetchall()
    return found[0][0] if found else None


def record_flags(con: duckdb.DuckDBPyConnection, flags: list[Flag], subs: dict[int, Submission]) -> int:
    """Add each flag to its submission's findings, its `findings` rows and warning count, and the
    `flags` table (open). The caller owns the transaction. Returns the number of flags."""
    if not flags:
        return 0
    flag_id = next_id(con, "flags", "flag_id") - 1
    flag_rows, finding_rows = [], []
    for flag in flags:
        sub = subs[flag.submission_id]
        found = to_finding(flag, sub)
        sub.findings.append(found)
        flag_id += 1
        flag_rows.append(
            {
                "flag_id": flag_id,
                "submission_id": flag.submission_id,
                "code": found.code,
                "check_name": flag.check.name,
                "sheet": found.sheet,
                "cell": found.cell,
                "excel_row": found.row,
                "value": display_value(flag.value),  # the figure in full
                "message": found.message,
                "explanation": _explanation(con, flag),
                "status": "open",
                "message_key": flag_key(flag),
            }
        )
        finding_rows.append(
            {
                "submission_id": flag.submission_id,
                "sheet": found.sheet,
                "cell": found.cell,
                "excel_row": found.row,
                "column_header": found.column,
                "value": found.value,
                "code": found.code,
                "severity": found.severity,
                "message": found.message,
            }
        )
    insert_frame(con, "flags", pd.DataFrame(flag_rows))
    insert_frame(con, "findings", pd.DataFrame(finding_rows))
    for sid, n in Counter(f.submission_id for f in flags).items():
        con.execute(
            "UPDATE submissions SET warning_count = warning_count + ? WHERE submission_id = ?", [int(n), int(sid)]
        )
    return len(flags)


@dataclass(frozen=True)
class Accepted:
    entity: str
    year: int
    submission_id: int
    flags_closed: int
    by: str
    file_name: str = ""  # the loaded workbook accepted


class NotTheLoadedFile(GtbError):
    """`accept` was told which file it accepts (`named`), and the entity-year's loaded submission
    is another (`loaded`; "" for none): a run loaded a newer workbook after the caller looked at
    it. Nothing is accepted: its flags are closed only by someone who saw them."""

    def __init__(self, code: str, year: int, named: str, loaded: str) -> None:
        self.named, self.loaded = named, loaded
        now = f"the loaded submission is {loaded}" if loaded else "no submission is loaded"
        super().__init__(f"{code} {year}: {now}, not {named}: nothing accepted (see gtb status --year {year})")


def known_entity(entity: str) -> None:
    """A GtbError unless `entity` is a code of the reference list (matched as `accept` does:
    ignoring case and surrounding spaces): one not in it has nothing to accept, whatever the year."""
    from pipeline import codelists

    code = codelists.normalise_ref(entity)
    known = codelists.codes("entities")
    if code in known:
        return
    latin = codelists.look_alike_of(code, known)
    hint = (
        f"; it holds a letter of another alphabet drawn like a Latin one: type it as {latin}"
        if latin
        else f" (see schemas/codelists/entities.csv: {len(known)} codes, e.g. {', '.join(known[:3])})"
    )
    shown = ascii(code)[1:-1] if codelists.to_latin(code) != code else code  # a look-alike letter as its code point
    raise GtbError(f"{shown} is not a known entity code{hint}; nothing accepted")


def accept(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    year: int,
    reason: str,
    by: str | None = None,
    file_name: str | None = None,
    sha256: str | None = None,
) -> Accepted:
    """Accept the loaded submission of `entity` and `year`: close its open flags, log who, when, why.
    With `file_name` (the loaded file the caller showed) and `sha256` (the start of its bytes'
    SHA-256, as `gtb compare` shows it), refused (`NotTheLoadedFile`, nothing closed) unless it is
    still the loaded submission: checked in the transaction that closes the flags, on the caller's
    connection, so no run can load another file in between. The name alone does not tell a
    workbook saved again under the same name from the one reviewed; its bytes do."""
    if not reason.strip():
        raise GtbError("give a --reason: every acceptance is logged with why it was done")
    digest = None if sha256 is None else sha256.strip().lower()
    if digest is not None and not re.fullmatch(f"[0-9a-f]{{{SHA256_SHOWN_MIN},64}}", digest):
        raise GtbError(
            f"--sha256 takes the start of the workbook's SHA-256 as gtb compare shows it: at least "
            f"{SHA256_SHOWN_MIN} of its hexadecimal digits (0-9, a-f), not {safe.console_safe(sha256)}"
        )
    known_entity(entity)
    code = entity.strip().upper()
    who = (by or "").strip() or getpass.getuser()  # a blank --by is no name: the account's
    now = utcnow()
    with transaction(con):
        rows = con.execute(
            "SELECT submission_id, file_name, sha256 FROM submissions "
            "WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
            [code, int(year)],
        ).fetchall()
        found = rows[0] if rows else None
        named_file = file_name is not None and (found is None or found[1] != file_name)
        named_bytes = digest is not None and (found is None or not str(found[2]).startswith(digest))
        if named_file or named_bytes:
            loaded = (found[1] + (f" (sha256 {str(found[2])[:SHA256_SHOWN]})" if digest else "")) if found else ""
            named = " ".join(x for x in (file_name, f"(sha256 {digest})" if digest else None) if x)
            raise NotTheLoadedFile(code, int(year), named, loaded)
        if found is None:
            raise GtbError(
                f"{code} has no loaded submission for {year}: nothing to accept (see gtb status --year {year})"
            )
        sid = found[0]
        closed = con.execute(
            """
            UPDATE flags SET status = 'accepted', reviewed_by = ?, reviewed_at = ?, review_reason = ?
            WHERE submission_id = ? AND status = 'open' RETURNING flag_id
            """,
            [who, now, reason, sid],
        ).fetchall()
        con.execute(
            "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, 'accept', ?, ?)",
            [now, who, sid, code, int(year), len(closed), reason],
        )
    return Accepted(code, int(year), sid, len(closed), who, found[1])


def flag_years(flags: list[dict]) -> str:
    """'2025', '2024 and 2025', '2022, 2023 and 2024': the years `open_flags` are of, as the
    report, the export and the command line name them."""
    years = [str(y) for y in sorted({int(f["year"]) for f in flags})]
    return " and ".join(years) if len(years) <= 2 else ", ".join(years[:-1]) + f" and {years[-1]}"


def open_flags(con: duckdb.DuckDBPyConnection, year: int, *, earlier: bool = False) -> list[dict]:
    """The open flags of the year's loaded submissions: year, entity, file, cell, message. With
    `earlier`, those of the years before it too: a report of the year shows their figures (its
    trends, each entity's change on the year before), so it is a draft while one is open."""
    cur = con.execute(
        f"""
        SELECT s.reporting_year AS year, s.entity_code, s.file_name, f.sheet, f.cell, f.code, f.message,
               f.explanation
        FROM flags f JOIN submissions s USING (submission_id)
        WHERE s.status = 'loaded' AND s.reporting_year {"<=" if earlier else "="} ? AND f.status = 'open'
        ORDER BY s.reporting_year DESC, s.entity_code, f.flag_id
        """,
        [int(year)],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
