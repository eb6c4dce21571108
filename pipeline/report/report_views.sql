-- Breakdowns the annual report draws that are not indicators of the contract. TEMP views, created
-- on the report's read-only connection; they read the indicator views or the activity tables
-- of loaded submissions, never redefine an indicator.

-- Waste of each year by treatment route, over loaded workbooks; entities whose year comes from
-- published totals have no treatment detail and appear as one 'not_itemised' row.
CREATE OR REPLACE TEMP VIEW report_waste_by_treatment AS
WITH routes AS (
    SELECT l.year, w.treatment_code, bool_or(w.is_diverted) AS is_diverted,
           sum(w.quantity_tonnes) AS waste_tonnes, count(DISTINCT l.entity_code) AS entities
    FROM waste_activity w
    JOIN loaded_submissions l USING (submission_id)
    GROUP BY l.year, w.treatment_code
    UNION ALL
    SELECT year, 'not_itemised', NULL, sum(waste_tonnes), count(*)
    FROM entity_year
    WHERE data_source = 'history' AND waste_tonnes IS NOT NULL
    GROUP BY year
)
SELECT year, treatment_code, is_diverted, waste_tonnes, entities,
       waste_tonnes / nullif(sum(waste_tonnes) OVER (PARTITION BY year), 0) AS share_of_waste
FROM routes;

-- Entities of each year by EMS status ('no_data' for entities without an EMS sheet, e.g. years
-- that come from published totals).
CREATE OR REPLACE TEMP VIEW report_ems_by_status AS
SELECT year, coalesce(ems_status, 'no_data') AS ems_status, count(*) AS entities
FROM entity_year
GROUP BY year, coalesce(ems_status, 'no_data');

-- Per-capita emissions of each entity and year split by source (stacks of the ranked chart).
CREATE OR REPLACE TEMP VIEW report_entity_per_capita AS
SELECT entity_code, year, personnel, per_capita_tco2e,
       facilities_tco2e / nullif(personnel, 0) AS facilities_per_capita_tco2e,
       air_travel_tco2e / nullif(personnel, 0) AS air_travel_per_capita_tco2e,
       other_travel_tco2e / nullif(personnel, 0) AS other_travel_per_capita_tco2e
FROM entity_indicators;

-- Who each year's waste and water figures rest on: the entities that reported them of those that
-- reported at all, and their personnel, the denominator of waste and water per capita (the same
-- sums as indicator_sums, read from it, so a per-capita figure times this personnel gives the total).
CREATE OR REPLACE TEMP VIEW report_resource_coverage AS
SELECT s.year, s.reporting_entities, s.personnel,
       c.waste_entities, s.waste_personnel, c.water_entities, s.water_personnel
FROM indicator_sums s
JOIN (SELECT year, count(waste_tonnes) AS waste_entities, count(water_m3) AS water_entities
      FROM entity_year GROUP BY year) c USING (year)
WHERE s.is_system;

-- Emission factor sets used by the loaded submissions of each entity and year (a workbook of
-- 0 tCO2e: its year's, as entity_factor_sets gives it).
CREATE OR REPLACE TEMP VIEW report_factor_sets AS
SELECT DISTINCT f.entity_code, f.year, trim(unnest(string_split(f.factor_sets, ','))) AS factor_set
FROM entity_factor_sets f;
