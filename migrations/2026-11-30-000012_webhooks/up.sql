-- Partner systems subscribed to events (SPEC §4b). The secret signs the
-- deliveries; it is shown once and never read back through the API.
CREATE TABLE webhook_subscriptions (
    id             uuid PRIMARY KEY,
    url            text NOT NULL CHECK (length(url) BETWEEN 8 AND 500),
    events         text[] NOT NULL CHECK (cardinality(events) > 0),
    description    text,
    active         boolean NOT NULL DEFAULT true,
    institution_id uuid REFERENCES institutions (id),
    secret         text NOT NULL,
    created_by     uuid NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1
);
CREATE INDEX webhook_subscriptions_institution_idx ON webhook_subscriptions (institution_id);
CREATE INDEX webhook_subscriptions_created_at_idx ON webhook_subscriptions (created_at, id);
CREATE INDEX webhook_subscriptions_updated_at_idx ON webhook_subscriptions (updated_at, id);
CREATE TRIGGER webhook_subscriptions_touch BEFORE UPDATE ON webhook_subscriptions
    FOR EACH ROW EXECUTE FUNCTION meridian_touch();
