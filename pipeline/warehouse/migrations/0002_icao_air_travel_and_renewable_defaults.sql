-- Air travel by the ICAO calculator's method and the renewable share by the published rule:
-- the calculator's own figure per passenger when the workbook gives it, the pipeline's estimate
-- kept beside the figure used, and the renewable electricity of each electricity row with its origin.
ALTER TABLE air_travel_activity ADD COLUMN icec_kgco2_per_passenger DOUBLE;
ALTER TABLE emissions ADD COLUMN estimated_tco2e DOUBLE;
ALTER TABLE emissions ADD COLUMN renewable_kwh DOUBLE;
ALTER TABLE emissions ADD COLUMN renewable_source VARCHAR;
COMMENT ON COLUMN emissions.estimated_tco2e IS 'The pipeline''s own estimate where a figure submitted in the row (the ICAO calculator''s CO2 per passenger) was used instead; NULL otherwise.';
COMMENT ON COLUMN emissions.renewable_kwh IS 'Electricity rows: renewable electricity, kWh (reported by the entity, or the country''s grid renewable share by default); NULL for other rows.';
COMMENT ON COLUMN emissions.renewable_source IS 'Electricity rows: reported (the entity''s renewable_kwh) or grid_default (the country''s grid share, when the entity gave none).';
