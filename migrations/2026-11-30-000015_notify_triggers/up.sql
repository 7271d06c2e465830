-- Workers are woken by the rows themselves: a statement that queues emails
-- or webhook deliveries NOTIFYs their channel when it commits, with no
-- round trip of its own.
CREATE FUNCTION meridian_wake_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('meridian_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_wake_outbox();

CREATE FUNCTION meridian_wake_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('meridian_webhooks', '');
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_deliveries_wake AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION meridian_wake_webhooks();
