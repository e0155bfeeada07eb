-- Monthly rollup of closed usage intervals per owner (projections/cost, docs/costs.md): billed seconds per UTC
-- calendar month, owner and price. The daily rollup (V22) has no owner, so month reports by owner and owner budgets
-- summed every interval of their range (7.7 s at 100,000 workspaces in the benchmark); from here they read one row
-- per owner and price per month, plus the open intervals from cost_workspace. Kept by CostProjection in the same
-- statement that closes an interval and feeds the daily rollup.
CREATE TABLE cost_usage_owner_month (
    month            DATE         NOT NULL,
    owner            VARCHAR(100) NOT NULL,
    template_id      VARCHAR(64)  NOT NULL,
    template_version INT          NOT NULL,
    provider         VARCHAR(100) NOT NULL,
    state            VARCHAR(10)  NOT NULL,
    seconds          BIGINT       NOT NULL,
    PRIMARY KEY (month, owner, template_id, template_version, provider, state)
);
CREATE INDEX cost_usage_owner_month_owner ON cost_usage_owner_month (owner, month);

-- Intervals closed before this table existed (the last statement of this file: CostRollupIT and the benchmark run it).
INSERT INTO cost_usage_owner_month (month, owner, template_id, template_version, provider, state, seconds)
SELECT m::date, i.owner, i.template_id, i.template_version, i.provider, i.state,
    sum(extract(epoch FROM least(i.end_at AT TIME ZONE 'UTC', m + interval '1 month')
        - greatest(i.start_at AT TIME ZONE 'UTC', m)))::bigint
FROM cost_interval i CROSS JOIN LATERAL generate_series(date_trunc('month', i.start_at AT TIME ZONE 'UTC'),
    (i.end_at AT TIME ZONE 'UTC') - interval '1 second', interval '1 month') AS m
WHERE i.end_at IS NOT NULL AND i.end_at > i.start_at
GROUP BY 1, 2, 3, 4, 5, 6;
