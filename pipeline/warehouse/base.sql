-- The warehouse tables that are not a sheet of the submission contract: the schema version, the
-- entity list, runs, the submission history and its findings, history totals, emission factors,
-- factor pins, emissions and the recalculation log. The tables of the contract's sheets are
-- generated from schemas/ (pipeline/warehouse/schema.py). Every table and column carries a
-- COMMENT so that `duckdb_columns()` is the data dictionary of the database.

CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMP NOT NULL,
    description VARCHAR NOT NULL
);
COMMENT ON TABLE schema_version IS 'Migrations applied to this database, one row per schema version.';
COMMENT ON COLUMN schema_version.version IS 'Schema version number.';
COMMENT ON COLUMN schema_version.applied_at IS 'When the migration ran (UTC).';
COMMENT ON COLUMN schema_version.description IS 'What the migration did.';

CREATE TABLE IF NOT EXISTS entities (
    entity_code VARCHAR PRIMARY KEY,
    entity_name VARCHAR NOT NULL,
    entity_type VARCHAR NOT NULL,
    expected_from INTEGER,
    expected_until INTEGER
);
COMMENT ON TABLE entities IS 'Reference list of reporting UN entities (schemas/codelists/entities.csv).';
COMMENT ON COLUMN entities.entity_code IS 'Short entity code used in workbooks and history files.';
COMMENT ON COLUMN entities.entity_name IS 'Full name of the entity.';
COMMENT ON COLUMN entities.entity_type IS 'Group of the UN System Chart (fund_programme, specialized_agency, ...).';
COMMENT ON COLUMN entities.expected_from IS 'First reporting year in which the entity is expected to report.';
COMMENT ON COLUMN entities.expected_until IS 'Last reporting year in which it is expected (NULL: still expected).';

CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    pipeline_version VARCHAR NOT NULL,
    files_seen INTEGER,
    files_loaded INTEGER,
    files_unchanged INTEGER,
    files_rejected INTEGER,
    submissions_superseded INTEGER,
    summary VARCHAR
);
COMMENT ON TABLE runs IS 'One row per gtb run that committed; what it saw and did.';
COMMENT ON COLUMN runs.run_id IS 'Sequential run number.';
COMMENT ON COLUMN runs.started_at IS 'When the run started (UTC).';
COMMENT ON COLUMN runs.finished_at IS 'When the run committed (UTC).';
COMMENT ON COLUMN runs.pipeline_version IS 'Version of the pipeline that ran.';
COMMENT ON COLUMN runs.files_seen IS 'Workbooks found under the submissions folder.';
COMMENT ON COLUMN runs.files_loaded IS 'Workbooks validated and loaded by this run.';
COMMENT ON COLUMN runs.files_unchanged IS 'Workbooks skipped because a file with the same sha256 was already recorded.';
COMMENT ON COLUMN runs.files_rejected IS 'Workbooks with errors, recorded as rejected, nothing loaded.';
COMMENT ON COLUMN runs.submissions_superseded IS 'Earlier submissions replaced by a resubmission in this run.';
COMMENT ON COLUMN runs.summary IS 'What the run printed: files loaded, superseded and rejected, with the first finding of each new rejection.';

CREATE TABLE IF NOT EXISTS submissions (
    submission_id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    file_path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    file_modified_at TIMESTAMP,
    entity_code VARCHAR,
    reporting_year INTEGER,
    template_version VARCHAR,
    pipeline_version VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('loaded', 'rejected', 'superseded')),
    error_count INTEGER NOT NULL,
    warning_count INTEGER NOT NULL,
    superseded_by INTEGER,
    superseded_at TIMESTAMP,
    report_path VARCHAR,
    withdrawn_at TIMESTAMP
);
COMMENT ON TABLE submissions IS 'Every workbook the pipeline has seen, valid or not: the submission history. Exactly one loaded submission per entity and year.';
COMMENT ON COLUMN submissions.submission_id IS 'Sequential id; activity and emission rows refer to it.';
COMMENT ON COLUMN submissions.run_id IS 'The run that recorded this file.';
COMMENT ON COLUMN submissions.file_name IS 'File name as received.';
COMMENT ON COLUMN submissions.file_path IS 'Path of the file when it was recorded, relative to the inputs folder where possible.';
COMMENT ON COLUMN submissions.sha256 IS 'SHA-256 of the file bytes; an identical file is never read twice.';
COMMENT ON COLUMN submissions.size_bytes IS 'File size in bytes.';
COMMENT ON COLUMN submissions.received_at IS 'When the pipeline first recorded the file (UTC).';
COMMENT ON COLUMN submissions.file_modified_at IS 'File modification time when recorded (UTC).';
COMMENT ON COLUMN submissions.entity_code IS 'Entity of the Entity sheet (NULL when it could not be read).';
COMMENT ON COLUMN submissions.reporting_year IS 'Reporting year of the Entity sheet (NULL when it could not be read).';
COMMENT ON COLUMN submissions.template_version IS 'Template version the focal point used.';
COMMENT ON COLUMN submissions.pipeline_version IS 'Pipeline version that validated the file.';
COMMENT ON COLUMN submissions.status IS 'loaded (the current data for its entity and year), rejected (had errors, nothing loaded) or superseded (replaced by a later valid submission).';
COMMENT ON COLUMN submissions.error_count IS 'Number of error findings.';
COMMENT ON COLUMN submissions.warning_count IS 'Number of warning findings.';
COMMENT ON COLUMN submissions.superseded_by IS 'submission_id of the resubmission that replaced this one.';
COMMENT ON COLUMN submissions.superseded_at IS 'When it was replaced (UTC).';
COMMENT ON COLUMN submissions.report_path IS 'Folder of the validation report (issues.csv, annotated.xlsx).';
COMMENT ON COLUMN submissions.withdrawn_at IS 'A rejected file: when a run found it no longer in the inputs (UTC); NULL while it is there. A withdrawn rejection no longer stands for its entity and year.';

CREATE TABLE IF NOT EXISTS findings (
    submission_id INTEGER NOT NULL,
    sheet VARCHAR,
    cell VARCHAR,
    excel_row INTEGER,
    column_header VARCHAR,
    value VARCHAR,
    code VARCHAR NOT NULL,
    severity VARCHAR NOT NULL CHECK (severity IN ('error', 'warning')),
    message VARCHAR NOT NULL
);
COMMENT ON TABLE findings IS 'Validation findings of every recorded submission (the rows of its issues.csv).';
COMMENT ON COLUMN findings.submission_id IS 'The submission the finding belongs to.';
COMMENT ON COLUMN findings.sheet IS 'Sheet name.';
COMMENT ON COLUMN findings.cell IS 'Excel cell reference, e.g. D14.';
COMMENT ON COLUMN findings.excel_row IS 'Excel row number.';
COMMENT ON COLUMN findings.column_header IS 'Column header (or field name) as written in the file.';
COMMENT ON COLUMN findings.value IS 'The value found, as text.';
COMMENT ON COLUMN findings.code IS 'Stable kebab-case finding code (docs/validation-codes.md).';
COMMENT ON COLUMN findings.severity IS 'error or warning.';
COMMENT ON COLUMN findings.message IS 'What is wrong and how to fix it.';

CREATE TABLE IF NOT EXISTS history_totals (
    entity_code VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    personnel INTEGER NOT NULL,
    facilities_tco2e DOUBLE NOT NULL,
    air_travel_tco2e DOUBLE NOT NULL,
    other_travel_tco2e DOUBLE NOT NULL,
    offsets_tco2e DOUBLE NOT NULL,
    waste_tonnes DOUBLE,
    water_m3 DOUBLE,
    source_file VARCHAR NOT NULL,
    source_line INTEGER NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    PRIMARY KEY (entity_code, year)
);
COMMENT ON TABLE history_totals IS 'Published totals for years before detailed workbooks (inputs/history/*.csv). A loaded workbook for the same entity and year takes precedence.';
COMMENT ON COLUMN history_totals.entity_code IS 'Reporting entity.';
COMMENT ON COLUMN history_totals.year IS 'Data year.';
COMMENT ON COLUMN history_totals.personnel IS 'Personnel (persons).';
COMMENT ON COLUMN history_totals.facilities_tco2e IS 'Facilities emissions, tCO2e.';
COMMENT ON COLUMN history_totals.air_travel_tco2e IS 'Air travel emissions, tCO2e.';
COMMENT ON COLUMN history_totals.other_travel_tco2e IS 'Other travel emissions, tCO2e.';
COMMENT ON COLUMN history_totals.offsets_tco2e IS 'Offsets retired for the year, tCO2e.';
COMMENT ON COLUMN history_totals.waste_tonnes IS 'Waste, tonnes (NULL when not reported).';
COMMENT ON COLUMN history_totals.water_m3 IS 'Water, m3 (NULL when not reported).';
COMMENT ON COLUMN history_totals.source_file IS 'History CSV file name.';
COMMENT ON COLUMN history_totals.source_line IS 'Line of the CSV file (header is line 1).';
COMMENT ON COLUMN history_totals.source_sha256 IS 'SHA-256 of the CSV file when loaded.';

CREATE TABLE IF NOT EXISTS emission_factors (
    factor_set VARCHAR NOT NULL,
    factor_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    activity VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    region VARCHAR NOT NULL,
    kgco2e_per_unit DOUBLE NOT NULL,
    gwp_basis VARCHAR,
    source_title VARCHAR NOT NULL,
    source_url VARCHAR NOT NULL,
    publication_year INTEGER,
    licence VARCHAR,
    notes VARCHAR,
    PRIMARY KEY (factor_set, factor_id, region)
);
COMMENT ON TABLE emission_factors IS 'Emission factor sets as loaded from inputs/reference/factors/, one row per factor and region.';
COMMENT ON COLUMN emission_factors.factor_set IS 'Name of the versioned factor set.';
COMMENT ON COLUMN emission_factors.factor_id IS 'Stable factor identifier.';
COMMENT ON COLUMN emission_factors.category IS 'stationary_fuel, grid_electricity, district_heating, district_cooling, vehicle_fuel, refrigerant_gwp, air_travel, other_travel.';
COMMENT ON COLUMN emission_factors.activity IS 'Contract code the factor applies to (energy type, fuel, gas, cabin class and band, mode).';
COMMENT ON COLUMN emission_factors.unit IS 'Canonical unit the factor is per.';
COMMENT ON COLUMN emission_factors.region IS 'ISO3 country or WORLD.';
COMMENT ON COLUMN emission_factors.kgco2e_per_unit IS 'kgCO2e per unit.';
COMMENT ON COLUMN emission_factors.gwp_basis IS 'Global warming potentials used (e.g. IPCC AR5 100-year).';
COMMENT ON COLUMN emission_factors.source_title IS 'Publication the factor comes from.';
COMMENT ON COLUMN emission_factors.source_url IS 'Where the publication can be found.';
COMMENT ON COLUMN emission_factors.publication_year IS 'Year of the publication.';
COMMENT ON COLUMN emission_factors.licence IS 'Licence of the source data.';
COMMENT ON COLUMN emission_factors.notes IS 'Derivation notes.';

CREATE TABLE IF NOT EXISTS factor_pins (
    reporting_year INTEGER PRIMARY KEY,
    factor_set VARCHAR NOT NULL
);
COMMENT ON TABLE factor_pins IS 'Factor set used for each reporting year (inputs/reference/factor_pins.csv).';
COMMENT ON COLUMN factor_pins.reporting_year IS 'Reporting year.';
COMMENT ON COLUMN factor_pins.factor_set IS 'Factor set pinned for the year.';

CREATE TABLE IF NOT EXISTS emissions (
    submission_id INTEGER NOT NULL,
    sheet VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    scope INTEGER NOT NULL,
    scope_detail VARCHAR NOT NULL,
    gtb_category VARCHAR NOT NULL CHECK (gtb_category IN ('facilities', 'air_travel', 'other_travel')),
    is_optional BOOLEAN NOT NULL,
    activity_quantity DOUBLE NOT NULL,
    activity_unit VARCHAR NOT NULL,
    factor_set VARCHAR NOT NULL,
    factor_id VARCHAR NOT NULL,
    factor_region VARCHAR NOT NULL,
    kgco2e_per_unit DOUBLE NOT NULL,
    emissions_tco2e DOUBLE NOT NULL,
    market_emissions_tco2e DOUBLE NOT NULL,
    calculated_at TIMESTAMP NOT NULL,
    estimated_tco2e DOUBLE,
    renewable_kwh DOUBLE,
    renewable_source VARCHAR,
    PRIMARY KEY (submission_id, sheet, source_row)
);
COMMENT ON TABLE emissions IS 'Calculated emissions, one row per activity row: the row of a submitted sheet, the factor used, and tCO2e.';
COMMENT ON COLUMN emissions.submission_id IS 'The submission.';
COMMENT ON COLUMN emissions.sheet IS 'Sheet of the activity row.';
COMMENT ON COLUMN emissions.source_row IS 'Excel row of the activity row.';
COMMENT ON COLUMN emissions.scope IS 'GHG Protocol scope (1, 2 or 3).';
COMMENT ON COLUMN emissions.scope_detail IS 'stationary_combustion, mobile_combustion, fugitive, purchased_electricity, purchased_heat_cooling, business_travel.';
COMMENT ON COLUMN emissions.gtb_category IS 'Greening the Blue source: facilities, air_travel or other_travel.';
COMMENT ON COLUMN emissions.is_optional IS 'Optional emissions (HCFC refrigerants): reported beside the total, never in it.';
COMMENT ON COLUMN emissions.activity_quantity IS 'Activity in the factor''s unit.';
COMMENT ON COLUMN emissions.activity_unit IS 'Unit of activity_quantity.';
COMMENT ON COLUMN emissions.factor_set IS 'Factor set used.';
COMMENT ON COLUMN emissions.factor_id IS 'Factor used (emission_factors.factor_id); air.icec.submitted: the ICAO calculator''s figure given in the workbook row (kgco2e_per_unit).';
COMMENT ON COLUMN emissions.factor_region IS 'Region of the factor used (country or WORLD fallback).';
COMMENT ON COLUMN emissions.kgco2e_per_unit IS 'Factor value used, kgCO2e per activity_unit.';
COMMENT ON COLUMN emissions.emissions_tco2e IS 'activity_quantity x kgco2e_per_unit / 1000, tCO2e (location-based for scope 2).';
COMMENT ON COLUMN emissions.market_emissions_tco2e IS 'Market-based tCO2e: renewable_kwh at zero for electricity; equal to emissions_tco2e otherwise.';
COMMENT ON COLUMN emissions.calculated_at IS 'When the row was calculated (UTC).';
COMMENT ON COLUMN emissions.estimated_tco2e IS 'The pipeline''s own estimate where a figure submitted in the row (the ICAO calculator''s CO2 per passenger) was used instead; NULL otherwise.';
COMMENT ON COLUMN emissions.renewable_kwh IS 'Electricity rows: renewable electricity, kWh: the entity''s own (its renewable_kwh) and, under a factor set with grid renewable shares, the rest of the row at the country''s share; NULL for other rows.';
COMMENT ON COLUMN emissions.renewable_source IS 'Electricity rows: reported (all of it the entity''s renewable_kwh), grid_default (no own figure, or 0: the country''s grid share of the row), reported_and_grid_default (both), none (no figure, no grid shares).';

CREATE TABLE IF NOT EXISTS recalculations (
    recalculated_at TIMESTAMP NOT NULL,
    reporting_year INTEGER NOT NULL,
    old_factor_set VARCHAR,
    new_factor_set VARCHAR NOT NULL,
    submissions INTEGER NOT NULL,
    old_total_tco2e DOUBLE,
    new_total_tco2e DOUBLE NOT NULL,
    reason VARCHAR NOT NULL
);
COMMENT ON TABLE recalculations IS 'Log of explicit recalculations of a past year with another factor set (gtb recalculate).';
COMMENT ON COLUMN recalculations.recalculated_at IS 'When (UTC).';
COMMENT ON COLUMN recalculations.reporting_year IS 'Year recalculated.';
COMMENT ON COLUMN recalculations.old_factor_set IS 'Factor set used before.';
COMMENT ON COLUMN recalculations.new_factor_set IS 'Factor set used now.';
COMMENT ON COLUMN recalculations.submissions IS 'Loaded submissions recalculated.';
COMMENT ON COLUMN recalculations.old_total_tco2e IS 'Year total (all emission rows) before, tCO2e.';
COMMENT ON COLUMN recalculations.new_total_tco2e IS 'Year total (all emission rows) after, tCO2e.';
COMMENT ON COLUMN recalculations.reason IS 'Why, as given by the analyst.';

CREATE TABLE IF NOT EXISTS flags (
    flag_id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL,
    code VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    sheet VARCHAR,
    cell VARCHAR,
    excel_row INTEGER,
    value VARCHAR,
    message VARCHAR NOT NULL,
    explanation VARCHAR,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'accepted', 'withdrawn')),
    reviewed_by VARCHAR,
    reviewed_at TIMESTAMP,
    review_reason VARCHAR,
    message_key VARCHAR
);
COMMENT ON TABLE flags IS 'Plausibility flags of loaded submissions (implausible-change, implausible-value), open until an analyst accepts them (gtb accept), or withdrawn by a run that reloaded the earlier year a change was measured against.';
COMMENT ON COLUMN flags.flag_id IS 'Sequential id.';
COMMENT ON COLUMN flags.submission_id IS 'The submission flagged.';
COMMENT ON COLUMN flags.code IS 'Finding code (implausible-change or implausible-value).';
COMMENT ON COLUMN flags.check_name IS 'The check of schemas/plausibility.csv that raised it.';
COMMENT ON COLUMN flags.sheet IS 'Sheet of the row that drives the flag.';
COMMENT ON COLUMN flags.cell IS 'Cell of the row that drives the flag.';
COMMENT ON COLUMN flags.excel_row IS 'Excel row that drives the flag.';
COMMENT ON COLUMN flags.value IS 'The value flagged, as text.';
COMMENT ON COLUMN flags.message IS 'Both values and the likely cause.';
COMMENT ON COLUMN flags.explanation IS 'The focal point''s comment on the driving row (the comment column of the sheet).';
COMMENT ON COLUMN flags.status IS 'open; accepted by an analyst; or withdrawn by a run: the earlier year it compared with was reloaded, and comparing again no longer raises it.';
COMMENT ON COLUMN flags.reviewed_by IS 'Who accepted it (gtb run for a withdrawn flag).';
COMMENT ON COLUMN flags.reviewed_at IS 'When (UTC).';
COMMENT ON COLUMN flags.review_reason IS 'Why, as given to gtb accept; for a withdrawn flag, the run and the workbook it compared with again.';
COMMENT ON COLUMN flags.message_key IS 'What the flag says apart from its wording (check, message id, parameters as values): how a run comparing the year again recognises it after a message is reworded. Empty for flags recorded before version 5.';

CREATE TABLE IF NOT EXISTS reviews (
    reviewed_at TIMESTAMP NOT NULL,
    reviewed_by VARCHAR NOT NULL,
    submission_id INTEGER NOT NULL,
    entity_code VARCHAR NOT NULL,
    reporting_year INTEGER NOT NULL,
    action VARCHAR NOT NULL,
    flags_closed INTEGER NOT NULL,
    reason VARCHAR NOT NULL
);
COMMENT ON TABLE reviews IS 'Log of every review act on a loaded submission (gtb accept; a run comparing a later year again): who, when, why.';
COMMENT ON COLUMN reviews.reviewed_at IS 'When (UTC).';
COMMENT ON COLUMN reviews.reviewed_by IS 'Who (the analyst''s user name).';
COMMENT ON COLUMN reviews.submission_id IS 'The submission reviewed.';
COMMENT ON COLUMN reviews.entity_code IS 'Its entity.';
COMMENT ON COLUMN reviews.reporting_year IS 'Its reporting year.';
COMMENT ON COLUMN reviews.action IS 'accept, or compare-again (a run loaded the earlier year the submission is compared with, and compared it again).';
COMMENT ON COLUMN reviews.flags_closed IS 'Flags the act closed (accepted, or withdrawn by compare-again).';
COMMENT ON COLUMN reviews.reason IS 'Why, as given.';
