-- Tombstones of deleted records, so that a client syncing with
-- `updated_since` learns of removals too (GET /api/v1/deletions). Written in
-- the transaction of each delete; kept at least 90 days. `id` is the deleted
-- record's own id (a record is deleted once); the institutions and trainees
-- it belonged to scope the feed as reads of the record were scoped.
CREATE TABLE deletions (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    institution_ids uuid[] NOT NULL DEFAULT '{}',
    trainee_ids uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX deletions_deleted_at_idx ON deletions (deleted_at, id);
