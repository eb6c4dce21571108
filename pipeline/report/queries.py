"""Everything the report reads, as SQL over the indicator views (and the TEMP breakdown views of
`report_views.sql`). Python only fetches rows here; no figure is aggregated outside SQL.

Rows come back as plain tuples/dicts with NULL as None, so the writers can keep NULL empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.catalogue import year_ranges
from pipeline.emissions.calculate import year_mixed_sets
from pipeline.errors import GtbError
from pipeline.indicators import Key, keys
from pipeline.review.flags import open_flags
from pipeline.review.stale import not_compared_again
from pipeline.warehouse.db import connect

REPORT_VIEWS = Path(__file__).resolve().parent / "report_views.sql"

Record = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """One report table: a sheet of the workbook and one CSV file."""

    name: str  # sheet name and CSV stem
    title: str
    description: str
    columns: tuple[str, ...]
    rows: list[tuple]
    total: tuple | None = None  # a totals row under the rows (xlsx only: the CSV stays tidy)
    key_column: str | None = None  # rows are indicator keys: each row takes its key's number format

    def records(self) -> list[Record]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def open_report_db(db: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only and add the report's TEMP views."""
    con = connect(Path(db), read_only=True)
    try:
        # One thread: DuckDB's parallel float sums can differ in the last bit from run to run
        # (seen in like_for_like_change_since_2010); the report must be reproducible.
        con.execute("SET threads = 1")
        con.execute(REPORT_VIEWS.read_text(encoding="utf-8"))
        # every view of indicators.sql (and the years macro some read), which views made by an older
        # version may lack: refused here, with the advice below, rather than as an internal error
        # at the first chart or table that reads one
        from pipeline.indicators.views import view_descriptions

        for view in view_descriptions():
            con.execute(f"SELECT * FROM {view} LIMIT 0")
    except duckdb.Error as exc:
        con.close()
        first = str(exc).strip().splitlines()[0]
        raise GtbError(f"{db} has no usable indicator views ({first}); run `gtb run` first") from None
    return con


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple[tuple[str, ...], list[tuple]]:
    cur = con.execute(sql, params or [])
    columns = tuple(d[0] for d in cur.description)
    return columns, cur.fetchall()


def records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Record]:
    columns, rows = fetch(con, sql, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def check_year(con: duckdb.DuckDBPyConnection, year: int, db: Path) -> None:
    years = [r[0] for r in con.execute("SELECT year FROM system_indicators ORDER BY year").fetchall()]
    if year not in years:
        # each year, as `gtb indicators` says them: '2023, 2025', never '2023-2025' across a year without data
        available = f"years available: {year_ranges(years)}" if years else "the database holds no data yet"
        raise GtbError(f"no data for {year} in {db} ({available})")


# --- figures for the charts ----------------------------------------------------------------------
def system_series(con: duckdb.DuckDBPyConnection, year: int) -> list[Record]:
    """system_indicators, every year from the first with data up to `year`. A year in between
    without any figure (data_years()) is a row of NULLs, so that trend charts leave it a gap and
    never draw a line straight across it as if the years either side were neighbours."""
    return records(
        con,
        "SELECT * FROM data_years() LEFT JOIN system_indicators USING (year) WHERE year <= ? ORDER BY year",
        [year],
    )


def per_capita_ranked(con: duckdb.DuckDBPyConnection, year: int) -> list[Record]:
    """Entities of `year` by per-capita emissions, highest first, with the split by source."""
    return records(
        con,
        """SELECT * FROM report_entity_per_capita
           WHERE year = ? AND per_capita_tco2e IS NOT NULL
           ORDER BY per_capita_tco2e DESC, entity_code""",
        [year],
    )


def waste_by_treatment(con: duckdb.DuckDBPyConnection, year: int) -> list[Record]:
    return records(
        con,
        "SELECT * FROM report_waste_by_treatment WHERE year = ? ORDER BY waste_tonnes DESC, treatment_code",
        [year],
    )


def ems_by_status(con: duckdb.DuckDBPyConnection, year: int) -> list[Record]:
    return records(con, "SELECT * FROM report_ems_by_status WHERE year = ? ORDER BY ems_status", [year])


def factor_sets(con: duckdb.DuckDBPyConnection, first: int, last: int, entity: str | None = None) -> tuple[str, ...]:
    """Factor sets used by the loaded submissions of years first..last (of one entity or all)."""
    rows = con.execute(
        """SELECT DISTINCT factor_set FROM report_factor_sets
           WHERE year BETWEEN ? AND ? AND (? IS NULL OR entity_code = ?) ORDER BY factor_set""",
        [first, last, entity, entity],
    ).fetchall()
    return tuple(r[0] for r in rows)


def factor_set_years(con: duckdb.DuckDBPyConnection, year: int) -> list[Record]:
    """year_factor_sets, every year up to `year`: the factor set(s) of each year and where they change."""
    return records(con, "SELECT * FROM year_factor_sets WHERE year <= ? ORDER BY year", [year])


def history_years(
    con: duckdb.DuckDBPyConnection, first: int, last: int, entity: str | None = None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Years in first..last whose figures come from published totals: (all entities, some entities)."""
    rows = con.execute(
        """SELECT year, bool_and(data_source = 'history') FROM entity_year
           WHERE year BETWEEN ? AND ? AND (? IS NULL OR entity_code = ?)
           GROUP BY year HAVING bool_or(data_source = 'history') ORDER BY year""",
        [first, last, entity, entity],
    ).fetchall()
    return tuple(y for y, full in rows if full), tuple(y for y, full in rows if not full)


def entity_series(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, list[Record]]:
    """entity_indicators of every year up to `year`, for the entities that have a row in `year`, with
    the change from the previous year, the factor set(s) of the year (entity_factor_sets) and the
    share of its emissions from estimated figures (estimated_emissions)."""
    rows = records(
        con,
        """SELECT i.*, y.data_source, y.ems_status, y.floor_area_m2,
                  c.previous_year, c.total_change_previous_year, c.per_capita_change_previous_year,
                  c.change_across_factor_sets,
                  f.factor_sets, f.previous_factor_sets_year, f.previous_factor_sets, f.factor_set_changed,
                  x.estimated_share
           FROM entity_indicators i JOIN entity_year y USING (entity_code, year)
           LEFT JOIN entity_change c USING (entity_code, year)
           LEFT JOIN entity_factor_sets f USING (entity_code, year)
           LEFT JOIN estimated_emissions x ON x.entity_code = i.entity_code AND x.year = i.year AND NOT x.is_system
           WHERE i.year <= ? AND i.entity_code IN (SELECT entity_code FROM entity_indicators WHERE year = ?)
           ORDER BY i.entity_code, i.year""",
        [year, year],
    )
    out: dict[str, list[Record]] = {}
    for row in rows:
        out.setdefault(row["entity_code"], []).append(row)
    return out


def entity_sources(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
    """entity_code -> (factor sets its workbooks used, years from published totals), up to `year`."""
    sets = dict(
        con.execute(
            """SELECT entity_code, list(DISTINCT factor_set ORDER BY factor_set) FROM report_factor_sets
           WHERE year <= ? GROUP BY entity_code""",
            [year],
        ).fetchall()
    )
    history = dict(
        con.execute(
            """SELECT entity_code, list(year ORDER BY year) FROM entity_year
           WHERE data_source = 'history' AND year <= ? GROUP BY entity_code""",
            [year],
        ).fetchall()
    )
    return {code: (tuple(sets.get(code) or ()), tuple(history.get(code) or ())) for code in set(sets) | set(history)}


def entity_first_years(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, int]:
    """entity_code -> the first year up to `year` in which the entity was expected or reported
    (reporting_completeness, over the years with data): where its factsheet's trend starts."""
    return dict(
        con.execute(
            """SELECT entity_code, min(year) FROM reporting_completeness
               WHERE year <= ? AND (is_expected OR data_source <> 'missing') GROUP BY entity_code""",
            [year],
        ).fetchall()
    )


def entity_names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """entity_code -> (entity_name, entity_type)."""
    return {
        code: (name, kind)
        for code, name, kind in con.execute("SELECT entity_code, entity_name, entity_type FROM entities").fetchall()
    }


# --- the report tables ---------------------------------------------------------------------------
_ENTITY = """FROM entity_indicators i
             JOIN entity_year y USING (entity_code, year)
             LEFT JOIN entities e USING (entity_code)
             LEFT JOIN codelist_entity_type t ON t.code = e.entity_type
             WHERE i.year = ?
             ORDER BY i.entity_code"""
_NAME = "i.entity_code, coalesce(e.entity_name, i.entity_code) AS entity_name"

TABLE_SQL: tuple[tuple[str, str, str, str], ...] = (
    (
        "completeness",
        "Reporting completeness",
        "Every entity expected in the data year and every entity with figures: whether it reported "
        "(workbook or published totals) or is missing, with the personnel of its latest earlier year "
        "for a missing entity. From the reporting_completeness view.",
        """SELECT c.entity_code, coalesce(c.entity_name, c.entity_code) AS entity_name, c.entity_type,
                  t.label AS entity_type_label, c.is_expected, c.data_source, c.personnel,
                  c.last_reported_year, c.last_reported_personnel, c.rejected_workbooks
           FROM reporting_completeness c LEFT JOIN codelist_entity_type t ON t.code = c.entity_type
           WHERE c.year = ?
           ORDER BY c.data_source = 'missing' DESC, c.entity_code""",
    ),
    (
        "system",
        "System-wide indicators by year",
        "One row per data year: the system_indicators view (output contract 2025.1).",
        "SELECT * FROM system_indicators WHERE year <= ? ORDER BY year",
    ),
    (
        "entities",
        "Entity key figures",
        "One row per entity reporting in the data year: the key figures of its Greening the Blue page, "
        "with the change from the previous year (entity_change view) and whether the two years were "
        "calculated with different emission factor sets (then the change is partly the method's). The "
        "totals row is the system-wide row of the year; its facilities intensity is that of the entities "
        "that gave a floor area (their facilities emissions over their area), not of all.",
        f"""SELECT {_NAME}, e.entity_type, t.label AS entity_type_label,
                   y.data_source, i.personnel, i.total_tco2e, i.facilities_tco2e, i.air_travel_tco2e,
                   i.other_travel_tco2e, i.share_air_travel, i.per_capita_tco2e,
                   c.total_change_previous_year, c.per_capita_change_previous_year, c.change_across_factor_sets,
                   i.facility_intensity_kgco2e_per_m2, i.offsets_tco2e, i.offset_share,
                   CASE i.climate_neutral_entities WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END AS climate_neutral,
                   i.per_capita_change_since_2010
            FROM entity_indicators i
             JOIN entity_year y USING (entity_code, year)
             LEFT JOIN entity_change c USING (entity_code, year)
             LEFT JOIN entities e USING (entity_code)
             LEFT JOIN codelist_entity_type t ON t.code = e.entity_type
             WHERE i.year = ?
             ORDER BY i.entity_code""",
    ),
    (
        "waste",
        "Waste by entity",
        "Waste of each entity in the data year; empty where the entity reported no waste. The totals "
        "row is the system-wide row of the year, over the entities that reported waste: its personnel "
        "is theirs, the personnel the kg per capita divides by.",
        f"""SELECT {_NAME}, i.personnel,
                   i.waste_tonnes, i.waste_per_capita_kg, i.waste_diversion_share, i.hazardous_waste_tonnes
            {_ENTITY}""",
    ),
    (
        "waste_treatment",
        "Waste by treatment",
        "System-wide waste of the data year by treatment route; 'not_itemised' is waste from published totals.",
        """SELECT w.treatment_code, coalesce(t.label, 'Not itemised (published totals)') AS treatment_label,
                  w.is_diverted, w.waste_tonnes, w.share_of_waste, w.entities
           FROM report_waste_by_treatment w LEFT JOIN codelist_waste_treatment t ON t.code = w.treatment_code
           WHERE w.year = ? ORDER BY w.waste_tonnes DESC, w.treatment_code""",
    ),
    (
        "water",
        "Water by entity",
        "Water withdrawn by each entity in the data year; empty where the entity reported no water. "
        "The totals row is the system-wide row of the year, over the entities that reported water: its "
        "personnel is theirs, the personnel the m3 per capita divides by.",
        f"""SELECT {_NAME}, i.personnel, i.water_m3, i.water_per_capita_m3
            {_ENTITY}""",
    ),
    (
        "ems",
        "Environmental management systems",
        "EMS status of each entity in the data year; empty for entities without an EMS sheet.",
        f"""SELECT {_NAME}, y.ems_status, s.label AS ems_status_label,
                   CASE WHEN i.ems_met = 1 THEN 'met' WHEN i.ems_approaching = 1 THEN 'approaching'
                        WHEN i.ems_not_met = 1 THEN 'not met' END AS ems_criteria,
                   i.ems_met, i.ems_approaching, i.ems_not_met
            FROM entity_indicators i
             JOIN entity_year y USING (entity_code, year)
             LEFT JOIN entities e USING (entity_code)
             LEFT JOIN codelist_ems_status s ON s.code = y.ems_status
             WHERE i.year = ?
             ORDER BY i.entity_code""",
    ),
)
# Tables whose totals row is the system-wide row of the year (same column names; blanks elsewhere).
TOTALS_FROM_SYSTEM = ("entities", "waste", "water", "ems")
# ... whose per-capita figure divides by the personnel of the entities that reported the resource
# (report_resource_coverage): the totals row shows that personnel, so that the row adds up.
TOTAL_PERSONNEL = {"waste": "waste_personnel", "water": "water_personnel"}
TOTAL_NAME = {"waste": "Total of the entities reporting waste", "water": "Total of the entities reporting water"}


def headline_unit(key: Key) -> str:
    """The unit of a headline row as its unrounded value reads: 'share' for a 0-1 fraction (and a
    change, a fraction too), as keys.csv and the export's datapackage say, '%' only for a value
    already in percent. One column holds both, so '%' on 0.67 would read as 0.67 %."""
    return "%" if key.kind == "percent" else key.unit


def headline_table(con: duckdb.DuckDBPyConnection, year: int) -> Table:
    """Indicators as rows, years as columns: the system_indicators view turned on its side, with
    each key's label and unit (pipeline/indicators/keys.csv)."""
    columns, rows = fetch(con, "SELECT * FROM system_indicators WHERE year <= ? ORDER BY year", [year])
    years = [r[columns.index("year")] for r in rows]
    body = []
    for key in keys():
        j = columns.index(key.key)
        body.append((key.key, key.label, headline_unit(key), *(r[j] for r in rows)))
    return Table(
        "headline",
        "Headline indicators by year",
        "Every indicator of the output contract as a row, the data years as columns (the system_indicators "
        "view turned on its side).",
        ("key", "indicator", "unit", *(str(y) for y in years)),
        body,
        key_column="key",
    )


def _total(name: str, columns: tuple[str, ...], system: Record, resources: Record) -> tuple:
    """The totals row of a table: the system-wide row of the year, with the personnel the table's
    per-capita figure divides by."""
    values = {**system, "entity_code": "ALL", "entity_name": TOTAL_NAME.get(name, "Total (system-wide)")}
    if name in TOTAL_PERSONNEL:
        values["personnel"] = resources.get(TOTAL_PERSONNEL[name])
    return tuple(values.get(c) for c in columns)


def report_tables(con: duckdb.DuckDBPyConnection, year: int) -> list[Table]:
    tables = [headline_table(con, year)]
    system = next(iter(records(con, "SELECT * FROM system_indicators WHERE year = ?", [year])), None)
    resources = next(iter(records(con, "SELECT * FROM report_resource_coverage WHERE year = ?", [year])), {})
    for name, title, description, sql in TABLE_SQL:
        columns, rows = fetch(con, sql, [year])
        total = _total(name, columns, system, resources) if name in TOTALS_FROM_SYSTEM and system else None
        tables.append(Table(name, title, description, columns, rows, total=total))
    return tables


# --- everything the charts of one year need, read once -------------------------------------------
@dataclass(frozen=True)
class ReportData:
    year: int
    system: list[Record]  # system_indicators, first year with data to `year` (a year without data: NULLs)
    ranked: list[Record]  # report_entity_per_capita of `year`, highest first
    waste: list[Record]  # report_waste_by_treatment of `year`
    ems: list[Record]  # report_ems_by_status of `year`
    factor_sets_year: tuple[str, ...]
    factor_sets_all: tuple[str, ...]
    history_years: tuple[int, ...]  # every entity's figures from published totals
    partly_history_years: tuple[int, ...]  # some entities' figures from published totals
    open_flags: int = 0  # plausibility flags of `year` still open: the report is a draft
    # workbooks of `year` not compared again with an earlier year as it now stands (restated,
    # resubmitted since): their flags may not be the data's, and the report is a draft too
    not_compared: int = 0
    # the factor sets of `year`'s loaded workbooks and how many use each, when there are two or
    # more (`calculate.mixed_sets`): the year's figures are not comparable within, a draft too
    mixed_sets: tuple[tuple[str, int], ...] = ()
    coverage: tuple[Record, ...] = ()  # completeness_by_year, every year up to `year` (with years without data)
    missing: tuple[Record, ...] = ()  # reporting_completeness rows of `year` that are missing
    factor_set_years: tuple[Record, ...] = ()  # year_factor_sets, every year up to `year`
    resources: tuple[Record, ...] = ()  # report_resource_coverage, every year up to `year`
    estimated: Record | None = None  # estimated_emissions, the system row of `year` (None: no workbook)
    # the recalculations log of the years up to `year` (gtb recalculate): years restated since a
    # report may have published them, with the totals before and after
    restated: tuple[Record, ...] = ()

    def coverage_of(self, year: int) -> Record | None:
        return next((r for r in self.coverage if r["year"] == year), None)

    def factor_set_changes(self, first: int | None = None) -> list[Record]:
        """The years of year_factor_sets on other factor sets than an earlier year from `first` on:
        where a trend from `first` crosses a change of method."""
        first = self.first_year if first is None else first
        return [
            r
            for r in self.factor_set_years
            if r["factor_set_changed"] and r["year"] <= self.year and r["previous_factor_sets_year"] >= first
        ]

    @property
    def mixed_set_names(self) -> tuple[str, ...]:
        """The factor sets of the year, when its workbooks use two or more (a draft); else ()."""
        return tuple(name for name, _ in self.mixed_sets)

    @property
    def this_year(self) -> Record:
        return next(r for r in self.system if r["year"] == self.year)

    @property
    def first_year(self) -> int:
        return self.system[0]["year"]


ESTIMATED_SQL = "SELECT * FROM estimated_emissions WHERE is_system AND year = ?"


def load_report_data(con: duckdb.DuckDBPyConnection, year: int) -> ReportData:
    system = system_series(con, year)
    first = system[0]["year"]
    full, partly = history_years(con, first, year)
    return ReportData(
        year=year,
        system=system,
        ranked=per_capita_ranked(con, year),
        waste=waste_by_treatment(con, year),
        ems=ems_by_status(con, year),
        factor_sets_year=factor_sets(con, year, year),
        factor_sets_all=factor_sets(con, first, year),
        history_years=full,
        partly_history_years=partly,
        open_flags=len(open_flags(con, year, earlier=True)),
        not_compared=len(not_compared_again(con, year)),
        mixed_sets=year_mixed_sets(con, year),
        coverage=tuple(records(con, "SELECT * FROM completeness_by_year WHERE year <= ? ORDER BY year", [year])),
        factor_set_years=tuple(factor_set_years(con, year)),
        resources=tuple(records(con, "SELECT * FROM report_resource_coverage WHERE year <= ? ORDER BY year", [year])),
        estimated=next(
            iter(records(con, "SELECT * FROM estimated_emissions WHERE is_system AND year = ?", [year])), None
        ),  # noqa: E501
        missing=tuple(
            records(
                con,
                """SELECT * FROM reporting_completeness WHERE year = ? AND data_source = 'missing'
                   ORDER BY entity_code""",
                [year],
            )
        ),
        restated=tuple(
            records(
                con,
                """SELECT reporting_year AS year, recalculated_at, old_factor_set, new_factor_set, submissions,
                          old_total_tco2e, new_total_tco2e, reason
                   FROM recalculations WHERE reporting_year <= ? ORDER BY reporting_year, recalculated_at""",
                [year],
            )
        ),
    )
