-- Budgets (projections/cost, subscribing processor 'budgets': current the moment a budget command returns, so that
-- the Workspace aggregate's start/create decisions see a raised budget at once).
CREATE TABLE cost_budget (
    budget_id       VARCHAR(120)    NOT NULL PRIMARY KEY,
    scope           VARCHAR(10)     NOT NULL,
    name            VARCHAR(100)    NOT NULL,
    amount          NUMERIC(24, 4)  NOT NULL,
    currency        VARCHAR(3)      NOT NULL,
    period          VARCHAR(10)     NOT NULL,
    action          VARCHAR(10)     NOT NULL,
    crossed_period  VARCHAR(7),
    crossed_percent INT             NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ     NOT NULL,
    updated_at      TIMESTAMPTZ     NOT NULL,
    updated_by      VARCHAR(200)
);
CREATE INDEX cost_budget_scope ON cost_budget (scope, name);

CREATE TABLE cost_budget_history (
    budget_id VARCHAR(120) NOT NULL,
    seq       BIGINT       NOT NULL,
    type      VARCHAR(40)  NOT NULL,
    time      TIMESTAMPTZ  NOT NULL,
    actor     VARCHAR(200),
    data      JSONB        NOT NULL,
    PRIMARY KEY (budget_id, seq)
);
