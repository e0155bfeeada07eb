package dev.atelier.projections.cost;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Queries answered by {@link BudgetProjection}, and their answers. */
public final class BudgetQueries {

    private BudgetQueries() {
    }

    public record ListBudgets() {
    }

    public record FindBudget(String budgetId) {
    }

    /** Subscription: every budget change, threshold crossing and release (the SSE stream of budgets). */
    public record WatchBudgets() {
    }

    /**
     * A budget with what its scope spent so far in the current period. {@code status}: OK, WARNING (80 % crossed),
     * EXHAUSTED (100 % crossed); {@code blocking}: it stops workspaces and refuses starts until {@code blockedUntil}.
     */
    public record BudgetView(
            String budgetId,
            String scope,
            String name,
            BigDecimal amount,
            String currency,
            String period,
            String action,
            String currentPeriod,
            BigDecimal spent,
            BigDecimal percent,
            String status,
            boolean blocking,
            Instant blockedUntil,
            Instant createdAt,
            Instant updatedAt,
            String updatedBy) {
    }

    public record HistoryEntry(
            String type,
            Instant time,
            String actor,
            Map<String, Object> data) {
    }

    public record BudgetDetail(
            BudgetView budget,
            List<HistoryEntry> history) {
    }

    /** What the SSE stream carries: {@code type} BudgetSet, BudgetThresholdCrossed or BudgetReleased. */
    public record BudgetNotice(
            String type,
            String budgetId,
            String scope,
            String name,
            String period,
            Integer percent,
            BigDecimal spent,
            BigDecimal amount,
            String currency,
            String action,
            Instant at,
            String message) {
    }
}
