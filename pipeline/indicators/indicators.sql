-- Indicators of the Greening the Blue Report, defined once (output contract, version 2025.1).
-- Every chart, table and `gtb indicators` reads these views. Values are unrounded; a figure that
-- cannot be computed is NULL, never 0. Built in layers:
--   loaded_submissions -> submission_totals -> entity_year (workbooks, else history)
--   -> indicator_sums (every sum, per entity-year and per year, in one GROUPING SETS pass)
--   -> indicators (every key, each formula written once) -> entity_indicators / system_indicators

-- A quotient, or NULL where it is no finite number (NULL where the denominator is 0, as before):
-- the bounds allow any positive figure, and a denominator of 5e-324 gives infinity, which no
-- chart, table or JSON can show. The value itself is a / b, unchanged.
CREATE OR REPLACE MACRO finite_ratio(a, b) AS
    CASE WHEN isfinite(CAST(a AS DOUBLE) / nullif(CAST(b AS DOUBLE), 0)) THEN a / nullif(b, 0) END;

-- The current (loaded) submission of each entity and year, with its Entity sheet.
CREATE OR REPLACE VIEW loaded_submissions AS
SELECT s.submission_id, s.entity_code, s.reporting_year AS year, s.file_name,
       e.personnel, e.reporting_coverage_percent, e.floor_area_m2
FROM submissions s
JOIN entity_reports e USING (submission_id)
WHERE s.status = 'loaded';

-- Emissions and resources of each loaded submission. Sheets left empty give 0 for emissions
-- (nothing to report), but NULL for electricity, waste and water (the resource was not
-- reported): a figure without data is NULL, never 0. Optional (HCFC) emissions enter no figure
-- but optional_tco2e.
CREATE OR REPLACE VIEW submission_totals AS
WITH em AS (
    SELECT submission_id,
           sum(emissions_tco2e) FILTER (WHERE gtb_category = 'facilities' AND NOT is_optional) AS facilities_tco2e,
           sum(emissions_tco2e) FILTER (WHERE gtb_category = 'air_travel' AND NOT is_optional) AS air_travel_tco2e,
           sum(emissions_tco2e) FILTER (WHERE gtb_category = 'other_travel' AND NOT is_optional) AS other_travel_tco2e,
           sum(emissions_tco2e) FILTER (WHERE is_optional) AS optional_tco2e,
           sum(emissions_tco2e) FILTER (WHERE scope = 1 AND NOT is_optional) AS scope1_tco2e,
           sum(emissions_tco2e) FILTER (WHERE scope = 2 AND NOT is_optional) AS scope2_tco2e,
           sum(market_emissions_tco2e) FILTER (WHERE scope = 2 AND NOT is_optional) AS scope2_market_tco2e,
           sum(emissions_tco2e) FILTER (WHERE scope = 3 AND NOT is_optional) AS scope3_tco2e
    FROM emissions GROUP BY submission_id
), energy AS (
    SELECT submission_id,
           sum(canonical_quantity) FILTER (WHERE energy_type_code = 'electricity') AS electricity_kwh
    FROM facilities_activity GROUP BY submission_id
), renew_rows AS (
    -- renewable electricity as calculated for each electricity row (emissions.renewable_kwh): the
    -- entity's own figure, and (from factor set gtb-2026.1 on) the rest of the row at the country's
    -- grid renewable share; the reported part is the row's own figure (facilities_activity)
    SELECT e.submission_id, e.renewable_kwh,
           least(coalesce(f.renewable_kwh, 0), e.renewable_kwh) AS reported_kwh
    FROM emissions e
    LEFT JOIN facilities_activity f ON f.submission_id = e.submission_id AND f.source_row = e.source_row
    WHERE e.sheet = 'Facilities' AND e.renewable_kwh IS NOT NULL
), renew AS (
    SELECT submission_id,
           sum(renewable_kwh) AS renewable_kwh,
           coalesce(sum(reported_kwh), 0) AS renewable_reported_kwh,
           coalesce(sum(renewable_kwh - reported_kwh), 0) AS renewable_default_kwh
    FROM renew_rows GROUP BY submission_id
), off AS (
    SELECT submission_id, sum(quantity_tco2e) AS offsets_tco2e FROM offsets GROUP BY submission_id
), waste AS (
    SELECT submission_id, sum(quantity_tonnes) AS waste_tonnes,
           sum(quantity_tonnes) FILTER (WHERE is_diverted) AS diverted_tonnes,
           sum(quantity_tonnes) FILTER (WHERE is_hazardous) AS hazardous_tonnes
    FROM waste_activity GROUP BY submission_id
), water AS (
    SELECT submission_id, sum(volume_m3) AS water_m3 FROM water_activity GROUP BY submission_id
)
SELECT l.submission_id,
       coalesce(em.facilities_tco2e, 0) AS facilities_tco2e,
       coalesce(em.air_travel_tco2e, 0) AS air_travel_tco2e,
       coalesce(em.other_travel_tco2e, 0) AS other_travel_tco2e,
       coalesce(em.optional_tco2e, 0) AS optional_tco2e,
       coalesce(em.scope1_tco2e, 0) AS scope1_tco2e,
       coalesce(em.scope2_tco2e, 0) AS scope2_tco2e,
       coalesce(em.scope2_market_tco2e, 0) AS scope2_market_tco2e,
       coalesce(em.scope3_tco2e, 0) AS scope3_tco2e,
       energy.electricity_kwh,
       CASE WHEN energy.electricity_kwh IS NOT NULL THEN coalesce(renew.renewable_kwh, 0) END AS renewable_kwh,
       CASE WHEN energy.electricity_kwh IS NOT NULL THEN coalesce(renew.renewable_reported_kwh, 0) END AS renewable_reported_kwh,
       CASE WHEN energy.electricity_kwh IS NOT NULL THEN coalesce(renew.renewable_default_kwh, 0) END AS renewable_default_kwh,
       coalesce(off.offsets_tco2e, 0) AS offsets_tco2e,
       waste.waste_tonnes,
       CASE WHEN waste.waste_tonnes IS NOT NULL THEN coalesce(waste.diverted_tonnes, 0) END AS diverted_tonnes,
       CASE WHEN waste.waste_tonnes IS NOT NULL THEN coalesce(waste.hazardous_tonnes, 0) END AS hazardous_waste_tonnes,
       water.water_m3
FROM loaded_submissions l
LEFT JOIN em USING (submission_id)
LEFT JOIN energy USING (submission_id)
LEFT JOIN renew USING (submission_id)
LEFT JOIN off USING (submission_id)
LEFT JOIN waste USING (submission_id)
LEFT JOIN water USING (submission_id);

-- One row per entity and year: the loaded workbook, else the published history row.
-- Workbook-only figures (scopes, energy, waste detail, EMS, coverage) are NULL for history rows.
CREATE OR REPLACE VIEW entity_year AS
SELECT l.entity_code, l.year, 'workbook' AS data_source, l.submission_id, l.file_name AS source_file,
       l.personnel::BIGINT AS personnel,
       t.facilities_tco2e, t.air_travel_tco2e, t.other_travel_tco2e, t.optional_tco2e,
       t.scope1_tco2e, t.scope2_tco2e, t.scope2_market_tco2e, t.scope3_tco2e,
       t.electricity_kwh, t.renewable_kwh, t.renewable_reported_kwh, t.renewable_default_kwh, t.offsets_tco2e,
       t.waste_tonnes, t.diverted_tonnes, t.hazardous_waste_tonnes, t.water_m3,
       l.floor_area_m2, l.reporting_coverage_percent,
       m.status AS ems_status
FROM loaded_submissions l
JOIN submission_totals t USING (submission_id)
LEFT JOIN ems_reports m USING (submission_id)
UNION ALL
SELECT h.entity_code, h.year, 'history', NULL, h.source_file,
       h.personnel::BIGINT,
       h.facilities_tco2e, h.air_travel_tco2e, h.other_travel_tco2e, NULL,
       NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, h.offsets_tco2e,
       h.waste_tonnes, NULL, NULL, h.water_m3,
       NULL, NULL,
       NULL
FROM history_totals h
WHERE NOT EXISTS (SELECT 1 FROM loaded_submissions l WHERE l.entity_code = h.entity_code AND l.year = h.year);

-- Every sum the indicators need, per entity and year AND per year, in one pass: the two levels
-- share one definition, so an entity's figure and the system's are computed the same way.
-- Rules (the report's practice):
-- - total = facilities + air travel + other travel; optional (HCFC) emissions are beside it.
-- - offsets count up to each entity's own total: one entity's surplus never covers another's.
-- - like-for-like sums run over the entities that also have a 2010 row.
-- - scope figures and optional emissions need every entity of the group to have a workbook (a
--   history row has no scope split, and scope 1 + 2 + 3 must add up to the total).
-- - resource figures (electricity, waste, water) sum over the entities that reported them, and
--   their ratios divide within those entities; EMS counts and coverage run over the entities
--   with a workbook (NULL where there is none).
CREATE OR REPLACE VIEW indicator_sums AS
WITH base AS (
    SELECT *, facilities_tco2e + air_travel_tco2e + other_travel_tco2e AS total_tco2e FROM entity_year
), with_2010 AS (
    -- the EMS group of each status comes from the code list (schemas/codelists/ems_status.csv)
    SELECT b.*, b0.total_tco2e AS total_2010_tco2e, g.ems_group
    FROM base b
    LEFT JOIN base b0 ON b0.entity_code = b.entity_code AND b0.year = 2010
    LEFT JOIN codelist_ems_status g ON g.code = b.ems_status
)
SELECT entity_code,
       year,
       grouping(entity_code) = 1 AS is_system,
       count(*) AS reporting_entities,
       sum(personnel)::BIGINT AS personnel,
       sum(total_tco2e) AS total_tco2e,
       sum(facilities_tco2e) AS facilities_tco2e,
       sum(air_travel_tco2e) AS air_travel_tco2e,
       sum(other_travel_tco2e) AS other_travel_tco2e,
       bool_and(data_source = 'workbook') AS all_workbooks,
       sum(optional_tco2e) AS optional_tco2e,
       sum(scope1_tco2e) AS scope1_tco2e,
       sum(scope2_tco2e) AS scope2_tco2e,
       sum(scope2_market_tco2e) AS scope2_market_tco2e,
       sum(scope3_tco2e) AS scope3_tco2e,
       sum(offsets_tco2e) AS offsets_tco2e,
       sum(least(offsets_tco2e, total_tco2e)) AS capped_offsets_tco2e,
       count(*) FILTER (WHERE offsets_tco2e >= total_tco2e AND total_tco2e > 0) AS climate_neutral_entities,
       sum(total_tco2e) FILTER (WHERE total_2010_tco2e IS NOT NULL) AS matched_total_tco2e,
       sum(total_2010_tco2e) AS matched_2010_total_tco2e,
       sum(electricity_kwh) AS electricity_kwh,
       sum(renewable_kwh) AS renewable_kwh,
       sum(renewable_reported_kwh) AS renewable_reported_kwh,
       sum(renewable_default_kwh) AS renewable_default_kwh,
       sum(facilities_tco2e) FILTER (WHERE floor_area_m2 > 0) AS floor_facilities_tco2e,
       sum(floor_area_m2) FILTER (WHERE floor_area_m2 > 0) AS floor_area_m2,
       sum(waste_tonnes) AS waste_tonnes,
       sum(personnel) FILTER (WHERE waste_tonnes IS NOT NULL) AS waste_personnel,
       sum(diverted_tonnes) AS diverted_tonnes,
       sum(waste_tonnes) FILTER (WHERE diverted_tonnes IS NOT NULL) AS detailed_waste_tonnes,
       sum(hazardous_waste_tonnes) AS hazardous_waste_tonnes,
       sum(water_m3) AS water_m3,
       sum(personnel) FILTER (WHERE water_m3 IS NOT NULL) AS water_personnel,
       count(ems_status) AS ems_reported,
       count(*) FILTER (WHERE ems_group = 'met') AS ems_met,
       count(*) FILTER (WHERE ems_group = 'approaching') AS ems_approaching,
       count(*) FILTER (WHERE ems_group = 'not_met') AS ems_not_met,
       finite_ratio(sum(reporting_coverage_percent * personnel), sum(personnel) FILTER (WHERE reporting_coverage_percent IS NOT NULL)) AS reporting_coverage_percent
FROM with_2010
GROUP BY GROUPING SETS ((entity_code, year), (year));

-- Every key of the contract, each formula written once, for entities (is_system false) and for
-- the system (is_system true); the 2010 baseline is the same group's 2010 row. It is read by a
-- window over the one evaluation of indicator_sums, not by a second (self-joined) one: the sums
-- then never depend on the query's shape (one year filtered or all years), so `gtb indicators`
-- and the published tables agree to the last bit, and 2010 against itself is exactly 0.
CREATE OR REPLACE VIEW indicators AS
WITH a AS (
    SELECT *,
           max(total_tco2e) FILTER (WHERE year = 2010) OVER baseline AS total_2010_tco2e,
           max(finite_ratio(total_tco2e, personnel)) FILTER (WHERE year = 2010) OVER baseline AS per_capita_2010_tco2e
    FROM indicator_sums
    WINDOW baseline AS (PARTITION BY is_system, entity_code)
)
SELECT a.entity_code,
       a.year,
       a.is_system,
       a.reporting_entities,
       a.personnel,
       a.total_tco2e,
       a.facilities_tco2e,
       a.air_travel_tco2e,
       a.other_travel_tco2e,
       CASE WHEN a.all_workbooks THEN a.optional_tco2e END AS optional_tco2e,
       CASE WHEN a.all_workbooks THEN a.scope1_tco2e END AS scope1_tco2e,
       CASE WHEN a.all_workbooks THEN a.scope2_tco2e END AS scope2_tco2e,
       CASE WHEN a.all_workbooks THEN a.scope2_market_tco2e END AS scope2_market_tco2e,
       CASE WHEN a.all_workbooks THEN a.scope3_tco2e END AS scope3_tco2e,
       finite_ratio(a.facilities_tco2e, a.total_tco2e) AS share_facilities,
       finite_ratio(a.air_travel_tco2e, a.total_tco2e) AS share_air_travel,
       finite_ratio(a.other_travel_tco2e, a.total_tco2e) AS share_other_travel,
       finite_ratio(a.total_tco2e, a.personnel) AS per_capita_tco2e,
       a.offsets_tco2e,
       finite_ratio(a.capped_offsets_tco2e, a.total_tco2e) AS offset_share,
       a.climate_neutral_entities,
       finite_ratio(finite_ratio(a.total_tco2e, a.personnel), a.per_capita_2010_tco2e) - 1 AS per_capita_change_since_2010,
       finite_ratio(a.total_tco2e, a.total_2010_tco2e) - 1 AS total_change_since_2010,
       finite_ratio(a.matched_total_tco2e, a.matched_2010_total_tco2e) - 1 AS like_for_like_change_since_2010,
       a.electricity_kwh,
       finite_ratio(a.renewable_kwh, a.electricity_kwh) AS renewable_electricity_share,
       finite_ratio(a.renewable_reported_kwh, a.electricity_kwh) AS renewable_share_reported,
       finite_ratio(a.renewable_default_kwh, a.electricity_kwh) AS renewable_share_grid_default,
       finite_ratio(a.floor_facilities_tco2e * 1000, a.floor_area_m2) AS facility_intensity_kgco2e_per_m2,
       a.waste_tonnes,
       finite_ratio(a.waste_tonnes * 1000, a.waste_personnel) AS waste_per_capita_kg,
       finite_ratio(a.diverted_tonnes, a.detailed_waste_tonnes) AS waste_diversion_share,
       a.hazardous_waste_tonnes,
       a.water_m3,
       finite_ratio(a.water_m3, a.water_personnel) AS water_per_capita_m3,
       CASE WHEN a.ems_reported > 0 THEN a.ems_met END AS ems_met,
       CASE WHEN a.ems_reported > 0 THEN a.ems_approaching END AS ems_approaching,
       CASE WHEN a.ems_reported > 0 THEN a.ems_not_met END AS ems_not_met,
       a.reporting_coverage_percent
FROM a;

-- Per entity and year: entity_code, year and exactly the keys of the contract.
CREATE OR REPLACE VIEW entity_indicators AS
SELECT * EXCLUDE (is_system) FROM indicators WHERE NOT is_system;

-- System-wide, one row per year: year and exactly the keys of the contract.
CREATE OR REPLACE VIEW system_indicators AS
SELECT * EXCLUDE (entity_code, is_system) FROM indicators WHERE is_system;

-- How much of each year's emissions comes from figures the entities marked as estimated (each
-- activity row's data_quality), over the emissions of workbooks: published totals say nothing of
-- how they were measured. Per entity and year with a workbook (is_system false) and per year
-- (is_system true, entity_code NULL); optional (HCFC) emissions enter neither side.
CREATE OR REPLACE VIEW estimated_emissions AS
WITH quality AS (
    SELECT submission_id, 'Facilities' AS sheet, source_row, data_quality_code FROM facilities_activity
    UNION ALL SELECT submission_id, 'Refrigerants', source_row, data_quality_code FROM refrigerants_activity
    UNION ALL SELECT submission_id, 'Vehicles', source_row, data_quality_code FROM vehicles_activity
    UNION ALL SELECT submission_id, 'AirTravel', source_row, data_quality_code FROM air_travel_activity
    UNION ALL SELECT submission_id, 'OtherTravel', source_row, data_quality_code FROM other_travel_activity
), priced AS (
    SELECT e.submission_id, e.emissions_tco2e, q.data_quality_code = 'estimated' AS is_estimated
    FROM emissions e
    JOIN quality q USING (submission_id, sheet, source_row)
    WHERE NOT e.is_optional
), each AS (  -- every loaded workbook, one without an emission (waste and water only) at 0 t
    SELECT l.entity_code, l.year,
           coalesce(sum(p.emissions_tco2e), 0) AS workbook_tco2e,
           coalesce(sum(p.emissions_tco2e) FILTER (WHERE p.is_estimated), 0) AS estimated_tco2e
    FROM loaded_submissions l
    LEFT JOIN priced p USING (submission_id)
    GROUP BY ALL
)
SELECT entity_code,
       year,
       grouping(entity_code) = 1 AS is_system,
       count(DISTINCT entity_code) AS workbook_entities,
       sum(workbook_tco2e) AS workbook_tco2e,
       sum(estimated_tco2e) AS estimated_tco2e,
       finite_ratio(sum(estimated_tco2e), sum(workbook_tco2e)) AS estimated_share
FROM each
GROUP BY GROUPING SETS ((entity_code, year), (year));

-- The emission factor set(s) each entity's emissions of a year were calculated with: the
-- factor_set of the emissions rows of its loaded workbook (joined by ', ' where its rows disagree),
-- beside the set(s) of its latest earlier year with a workbook. A year from published totals names
-- no set and has no row. factor_set_changed marks the first year on other sets than before: a
-- trend or a change across it compares two methods (docs/emission-factors.md), not only the data.
-- A loaded workbook without any emissions row (every emissions sheet empty: 0 tCO2e reported)
-- takes the set(s) of its year's other workbooks: its nothing was calculated with the year's
-- method like any other entity's figures, and a fall to 0 t across a change of set compares two
-- methods' years too.
CREATE OR REPLACE VIEW entity_factor_sets AS
WITH priced AS (
    SELECT l.entity_code, l.year, string_agg(DISTINCT e.factor_set, ', ' ORDER BY e.factor_set) AS factor_sets
    FROM loaded_submissions l
    JOIN emissions e USING (submission_id)
    GROUP BY l.entity_code, l.year
), of_year AS (
    SELECT l.year, string_agg(DISTINCT e.factor_set, ', ' ORDER BY e.factor_set) AS factor_sets
    FROM loaded_submissions l
    JOIN emissions e USING (submission_id)
    GROUP BY l.year
), used AS (
    SELECT * FROM priced
    UNION ALL
    SELECT l.entity_code, l.year, y.factor_sets
    FROM loaded_submissions l
    JOIN of_year y USING (year)
    WHERE NOT EXISTS (SELECT 1 FROM priced p WHERE p.entity_code = l.entity_code AND p.year = l.year)
)
SELECT entity_code, year, factor_sets,
       lag(year) OVER earlier AS previous_factor_sets_year,
       lag(factor_sets) OVER earlier AS previous_factor_sets,
       coalesce(factor_sets <> lag(factor_sets) OVER earlier, false) AS factor_set_changed
FROM used
WINDOW earlier AS (PARTITION BY entity_code ORDER BY year);

-- Each entity's key figures beside its previous year's (the year before; NULL after a gap), and
-- whether the two years' emissions were calculated with different factor sets (then the change is
-- partly the method's; NULL without a previous year).
CREATE OR REPLACE VIEW entity_change AS
SELECT i.entity_code, i.year,
       p.year AS previous_year,
       p.total_tco2e AS previous_total_tco2e,
       finite_ratio(i.total_tco2e, p.total_tco2e) - 1 AS total_change_previous_year,
       p.per_capita_tco2e AS previous_per_capita_tco2e,
       finite_ratio(i.per_capita_tco2e, p.per_capita_tco2e) - 1 AS per_capita_change_previous_year,
       CASE WHEN p.year IS NOT NULL
            THEN coalesce(f.factor_set_changed AND f.previous_factor_sets_year = p.year, false)
       END AS change_across_factor_sets
FROM entity_indicators i
LEFT JOIN entity_indicators p ON p.entity_code = i.entity_code AND p.year = i.year - 1
LEFT JOIN entity_factor_sets f ON f.entity_code = i.entity_code AND f.year = i.year;

-- Every year from the first to the last with figures, those without any figure included: a gap in
-- the data is a year that has no data (every expected entity missing), not a year that is not there.
CREATE OR REPLACE MACRO data_years() AS TABLE
    SELECT CAST(unnest(range(min(year), max(year) + 1)) AS INTEGER) AS year FROM entity_year;

-- The emission factor set(s) each year's emissions were calculated with, system-wide, every year
-- from the first to the last with figures (data_years()): the factor_set of the emissions rows of
-- the year's loaded workbooks (joined by ', ' where they differ); NULL for a year whose figures all
-- come from published totals (they name no set) or that has no figure. Beside it, the set(s) of
-- the latest earlier year with a set; factor_set_changed marks the first year on other sets, where
-- a trend or a change between years compares two methods (docs/emission-factors.md).
CREATE OR REPLACE VIEW year_factor_sets AS
WITH used AS (
    SELECT l.year, string_agg(DISTINCT e.factor_set, ', ' ORDER BY e.factor_set) AS factor_sets
    FROM loaded_submissions l
    JOIN emissions e USING (submission_id)
    GROUP BY l.year
), ordered AS (
    SELECT year, factor_sets,
           lag(year) OVER earlier AS previous_factor_sets_year,
           lag(factor_sets) OVER earlier AS previous_factor_sets
    FROM used
    WINDOW earlier AS (ORDER BY year)
)
SELECT y.year, o.factor_sets, o.previous_factor_sets_year, o.previous_factor_sets,
       coalesce(o.factor_sets <> o.previous_factor_sets, false) AS factor_set_changed
FROM data_years() y
LEFT JOIN ordered o USING (year);

-- Reporting completeness, one row per entity and year from the first to the last year with data
-- (data_years(): a year between them without any figure has every expected entity missing): every
-- entity expected that year (entities.expected_from / expected_until, from
-- schemas/codelists/entities.csv) and every entity with figures, whether it reported (a workbook or
-- published totals) and, for a missing entity, the personnel of its latest earlier year (what the
-- year's figures leave out, as far as known) and the workbooks of the year received but rejected
-- (waiting for corrections).
CREATE OR REPLACE VIEW reporting_completeness AS
WITH expected AS (
    SELECT y.year, e.entity_code
    FROM data_years() y
    JOIN entities e ON coalesce(e.expected_from, 0) <= y.year AND coalesce(e.expected_until, 9999) >= y.year
), joined AS (
    SELECT coalesce(x.year, d.year) AS year, coalesce(x.entity_code, d.entity_code) AS entity_code,
           x.entity_code IS NOT NULL AS is_expected, d.data_source, d.personnel
    FROM expected x
    FULL JOIN entity_year d ON d.year = x.year AND d.entity_code = x.entity_code
), latest AS (
    SELECT j.year, j.entity_code, max(p.year) AS last_reported_year
    FROM joined j JOIN entity_year p ON p.entity_code = j.entity_code AND p.year < j.year
    WHERE j.data_source IS NULL
    GROUP BY ALL
)
SELECT j.year, j.entity_code, e.entity_name, e.entity_type, j.is_expected,
       coalesce(j.data_source, 'missing') AS data_source,
       j.personnel,
       l.last_reported_year,
       p.personnel AS last_reported_personnel,
       (SELECT count(*) FROM submissions s
        WHERE s.entity_code = j.entity_code AND s.reporting_year = j.year AND s.status = 'rejected'
          AND s.superseded_by IS NULL AND s.withdrawn_at IS NULL) AS rejected_workbooks
FROM joined j
LEFT JOIN entities e USING (entity_code)
LEFT JOIN latest l USING (year, entity_code)
LEFT JOIN entity_year p ON p.entity_code = j.entity_code AND p.year = l.last_reported_year;

-- Completeness of each year from the first to the last with data (data_years(): a year without any
-- figure has a row, with 0 entities reporting, even when no entity was expected): entities expected
-- and reporting, and the personnel they cover.
-- personnel_coverage_share: reporting personnel over reporting + the missing entities' latest
-- known personnel (an entity that never reported adds nothing it could be measured by).
CREATE OR REPLACE VIEW completeness_by_year AS
SELECT year,
       count(*) FILTER (WHERE is_expected) AS entities_expected,
       count(*) FILTER (WHERE is_expected AND data_source <> 'missing') AS entities_reporting_expected,
       count(*) FILTER (WHERE data_source <> 'missing') AS entities_reporting,
       count(*) FILTER (WHERE data_source = 'missing') AS entities_missing,
       count(*) FILTER (WHERE data_source = 'history') AS entities_from_history,
       count(*) FILTER (WHERE data_source = 'missing' AND last_reported_year IS NULL) AS entities_never_reported,
       sum(personnel)::BIGINT AS personnel_reporting,
       sum(last_reported_personnel)::BIGINT AS personnel_missing_estimate,
       count(*) FILTER (WHERE is_expected AND data_source <> 'missing')
           / nullif(count(*) FILTER (WHERE is_expected), 0) AS entity_completeness_share,
       sum(personnel) / nullif(sum(personnel) + coalesce(sum(last_reported_personnel), 0), 0)
           AS personnel_coverage_share
FROM data_years()
LEFT JOIN reporting_completeness USING (year)
GROUP BY year;
