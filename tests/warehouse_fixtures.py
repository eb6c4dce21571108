"""Small hand-made warehouses: rows inserted straight into the tables, no workbooks involved.

Tests of the indicator views choose every number themselves, so the expected figures can be
worked out on paper. A `Warehouse` opens a fresh database (schema and views created by
`pipeline.warehouse.db.connect`) and offers one helper per kind of row:

    wh = Warehouse(tmp_path / "gtb.duckdb")
    a = wh.submission("UNEP", 2024, personnel=200, floor_area_m2=1000, ems="certified")
    wh.emission(a, "air", 600)                          # AirTravel, scope 3, air_travel
    wh.electricity(a, kwh=200_000, renewable_kwh=50_000)  # Facilities row + its emissions row
    wh.history("UNEP", 2010, personnel=100, facilities=300, air=500, other=200)
    wh.system(2024)["total_tco2e"]

Emission kinds name a (sheet, activity) of the contract; their scope and GtB category come from
the calculator's own tables (`pipeline.emissions.calculate`) and the HCFC flag from the
refrigerant code list, so the fixtures cannot drift from what a real run writes. Waste rows
take `is_hazardous` / `is_diverted` from the waste code lists the loader uses.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb

from pipeline import codelists
from pipeline.emissions.calculate import SCOPE_BY_ACTIVITY, SCOPE_DEFAULT
from pipeline.indicators.views import create_views
from pipeline.warehouse.db import connect

# kind -> (sheet, activity): the activity a real row of that kind carries.
KINDS: dict[str, tuple[str, str]] = {
    "stationary": ("Facilities", "natural_gas"),
    "electricity": ("Facilities", "electricity"),
    "district_heating": ("Facilities", "district_heating"),
    "refrigerant": ("Refrigerants", "r134a"),
    "hcfc": ("Refrigerants", "r22"),
    "vehicle_fuel": ("Vehicles", "diesel"),
    "vehicle_electricity": ("Vehicles", "electricity"),
    "air": ("AirTravel", "long_haul.economy"),
    "other_travel": ("OtherTravel", "rail"),
}
WHEN = dt.datetime(2025, 3, 1, 12, 0, 0)


def classify(kind: str) -> tuple[str, int, str, str, bool]:
    """(sheet, scope, scope_detail, gtb_category, is_optional) of an emission kind."""
    sheet, activity = KINDS[kind]
    default_scope, default_detail, category = SCOPE_DEFAULT[sheet]
    scope, detail = SCOPE_BY_ACTIVITY.get((sheet, activity), (default_scope, default_detail))
    optional = sheet == "Refrigerants" and activity in codelists.flag("refrigerant_gas", "is_hcfc")
    return sheet, scope, detail, category, optional


class Warehouse:
    """A fresh warehouse at `path` and helpers that insert rows; `close()` when done."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.con: duckdb.DuckDBPyConnection = connect(self.path)
        create_views(self.con)
        self._ids = itertools.count(1)
        self._rows = itertools.count(2)  # Excel rows, unique across sheets: primary keys never clash

    def close(self) -> None:
        self.con.close()

    # ---- submissions -------------------------------------------------------------------------
    def submission(
        self,
        entity: str,
        year: int,
        personnel: int,
        *,
        coverage_percent: float = 100.0,
        floor_area_m2: float | None = None,
        ems: str | None = "none",
        status: str = "loaded",
    ) -> int:
        """A submission with its Entity sheet (and EMS sheet unless `ems` is None); returns its id."""
        sid = next(self._ids)
        self.con.execute(
            """
            INSERT INTO submissions (submission_id, run_id, file_name, file_path, sha256, size_bytes, received_at,
                                     entity_code, reporting_year, template_version, pipeline_version, status,
                                     error_count, warning_count)
            VALUES (?, 1, ?, ?, ?, 1000, ?, ?, ?, '2025.1', 'test', ?, 0, 0)
            """,
            [
                sid,
                f"{entity}_{year}_{sid}.xlsx",
                f"submissions/{entity}_{year}_{sid}.xlsx",
                f"{sid:064x}",
                WHEN,
                entity,
                year,
                status,
            ],
        )
        self.con.execute(
            "INSERT INTO entity_reports (submission_id, entity_code, reporting_year, personnel,"
            " reporting_coverage_percent,"
            " floor_area_m2, focal_point_name, focal_point_email, template_version)"
            " VALUES (?, ?, ?, ?, ?, ?, 'Focal Point', 'fp@un.org', '2025.1')",
            [sid, entity, year, personnel, coverage_percent, floor_area_m2],
        )
        if ems is not None:
            self.con.execute(
                "INSERT INTO ems_reports (submission_id, status, standard, coverage_percent, is_policy_adopted,"
                " last_management_review) VALUES (?, ?, 'none', 100, true, NULL)",
                [sid, ems],
            )
        return sid

    # ---- emissions ---------------------------------------------------------------------------
    def emission(self, sid: int, kind: str, tco2e: float, market_tco2e: float | None = None) -> None:
        """One emissions row of `kind` (see KINDS); market-based equals location-based unless given."""
        sheet, scope, detail, category, optional = classify(kind)
        self.con.execute(
            """
            INSERT INTO emissions VALUES
                (?, ?, ?, ?, ?, ?, ?, ?, 'kg', 'test-set', ?, 'WORLD', 1.0, ?, ?, ?, NULL, NULL, NULL)
            """,
            [
                sid,
                sheet,
                next(self._rows),
                scope,
                detail,
                category,
                optional,
                tco2e * 1000,
                KINDS[kind][1],
                tco2e,
                tco2e if market_tco2e is None else market_tco2e,
                WHEN,
            ],
        )

    def electricity(
        self,
        sid: int,
        kwh: float,
        renewable_kwh: float | None = None,
        kg_per_kwh: float = 0.5,
        grid_default_kwh: float | None = None,
    ) -> float:
        """A Facilities electricity row and its emissions row (renewable kWh at zero in the market figure).

        The row's renewable electricity, as the calculation records it: the entity's `renewable_kwh`
        and `grid_default_kwh` (the rest of the row at the grid's share, under a set with renewable
        shares); else none (0).
        Returns the location-based tCO2e (kwh x kg_per_kwh / 1000).
        """
        row = next(self._rows)
        self.con.execute(
            """
            INSERT INTO facilities_activity (submission_id, source_row, site, country_code, energy_type_code, quantity,
                unit_code, renewable_kwh, data_quality_code, canonical_quantity, canonical_unit)
            VALUES (?, ?, 'HQ', 'KEN', 'electricity', ?, 'kwh', ?, 'measured', ?, 'kwh')
            """,
            [sid, row, kwh, renewable_kwh, kwh],
        )
        location = kwh * kg_per_kwh / 1000
        market = (kwh - (renewable_kwh or 0)) * kg_per_kwh / 1000
        sheet, scope, detail, category, optional = classify("electricity")
        own, default = renewable_kwh or 0.0, grid_default_kwh or 0.0
        if default and own:
            renewable, origin = own + default, "reported_and_grid_default"
        elif grid_default_kwh is not None:
            renewable, origin = default, "grid_default"
        elif renewable_kwh is not None:
            renewable, origin = own, "reported"
        else:
            renewable, origin = 0.0, "none"
        self.con.execute(
            "INSERT INTO emissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'kwh', 'test-set', 'electricity', 'KEN', ?, ?, ?, ?,"
            " NULL, ?, ?)",
            [
                sid,
                sheet,
                row,
                scope,
                detail,
                category,
                optional,
                kwh,
                kg_per_kwh,
                location,
                market,
                WHEN,
                renewable,
                origin,
            ],
        )
        return location

    def fuel(self, sid: int, energy_type: str, quantity: float, unit: str = "kwh") -> None:
        """A Facilities row of a non-electricity energy type (activity only, no emissions row)."""
        self.con.execute(
            "INSERT INTO facilities_activity (submission_id, source_row, site, country_code, energy_type_code,"
            " quantity,"
            " unit_code, renewable_kwh, data_quality_code, canonical_quantity, canonical_unit)"
            " VALUES (?, ?, 'HQ', 'KEN', ?, ?, ?, NULL, 'measured', ?, ?)",
            [sid, next(self._rows), energy_type, quantity, unit, quantity, unit],
        )

    # ---- offsets, waste, water ---------------------------------------------------------------
    def offsets(self, sid: int, tco2e: float) -> None:
        row = next(self._rows)
        self.con.execute(
            "INSERT INTO offsets (submission_id, source_row, standard_code, project_id, serial_range, serial_key,"
            " vintage,"
            " quantity_tco2e, retirement_date) VALUES (?, ?, 'cdm', 'CDM-1', ?, ?, 2023, ?, DATE '2025-02-01')",
            [sid, row, f"S-{sid}-{row}", f"S-{sid}-{row}", tco2e],
        )

    def waste(self, sid: int, tonnes: float, stream: str = "mixed", treatment: str = "landfill") -> None:
        """A Waste row; the hazardous and diverted flags come from the code lists, as in the loader."""
        assert stream in codelists.codes("waste_stream") and treatment in codelists.codes("waste_treatment")
        self.con.execute(
            "INSERT INTO waste_activity (submission_id, source_row, site, country_code, waste_stream_code,"
            " treatment_code,"
            " quantity, unit_code, data_quality_code, quantity_tonnes, is_hazardous, is_diverted)"
            " VALUES (?, ?, 'HQ', 'KEN', ?, ?, ?, 'tonne', 'measured', ?, ?, ?)",
            [
                sid,
                next(self._rows),
                stream,
                treatment,
                tonnes,
                tonnes,
                stream in codelists.flag("waste_stream", "is_hazardous"),
                treatment in codelists.flag("waste_treatment", "is_diverted"),
            ],
        )

    def water(self, sid: int, m3: float) -> None:
        self.con.execute(
            "INSERT INTO water_activity (submission_id, source_row, site, country_code, source_code, volume, unit_code,"
            " data_quality_code, volume_m3) VALUES (?, ?, 'HQ', 'KEN', 'municipal', ?, 'm3', 'measured', ?)",
            [sid, next(self._rows), m3, m3],
        )

    # ---- history -----------------------------------------------------------------------------
    def history(
        self,
        entity: str,
        year: int,
        personnel: int,
        facilities: float,
        air: float,
        other: float,
        offsets: float = 0.0,
        waste_tonnes: float | None = None,
        water_m3: float | None = None,
    ) -> None:
        """A row of published totals (inputs/history/*.csv)."""
        line = next(self._rows)
        self.con.execute(
            "INSERT INTO history_totals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'totals.csv', ?, ?)",
            [entity, year, personnel, facilities, air, other, offsets, waste_tonnes, water_m3, line, "0" * 64],
        )

    # ---- reading the views -------------------------------------------------------------------
    def system(self, year: int) -> dict:
        """The year's row of system_indicators as a dict (raw DuckDB values)."""
        return self._row("SELECT * FROM system_indicators WHERE year = ?", [year])

    def entity(self, code: str, year: int) -> dict:
        """The entity-year row of entity_indicators as a dict (raw DuckDB values)."""
        return self._row("SELECT * FROM entity_indicators WHERE entity_code = ? AND year = ?", [code, year])

    def _row(self, sql: str, params: list) -> dict:
        cur = self.con.execute(sql, params)
        rows = cur.fetchall()
        assert len(rows) == 1, f"expected one row, found {len(rows)}"
        return dict(zip([d[0] for d in cur.description], rows[0], strict=True))
