DROP TRIGGER webhook_deliveries_wake ON webhook_deliveries;
DROP FUNCTION meridian_wake_webhooks();
DROP TRIGGER notifications_wake ON notifications;
DROP FUNCTION meridian_wake_outbox();
