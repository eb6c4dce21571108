-- A flag can be withdrawn: a run that reloads the year a later year's flags were compared with
-- compares that later year again, and withdraws the flags the comparison no longer raises.
-- DuckDB cannot change a CHECK constraint in place: the table is made again with its rows.
CREATE TABLE flags_v4 (
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
    review_reason VARCHAR
);
INSERT INTO flags_v4 SELECT * FROM flags;
DROP TABLE flags;
ALTER TABLE flags_v4 RENAME TO flags;
