package dev.atelier.projections.cost;

import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.budget.SpendReader;
import dev.atelier.projections.cost.CostCalculator.Interval;
import dev.atelier.projections.cost.CostCalculator.Price;
import dev.atelier.projections.cost.CostCalculator.PriceKey;
import dev.atelier.projections.cost.CostProjection.Billing;
import org.axonframework.queryhandling.QueryHandler;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the cost read model: reports, forecast, savings, the price table, and what a budget's scope spent. "Now" comes
 * from a {@link Clock} bean when there is one (tests), else the system clock, truncated to the second.
 */
@Component
public class CostReports implements SpendReader {

    private final JdbcTemplate jdbc;
    private final CostSettings settings;
    private final PriceCatalogue catalogue;
    private final Clock clock;

    @Autowired
    public CostReports(JdbcTemplate jdbc, CostSettings settings, PriceCatalogue catalogue, ObjectProvider<Clock> clock) {
        this(jdbc, settings, catalogue, clock.getIfAvailable(Clock::systemUTC));
    }

    CostReports(JdbcTemplate jdbc, CostSettings settings, PriceCatalogue catalogue, Clock clock) {
        this.jdbc = jdbc;
        this.settings = settings;
        this.catalogue = catalogue;
        this.clock = clock;
    }

    public Instant now() {
        return CostProjection.seconds(clock.instant());
    }

    @QueryHandler
    public CostQueries.CostReport handle(CostQueries.Costs query) {
        Instant now = now();
        return CostCalculator.report(intervals(query.from(), query.to(), null, null), prices(), query.groupBy(),
                query.granularity(), query.from(), query.to(), now, query.currency());
    }

    @QueryHandler
    public CostQueries.ForecastReport handle(CostQueries.Forecast query) {
        YearMonth month;
        try {
            month = YearMonth.parse(query.month());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("month '" + query.month() + "' is not YYYY-MM");
        }
        Instant now = now();
        Instant monthStart = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant monthEnd = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant from = CostCalculator.earlier(monthStart,
                now.truncatedTo(java.time.temporal.ChronoUnit.DAYS).minus(settings.forecastLookback().toDays() + 1,
                        java.time.temporal.ChronoUnit.DAYS));
        Instant to = CostCalculator.later(monthEnd, now);
        return CostCalculator.forecast(intervals(from, to, null, null), prices(), query.groupBy(), month, now,
                settings.forecastLookback(), historyStart());
    }

    @QueryHandler
    public CostQueries.SavingsReport handle(CostQueries.Savings query) {
        List<CostCalculator.Saving> savings = jdbc.query("""
                        SELECT * FROM cost_saving WHERE at < ? AND (ends_at IS NULL OR ends_at > ?) AND at > ?""",
                (rs, i) -> new CostCalculator.Saving(rs.getString("workspace_id"), rs.getString("workspace_name"),
                        rs.getString("owner"), rs.getString("team"), rs.getString("template_id"),
                        rs.getString("provider"), rs.getString("reason"), rs.getString("transition"),
                        instant(rs.getTimestamp("decided_at")), instant(rs.getTimestamp("at")),
                        instant(rs.getTimestamp("ends_at")), Billing.valueOf(rs.getString("from_state")),
                        Billing.valueOf(rs.getString("to_state")), rs.getInt("template_version")),
                ts(query.to()), ts(query.from()), ts(query.from().minus(settings.savingsHorizon())));
        return CostCalculator.savings(savings, prices(), query.from(), query.to(), now(), settings.savingsHorizon());
    }

    @QueryHandler
    public CostQueries.PriceReport handle(CostQueries.Prices query) {
        List<CostQueries.TemplatePrice> templates = jdbc.query("""
                        SELECT p.*, t.name FROM cost_price p LEFT JOIN cost_template t ON t.template_id = p.template_id
                        ORDER BY t.name, p.template_id, p.version""",
                (rs, i) -> new CostQueries.TemplatePrice(rs.getString("template_id"), rs.getString("name"),
                        rs.getInt("version"), rs.getString("provider"), rs.getString("machine_type"),
                        rs.getString("currency"), plain(rs.getBigDecimal("running_per_hour")),
                        plain(rs.getBigDecimal("stopped_per_hour")), rs.getString("running_note"),
                        rs.getString("stopped_note")));
        return new CostQueries.PriceReport(catalogue.table(), templates);
    }

    @Override
    public BigDecimal spent(BudgetScope scope, String name, String currency, Instant from, Instant to) {
        return CostCalculator.spent(intervals(from, to, scope, name), prices(), currency, from, to);
    }

    /** Workspaces of a budget's scope that are RUNNING now (what a used-up budget with action stop stops). */
    public List<String> runningWorkspaces(BudgetScope scope, String name) {
        String column = scope == BudgetScope.TEAM ? "team" : "owner";
        return jdbc.queryForList("SELECT workspace_id FROM cost_workspace WHERE status = 'RUNNING' AND " + column
                + " = ? ORDER BY workspace_id", String.class, name);
    }

    private List<Interval> intervals(Instant from, Instant to, BudgetScope scope, String name) {
        List<Object> args = new ArrayList<>(List.of(ts(to), ts(from)));
        String filter = "";
        if (scope != null) {
            filter = scope == BudgetScope.TEAM ? " AND i.team = ?" : " AND i.owner = ?";
            args.add(name);
        }
        return jdbc.query("""
                        SELECT i.*, t.name AS template_name FROM cost_interval i
                        LEFT JOIN cost_template t ON t.template_id = i.template_id
                        WHERE i.start_at < ? AND (i.end_at IS NULL OR i.end_at > ?)""" + filter
                        + " ORDER BY i.workspace_id, i.seq",
                this::interval, args.toArray());
    }

    private Interval interval(ResultSet rs, int i) throws SQLException {
        return new Interval(rs.getString("workspace_id"), rs.getString("workspace_name"), rs.getString("owner"),
                rs.getString("team"), rs.getString("template_id"), rs.getString("template_name"),
                rs.getString("provider"), Billing.valueOf(rs.getString("state")), instant(rs.getTimestamp("start_at")),
                instant(rs.getTimestamp("end_at")), rs.getInt("template_version"));
    }

    private Map<PriceKey, Price> prices() {
        Map<PriceKey, Price> prices = new HashMap<>();
        jdbc.query("SELECT * FROM cost_price", rs -> {
            prices.put(new PriceKey(rs.getString("template_id"), rs.getInt("version")),
                    new Price(rs.getString("currency"), rs.getBigDecimal("running_per_hour"),
                            rs.getBigDecimal("stopped_per_hour"), rs.getString("running_note"),
                            rs.getString("stopped_note")));
        });
        return prices;
    }

    private Instant historyStart() {
        Timestamp first = jdbc.queryForObject("SELECT MIN(start_at) FROM cost_interval", Timestamp.class);
        return first == null ? null : first.toInstant();
    }

    /** Default report range: the current month so far. */
    public Instant startOfMonth() {
        return YearMonth.from(now().atZone(ZoneOffset.UTC)).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    private static BigDecimal plain(BigDecimal value) {
        return value == null ? null : CostCalculator.plain(value);
    }

    private static Timestamp ts(Instant instant) {
        return Timestamp.from(instant);
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
