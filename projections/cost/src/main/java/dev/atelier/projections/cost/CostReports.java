package dev.atelier.projections.cost;

import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.budget.SpendReader;
import dev.atelier.projections.cost.CostCalculator.Price;
import dev.atelier.projections.cost.CostCalculator.PriceKey;
import dev.atelier.projections.cost.CostProjection.Billing;
import org.axonframework.queryhandling.QueryHandler;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
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
    private final CostUsage usage;
    private final TransactionTemplate snapshot;

    @Autowired
    public CostReports(JdbcTemplate jdbc, CostSettings settings, PriceCatalogue catalogue, ObjectProvider<Clock> clock) {
        this(jdbc, settings, catalogue, clock.getIfAvailable(Clock::systemUTC));
    }

    CostReports(JdbcTemplate jdbc, CostSettings settings, PriceCatalogue catalogue, Clock clock) {
        this.jdbc = jdbc;
        this.settings = settings;
        this.catalogue = catalogue;
        this.clock = clock;
        this.usage = new CostUsage(jdbc);
        // The forecast reads several times; one snapshot keeps them consistent with each other. A transaction of its
        // own: joined to the query bus's transaction, the isolation level would be ignored.
        this.snapshot = new TransactionTemplate(new DataSourceTransactionManager(jdbc.getDataSource()));
        this.snapshot.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        this.snapshot.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
        this.snapshot.setReadOnly(true);
    }

    public Instant now() {
        return CostProjection.seconds(clock.instant());
    }

    @QueryHandler
    public CostQueries.CostReport handle(CostQueries.Costs query) {
        Instant now = now();
        return CostCalculator.report(usage.usage(query.groupBy(), query.granularity(), query.from(),
                        CostCalculator.earlier(query.to(), now), null), prices(), query.groupBy(), query.granularity(),
                query.from(), query.to(), now, query.currency());
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
        CostCalculator.UsageSource source = new CostCalculator.UsageSource() {
            @Override
            public List<CostCalculator.Usage> usage(Instant from, Instant to, CostQueries.Granularity granularity) {
                return usage.usage(query.groupBy(), granularity, from, to, null);
            }

            @Override
            public List<CostCalculator.Open> open() {
                return usage.open(query.groupBy(), now);
            }
        };
        return snapshot.execute(tx -> CostCalculator.forecast(source, prices(), query.groupBy(), month, now,
                settings.forecastLookback(), historyStart()));
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
        CostQueries.GroupBy groupBy = scope == BudgetScope.TEAM ? CostQueries.GroupBy.TEAM : CostQueries.GroupBy.OWNER;
        return CostCalculator.spent(usage.usage(groupBy, CostQueries.Granularity.MONTH, from, to,
                new CostUsage.Scope(scope, name)), prices(), currency);
    }

    /** Workspaces of a budget's scope that are RUNNING now (what a used-up budget with action stop stops). */
    public List<String> runningWorkspaces(BudgetScope scope, String name) {
        String column = scope == BudgetScope.TEAM ? "team" : "owner";
        return jdbc.queryForList("SELECT workspace_id FROM cost_workspace WHERE status = 'RUNNING' AND " + column
                + " = ? ORDER BY workspace_id", String.class, name);
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
