-- Which API token acted (its id, never its secret): part of the entry and of its hash when present. Entries without
-- it hash exactly as before (null fields are left out of the canonical form).
ALTER TABLE audit_entry ADD COLUMN token_id VARCHAR(100);

-- Events the audit processor parked in its dead-letter queue (docs/operations.md): the chain went on without them,
-- and this table remembers each such gap, so that GET /api/v1/audit/status and verify show it until the event is
-- chained (after a retry) and for ever if the letter was evicted. Work table of the projection: a rebuild clears it.
CREATE TABLE audit_gap (
    event_index BIGINT       NOT NULL PRIMARY KEY,
    event_id    VARCHAR(100) NOT NULL,
    after_seq   BIGINT       NOT NULL,
    noticed_at  TIMESTAMPTZ  NOT NULL
);
