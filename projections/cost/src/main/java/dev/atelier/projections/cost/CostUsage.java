package dev.atelier.projections.cost;

import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.projections.cost.CostCalculator.Open;
import dev.atelier.projections.cost.CostCalculator.Usage;
import dev.atelier.projections.cost.CostProjection.Billing;
import dev.atelier.projections.cost.CostQueries.Granularity;
import dev.atelier.projections.cost.CostQueries.GroupBy;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Billed seconds per group, price and period, summed by PostgreSQL. Reports cost what the number of groups and days
 * costs, not what the number of usage intervals costs: whole UTC days of closed intervals come from the daily rollup
 * {@code cost_usage_day} (kept by {@link CostProjection} when an interval closes), and only the partial days at the
 * edges of the range and the open intervals (at most one per workspace) are read from {@code cost_interval}. The
 * daily rollup has no owner or workspace: monthly reports by owner and owner budgets read the owner's monthly rollup
 * {@code cost_usage_owner_month} the same way (whole months from it, the edges from the intervals); other groupings
 * by owner or workspace sum the intervals themselves.
 *
 * <p>All three parts come from one SQL statement, so they see one snapshot: an interval that closes meanwhile is
 * counted either as open or in the rollup, never twice. Times are computed as UTC {@code timestamp}s, so the
 * session's time zone does not matter.
 */
final class CostUsage {

    /** Scope of a budget: only this team's or owner's workspaces. */
    record Scope(BudgetScope scope, String name) {
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;

    CostUsage(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(jdbc.getDataSource()));
    }

    /**
     * A rollup of closed intervals by whole UTC periods: its table, its period column and the period's length. A
     * period of the rollup must never be longer than the report's granularity, so the owner's monthly rollup serves
     * monthly reports only.
     */
    enum Rollup {
        DAILY("cost_usage_day", "day", ChronoUnit.DAYS),
        OWNER_MONTHLY("cost_usage_owner_month", "month", ChronoUnit.MONTHS);

        private final String table;
        private final String column;
        private final ChronoUnit unit;

        Rollup(String table, String column, ChronoUnit unit) {
            this.table = table;
            this.column = column;
            this.unit = unit;
        }

        /** The start of the period that holds {@code t}. */
        Instant floor(Instant t) {
            LocalDate day = utc(t).toLocalDate();
            return (unit == ChronoUnit.MONTHS ? day.withDayOfMonth(1) : day).atStartOfDay().toInstant(ZoneOffset.UTC);
        }

        /** The first period start at or after {@code t}. */
        Instant ceil(Instant t) {
            Instant floor = floor(t);
            return floor.equals(t) ? t : utc(floor).plus(1, unit).toInstant(ZoneOffset.UTC);
        }
    }

    /** The rollup that can answer {@code groupBy} at {@code granularity} within {@code scope}, if any. */
    static Optional<Rollup> rollupFor(GroupBy groupBy, Granularity granularity, Scope scope) {
        boolean group = groupBy == GroupBy.TEAM || groupBy == GroupBy.TEMPLATE || groupBy == GroupBy.PROVIDER;
        if (group && (scope == null || scope.scope() == BudgetScope.TEAM)) {
            return Optional.of(Rollup.DAILY);
        }
        if (groupBy == GroupBy.OWNER && granularity == Granularity.MONTH
                && (scope == null || scope.scope() == BudgetScope.OWNER)) {
            return Optional.of(Rollup.OWNER_MONTHLY);
        }
        return Optional.empty();
    }

    /** Usage in [from, to), open intervals counted up to {@code to}. */
    List<Usage> usage(GroupBy groupBy, Granularity granularity, Instant from, Instant to, Scope scope) {
        return usage(groupBy, granularity, from, to, scope, false);
    }

    /**
     * @param reference true: sum the intervals themselves, open ones included, without the rollup or
     *                  {@code cost_workspace} (what the fast path is tested against)
     */
    List<Usage> usage(GroupBy groupBy, Granularity granularity, Instant from, Instant to, Scope scope,
                      boolean reference) {
        // Usage is counted in whole seconds (interval times are); a fraction of "now" would be summed per interval.
        return wholeSeconds(groupBy, granularity, from.truncatedTo(ChronoUnit.SECONDS),
                to.truncatedTo(ChronoUnit.SECONDS), scope, reference);
    }

    private List<Usage> wholeSeconds(GroupBy groupBy, Granularity granularity, Instant from, Instant to, Scope scope,
                                     boolean reference) {
        if (!to.isAfter(from)) {
            return List.of();
        }
        String unit = granularity == Granularity.DAY ? "day" : "month";
        String step = "interval '1 " + unit + "'";
        List<String> parts = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        Optional<Rollup> rollup = reference ? Optional.empty() : rollupFor(groupBy, granularity, scope);
        Instant bodyStart = rollup.map(r -> r.ceil(from)).orElse(from);
        Instant bodyEnd = rollup.map(r -> r.floor(to)).orElse(to);
        if (rollup.isPresent() && !bodyStart.isAfter(bodyEnd)) {
            // [from, bodyStart) from the intervals; whole periods from the rollup; the last, partial period
            // [bodyEnd, to) from the rollup too when no closed interval ends after 'to' (the usual "up to now"), else
            // from the intervals. The condition is evaluated inside the statement, so both sides see one snapshot.
            closed(parts, args, groupBy, unit, step, granularity, from, bodyStart, scope, null);
            String tailInRollup = "(SELECT coalesce(max(end_at), '-infinity'::timestamptz) FROM cost_interval)"
                    + " <= (CAST(? AS timestamp) AT TIME ZONE 'UTC')";
            String column = "u." + rollup.get().column;
            StringBuilder sql = new StringBuilder("SELECT 'U', ").append(key(groupBy, "u")).append(", ")
                    .append(label(groupBy, "u")).append("""
                    , u.template_id, u.template_version, u.state, date_trunc('%1$s', %2$s::timestamp),
                        sum(u.seconds)::bigint, 0::bigint
                    FROM %3$s u LEFT JOIN cost_template t ON t.template_id = u.template_id
                    WHERE %2$s >= CAST(? AS date)
                        AND (%2$s < CAST(? AS date) OR (%2$s = CAST(? AS date) AND %4$s))"""
                    .formatted(unit, column, rollup.get().table, tailInRollup));
            String bodyEndDay = utc(bodyEnd).toLocalDate().toString();
            args.add(utc(bodyStart).toLocalDate().toString());
            args.add(bodyEndDay);
            args.add(bodyEnd.equals(to) ? "-infinity" : bodyEndDay);
            args.add(ts(to));
            scope(sql, args, scope, "u");
            parts.add(sql.append(" GROUP BY 2, 3, 4, 5, 6, 7").toString());
            closed(parts, args, groupBy, unit, step, granularity, bodyEnd, to, scope, "NOT " + tailInRollup);
        } else {
            closed(parts, args, groupBy, unit, step, granularity, from, to, scope, null);
        }
        open(parts, args, groupBy, unit, step, from, to, scope, reference);

        List<Usage> out = new ArrayList<>();
        // Parts of the statement that a condition switches off still count in its estimated cost, which would make
        // PostgreSQL JIT-compile it (hundreds of ms) for a query that runs in tens. Inside a caller's transaction
        // (the query bus opens one) the setting lasts until that transaction ends.
        transactions.executeWithoutResult(tx -> {
            jdbc.execute("SET LOCAL jit = off");
            jdbc.query(String.join("\nUNION ALL\n", parts), rs -> {
                String kind = rs.getString(1);
                String group = rs.getString(2);
                String label = rs.getString(3);
                String templateId = rs.getString(4);
                int version = rs.getInt(5);
                Billing state = Billing.valueOf(rs.getString(6));
                Instant period = rs.getObject(7, LocalDateTime.class).toInstant(ZoneOffset.UTC);
                long seconds = rs.getLong(8);
                out.add(new Usage(group, label, templateId, version, state, period, seconds));
                if (kind.equals("O")) {
                    // Every period after an open interval's first is billed in full up to 'to'.
                    long count = rs.getLong(9);
                    for (Instant p = CostCalculator.next(period, granularity); p.isBefore(to);
                         p = CostCalculator.next(p, granularity)) {
                        long length = CostCalculator.earlier(CostCalculator.next(p, granularity), to).getEpochSecond()
                                - p.getEpochSecond();
                        out.add(new Usage(group, label, templateId, version, state, p, count * length));
                    }
                }
            }, args.toArray());
        });
        return out;
    }

    /**
     * Open intervals up to {@code to}, per group, price and first period: their seconds in the first period and how
     * many they are. The fast path reads them from {@code cost_workspace} (one row per workspace, its current
     * billing and since when) rather than from the intervals, whose open rows are scattered over the table.
     */
    private static void open(List<String> parts, List<Object> args, GroupBy groupBy, String unit, String step,
                             Instant from, Instant to, Scope scope, boolean reference) {
        String alias = reference ? "i" : "w";
        String since = reference ? "i.start_at" : "w.billing_since";
        String start = "greatest(" + since + " AT TIME ZONE 'UTC', CAST(? AS timestamp))";
        StringBuilder sql = new StringBuilder("SELECT 'O', ").append(key(groupBy, alias)).append(", ")
                .append(label(groupBy, alias)).append(reference ? ", i.template_id, i.template_version, i.state"
                        : ", w.template_id, w.price_version, w.billing")
                .append(", date_trunc('").append(unit).append("', ").append(start)
                .append("), sum(extract(epoch FROM least(date_trunc('").append(unit).append("', ").append(start)
                .append(") + ").append(step).append(", CAST(? AS timestamp)) - ").append(start)
                .append("))::bigint, count(*)")
                .append(reference ? " FROM cost_interval i" : " FROM cost_workspace w")
                .append(" LEFT JOIN cost_template t ON t.template_id = ").append(alias).append(".template_id")
                .append(reference ? " WHERE i.end_at IS NULL" : " WHERE w.billing <> 'NONE'")
                .append(" AND ").append(since).append(" < (CAST(? AS timestamp) AT TIME ZONE 'UTC')");
        args.add(ts(from));
        args.add(ts(from));
        args.add(ts(to));
        args.add(ts(from));
        args.add(ts(to));
        scope(sql, args, scope, alias);
        parts.add(sql.append(" GROUP BY 2, 3, 4, 5, 6, 7").toString());
    }

    /** Intervals open at {@code now}, counted per group and price: what is billed by the hour right now. */
    List<Open> open(GroupBy groupBy, Instant now) {
        return jdbc.query("SELECT " + key(groupBy, "w") + ", " + label(groupBy, "w") + """
                        , w.template_id, w.price_version, w.billing, count(*)
                        FROM cost_workspace w LEFT JOIN cost_template t ON t.template_id = w.template_id
                        WHERE w.billing <> 'NONE' AND w.billing_since <= (CAST(? AS timestamp) AT TIME ZONE 'UTC')
                        GROUP BY 1, 2, 3, 4, 5""",
                (rs, i) -> new Open(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                        Billing.valueOf(rs.getString(5)), rs.getLong(6)), ts(now));
    }

    /** Closed intervals' seconds in [a, b), split by period. */
    private static void closed(List<String> parts, List<Object> args, GroupBy groupBy, String unit, String step,
                               Granularity granularity, Instant a, Instant b, Scope scope, String condition) {
        if (!b.isAfter(a)) {
            return;
        }
        String start = "i.start_at AT TIME ZONE 'UTC'";
        String end = "i.end_at AT TIME ZONE 'UTC'";
        Instant firstPeriod = CostCalculator.periodStart(a, granularity);
        StringBuilder sql = new StringBuilder("SELECT 'U', ").append(key(groupBy, "i")).append(", ")
                .append(label(groupBy, "i")).append(", i.template_id, i.template_version, i.state, ");
        if (!b.isAfter(CostCalculator.next(firstPeriod, granularity))) {
            // One period (the edges of a range, a month report): no per-row series, whose row estimate of 1000
            // would also make PostgreSQL plan (and JIT-compile) for a result a thousand times too large.
            sql.append("CAST(? AS timestamp), sum(extract(epoch FROM least(").append(end)
                    .append(", CAST(? AS timestamp)) - greatest(").append(start)
                    .append(", CAST(? AS timestamp))))::bigint, 0::bigint")
                    .append(" FROM cost_interval i LEFT JOIN cost_template t ON t.template_id = i.template_id");
            args.add(ts(firstPeriod));
            args.add(ts(b));
            args.add(ts(a));
        } else {
            sql.append("p.period, sum(extract(epoch FROM least(")
                    .append(end).append(", p.period + ").append(step).append(", CAST(? AS timestamp)) - greatest(")
                    .append(start).append(", p.period, CAST(? AS timestamp))))::bigint, 0::bigint")
                    .append(" FROM cost_interval i LEFT JOIN cost_template t ON t.template_id = i.template_id")
                    .append(" CROSS JOIN LATERAL generate_series(date_trunc('").append(unit).append("', greatest(")
                    .append(start).append(", CAST(? AS timestamp))), least(").append(end)
                    .append(", CAST(? AS timestamp)) - interval '1 second', ").append(step).append(") AS p(period)");
            args.add(ts(b));
            args.add(ts(a));
            args.add(ts(a));
            args.add(ts(b));
        }
        // An interval closed before it opened (clock skew between nodes) bills nothing, as in the rollup.
        sql.append(" WHERE i.end_at IS NOT NULL AND i.end_at > i.start_at")
                .append(" AND i.end_at > (CAST(? AS timestamp) AT TIME ZONE 'UTC')")
                .append(" AND i.start_at < (CAST(? AS timestamp) AT TIME ZONE 'UTC')");
        args.add(ts(a));
        args.add(ts(b));
        if (condition != null) {
            sql.append(" AND ").append(condition);
            args.add(ts(b));
        }
        scope(sql, args, scope, "i");
        parts.add(sql.append(" GROUP BY 2, 3, 4, 5, 6, 7").toString());
    }

    private static void scope(StringBuilder sql, List<Object> args, Scope scope, String alias) {
        if (scope == null) {
            return;
        }
        if (scope.scope() == BudgetScope.TEAM) {
            sql.append(" AND ").append(alias).append(".team = ?");
        } else {
            sql.append(" AND ").append(alias).append(".owner = ?");
        }
        args.add(scope.name());
    }

    /** The group's key; '' for workspaces without a team (the rollup stores them so, as the key must not be null). */
    private static String key(GroupBy groupBy, String alias) {
        return switch (groupBy) {
            case TEAM -> alias.equals("u") ? "u.team" : "coalesce(" + alias + ".team, '')";
            case OWNER -> alias + ".owner";
            case TEMPLATE -> alias + ".template_id";
            case PROVIDER -> alias + ".provider";
            case WORKSPACE -> alias + ".workspace_id";
        };
    }

    private static String label(GroupBy groupBy, String alias) {
        String noTeam = "'" + CostCalculator.NO_TEAM + "'";
        return switch (groupBy) {
            case TEAM -> alias.equals("u") ? "CASE WHEN u.team = '' THEN " + noTeam + " ELSE u.team END"
                    : "coalesce(" + alias + ".team, " + noTeam + ")";
            case OWNER -> alias + ".owner";
            case TEMPLATE -> "coalesce(t.name, " + alias + ".template_id)";
            case PROVIDER -> alias + ".provider";
            // A workspace's name never changes, so grouping by it as well is grouping by the workspace.
            case WORKSPACE -> alias.equals("w") ? "w.name" : alias + ".workspace_name";
        };
    }

    private static LocalDateTime utc(Instant t) {
        return LocalDateTime.ofInstant(t, ZoneOffset.UTC);
    }

    /** A UTC wall-clock time for {@code CAST(? AS timestamp)}, as ISO text (no detour through the JVM's zone). */
    private static String ts(Instant t) {
        return utc(t).toString();
    }
}
