-- The audit trail (projections/audit, docs/audit.md).
--
-- audit_entry is the tamper-evident trail: one row per domain event and per recorded attempt, in one global order
-- (seq), each row carrying the SHA-256 of its canonical content, which includes the previous row's hash.
-- The table is append-only: a trigger rejects UPDATE, DELETE and TRUNCATE, except the DELETEs of an explicit purge
-- (which first writes a signed checkpoint) or of a rebuild from the event store, each announced by a setting that
-- is local to its own transaction.
CREATE TABLE audit_entry (
    seq           BIGINT       NOT NULL PRIMARY KEY,
    time          TIMESTAMPTZ  NOT NULL,
    actor_id      VARCHAR(200),
    actor_type    VARCHAR(20),
    action        VARCHAR(60)  NOT NULL,
    phase         VARCHAR(10)  NOT NULL,
    resource_type VARCHAR(40)  NOT NULL,
    resource_id   VARCHAR(200),
    resource_name VARCHAR(200),
    outcome       VARCHAR(10)  NOT NULL,
    reason        VARCHAR(30),
    build_number  BIGINT,
    status_code   INT,
    error         TEXT,
    request_id    VARCHAR(120),
    client_ip     VARCHAR(64),
    user_agent    VARCHAR(300),
    diff          TEXT,
    details       TEXT,
    event_id      VARCHAR(100) NOT NULL UNIQUE,
    event_index   BIGINT       NOT NULL,
    prev_hash     CHAR(64)     NOT NULL,
    hash          CHAR(64)     NOT NULL
);
-- Newest first by seq with keyset paging (seq < cursor); every filter of the query API leads an index whose second
-- column is seq, so a filter, its cursor and the order are one index range (AuditStorageIT checks with EXPLAIN).
CREATE INDEX audit_entry_actor ON audit_entry (actor_id, seq);
CREATE INDEX audit_entry_action ON audit_entry (action, seq);
CREATE INDEX audit_entry_resource_type ON audit_entry (resource_type, seq);
CREATE INDEX audit_entry_resource_id ON audit_entry (resource_id, seq);
CREATE INDEX audit_entry_outcome ON audit_entry (outcome, seq);
CREATE INDEX audit_entry_request_id ON audit_entry (request_id, seq);
CREATE INDEX audit_entry_time ON audit_entry (time, seq);

-- Signed checkpoints written by a purge: the last purged entry's seq and hash, signed with the engine's Ed25519 key,
-- so that the remaining chain can still be verified from its first entry. Append-only as well.
CREATE TABLE audit_checkpoint (
    seq           BIGINT       NOT NULL PRIMARY KEY,
    hash          CHAR(64)     NOT NULL,
    entry_time    TIMESTAMPTZ  NOT NULL,
    first_seq     BIGINT       NOT NULL,
    purged_before TIMESTAMPTZ  NOT NULL,
    entries       BIGINT       NOT NULL,
    created_at    TIMESTAMPTZ  NOT NULL,
    created_by    VARCHAR(200) NOT NULL,
    request_id    VARCHAR(120),
    signature     TEXT         NOT NULL
);

-- Work tables of the projection (not part of the trail, freely rewritten):
-- events delivered by the processor wait here until every lower event-store index is accounted for, so that the
-- chain follows the event store's global order even when transactions commit out of order.
CREATE TABLE audit_pending (
    global_index BIGINT      NOT NULL PRIMARY KEY,
    staged_at    TIMESTAMPTZ NOT NULL,
    draft        TEXT        NOT NULL
);
-- The head of the chain (one row; locked by whoever appends).
CREATE TABLE audit_chain (
    id         SMALLINT    NOT NULL PRIMARY KEY CHECK (id = 1),
    last_seq   BIGINT      NOT NULL,
    last_hash  CHAR(64)    NOT NULL,
    last_index BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO audit_chain (id, last_seq, last_hash, last_index, updated_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, now());
-- The last known (non-secret or digested) field values per resource, to compute old/new diffs and names.
CREATE TABLE audit_resource (
    resource_type VARCHAR(40)  NOT NULL,
    resource_id   VARCHAR(200) NOT NULL,
    state         TEXT         NOT NULL,
    PRIMARY KEY (resource_type, resource_id)
);

CREATE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mode    TEXT := current_setting('atelier.audit_maintenance', true);
    through TEXT := current_setting('atelier.audit_purge_through', true);
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF mode = 'rebuild' THEN
            RETURN OLD;
        END IF;
        IF mode = 'purge' AND through IS NOT NULL AND through <> '' AND OLD.seq <= through::BIGINT THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_entry is append-only: % of entry % is not allowed (only POST /api/v1/audit/purge removes entries)',
        TG_OP, OLD.seq USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_guard();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
