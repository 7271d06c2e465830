-- Password attempts per address, counted in one statement before the
-- password is checked: the row is locked only for that statement, so
-- attempts at one address never queue for long, and however many arrive
-- at once they count one after another.
CREATE TABLE login_attempts (
    email        text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    n            integer NOT NULL
);
INSERT INTO login_attempts (email, window_start, n)
    SELECT email, min(at), count(*) FROM login_failures
    WHERE at > now() - interval '15 minutes' GROUP BY email;
DROP TABLE login_failures;

-- Writes to the catalogue and its links, counted per statement, so that
-- cached counts of it can tell they are stale with one lookup.
CREATE TABLE change_counters (
    name text PRIMARY KEY,
    n    bigint NOT NULL DEFAULT 0
);
INSERT INTO change_counters (name) VALUES ('knowledge');
CREATE FUNCTION meridian_count_knowledge_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE name = 'knowledge';
    RETURN NULL;
END $$;
CREATE TRIGGER resources_changes AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_count_knowledge_change();
CREATE TRIGGER cohort_resources_changes AFTER INSERT OR UPDATE OR DELETE ON cohort_resources
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_count_knowledge_change();
CREATE TRIGGER venture_resources_changes AFTER INSERT OR UPDATE OR DELETE ON venture_resources
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_count_knowledge_change();
