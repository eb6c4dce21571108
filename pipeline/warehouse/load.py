"""Load: validated submissions -> warehouse rows, inside the caller's transaction.

- `known_files` tells which files (by sha256) were already recorded, so a rerun skips them.
- `cross_submission_findings` adds the rules that need more than one workbook: offset serials
  claimed twice (any entity, any year) and two different workbooks for one entity and year.
- `record` writes the submissions history, findings, and the activity rows of valid
  submissions; a valid resubmission marks the entity-year's earlier submission superseded.

Column names in the warehouse come from `column_map.csv`; derived columns (canonical
quantities, flight distances, flags) are computed here once, in bulk over all submissions.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import __version__, codelists, serials
from pipeline.reference import air, factors, units
from pipeline.intake.findings import finding
from pipeline.intake.validate import Submission
from pipeline.warehouse.db import utcnow
from schemas import contract

HERE = Path(__file__).resolve().parent


@cache
def column_map() -> dict[str, tuple[str, dict[str, str]]]:
    """sheet -> (warehouse table, {contract column: warehouse column})."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    with (HERE / "column_map.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            table, cols = out.setdefault(row["sheet"], (row["table"], {}))
            cols[row["column"]] = row["db_column"]
    for spec in contract.sheets():
        assert set(out[spec.name][1]) == set(spec.names), f"column_map.csv does not cover sheet {spec.name}"
    return out


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


# ------------------------------------------------------------------------------ cross-submission
def serial_key(values: pd.Series) -> pd.Series:
    """The one spelling of each serial (`pipeline.serials.normalise`), as stored in offsets.serial_key."""
    return values.map(serials.normalise).astype("string")


def cross_submission_findings(con: duckdb.DuckDBPyConnection, subs: list[Submission]) -> None:
    """Add duplicate-submission and duplicate-serial errors to `subs` (in place)."""
    valid = [s for s in subs if s.is_valid]
    by_key: dict[tuple[str, int], list[Submission]] = {}
    for s in valid:
        by_key.setdefault((s.entity_code, s.reporting_year), []).append(s)
    for (entity, year), group in by_key.items():
        if len({s.sha256 for s in group}) < 2:
            continue
        names = ", ".join(s.file_name for s in group)
        for s in group:
            s.findings.append(
                finding(
                    "duplicate-submission",
                    f"{len(group)} different workbooks for {entity} {year} arrived in this run ({names}); none is "
                    f"loaded. Keep only the one that should count and run again.",
                    file=s.file_name,
                    sheet="Entity",
                    cell=_entity_cell(s),
                    column="entity_code",
                    value=entity,
                )
            )

    claims = serials.Claims()  # owner: (entity, year, file name, serial as written)
    for raw, entity, year, file_name in con.execute(
        """
        SELECT o.serial_range, s.entity_code, s.reporting_year, s.file_name
        FROM offsets o JOIN submissions s USING (submission_id)
        WHERE s.status = 'loaded' ORDER BY o.submission_id, o.source_row
        """
    ).fetchall():
        claims.add(serials.parse(raw), (entity, year, file_name, raw))
    for s in sorted((s for s in subs if s.is_valid), key=lambda s: s.path):
        offsets = s.tables.get("Offsets")
        if offsets is None or offsets.empty:
            continue
        parsed = [serials.parse(raw) for raw in offsets["serial_range"]]
        for serial, row, raw in zip(parsed, offsets["source_row"], offsets["serial_range"]):
            others = [o for o in claims.holders(serial) if (o[0], o[1]) != (s.entity_code, s.reporting_year)]
            if others:
                entity, year, file_name, held = others[0]
                how = "is already claimed" if serials.normalise(held) == serial.text else f"overlaps {held}, claimed"
                s.findings.append(
                    finding(
                        "duplicate-serial",
                        f"serial range {raw} {how} by {entity} {year} ({file_name}); a credit counts once. Check "
                        f"the registry serials.",
                        file=s.file_name,
                        sheet="Offsets",
                        cell=f"{_letter(s, 'Offsets', 'serial_range')}{int(row)}",
                        row=int(row),
                        column="serial_range",
                        value=raw,
                    )
                )
        if s.is_valid:
            for serial, raw in zip(parsed, offsets["serial_range"]):
                claims.add(serial, (s.entity_code, s.reporting_year, s.file_name, raw))
    for s in subs:
        if not s.is_valid:
            s.tables, s.entity, s.ems = {}, {}, {}


def _letter(sub: Submission, sheet: str, column: str) -> str:
    return sub.letters.get((sheet, column), "")


def _entity_cell(sub: Submission) -> str:
    return sub.cells.get(("Entity", "entity_code"), "")


# ------------------------------------------------------------------------------ activity rows
def _with_ids(subs: list[tuple[int, Submission]], sheet: str) -> pd.DataFrame:
    frames = [s.tables[sheet].assign(submission_id=sid, _year=s.reporting_year) for sid, s in subs if len(s.tables.get(sheet, ()))]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _canonical(frame: pd.DataFrame, activity: str, quantity: str, unit: str, sheet: str) -> tuple[pd.Series, pd.Series]:
    """Canonical quantity and unit, each row converted with its reporting year's factor set."""
    qty = pd.Series(np.nan, index=frame.index)
    unit_out = pd.Series(None, index=frame.index, dtype=object)
    for year, part in frame.groupby("_year"):
        q, u = units.to_canonical(part[activity], part[unit], part[quantity], sheet, factor_set=factors.pinned_set(int(year)))
        qty[part.index], unit_out[part.index] = q, u
    return qty, unit_out


def activity_tables(subs: list[tuple[int, Submission]]) -> dict[str, pd.DataFrame]:
    """Warehouse rows for every table sheet of the given (submission_id, valid submission) pairs."""
    out: dict[str, pd.DataFrame] = {}
    for spec in contract.sheets():
        if not spec.is_table:
            continue
        table, mapping = column_map()[spec.name]
        frame = _with_ids(subs, spec.name)
        if frame.empty:
            continue
        rows = frame.rename(columns=mapping)[["submission_id", "source_row", *mapping.values()]].copy()
        if spec.name in ("Facilities", "Vehicles"):
            activity = "energy_type" if spec.name == "Facilities" else "fuel"
            rows["canonical_quantity"], rows["canonical_unit"] = _canonical(frame, activity, "quantity", "unit", spec.name)
        elif spec.name == "Refrigerants":
            rows["is_hcfc"] = frame["gas"].isin(codelists.flag("refrigerant_gas", "is_hcfc"))
        elif spec.name == "AirTravel":
            rows = rows.join(flights(frame, by_year=True))
        elif spec.name == "Offsets":
            rows["serial_key"] = serial_key(frame["serial_range"])
            rows["retirement_date"] = pd.to_datetime(frame["retirement_date"]).dt.date
        elif spec.name == "Waste":
            rows["quantity_tonnes"], _ = _canonical(frame, "waste_stream", "quantity", "unit", "Waste")
            rows["is_hazardous"] = frame["waste_stream"].isin(codelists.flag("waste_stream", "is_hazardous"))
            rows["is_diverted"] = frame["treatment"].isin(codelists.flag("waste_treatment", "is_diverted"))
        elif spec.name == "Water":
            rows["volume_m3"], _ = _canonical(frame, "source", "volume", "unit", "Water")
        out[table] = rows
    return out


def flights(frame: pd.DataFrame, by_year: bool = False) -> pd.DataFrame:
    """Flights, great-circle and flown distance, distance band and passenger-km of AirTravel rows.

    The great-circle distance comes from the airports, or is the distance_km given without them
    (read as a great-circle distance, as booking tools report it). The band is chosen on it, and
    the ICAO correction of the factor set is added to give the distance flown.
    """
    out = pd.DataFrame(index=frame.index)
    out["flights"] = (frame["trips"].astype("int64") * np.where(frame["round_trip"].astype(bool), 2, 1)).astype("int64")
    has_route = frame["origin"].notna() & frame["destination"].notna()
    gcd = frame["distance_km"].astype(float).copy()
    if has_route.any():
        gcd[has_route] = air.route_gcd_km(frame.loc[has_route, "origin"], frame.loc[has_route, "destination"])
    out["great_circle_km"] = gcd
    flown = pd.Series(np.nan, index=frame.index)
    band = pd.Series(None, index=frame.index, dtype=object)
    groups = frame.groupby("_year") if by_year and "_year" in frame else [(None, frame)]
    for year, part in groups:
        fs = factors.pinned_set(int(year)) if year is not None else None
        flown[part.index] = air.corrected_distance_km(gcd[part.index], factor_set=fs)
        band[part.index] = air.distance_band(gcd[part.index], factor_set=fs)
    out["flight_distance_km"] = flown
    out["distance_band"] = band
    out["passenger_km"] = out["flights"] * out["flight_distance_km"]
    return out


# ------------------------------------------------------------------------------ recording
@dataclass
class Recorded:
    loaded: list[int] = field(default_factory=list)  # submission ids loaded by this run
    rejected: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)  # earlier submission ids replaced
    replaced: list[str] = field(default_factory=list)  # sha256 of rejected files replaced by a valid one


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0]


def _modified(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
    except OSError:
        return None


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    subs: list[Submission],
    report_paths: dict[int, Path],
    inputs_dir: Path | None = None,
) -> Recorded:
    """Write submissions, findings and activity rows. The caller owns the transaction."""
    out = Recorded()
    now = utcnow()
    sid = next_id(con, "submissions", "submission_id") - 1
    seen_rejections = rejected_before(con)
    rows, finding_rows, loaded_pairs = [], [], []
    for offset, sub in enumerate(subs):
        if not sub.is_valid and (sub.sha256, sub.errors) in seen_rejections:
            continue  # the same file with the same errors is on record already
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
                "file_path": shown,
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
                "report_path": str(report_paths[offset]) if offset in report_paths else None,
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
            "SELECT submission_id FROM submissions WHERE entity_code = ? AND reporting_year = ? AND status = 'loaded'",
            [sub.entity_code, sub.reporting_year],
        ).fetchall()
        for (old,) in earlier:
            con.execute(
                "UPDATE submissions SET status = 'superseded', superseded_by = ?, superseded_at = ? WHERE submission_id = ?",
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
    _insert_fields(con, loaded_pairs)
    for table, frame in activity_tables(loaded_pairs).items():
        insert_frame(con, table, frame)
    return out


def _insert_fields(con: duckdb.DuckDBPyConnection, pairs: list[tuple[int, Submission]]) -> None:
    for sheet, attr in (("Entity", "entity"), ("EMS", "ems")):
        table, mapping = column_map()[sheet]
        records = [{"submission_id": sid, **{mapping[k]: v for k, v in getattr(s, attr).items()}} for sid, s in pairs]
        insert_frame(con, table, pd.DataFrame(records))


def sync_entities(con: duckdb.DuckDBPyConnection) -> None:
    """The entities table mirrors entities.csv (upsert; entities are never deleted)."""
    frame = pd.DataFrame(codelists.table("entities")).rename(columns={"code": "entity_code", "name": "entity_name"})
    con.register("_entities", frame)
    try:
        con.execute(
            """
            INSERT INTO entities SELECT entity_code, entity_name, entity_type FROM _entities
            ON CONFLICT (entity_code) DO UPDATE SET entity_name = excluded.entity_name, entity_type = excluded.entity_type
            """
        )
    finally:
        con.unregister("_entities")
