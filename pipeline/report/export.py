"""`gtb export`: the published data of a year as Parquet or CSV files with a Frictionless Data
Package descriptor (`datapackage.json`), so that DuckDB, pandas, Spark or BigQuery read them as
they are and `frictionless validate` checks them.

What is exported (folder `{outputs}/export/{year}/`):

- the indicator views, every year up to the data year: `system_indicators`, `entity_indicators`,
  `entity_change`, `year_factor_sets`, `entity_factor_sets` (the emission factor set(s) of each
  year, and where they change), `completeness_by_year`, `reporting_completeness`,
  `estimated_emissions` (the share of the workbooks' emissions from estimated figures);
- the log of the years up to the data year restated with another factor set (`recalculations`);
- the year's loaded submissions (`submissions`), their rows of every sheet table (activity,
  offsets, waste, water, Entity and EMS sheets) with `entity_code` and `year` beside
  `submission_id`, the `emissions` rows and the `emission_factors` they used, with sources;
- the tables of the factor set(s) the year's emissions used that their figures come from, each
  the set's file row for row with a leading `factor_set`, with its sources and notes (ASSUMPTION
  marks a set's own choice): `unit_conversions` (the multiplier from a row's unit to its canonical
  unit, the unit of its factor), `grid_renewable_shares` (the share an electricity row counts as
  renewable of its kWh beyond the entity's own renewable figure), the ICAO calculator's tables
  behind an air travel row's kg of fuel per passenger (`icao_fuel_burn`, `icao_aircraft`,
  `icao_aircraft_mix`, `icao_route_groups`, `icao_regions`, `icao_class_factors`,
  `icao_constants`) and the flight distance tables (`air_gcd_correction`: great circle to
  distance flown; `air_distance_bands`). A set without a table adds no rows, and a table none
  of the year's sets has is there empty, with its columns: the package has the same resources
  every year. Which tables, and their fields' types, units and descriptions, are data:
  `set_tables.csv` and `set_table_fields.csv` beside this module;
- the airports the year's AirTravel rows name (`airports`), with the country that picks a
  route's group and the place its distance is measured from, and their source.

Left out on purpose (docs/decisions.md): the focal point's name and e-mail (personal data) and
the free-text `comment` columns (they may name people). Field types come from the database,
descriptions from its COMMENTs (the contract's descriptions for sheet tables, keys.csv and
fields.csv for the views), units from the contract and the keys; those of the factor set tables
from `set_table_fields.csv`, which types their text (a number a set's file holds that is not one
stops the export). In CSV files a text field that a spreadsheet would run as a formula starts
with an apostrophe, and control characters other than tab and line feed are shown as escapes
(pipeline.safe.csv_safe); the Parquet files hold the exact text.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import cast

import duckdb

from pipeline import __version__, paths, safe
from pipeline.emissions.calculate import year_mixed_sets
from pipeline.errors import GtbError
from pipeline.indicators.views import fields as view_fields
from pipeline.report.queries import check_year, open_report_db
from pipeline.review.flags import flag_years, open_flags
from pipeline.review.stale import not_compared_again
from schemas import contract

FORMATS = ("parquet", "csv")
DESCRIPTOR = "datapackage.json"
# Columns never published: personal data, and free text that may name people.
WITHHELD = {
    "focal_point_name": "personal data",
    "focal_point_email": "personal data",
    "comment": "free text that may name people",
}
# DuckDB type -> Table Schema type
TYPES = {
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "integer",
    "UBIGINT": "integer",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime",
    "VARCHAR": "string",
}
CSV_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f"  # the same pattern in DuckDB's COPY and the descriptor (strptime)
# Primary keys of the views (tables carry their own constraint).
VIEW_KEYS = {
    "system_indicators": ["year"],
    "entity_indicators": ["entity_code", "year"],
    "entity_change": ["entity_code", "year"],
    "year_factor_sets": ["year"],
    "entity_factor_sets": ["entity_code", "year"],
    "completeness_by_year": ["year"],
    "reporting_completeness": ["entity_code", "year"],
    # one row per entity and year with a workbook and one per year (is_system, no entity): no key,
    # since a key's fields may not be empty
    "estimated_emissions": [],
}
# Units a column name says (`_tco2e`, `_kwh`), for columns neither the contract nor the keys name.
SUFFIX_UNITS = {
    "_tco2e": "tCO2e",
    "_kwh": "kWh",
    "_m3": "m3",
    "_kg": "kg",
    "_tonnes": "t",
    "_km": "km",
    "_percent": "%",
}


@dataclass(frozen=True)
class Resource:
    name: str
    sql: str  # the rows, with `?` for the year
    description: str
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (field, resource, field)
    key: tuple[str, ...] = ()  # its primary key, for rows that are neither a view's nor a table's
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (description, unit)


@dataclass
class ExportResult:
    year: int
    folder: Path
    format: str
    descriptor: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)
    # the year's loaded submissions not compared again with an earlier year as it now stands
    # (`not_compared_again`: entity, file, earlier year): their flags may not be the data's, a draft
    not_compared: list[tuple[str, str, int]] = field(default_factory=list)
    # the package's `status`, `open_plausibility_flags`, `not_compared_again` and
    # `mixed_factor_sets` (`_status`): the
    # one reckoning of whether it is a draft, which the descriptor and the command line both read
    status: dict[str, object] = field(default_factory=lambda: _status([], [], ()))
    # files of the export before that this one does not have (the other format's): removed, so
    # that the folder holds what its datapackage.json describes, and said
    removed: list[str] = field(default_factory=list)

    @property
    def open_flags(self) -> int:
        """Plausibility flags of the year, or of a year before it, still open: a draft."""
        return sum(int(f["flags"]) for f in cast(list[dict], self.status["open_plausibility_flags"]))

    @property
    def open_flag_years(self) -> str:
        """'2025', '2024 and 2025': whose the open flags are (`flag_years`)."""
        return flag_years(cast(list[dict], self.status["open_plausibility_flags"]))

    @property
    def mixed_sets(self) -> list[tuple[str, int]]:
        """The factor sets of the year's submissions and how many use each, when two or more: a draft."""
        return [
            (str(m["factor_set"]), int(m["submissions"])) for m in cast(list[dict], self.status["mixed_factor_sets"])
        ]


def resources() -> list[Resource]:
    """What `gtb export` writes, in order: the views, then the year's rows."""
    out = [
        Resource(name, f"SELECT * FROM {name} WHERE year <= ? ORDER BY ALL", _view_description(name))
        for name in VIEW_KEYS
    ]
    out.append(
        Resource(
            "submissions",
            """SELECT submission_id, entity_code, reporting_year AS year, file_name, sha256, received_at,
                      template_version
               FROM submissions WHERE status = 'loaded' AND reporting_year = ? ORDER BY submission_id""",
            "The loaded submission workbooks of the year: the source of every row of the sheet tables.",
        )
    )
    out.append(
        Resource(
            "recalculations",
            """SELECT reporting_year AS year, recalculated_at, old_factor_set, new_factor_set, submissions,
                      old_total_tco2e, new_total_tco2e, reason
               FROM recalculations WHERE reporting_year <= ? ORDER BY ALL""",
            "The years up to the data year restated with another factor set after they were loaded (gtb "
            "recalculate): when, the factor sets before and after, the year's total before and after, and why. "
            "The indicator views hold each year as it now stands; a year listed here may have been published "
            "with the total before.",
            key=("year", "recalculated_at"),
        )
    )
    to_submission = (("submission_id", "submissions", "submission_id"),)
    for spec in contract.sheets():
        if spec.layout == "csv":  # the History sheet: published totals, already in the indicator views
            continue
        own = {c.db_name for c in spec.columns}
        exclude = ", ".join(["submission_id", *(c for c in ("entity_code", "reporting_year") if c in own)])
        out.append(
            Resource(
                spec.table,
                f"""SELECT t.submission_id, s.entity_code, s.reporting_year AS year, t.* EXCLUDE ({exclude})
                    FROM {spec.table} t JOIN submissions s USING (submission_id)
                    WHERE s.status = 'loaded' AND s.reporting_year = ? ORDER BY ALL""",
                f"{spec.name} sheet of the year's loaded submissions: {spec.description}.",
                to_submission,
            )
        )
    out.append(
        Resource(
            "emissions",
            """SELECT e.submission_id, s.entity_code, s.reporting_year AS year, e.* EXCLUDE (submission_id)
               FROM emissions e JOIN submissions s USING (submission_id)
               WHERE s.status = 'loaded' AND s.reporting_year = ? ORDER BY ALL""",
            "One row per activity row of the year: the emission factor used (factor_set, factor_id, "
            "factor_region; see emission_factors) and the emissions it gives.",
            to_submission,
        )
    )
    out.append(
        Resource(
            "emission_factors",
            """SELECT * FROM emission_factors f WHERE EXISTS (
                   SELECT 1 FROM emissions e JOIN submissions s USING (submission_id)
                   WHERE s.status = 'loaded' AND s.reporting_year = ?
                     AND e.factor_set = f.factor_set AND e.factor_id = f.factor_id AND e.factor_region = f.region)
               ORDER BY ALL""",
            "The emission factors the year's emissions used, each with its source and licence.",
        )
    )
    out.extend(_set_table_resource(table) for table in set_tables())
    out.append(
        Resource(
            AIRPORTS,
            "SELECT "
            + ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, (_, _, kind) in AIRPORT_FIELDS.items())
            + f" FROM {AIRPORTS_FRAME} WHERE ? IS NOT NULL ORDER BY iata_code",
            "The airports the year's AirTravel rows name, with the country that gives a route's ICAO region "
            "(icao_regions) and so its route group, and the place its great-circle distance is measured from.",
            key=("iata_code",),
            fields={name: (description, unit) for name, (description, unit, _) in AIRPORT_FIELDS.items()},
        )
    )
    return out


# The airports behind the year's air travel rows: a public reference (airportsdata), not the
# warehouse's, put beside the rows on the export's connection (`_register_airports`).
AIRPORTS = "airports"
AIRPORTS_FRAME = "airports_of_the_year"
AIRPORT_FIELDS = {  # name -> (description, unit, DuckDB type)
    "iata_code": (
        "IATA code of the airport, as the AirTravel rows name it (origin_iata, destination_iata).",
        "",
        "VARCHAR",
    ),
    "country_code": (
        "Country of the airport (ISO 3166-1 alpha-3): its ICAO region (icao_regions) and so the route group "
        "(icao_route_groups) of a flight from or to it.",
        "",
        "VARCHAR",
    ),
    "latitude": ("Latitude of the airport (WGS 84).", "degrees", "DOUBLE"),
    "longitude": ("Longitude of the airport (WGS 84).", "degrees", "DOUBLE"),
    "city": ("City the airport serves.", "", "VARCHAR"),
    "source": ("Where the airport's place and country come from.", "", "VARCHAR"),
}


# The tables of a factor set behind the year's rows (the grid shares of the renewable default,
# the ICAO calculator's and the flight distance tables of air travel): a set's files, not the
# warehouse's, put beside the rows on the export's connection (`_register_set_tables`). What is
# exported and each field's type, unit and description are data: set_tables.csv and
# set_table_fields.csv beside this module.
SET_TABLES = Path(__file__).resolve().parent / "set_tables.csv"
SET_TABLE_FIELDS = Path(__file__).resolve().parent / "set_table_fields.csv"
SET_TABLE_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "INTEGER"}  # Table Schema -> DuckDB
FACTOR_SET_FIELD = ("Factor set whose table the row is.", "", "VARCHAR")
LINE = "_line"  # the row's place in its file: the rows are published in the file's order


@dataclass(frozen=True)
class SetTable:
    name: str  # the resource
    file: str  # the factor set's file
    description: str
    fields: Mapping[str, tuple[str, str, str]]  # name -> (description, unit, DuckDB type), factor_set first
    key: tuple[str, ...]

    @property
    def frame(self) -> str:
        """The relation `_register_set_tables` puts on the export's connection."""
        return f"{self.name}_of_the_year"


@cache
def set_tables() -> tuple[SetTable, ...]:
    """The factor set tables exported beside the rows, in order, from their metadata."""
    with SET_TABLES.open(newline="", encoding="utf-8") as fh:
        tables = list(csv.DictReader(fh))
    with SET_TABLE_FIELDS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for table in tables:
        own = [r for r in rows if r["resource"] == table["resource"]]
        fields = {"factor_set": FACTOR_SET_FIELD} | {
            r["field"]: (r["description"], r["unit"], SET_TABLE_TYPES[r["type"]]) for r in own
        }
        key = ("factor_set", *(r["field"] for r in own if r["key"] == "yes"))
        out.append(SetTable(table["resource"], table["file"], table["description"], fields, key))
    described = {t.name for t in out}
    unknown = sorted({r["resource"] for r in rows} - described)
    if unknown or any(len(t.fields) == 1 for t in out):
        raise AssertionError(
            f"{SET_TABLE_FIELDS.name} and {SET_TABLES.name} disagree: {unknown or 'a table without fields'}"
        )
    return tuple(out)


def _set_table_resource(table: SetTable) -> Resource:
    """A set table's resource: its text columns typed as the metadata says, an empty cell empty."""
    columns = ", ".join(
        f'CAST(NULLIF(CAST("{name}" AS VARCHAR), \'\') AS {kind}) AS "{name}"'
        for name, (_, _, kind) in table.fields.items()
    )
    return Resource(
        table.name,
        f"SELECT {columns} FROM {table.frame} WHERE ? IS NOT NULL ORDER BY factor_set, {LINE}",
        table.description,
        key=table.key,
        fields={name: (description, unit) for name, (description, unit, _) in table.fields.items()},
    )


def _register_set_tables(con: duckdb.DuckDBPyConnection, year: int) -> None:
    """Each set table of the factor sets the year's emissions used, as a relation the export
    reads like a table: a set without the file adds no rows, and a table no set has is empty,
    with its columns. A number a set's file holds that is not one stops the export, naming it:
    published, it would be an empty cell where the set has a figure."""
    import pandas as pd

    from pipeline.reference.factors import FactorSetError, read_set_table

    used = [
        name
        for (name,) in con.execute(
            """SELECT DISTINCT e.factor_set FROM emissions e JOIN submissions s USING (submission_id)
               WHERE s.status = 'loaded' AND s.reporting_year = ? ORDER BY 1""",
            [year],
        ).fetchall()
    ]
    for table in set_tables():
        columns = [*table.fields, LINE]
        frames = []
        for name in used:
            try:
                rows = read_set_table(table.file, name)
            except FactorSetError:  # a set without the table (gtb-2025.1 has no ICAO tables)
                continue
            frames.append(rows.assign(factor_set=name, **{LINE: range(len(rows))}).reindex(columns=columns))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        # text, typed by the resource's query; the line a number, for the order
        con.register(table.frame, frame.astype({name: "string" for name in table.fields} | {LINE: "int64"}))
        for field_name, (_, _, kind) in table.fields.items():
            if kind == "VARCHAR":
                continue
            bad = con.execute(
                f"""SELECT factor_set, "{field_name}" FROM {table.frame}
                    WHERE NULLIF("{field_name}", '') IS NOT NULL AND TRY_CAST("{field_name}" AS {kind}) IS NULL
                    LIMIT 1"""
            ).fetchall()
            if bad:
                raise GtbError(
                    f"{table.file} of factor set {bad[0][0]}: {field_name} {bad[0][1]!r} is not a "
                    f"{'whole number' if kind == 'INTEGER' else 'number'}; "
                    "correct the set's file before exporting"
                )


def _register_airports(con: duckdb.DuckDBPyConnection, year: int) -> None:
    """The airports the year's loaded AirTravel rows name, from the reference validation checked
    them against, as a relation the export reads like a table."""
    import pandas as pd

    from pipeline import codelists

    table = contract.sheet("AirTravel").table
    used = [
        code
        for (code,) in con.execute(
            f"""SELECT DISTINCT code FROM (
                    SELECT origin_iata AS code, submission_id FROM {table}
                    UNION ALL SELECT destination_iata, submission_id FROM {table}
                ) a JOIN submissions s USING (submission_id)
                WHERE s.status = 'loaded' AND s.reporting_year = ? AND code IS NOT NULL ORDER BY 1""",
            [year],
        ).fetchall()
    ]
    places, countries = codelists.airports(), codelists.airport_countries()
    cities = codelists.airport_city_names()
    frame = pd.DataFrame(
        [
            (
                code,
                countries.get(code),
                *places.get(code, (None, None)),
                cities.get(code),
                codelists.airport_source(code),
            )
            for code in used
        ],
        columns=list(AIRPORT_FIELDS),
        dtype=object,
    )
    con.register(AIRPORTS_FRAME, frame)


def _view_description(name: str) -> str:
    from pipeline.indicators.views import view_descriptions

    return view_descriptions()[name]


def export(year: int, db: Path, outputs: Path, fmt: str = "parquet") -> ExportResult:
    """Write the year's published data and its `datapackage.json` into `{outputs}/export/{year}/`."""
    if fmt not in FORMATS:
        raise GtbError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    folder = Path(outputs) / "export" / str(year)
    result = ExportResult(year=year, folder=folder, format=fmt)
    con = open_report_db(Path(db))
    try:
        check_year(con, year, Path(db))
        result.not_compared = not_compared_again(con, year)
        # the views it publishes run up to the year: so do the flags that make it a draft
        result.status = _status(open_flags(con, year, earlier=True), result.not_compared, year_mixed_sets(con, year))
        _register_set_tables(con, year)
        _register_airports(con, year)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GtbError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
        previous = _listed_files(folder)
        _sweep_temporary_files(folder)
        staged: list[tuple[str, Path]] = []  # (temporary file, its place): renamed only once all are written
        try:
            described = []
            for resource in resources():
                path = folder / f"{resource.name}.{fmt}"
                tmp, result.rows[resource.name] = _write(con, resource, year, path, fmt)
                staged.append((tmp, path))
                described.append(_describe(con, resource, year, path, fmt))
            descriptor = _write_descriptor(folder, year, fmt, described, result.status)
            staged.append((descriptor, folder / DESCRIPTOR))
        except (OSError, duckdb.IOException) as exc:
            _unlink_staged(staged)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            raise GtbError(f"cannot write the export into {folder}: {reason}; the folder is as it was") from None
        except BaseException:  # Ctrl-C, an error: the folder as it was, no temporary file left in it
            _unlink_staged(staged)
            raise
        for tmp, path in staged:  # renames within one folder: no space needed, none fails half-way
            os.replace(tmp, path)
        for stale in sorted(previous - {f"{r.name}.{fmt}" for r in resources()}):  # only files we listed before
            if (folder / stale).exists():
                (folder / stale).unlink()
                result.removed.append(stale)
        result.descriptor = folder / DESCRIPTOR
    finally:
        con.close()
    return result


def _unlink_staged(staged: list[tuple[str, Path]]) -> None:
    for tmp, _ in staged:
        Path(tmp).unlink(missing_ok=True)


def _sweep_temporary_files(folder: Path) -> None:
    """Remove the temporary files an export killed before it could clean up left in `folder`:
    ours (`.emissions-4242-x1y2.csv`) and DuckDB's own beside them while it copies
    (`tmp_.emissions-...`). Hidden, they would travel with the published folder. Those of an export
    still running (its process id in their name, `_temporary_prefix`) are left to it: a second
    export of the year started meanwhile took them away and the first failed. A file older than
    `TEMPORARY_LIFE` is swept whatever its process id says: the id of a process killed long ago
    may belong to another process since, or to one of another machine writing to a shared folder."""
    names = {r.name for r in resources()} | {Path(DESCRIPTOR).stem}
    now = time.time()
    for path in folder.iterdir():
        name = path.name.removeprefix("tmp_")
        stem, _, rest = name[1:].partition("-")
        if (
            path.is_file()
            and name.startswith(".")
            and stem in names
            and name.endswith((*(f".{fmt}" for fmt in FORMATS), ".json"))
            and (not _running(rest.partition("-")[0]) or now - _modified(path) > TEMPORARY_LIFE)
        ):
            path.unlink(missing_ok=True)


TEMPORARY_LIFE = 24 * 3600  # seconds: no export writes for a day


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _temporary_prefix(stem: str) -> str:
    """The start of a temporary file's name: hidden, the resource's, and this process's id."""
    return f".{stem}-{os.getpid()}-"


def _running(pid: str) -> bool:
    """Whether `pid` (as written in a temporary file's name) is another process still running;
    False for no process id (an older export's name), ours, or where it cannot be asked."""
    if not pid.isdigit() or int(pid) == os.getpid() or os.name != "posix":
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: asks only whether the process exists
    except PermissionError:  # another user's process, running
        return True
    except (OverflowError, OSError):  # none (ProcessLookupError), or a number no process can have
        return False
    return True


def _columns(con: duckdb.DuckDBPyConnection, resource: Resource, year: int) -> list[tuple[str, str]]:
    cur = con.execute(f"DESCRIBE {resource.sql}", [year])
    return [(name, str(dtype)) for name, dtype, *_ in cur.fetchall() if name not in WITHHELD]


def _select(con: duckdb.DuckDBPyConnection, resource: Resource, year: int, fmt: str) -> str:
    parts = []
    for name, dtype in _columns(con, resource, year):
        quoted = '"' + name.replace('"', '""') + '"'
        parts.append(f"{safe.csv_safe_sql(quoted)} AS {quoted}" if fmt == "csv" and dtype == "VARCHAR" else quoted)
    return f"SELECT {', '.join(parts)} FROM ({resource.sql})"


def _write(con: duckdb.DuckDBPyConnection, resource: Resource, year: int, path: Path, fmt: str) -> tuple[str, int]:
    """The rows into a temporary file beside `path` (the caller renames it into place); returns
    the temporary file and the row count. A failure leaves no temporary file behind."""
    options = (
        "FORMAT parquet, COMPRESSION zstd"
        if fmt == "parquet"
        else f"FORMAT csv, HEADER true, TIMESTAMPFORMAT '{CSV_TIMESTAMP}'"
    )
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path.stem), suffix=f".{fmt}")
    os.close(handle)
    try:
        escaped = tmp.replace("'", "''")
        con.execute(f"COPY ({_select(con, resource, year, fmt)}) TO '{escaped}' ({options})", [year])
        paths.plain_mode(tmp)
        [(rows,)] = con.execute(f"SELECT count(*) FROM ({resource.sql})", [year]).fetchall()
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp, int(rows)


def _comments(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? AND comment IS NOT NULL",
            [name],
        ).fetchall()
    )


def _unit(name: str, table: str) -> str:
    for spec in contract.sheets():
        if spec.table == table:
            for col in spec.columns:
                if col.db_name == name and col.unit:
                    return col.unit
            for derived in spec.derived:  # the columns the pipeline adds (passenger_km: passenger-km)
                if derived.name == name and derived.unit:
                    return derived.unit
    known = view_fields().get(name)
    if known is not None and known.unit:
        return known.unit
    return next((unit for suffix, unit in SUFFIX_UNITS.items() if name.endswith(suffix)), "")


def _primary_key(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    if name in VIEW_KEYS:
        return VIEW_KEYS[name]
    found = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints()"
        " WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [name],
    ).fetchall()
    return list(found[0][0]) if found else []


def _describe(con: duckdb.DuckDBPyConnection, resource: Resource, year: int, path: Path, fmt: str) -> dict:
    comments = _comments(con, resource.name)
    shared = view_fields()  # entity_code and year, added beside submission_id
    fields = []
    for name, dtype in _columns(con, resource, year):
        item: dict[str, object] = {"name": name, "type": TYPES.get(dtype, "any")}
        description = comments.get(name) or (shared[name].description if name in shared else "")
        if name in resource.fields:
            description = resource.fields[name][0]
        if description:
            item["description"] = description
        unit = resource.fields[name][1] if name in resource.fields else _unit(name, resource.name)
        if unit:
            item["unit"] = unit
        if dtype == "TIMESTAMP":
            item["format"] = CSV_TIMESTAMP if fmt == "csv" else "default"
        fields.append(item)
    schema: dict[str, object] = {"fields": fields, "missingValues": [""]}
    key = [k for k in resource.key or _primary_key(con, resource.name) if k in {f["name"] for f in fields}]
    if key:
        schema["primaryKey"] = key
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [own], "reference": {"resource": other, "fields": [theirs]}}
            for own, other, theirs in resource.foreign_keys
        ]
    out: dict[str, object] = {
        "name": resource.name,
        "path": path.name,
        "format": fmt,
        "mediatype": "application/vnd.apache.parquet" if fmt == "parquet" else "text/csv",
        "description": resource.description,
        "schema": schema,
    }
    if fmt == "csv":
        out["encoding"] = "utf-8"
        out["dialect"] = {"delimiter": ",", "header": True, "quoteChar": '"', "doubleQuote": True}
    return out


def _listed_files(folder: Path) -> set[str]:
    """The data files the previous descriptor of `folder` listed (plain names inside the folder)."""
    try:
        previous = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
        paths = {str(r.get("path", "")) for r in previous.get("resources", [])}
    except (OSError, ValueError, AttributeError):
        return set()
    return {p for p in paths if p and Path(p).name == p and not p.startswith(".")}


def _status(
    flags: list[dict], stale: list[tuple[str, str, int]], mixed: Sequence[tuple[str, int]]
) -> dict[str, object]:
    """The package's `status` property, for a reader to test rather than read: `draft` while a
    plausibility flag of the year or of a year before it is open (`open_flags`, counted by year and
    entity), a submission of the year was not compared again with an earlier year as it now
    stands (`not_compared_again`), or the year's submissions are calculated with two factor sets
    or more (`mixed_factor_sets`: each set and how many use it), which `gtb report --final`
    refuses alike; else `final`."""
    counted = Counter((int(f["year"]), str(f["entity_code"])) for f in flags)
    return {
        "status": "draft" if flags or stale or mixed else "final",
        "open_plausibility_flags": [
            {"year": year, "entity_code": entity, "flags": n} for (year, entity), n in sorted(counted.items())
        ],
        "not_compared_again": [
            {"entity_code": entity, "compared_with_year": int(earlier)} for entity, _, earlier in stale
        ],
        "mixed_factor_sets": [{"factor_set": name, "submissions": n} for name, n in mixed],
    }


def _draft_sentence(year: int, status: Mapping[str, object]) -> str:
    """What `status` says, in the package's description ('' for a final package)."""
    flagged = cast(list[dict], status["open_plausibility_flags"])
    stale = cast(list[dict], status["not_compared_again"])
    mixed = cast(list[dict], status["mixed_factor_sets"])
    if status["status"] != "draft":
        return ""
    parts = []
    if flagged:
        n = sum(int(f["flags"]) for f in flagged)
        years = flag_years(flagged)
        parts.append(f"{n} plausibility flag{'s' * (n != 1)} of {years} still open")
    if stale:
        parts.append(
            f"{len(stale)} submission{'s' * (len(stale) != 1)} of {year} not compared again with an earlier year "
            "as it now stands"
        )
    if mixed:
        parts.append(
            f"the submissions of {year} calculated with {len(mixed)} factor sets "
            f"({', '.join(str(m['factor_set']) for m in mixed)}), whose figures do not compare with one another"
        )
    return (
        f" DRAFT: {'; '.join(parts)} (see status, open_plausibility_flags, not_compared_again and mixed_factor_sets)."
    )


def _write_descriptor(folder: Path, year: int, fmt: str, described: list[dict], status: Mapping[str, object]) -> str:
    """`datapackage.json` into a temporary file in `folder` (the caller renames it into place)."""
    draft = _draft_sentence(year, status)
    descriptor = {
        "profile": "data-package",
        "name": f"greening-the-blue-{year}",
        "title": f"Greening the Blue inventory, data year {year}",
        "description": (
            f"Indicators of the UN system's environmental inventory up to {year}, and the activity rows, emissions "
            f"and emission factors of the {year} submissions, with the tables of the factor set(s) behind them "
            "(unit conversions; grid renewable shares; the ICAO calculator's tables and the flight distance tables "
            "of air travel) and the years restated since they were loaded, "
            f"written by gtb export (pipeline {__version__})."
            + draft
            + (
                " In the CSV files a text value that a spreadsheet would run as a formula starts with an apostrophe,"
                " as does a part of a text that starts so after a semicolon, comma, tab or line break (where a"
                " spreadsheet may split a line), and control characters other than tab and line feed are"
                " written as escapes (\\x1b, \\u202e); the Parquet export holds the exact text."
                if fmt == "csv"
                else " The Parquet files hold the text exactly as loaded."
            )
            + " Withheld: "
            + ", ".join(f"{k} ({v})" for k, v in WITHHELD.items())
            + "."
        ),
        "version": __version__,
        **status,
        "resources": described,
    }
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=_temporary_prefix(Path(DESCRIPTOR).stem), suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            json.dump(descriptor, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        paths.plain_mode(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp
