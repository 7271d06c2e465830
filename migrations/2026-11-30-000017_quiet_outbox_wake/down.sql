DROP TRIGGER notifications_wake ON notifications;
CREATE OR REPLACE FUNCTION meridian_wake_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('meridian_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_wake_outbox();
