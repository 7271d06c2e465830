-- Enrollments changed since a time: for clients that sync, and for the
-- freshness check of `/stats/knowledge`.
CREATE INDEX enrollments_updated_at_idx ON enrollments (updated_at, id);
