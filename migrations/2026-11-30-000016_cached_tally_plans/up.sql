-- The tally deltas of an enrollment or a venture, written by their
-- triggers, in PL/pgSQL: it keeps the insert's plan for the session, where
-- a SQL function planned its body again on every call (a fifth of the
-- database's time under a wave of nominations, by `perf`). Same rows.
CREATE OR REPLACE FUNCTION meridian_enrollment_deltas(c uuid, t uuid, i uuid, s text, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_deltas (scope_id, dim, key, status, n)
    SELECT d.scope_id, d.dim, d.key, s, sign
    FROM (SELECT nationality, gender FROM trainees WHERE id = t FOR SHARE) tr,
         LATERAL (VALUES (c, 'all', ''), (c, 'nationality', tr.nationality), (c, 'gender', tr.gender),
                         (c, 'institution', i::text),
                         (meridian_portfolio(), 'all', ''), (meridian_portfolio(), 'nationality', tr.nationality),
                         (meridian_portfolio(), 'gender', tr.gender), (meridian_portfolio(), 'institution', i::text)
                 ) d (scope_id, dim, key);
END $$;

CREATE OR REPLACE FUNCTION meridian_venture_deltas(s text, jobs integer, funding numeric, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_deltas (scope_id, dim, key, status, n)
    VALUES (meridian_portfolio(), 'ventures', '', s, sign),
           (meridian_portfolio(), 'venture_jobs', '', '', sign * jobs),
           (meridian_portfolio(), 'venture_funding_cents', '', '', sign * (funding * 100)::bigint);
END $$;
