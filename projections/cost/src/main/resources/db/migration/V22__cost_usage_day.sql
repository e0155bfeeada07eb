-- Daily rollup of closed usage intervals (projections/cost, docs/costs.md): billed seconds per UTC day, team and
-- price (template version and state). Reports read whole days from here and only the edges of their range and the
-- open intervals from cost_interval, so a month report costs what the number of teams and days costs, not what
-- the number of intervals costs. Kept by CostProjection in the transaction that closes an interval; '' = no team.
CREATE TABLE cost_usage_day (
    day              DATE         NOT NULL,
    team             VARCHAR(100) NOT NULL,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    provider         VARCHAR(100) NOT NULL,
    state            VARCHAR(10)  NOT NULL,
    seconds          BIGINT       NOT NULL,
    PRIMARY KEY (day, team, template_id, template_version, provider, state)
);
CREATE INDEX cost_usage_day_team ON cost_usage_day (team, day);

-- Since when each workspace is billed at its current price (the start of its open interval; NULL while billing is
-- NONE): reports read the open intervals from here, one row per workspace, instead of from cost_interval.
ALTER TABLE cost_workspace ADD COLUMN billing_since TIMESTAMPTZ;
UPDATE cost_workspace w SET billing_since = i.start_at
FROM cost_interval i WHERE i.workspace_id = w.workspace_id AND i.end_at IS NULL AND w.billing <> 'NONE';

-- Intervals closed before this table existed (the last statement of this file: CostRollupIT and the benchmark run it).
INSERT INTO cost_usage_day (day, team, template_id, template_version, provider, state, seconds)
SELECT d::date, coalesce(i.team, ''), i.template_id, i.template_version, i.provider, i.state,
    sum(extract(epoch FROM least(i.end_at AT TIME ZONE 'UTC', d + interval '1 day')
        - greatest(i.start_at AT TIME ZONE 'UTC', d)))::bigint
FROM cost_interval i CROSS JOIN LATERAL generate_series(date_trunc('day', i.start_at AT TIME ZONE 'UTC'),
    (i.end_at AT TIME ZONE 'UTC') - interval '1 second', interval '1 day') AS d
WHERE i.end_at IS NOT NULL AND i.end_at > i.start_at
GROUP BY 1, 2, 3, 4, 5, 6;
