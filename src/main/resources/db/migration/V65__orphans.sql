-- Resources a provider reports that belong to no workspace the engine knows, or to a deleted one (docs/operations.md,
-- "Reconciliation"). One row per provider and workspace label; kept by the reconciliation job, not a projection.
CREATE TABLE orphan_resource (
    id               VARCHAR(64)  PRIMARY KEY,
    provider         VARCHAR(40)  NOT NULL,
    workspace_id     VARCHAR(128) NOT NULL,
    build_number     BIGINT,
    resources        JSONB        NOT NULL,
    state            VARCHAR(20)  NOT NULL,
    known_workspace  BOOLEAN      NOT NULL,
    template_id      VARCHAR(64),
    template_version INT,
    first_seen_at    TIMESTAMPTZ  NOT NULL,
    last_seen_at     TIMESTAMPTZ  NOT NULL,
    UNIQUE (provider, workspace_id)
);
