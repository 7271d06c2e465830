DROP TRIGGER webhook_subscriptions_reactivated ON webhook_subscriptions;
DROP FUNCTION meridian_webhook_reactivated();
DROP INDEX webhook_subscriptions_active_idx;
ALTER TABLE webhook_subscriptions DROP COLUMN failing_since;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
