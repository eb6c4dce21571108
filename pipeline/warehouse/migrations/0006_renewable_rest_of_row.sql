-- The renewable electricity of a row is the entity's own figure and, under a factor set with grid
-- renewable shares, the rest of the row (which came from the grid) at the country's share, where it
-- was the entity's figure alone as soon as the row had one. No column changes: the comments are
-- refreshed from the schema after the migration. Emissions already calculated keep the rule they
-- were calculated by until `gtb recalculate --year YEAR --factor-set SET` prices their year again
-- (with the set the year is on: a year on its own set is priced again, and kept if a figure changed).
SELECT 1;
