-- The email outbox: rows are written in the transaction of the change that
-- causes them and delivered by workers (SELECT ... FOR UPDATE SKIP LOCKED).
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    template        text NOT NULL,
    recipient       text NOT NULL,
    locale          text NOT NULL CHECK (locale IN ('en', 'fr', 'ar', 'es', 'pt', 'zh')),
    payload         jsonb NOT NULL DEFAULT '{}',
    -- One key, one email, however often it is queued.
    dedupe_key      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Set while a worker holds the row; after it, the row is due again.
    locked_until    timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (dedupe_key);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_created_at_idx ON notifications (created_at, id);
CREATE INDEX notifications_status_idx ON notifications (status, created_at);
CREATE TRIGGER notifications_touch BEFORE UPDATE ON notifications
    FOR EACH ROW EXECUTE FUNCTION meridian_touch();
