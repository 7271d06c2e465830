DROP TRIGGER venture_resources_changes ON venture_resources;
DROP TRIGGER cohort_resources_changes ON cohort_resources;
DROP TRIGGER resources_changes ON resources;
DROP FUNCTION meridian_count_knowledge_change();
DROP TABLE change_counters;
CREATE TABLE login_failures (
    id    bigserial PRIMARY KEY,
    email text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
DROP TABLE login_attempts;
