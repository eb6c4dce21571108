-- A rejected file taken out of the inputs no longer stands for its entity-year: it stood (on the
-- tracker, in the report's completeness, as a report to send back) until a valid workbook for that
-- entity-year loaded, so one the analyst removed ("v1 stands, ignore v2") stood for ever. A run
-- sets `withdrawn_at` on each standing rejected file whose bytes are no longer in its inputs, and
-- clears it when they are back.
ALTER TABLE submissions ADD COLUMN withdrawn_at TIMESTAMP;
COMMENT ON COLUMN submissions.withdrawn_at IS 'A rejected file: when a run found it no longer in the inputs (UTC); NULL while it is there. A withdrawn rejection no longer stands for its entity and year.';
