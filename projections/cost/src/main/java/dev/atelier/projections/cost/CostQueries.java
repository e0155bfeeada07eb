package dev.atelier.projections.cost;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** Queries answered by {@link CostReports}, and their answers. Amounts are money with 4 decimals, per currency. */
public final class CostQueries {

    private CostQueries() {
    }

    public enum GroupBy {
        TEAM, OWNER, TEMPLATE, PROVIDER, WORKSPACE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Granularity {
        DAY, MONTH;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Spend per group and day/month in [from, to); {@code currency} null means every currency (never added up). */
    public record Costs(
            GroupBy groupBy,
            Granularity granularity,
            Instant from,
            Instant to,
            String currency) {
    }

    /** Spent so far in {@code month} (YYYY-MM, UTC) and projected month end, per group. */
    public record Forecast(
            String month,
            GroupBy groupBy) {
    }

    /** Money not spent thanks to automatic stops in [from, to). */
    public record Savings(
            Instant from,
            Instant to) {
    }

    /** The price table in effect and the resolved prices of every template version. */
    public record Prices() {
    }

    public record Money(
            String currency,
            BigDecimal amount) {
    }

    /**
     * One row: {@code group} is the team, owner, template id, provider or workspace id (null for workspaces
     * without a team), {@code label} its readable name. An unknown price gives a row with {@code unknown = true},
     * no currency and no amount, and {@code note} says why.
     */
    public record CostRow(
            String group,
            String label,
            String period,
            Instant periodStart,
            String currency,
            BigDecimal amount,
            long runningSeconds,
            long stoppedSeconds,
            boolean unknown,
            String note) {
    }

    public record CostReport(
            String groupBy,
            String granularity,
            Instant from,
            Instant to,
            Instant asOf,
            String currency,
            List<CostRow> rows,
            List<Money> totals,
            boolean incomplete) {
    }

    public record ForecastRow(
            String group,
            String label,
            String currency,
            BigDecimal spentSoFar,
            BigDecimal runRatePerHour,
            BigDecimal restOfToday,
            BigDecimal remainingDays,
            BigDecimal projected,
            boolean unknown,
            String note) {
    }

    /**
     * {@code method}: ACTUAL (the month is over), RUN_RATE (no full day of history, or a future month: the current
     * hourly rate until month end), DAILY_AVERAGE (1-6 days of history: rest of today at the current hourly rate,
     * each remaining day at the average daily spend), WEEKDAY_PATTERN (7+ days: each remaining day at the average
     * spend of the same weekday in the look-back window).
     */
    public record ForecastReport(
            String month,
            Instant asOf,
            String groupBy,
            String method,
            String methodDescription,
            int historyDays,
            Instant historyFrom,
            Instant historyTo,
            List<ForecastRow> rows,
            List<Money> spentSoFar,
            List<Money> projected,
            boolean incomplete) {
    }

    public record SavingRow(
            String workspaceId,
            String workspaceName,
            String owner,
            String team,
            String templateId,
            String provider,
            String reason,
            String transition,
            Instant decidedAt,
            Instant stoppedAt,
            Instant countedFrom,
            Instant countedUntil,
            String countedUntilReason,
            long seconds,
            String currency,
            BigDecimal savedPerHour,
            BigDecimal amount,
            boolean unknown,
            String note) {
    }

    public record ReasonTotal(
            String reason,
            String currency,
            BigDecimal amount,
            int stops) {
    }

    public record SavingsReport(
            Instant from,
            Instant to,
            Instant asOf,
            String horizon,
            List<SavingRow> rows,
            List<Money> totals,
            List<ReasonTotal> byReason,
            boolean incomplete) {
    }

    public record TemplatePrice(
            String templateId,
            String templateName,
            int version,
            String provider,
            String machineType,
            String currency,
            BigDecimal runningPerHour,
            BigDecimal stoppedPerHour,
            String runningNote,
            String stoppedNote) {
    }

    public record PriceReport(
            List<PriceCatalogue.TableEntry> table,
            List<TemplatePrice> templates) {
    }
}
