-- Dashboard counts kept as records change, so that /stats/* reads a few
-- hundred rows instead of a million enrollments.
--
-- Triggers append signed deltas to `tally_deltas`; no counter row is
-- updated on the write path, so writers never queue behind one another on a
-- hot row. `meridian_fold_tallies()` (run by every worker and server every
-- few seconds) moves the deltas into `tallies` in one transaction. Readers
-- sum both tables, so a figure is exact at any moment, folded or not.
--
-- A scope is a cohort, or the nil UUID for the whole portfolio.
-- Dimensions and their keys:
--   enrollments   all (key ''), nationality, gender, institution (the
--                 enrollment's): per cohort and portfolio. Status is the enrollment's.
--   certified     key '', status 'issued': enrollments holding a valid certificate.
--   attendance    key '', status present/absent/excused: per cohort.
--   cohorts       key '', status of the cohort: per cohort and portfolio.
--   trainees, institutions, programs   key '', status '': portfolio only.
--   exchanges, ventures   key '', status of the record: portfolio only;
--   venture_jobs, venture_funding_cents   their sums: portfolio only.
CREATE FUNCTION meridian_portfolio() RETURNS uuid LANGUAGE sql IMMUTABLE
    AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;

CREATE TABLE tallies (
    scope_id uuid   NOT NULL,
    dim      text   NOT NULL,
    key      text   NOT NULL,
    status   text   NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (scope_id, dim, key, status)
) WITH (fillfactor = 70);
-- Room on each page keeps a folded tally on its page (a HOT update), so a
-- scope's tallies, written together, stay together.

CREATE TABLE tally_deltas (
    scope_id uuid   NOT NULL,
    dim      text   NOT NULL,
    key      text   NOT NULL,
    status   text   NOT NULL,
    n        bigint NOT NULL
);
CREATE INDEX tally_deltas_scope_idx ON tally_deltas (scope_id, dim);
-- Rows come and go every few seconds: vacuum it often, whatever its size.
ALTER TABLE tally_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                              autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000);

-- The contribution of one enrollment, with `sign` +1 or -1. The trainee row
-- is share-locked so that a concurrent change of nationality or gender
-- either sees this enrollment or is seen by it.
CREATE FUNCTION meridian_enrollment_deltas(c uuid, t uuid, i uuid, s text, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tally_deltas (scope_id, dim, key, status, n)
    SELECT d.scope_id, d.dim, d.key, s, sign
    FROM (SELECT nationality, gender FROM trainees WHERE id = t FOR SHARE) tr,
         LATERAL (VALUES (c, 'all', ''), (c, 'nationality', tr.nationality), (c, 'gender', tr.gender),
                         (c, 'institution', i::text),
                         (meridian_portfolio(), 'all', ''), (meridian_portfolio(), 'nationality', tr.nationality),
                         (meridian_portfolio(), 'gender', tr.gender), (meridian_portfolio(), 'institution', i::text)
                 ) d (scope_id, dim, key)
$$;

CREATE FUNCTION meridian_tally_enrollment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM meridian_enrollment_deltas(OLD.cohort_id, OLD.trainee_id, OLD.institution_id, OLD.status, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM meridian_enrollment_deltas(NEW.cohort_id, NEW.trainee_id, NEW.institution_id, NEW.status, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER enrollments_tally AFTER INSERT OR DELETE ON enrollments
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_enrollment();
CREATE TRIGGER enrollments_tally_update AFTER UPDATE ON enrollments
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id
          OR OLD.trainee_id IS DISTINCT FROM NEW.trainee_id OR OLD.institution_id IS DISTINCT FROM NEW.institution_id)
    EXECUTE FUNCTION meridian_tally_enrollment();

-- A trainee's new nationality or gender moves the counts of all their enrollments.
CREATE FUNCTION meridian_tally_trainee_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_deltas (scope_id, dim, key, status, n)
    SELECT sc.scope_id, d.dim, d.key, e.status, d.sign
    FROM enrollments e,
         LATERAL (VALUES (e.cohort_id), (meridian_portfolio())) sc (scope_id),
         LATERAL (VALUES ('nationality', OLD.nationality, -1), ('nationality', NEW.nationality, 1),
                         ('gender', OLD.gender, -1), ('gender', NEW.gender, 1)) d (dim, key, sign)
    WHERE e.trainee_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER trainees_tally_change AFTER UPDATE ON trainees
    FOR EACH ROW
    WHEN (OLD.nationality IS DISTINCT FROM NEW.nationality OR OLD.gender IS DISTINCT FROM NEW.gender)
    EXECUTE FUNCTION meridian_tally_trainee_change();

-- Rows counted per statement (the dimension is the trigger's argument): an
-- import of ten thousand trainees adds one delta.
CREATE FUNCTION meridian_tally_rows_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_deltas SELECT meridian_portfolio(), TG_ARGV[0], '', '', count(*) FROM added HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION meridian_tally_rows_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_deltas SELECT meridian_portfolio(), TG_ARGV[0], '', '', -count(*) FROM removed HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER trainees_tally_insert AFTER INSERT ON trainees REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_added('trainees');
CREATE TRIGGER trainees_tally_delete AFTER DELETE ON trainees REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_removed('trainees');
CREATE TRIGGER institutions_tally_insert AFTER INSERT ON institutions REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_added('institutions');
CREATE TRIGGER institutions_tally_delete AFTER DELETE ON institutions REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_removed('institutions');
CREATE TRIGGER programs_tally_insert AFTER INSERT ON programs REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_added('programs');
CREATE TRIGGER programs_tally_delete AFTER DELETE ON programs REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_tally_rows_removed('programs');

-- Records counted by status (the dimension is the trigger's argument), for
-- the portfolio; a cohort is also counted in its own scope, so that the
-- cohorts a filter keeps can be summed.
CREATE FUNCTION meridian_tally_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO tally_deltas (scope_id, dim, key, status, n)
        SELECT sc, TG_ARGV[0], '', OLD.status, -1
        FROM (VALUES (meridian_portfolio()), (CASE WHEN TG_TABLE_NAME = 'cohorts' THEN OLD.id END)) v (sc)
        WHERE sc IS NOT NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO tally_deltas (scope_id, dim, key, status, n)
        SELECT sc, TG_ARGV[0], '', NEW.status, 1
        FROM (VALUES (meridian_portfolio()), (CASE WHEN TG_TABLE_NAME = 'cohorts' THEN NEW.id END)) v (sc)
        WHERE sc IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cohorts_tally AFTER INSERT OR DELETE ON cohorts
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_status('cohorts');
CREATE TRIGGER cohorts_tally_update AFTER UPDATE ON cohorts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION meridian_tally_status('cohorts');
CREATE TRIGGER exchanges_tally AFTER INSERT OR DELETE ON exchanges
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_status('exchanges');
CREATE TRIGGER exchanges_tally_update AFTER UPDATE ON exchanges
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION meridian_tally_status('exchanges');

-- Ventures: by status, with the jobs they created and the funding they
-- raised (in cents, so that the sum stays exact).
CREATE FUNCTION meridian_venture_deltas(s text, jobs integer, funding numeric, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tally_deltas (scope_id, dim, key, status, n)
    VALUES (meridian_portfolio(), 'ventures', '', s, sign),
           (meridian_portfolio(), 'venture_jobs', '', '', sign * jobs),
           (meridian_portfolio(), 'venture_funding_cents', '', '', sign * (funding * 100)::bigint)
$$;
CREATE FUNCTION meridian_tally_venture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM meridian_venture_deltas(OLD.status, OLD.jobs_created, OLD.funding_raised_usd, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM meridian_venture_deltas(NEW.status, NEW.jobs_created, NEW.funding_raised_usd, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ventures_tally AFTER INSERT OR DELETE ON ventures
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_venture();
CREATE TRIGGER ventures_tally_update AFTER UPDATE ON ventures
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.jobs_created IS DISTINCT FROM NEW.jobs_created
          OR OLD.funding_raised_usd IS DISTINCT FROM NEW.funding_raised_usd)
    EXECUTE FUNCTION meridian_tally_venture();

-- A certificate counts while it is not revoked.
CREATE FUNCTION meridian_tally_certificate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta integer := 0;
    enrollment uuid := CASE TG_OP WHEN 'DELETE' THEN OLD.enrollment_id ELSE NEW.enrollment_id END;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.revoked_at IS NULL THEN delta := delta - 1; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.revoked_at IS NULL THEN delta := delta + 1; END IF;
    IF delta <> 0 THEN
        INSERT INTO tally_deltas (scope_id, dim, key, status, n)
        SELECT sc, 'certified', '', 'issued', delta
        FROM enrollments e, LATERAL (VALUES (e.cohort_id), (meridian_portfolio())) v (sc)
        WHERE e.id = enrollment;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER certificates_tally AFTER INSERT OR UPDATE OF revoked_at OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_certificate();

-- Attendance counts per cohort. The cohort comes from the enrollment, which
-- outlives a session deleted with its attendance.
CREATE FUNCTION meridian_tally_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO tally_deltas (scope_id, dim, key, status, n)
        SELECT e.cohort_id, 'attendance', '', OLD.status, -1 FROM enrollments e WHERE e.id = OLD.enrollment_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO tally_deltas (scope_id, dim, key, status, n)
        SELECT e.cohort_id, 'attendance', '', NEW.status, 1 FROM enrollments e WHERE e.id = NEW.enrollment_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER attendance_tally AFTER INSERT OR DELETE ON attendance
    FOR EACH ROW EXECUTE FUNCTION meridian_tally_attendance();
CREATE TRIGGER attendance_tally_update AFTER UPDATE ON attendance
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION meridian_tally_attendance();

-- Moves the deltas into the tallies; returns how many tallies changed.
-- Concurrent calls are safe: a delta is deleted, and so folded, once.
CREATE FUNCTION meridian_fold_tallies() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM tally_deltas RETURNING scope_id, dim, key, status, n
    ), summed AS (
        SELECT scope_id, dim, key, status, sum(n)::bigint AS n FROM moved GROUP BY 1, 2, 3, 4
    ), folded AS (
        INSERT INTO tallies (scope_id, dim, key, status, n)
        SELECT * FROM summed ORDER BY 1, 2, 3, 4
        ON CONFLICT (scope_id, dim, key, status) DO UPDATE SET n = tallies.n + EXCLUDED.n
        RETURNING 1
    )
    SELECT count(*) FROM folded
$$;

-- Every tally counted afresh from the records, as the triggers would have
-- made them: after a bulk load with the triggers off, or to check them.
CREATE VIEW tallies_recounted AS
    SELECT sc AS scope_id, d.dim, d.key, e.status, count(*)::bigint AS n
    FROM enrollments e JOIN trainees t ON t.id = e.trainee_id,
         LATERAL (VALUES (e.cohort_id, 'all', ''), (e.cohort_id, 'nationality', t.nationality),
                         (e.cohort_id, 'gender', t.gender), (e.cohort_id, 'institution', e.institution_id::text),
                         (meridian_portfolio(), 'all', ''),
                         (meridian_portfolio(), 'nationality', t.nationality), (meridian_portfolio(), 'gender', t.gender),
                         (meridian_portfolio(), 'institution', e.institution_id::text)) d (sc, dim, key)
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT sc, 'certified', '', 'issued', count(*)
    FROM certificates ce JOIN enrollments e ON e.id = ce.enrollment_id,
         LATERAL (VALUES (e.cohort_id), (meridian_portfolio())) v (sc)
    WHERE ce.revoked_at IS NULL
    GROUP BY 1
    UNION ALL
    SELECT e.cohort_id, 'attendance', '', a.status, count(*)
    FROM attendance a JOIN enrollments e ON e.id = a.enrollment_id
    GROUP BY 1, 4
    UNION ALL
    SELECT meridian_portfolio(), 'trainees', '', '', count(*) FROM trainees HAVING count(*) > 0
    UNION ALL
    SELECT meridian_portfolio(), 'institutions', '', '', count(*) FROM institutions HAVING count(*) > 0
    UNION ALL
    SELECT meridian_portfolio(), 'programs', '', '', count(*) FROM programs HAVING count(*) > 0
    UNION ALL
    SELECT sc, 'cohorts', '', c.status, count(*)
    FROM cohorts c, LATERAL (VALUES (c.id), (meridian_portfolio())) v (sc)
    GROUP BY 1, 4
    UNION ALL
    SELECT meridian_portfolio(), 'exchanges', '', status, count(*) FROM exchanges GROUP BY status
    UNION ALL
    SELECT meridian_portfolio(), 'ventures', '', status, count(*) FROM ventures GROUP BY status
    UNION ALL
    SELECT meridian_portfolio(), 'venture_jobs', '', '', sum(jobs_created) FROM ventures HAVING sum(jobs_created) <> 0
    UNION ALL
    SELECT meridian_portfolio(), 'venture_funding_cents', '', '', sum(funding_raised_usd * 100)::bigint
    FROM ventures HAVING sum(funding_raised_usd) <> 0;

CREATE FUNCTION meridian_rebuild_tallies() RETURNS void LANGUAGE sql AS $$
    DELETE FROM tally_deltas;
    DELETE FROM tallies;
    INSERT INTO tallies SELECT * FROM tallies_recounted ORDER BY 1, 2, 3, 4;
$$;
