-- The IANA time zone a cohort meets in; dates and times of its emails are
-- written in it.
ALTER TABLE cohorts ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
