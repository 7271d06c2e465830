ALTER TABLE cohorts DROP COLUMN time_zone;
