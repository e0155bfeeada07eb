-- Heartbeats: not events. One row per workspace, written in batches by ActivityIngestor.
-- connections: {"<source>": {"n": <open connections>, "at": "<time of that source's last heartbeat>"}}
CREATE TABLE workspace_activity (
    workspace_id      VARCHAR(64) NOT NULL PRIMARY KEY,
    last_activity_at  TIMESTAMPTZ,
    last_heartbeat_at TIMESTAMPTZ,
    connections       JSONB       NOT NULL DEFAULT '{}'
);

-- What idle decisions and the idle report need of each workspace, kept from events.
CREATE TABLE idle_workspace (
    workspace_id     VARCHAR(64)  NOT NULL PRIMARY KEY,
    name             VARCHAR(100) NOT NULL,
    owner            VARCHAR(100) NOT NULL,
    team             VARCHAR(100),
    kind             VARCHAR(10)  NOT NULL,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    idle_timeout     VARCHAR(40),
    max_lifetime     VARCHAR(40),
    status           VARCHAR(20)  NOT NULL,
    build_number     BIGINT       NOT NULL,
    running_since    TIMESTAMPTZ,
    keep_alive_until TIMESTAMPTZ,
    warned_stop_at   TIMESTAMPTZ,
    dormant          BOOLEAN      NOT NULL DEFAULT FALSE
);
CREATE INDEX idle_workspace_running ON idle_workspace (status, running_since);
