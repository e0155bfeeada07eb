-- Cost read model (projections/cost), kept by the tracking processor 'costs' from events only; rebuilt by resetting
-- that processor (docs/costs.md). Times are whole seconds (event times truncated to the second).

-- Price of each template version, resolved when the version is published: the template's own pricing, else the
-- price table (projections/cost/src/main/resources/costs/*.csv plus atelier.costs.*). NULL amount = unknown;
-- *_note says where a price comes from, or why it is unknown.
CREATE TABLE cost_price (
    template_id      VARCHAR(64)    NOT NULL,
    version          INT            NOT NULL,
    provider         VARCHAR(100)   NOT NULL,
    machine_type     VARCHAR(200),
    currency         VARCHAR(3),
    running_per_hour NUMERIC(24, 10),
    stopped_per_hour NUMERIC(24, 10),
    running_note     VARCHAR(500)   NOT NULL,
    stopped_note     VARCHAR(500)   NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE cost_template (
    template_id VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(100) NOT NULL
);

-- Current billing state of each workspace: RUNNING (STARTING, RUNNING, STOPPING), STOPPED (disk only) or NONE.
CREATE TABLE cost_workspace (
    workspace_id        VARCHAR(64)  NOT NULL PRIMARY KEY,
    name                VARCHAR(100) NOT NULL,
    owner               VARCHAR(100) NOT NULL,
    team                VARCHAR(100),
    template_id         VARCHAR(64)  NOT NULL,
    provider            VARCHAR(100) NOT NULL,
    status              VARCHAR(20)  NOT NULL,
    billing             VARCHAR(10)  NOT NULL,
    price_version       INT          NOT NULL,
    has_resource        BOOLEAN      NOT NULL DEFAULT FALSE,
    pending_auto_reason VARCHAR(20),
    pending_auto_at     TIMESTAMPTZ
);
CREATE INDEX cost_workspace_team ON cost_workspace (team, status);
CREATE INDEX cost_workspace_owner ON cost_workspace (owner, status);

-- Usage intervals: one row per period at one price (state + template version). end_at NULL = still open (counts
-- up to "now"). seq = sequence number of the event that opened it.
CREATE TABLE cost_interval (
    workspace_id     VARCHAR(64)  NOT NULL,
    seq              BIGINT       NOT NULL,
    state            VARCHAR(10)  NOT NULL,
    start_at         TIMESTAMPTZ  NOT NULL,
    end_at           TIMESTAMPTZ,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    workspace_name   VARCHAR(100) NOT NULL,
    owner            VARCHAR(100) NOT NULL,
    team             VARCHAR(100),
    provider         VARCHAR(100) NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX cost_interval_start ON cost_interval (start_at);
CREATE INDEX cost_interval_open ON cost_interval (end_at);
CREATE INDEX cost_interval_team ON cost_interval (team, start_at);
CREATE INDEX cost_interval_owner ON cost_interval (owner, start_at);

-- Automatic stops and deletes (IDLE, MAX_LIFETIME, BUDGET, SCHEDULE, DORMANCY): from 'at' (the lower price began)
-- until the next start (ends_at) the price difference from_state -> to_state was not spent.
CREATE TABLE cost_saving (
    workspace_id     VARCHAR(64)  NOT NULL,
    seq              BIGINT       NOT NULL,
    reason           VARCHAR(20)  NOT NULL,
    transition       VARCHAR(10)  NOT NULL,
    decided_at       TIMESTAMPTZ  NOT NULL,
    at               TIMESTAMPTZ  NOT NULL,
    ends_at          TIMESTAMPTZ,
    from_state       VARCHAR(10)  NOT NULL,
    to_state         VARCHAR(10)  NOT NULL,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    workspace_name   VARCHAR(100) NOT NULL,
    owner            VARCHAR(100) NOT NULL,
    team             VARCHAR(100),
    provider         VARCHAR(100) NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX cost_saving_at ON cost_saving (at);
