-- Review between collection and publication: plausibility flags and their review, the years in
-- which each entity is expected to report, and what each run printed.
ALTER TABLE entities ADD COLUMN expected_from INTEGER;
ALTER TABLE entities ADD COLUMN expected_until INTEGER;
ALTER TABLE runs ADD COLUMN summary VARCHAR;
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
    status VARCHAR NOT NULL CHECK (status IN ('open', 'accepted')),
    reviewed_by VARCHAR,
    reviewed_at TIMESTAMP,
    review_reason VARCHAR
);
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
-- the focal point's comment, one optional column per sheet: it explains a flag on its row
ALTER TABLE entity_reports ADD COLUMN comment VARCHAR;
ALTER TABLE facilities_activity ADD COLUMN comment VARCHAR;
ALTER TABLE refrigerants_activity ADD COLUMN comment VARCHAR;
ALTER TABLE vehicles_activity ADD COLUMN comment VARCHAR;
ALTER TABLE air_travel_activity ADD COLUMN comment VARCHAR;
ALTER TABLE other_travel_activity ADD COLUMN comment VARCHAR;
ALTER TABLE offsets ADD COLUMN comment VARCHAR;
ALTER TABLE waste_activity ADD COLUMN comment VARCHAR;
ALTER TABLE water_activity ADD COLUMN comment VARCHAR;
