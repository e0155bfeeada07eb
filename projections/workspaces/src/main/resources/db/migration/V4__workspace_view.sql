CREATE TABLE workspace_view (
    id               VARCHAR(64)  NOT NULL PRIMARY KEY,
    name             VARCHAR(100) NOT NULL,
    owner            VARCHAR(100) NOT NULL,
    team             VARCHAR(100),
    kind             VARCHAR(10)  NOT NULL,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    provider         VARCHAR(40)  NOT NULL,
    status           VARCHAR(20)  NOT NULL,
    build_number     BIGINT       NOT NULL,
    last_transition  VARCHAR(10),
    last_reason      VARCHAR(20),
    last_actor       VARCHAR(100),
    last_error       TEXT,
    connection       JSONB,
    labels           JSONB        NOT NULL,
    created_at       TIMESTAMPTZ  NOT NULL,
    updated_at       TIMESTAMPTZ  NOT NULL
);
-- Newest first with keyset paging; each filter of the list API leads an index.
CREATE INDEX workspace_view_created ON workspace_view (created_at DESC, id DESC);
CREATE INDEX workspace_view_owner ON workspace_view (owner, created_at DESC, id DESC);
CREATE INDEX workspace_view_team ON workspace_view (team, created_at DESC, id DESC);
CREATE INDEX workspace_view_status ON workspace_view (status, created_at DESC, id DESC);
CREATE INDEX workspace_view_template ON workspace_view (template_id, created_at DESC, id DESC);

CREATE TABLE workspace_history (
    workspace_id   VARCHAR(64) NOT NULL,
    sequence       BIGINT      NOT NULL,
    type           VARCHAR(60) NOT NULL,
    time           TIMESTAMPTZ NOT NULL,
    actor          VARCHAR(100),
    reason         VARCHAR(20),
    build_number   BIGINT,
    data           JSONB       NOT NULL,
    PRIMARY KEY (workspace_id, sequence)
);
