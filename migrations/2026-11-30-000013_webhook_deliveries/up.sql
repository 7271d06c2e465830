-- Events for partner systems (SPEC §4b), written in the transaction of the
-- change, and one delivery of each to every subscription that hears of it.
-- The body is kept as sent, so that every retry signs the same bytes.
CREATE TABLE webhook_events (
    id          uuid PRIMARY KEY,
    event_type  text NOT NULL,
    record_id   uuid NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    body        text NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of occurrence: a record's events reach a subscriber in it.
    seq             bigserial NOT NULL UNIQUE,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    record_id       uuid NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    -- The last attempt: the receiver's status code, at most 1 KiB of its
    -- answer, or why no answer came.
    response_status integer,
    response_body   text CHECK (length(response_body) <= 1024),
    error           text,
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (subscription_id, record_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (subscription_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (subscription_id, created_at, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- Since when a subscription has failed without a success; turned off after
-- three days of it. Turning it on again starts the count afresh.
ALTER TABLE webhook_subscriptions ADD COLUMN failing_since timestamptz;
CREATE INDEX webhook_subscriptions_active_idx ON webhook_subscriptions (id) WHERE active;

CREATE FUNCTION meridian_webhook_reactivated() RETURNS trigger AS $$
BEGIN
    IF NEW.active AND NOT OLD.active THEN
        NEW.failing_since := NULL;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_subscriptions_reactivated BEFORE UPDATE ON webhook_subscriptions
    FOR EACH ROW EXECUTE FUNCTION meridian_webhook_reactivated();
