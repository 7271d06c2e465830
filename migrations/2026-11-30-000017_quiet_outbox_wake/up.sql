-- A NOTIFY takes a lock of the whole cluster when its transaction commits,
-- so one per queued email made every nomination wait on every other's
-- commit. The outbox's worker needs waking only when it may be asleep:
-- when no other email is due and unclaimed. Otherwise it is at work (it
-- claims until nothing is due, then waits), and at worst a new email waits
-- for its next poll (worker.poll_interval_ms).
CREATE OR REPLACE FUNCTION meridian_wake_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM notifications n
        WHERE n.status = 'pending' AND n.next_attempt_at <= now()
          AND (n.locked_until IS NULL OR n.locked_until < now())
          AND NOT EXISTS (SELECT 1 FROM added WHERE added.id = n.id)
    ) THEN
        PERFORM pg_notify('meridian_outbox', '');
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER notifications_wake ON notifications;
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_wake_outbox();
