DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE users;
DROP TABLE institutions;
DROP FUNCTION meridian_touch();
