"""An entity's previous year as loaded, for the template's read-only "Last year" sheet."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.intake.template import LastYear
from pipeline.warehouse.db import opened


def previous_submission(con: duckdb.DuckDBPyConnection, entity: str, year: int) -> tuple[int, int] | None:
    """(submission id, reporting year) of the entity's latest loaded year before `year`, or None."""
    found = con.execute(
        """SELECT submission_id, reporting_year FROM submissions
           WHERE entity_code = ? AND reporting_year < ? AND status = 'loaded'
           ORDER BY reporting_year DESC LIMIT 1""",
        [entity, year],
    ).fetchone()
    return (int(found[0]), int(found[1])) if found else None


def last_year(db: Path, entity: str, year: int) -> LastYear | None:
    """The entity's latest loaded year before `year`, from the warehouse: totals by sheet and
    source, its sites and countries; or its published totals (`inputs/history/`) where their
    latest year before `year` is later (an entity's first workbook): personnel, emissions by
    group, waste and water; None without either."""
    with opened(Path(db), read_only=True) as con:
        found = previous_submission(con, entity, year)
        published = _published(con, entity, year, found[1] if found else 0)
        if published is not None:
            return published
        if found is None:
            return None
        sid, previous = found
        personnel = con.execute("SELECT personnel FROM entity_reports WHERE submission_id = ?", [sid]).fetchone()
        totals = con.execute(LAST_YEAR_SQL, [sid]).fetchall()
        sites = con.execute(
            """SELECT DISTINCT site, country_code FROM (
                   SELECT site, country_code FROM facilities_activity WHERE submission_id = $1
                   UNION SELECT site, country_code FROM refrigerants_activity WHERE submission_id = $1
                   UNION SELECT site, country_code FROM waste_activity WHERE submission_id = $1
                   UNION SELECT site, country_code FROM water_activity WHERE submission_id = $1)
               ORDER BY ALL""",
            [sid],
        ).fetchall()
    total = sum(t[4] for t in totals if t[4] is not None and t[0] not in ("Waste", "Water", "Offsets")) or None
    return LastYear(int(previous), personnel[0] if personnel else None, total, totals, sites)


def _published(con: duckdb.DuckDBPyConnection, entity: str, year: int, after: int) -> LastYear | None:
    """The entity's published totals of its latest year before `year` and after `after`, as a
    Last year sheet shows them: one row per group (what '' is all its sources); None if none."""
    row = con.execute(
        """SELECT year, personnel, facilities_tco2e, air_travel_tco2e, other_travel_tco2e, waste_tonnes, water_m3
           FROM history_totals WHERE entity_code = ? AND year < ? AND year > ? ORDER BY year DESC LIMIT 1""",
        [entity, year, after],
    ).fetchone()
    if row is None:
        return None
    published, personnel, facilities, air, other, waste, water = row
    totals: list[tuple[str, str, float | None, str, float | None]] = [
        ("Facilities", "", None, "", facilities),
        ("AirTravel", "", None, "", air),
        ("OtherTravel", "", None, "", other),
    ]
    totals += [("Waste", "", waste, "tonne", None)] if waste is not None else []
    totals += [("Water", "", water, "m3", None)] if water is not None else []
    return LastYear(int(published), personnel, facilities + air + other, totals, [], published=True)


# (sheet, what, quantity, unit, tCO2e) of one loaded submission, by sheet and source; a waste
# source is its stream and treatment codes joined by `template.SOURCE_PARTS`. A travel mode's unit
# is its factor's, as priced: a rental car is vehicle-km from factor set gtb-2026.1 on.
LAST_YEAR_SQL = """
WITH e AS (
    SELECT sheet, source_row, emissions_tco2e, activity_unit FROM emissions WHERE submission_id = $1 AND NOT is_optional
)
SELECT 'Facilities', f.energy_type_code, sum(f.canonical_quantity), any_value(f.canonical_unit), sum(e.emissions_tco2e)
FROM facilities_activity f LEFT JOIN e ON e.sheet = 'Facilities' AND e.source_row = f.source_row
WHERE f.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'Refrigerants', r.gas_code, sum(r.refilled_kg), 'kg', sum(e.emissions_tco2e)
FROM refrigerants_activity r LEFT JOIN e ON e.sheet = 'Refrigerants' AND e.source_row = r.source_row
WHERE r.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'Vehicles', v.fuel_code, sum(v.canonical_quantity), any_value(v.canonical_unit), sum(e.emissions_tco2e)
FROM vehicles_activity v LEFT JOIN e ON e.sheet = 'Vehicles' AND e.source_row = v.source_row
WHERE v.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'AirTravel', a.cabin_class_code, sum(a.flights)::DOUBLE, 'flights', sum(e.emissions_tco2e)
FROM air_travel_activity a LEFT JOIN e ON e.sheet = 'AirTravel' AND e.source_row = a.source_row
WHERE a.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'OtherTravel', o.mode_code, sum(o.passenger_km), coalesce(any_value(e.activity_unit), 'passenger_km'),
       sum(e.emissions_tco2e)
FROM other_travel_activity o LEFT JOIN e ON e.sheet = 'OtherTravel' AND e.source_row = o.source_row
WHERE o.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'Waste', w.waste_stream_code || ' / ' || w.treatment_code, sum(w.quantity_tonnes), 'tonne', NULL
FROM waste_activity w WHERE w.submission_id = $1 GROUP BY ALL
UNION ALL
SELECT 'Water', w.source_code, sum(w.volume_m3), 'm3', NULL
FROM water_activity w WHERE w.submission_id = $1 GROUP BY ALL
ORDER BY 1, 2
"""
