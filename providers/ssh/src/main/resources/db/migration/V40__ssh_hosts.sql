-- ssh provider (providers/ssh): the pool of bare-metal hosts and which workspace lives on which host.
CREATE TABLE ssh_host (
    id                   VARCHAR(64)  PRIMARY KEY,
    name                 VARCHAR(100) NOT NULL UNIQUE,
    address              VARCHAR(255) NOT NULL,
    port                 INTEGER      NOT NULL,
    username             VARCHAR(32)  NOT NULL,
    key_ref              VARCHAR(128) NOT NULL,
    host_key_fingerprint VARCHAR(100) NOT NULL,
    capacity             INTEGER      NOT NULL CHECK (capacity >= 0),
    labels               JSONB        NOT NULL DEFAULT '{}',
    directory            VARCHAR(255) NOT NULL,
    created_at           TIMESTAMPTZ  NOT NULL,
    updated_at           TIMESTAMPTZ  NOT NULL
);

-- A workspace stays on its host from create to delete (its files are there); the count per host is its load.
-- provisioned: its directory was made on the host (until then, a failed create or a delete just forgets it).
CREATE TABLE ssh_workspace_placement (
    workspace_id VARCHAR(64) PRIMARY KEY,
    host_id      VARCHAR(64) NOT NULL REFERENCES ssh_host (id),
    placed_at    TIMESTAMPTZ NOT NULL,
    provisioned  BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX ssh_workspace_placement_host ON ssh_workspace_placement (host_id);
