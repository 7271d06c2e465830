DROP FUNCTION meridian_count_cohort_seats();
DROP TRIGGER enrollments_cohort_counts ON enrollments;
DROP FUNCTION meridian_cohort_counts();
DROP TRIGGER cohorts_touch ON cohorts;
CREATE TRIGGER cohorts_touch BEFORE UPDATE ON cohorts FOR EACH ROW EXECUTE FUNCTION meridian_touch();
ALTER TABLE cohorts DROP COLUMN seats_taken, DROP COLUMN waitlist_length;
