-- Seats taken (accepted, completed, not completed) and waitlist length kept
-- on the cohort row, by a trigger on enrollments: a cohort, or a page of
-- them, is read with its counts in one row each, and a move that takes or
-- frees a seat finds the count on the row it already holds locked. A
-- nomination changes neither, so it never writes the cohort row and can
-- share its lock with other nominations. (An enrollment never changes
-- cohort.)
ALTER TABLE cohorts
    ADD COLUMN seats_taken integer NOT NULL DEFAULT 0,
    ADD COLUMN waitlist_length integer NOT NULL DEFAULT 0;

-- Keeping the counts is not a change of the cohort's record: its version
-- and updated_at move only when something else changes.
DROP TRIGGER cohorts_touch ON cohorts;
CREATE TRIGGER cohorts_touch BEFORE UPDATE ON cohorts FOR EACH ROW
    WHEN ((OLD.seats_taken, OLD.waitlist_length) IS NOT DISTINCT FROM (NEW.seats_taken, NEW.waitlist_length))
    EXECUTE FUNCTION meridian_touch();

CREATE FUNCTION meridian_cohort_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    seats integer := 0;
    waiting integer := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        seats := seats + (NEW.status IN ('accepted', 'completed', 'not_completed'))::int;
        waiting := waiting + (NEW.status = 'waitlisted')::int;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        seats := seats - (OLD.status IN ('accepted', 'completed', 'not_completed'))::int;
        waiting := waiting - (OLD.status = 'waitlisted')::int;
    END IF;
    IF seats <> 0 OR waiting <> 0 THEN
        UPDATE cohorts
        SET seats_taken = seats_taken + seats, waitlist_length = waitlist_length + waiting
        WHERE id = COALESCE(NEW.cohort_id, OLD.cohort_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER enrollments_cohort_counts AFTER INSERT OR DELETE OR UPDATE OF status ON enrollments
    FOR EACH ROW EXECUTE FUNCTION meridian_cohort_counts();

-- Counts every cohort's seats and waitlist from its enrollments (here, and
-- after a bulk load that ran without triggers).
CREATE FUNCTION meridian_count_cohort_seats() RETURNS void LANGUAGE sql AS $$
    UPDATE cohorts c
    SET seats_taken = coalesce(s.seats, 0), waitlist_length = coalesce(s.waiting, 0)
    FROM cohorts c2
    LEFT JOIN (
        SELECT cohort_id,
               count(*) FILTER (WHERE status IN ('accepted', 'completed', 'not_completed')) AS seats,
               count(*) FILTER (WHERE status = 'waitlisted') AS waiting
        FROM enrollments GROUP BY cohort_id
    ) s ON s.cohort_id = c2.id
    WHERE c.id = c2.id
      AND (c.seats_taken, c.waitlist_length) IS DISTINCT FROM (coalesce(s.seats, 0)::int, coalesce(s.waiting, 0)::int);
$$;
SELECT meridian_count_cohort_seats();
