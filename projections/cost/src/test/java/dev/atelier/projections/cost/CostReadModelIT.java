package dev.atelier.projections.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.atelier.domain.budget.BudgetAction;
import dev.atelier.domain.budget.BudgetPeriod;
import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.budget.BudgetSetEvent;
import dev.atelier.domain.budget.BudgetThresholdCrossedEvent;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.projections.cost.CostQueries.CostReport;
import dev.atelier.projections.cost.CostQueries.CostRow;
import dev.atelier.projections.cost.CostQueries.GroupBy;
import dev.atelier.projections.cost.CostQueries.Granularity;
import dev.atelier.support.TestDatabase;
import org.axonframework.queryhandling.SimpleQueryUpdateEmitter;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cost read model on hand-checked event histories (events with chosen timestamps through the projection's real
 * handlers, on PostgreSQL, with a controlled "now"): exact amounts across day and month boundaries, a price change
 * between template versions, stopped-disk cost, a workspace still running, UTC; forecast and savings with known
 * answers; budgets as the Workspace aggregate's guard sees them; and a rebuild that gives identical reports.
 */
class CostReadModelIT {

    private static HikariDataSource dataSource;
    private static JdbcTemplate jdbc;

    private final MutableClock clock = new MutableClock();
    private CostReports reports;
    private BudgetProjection budgets;
    private EventFeed feed;

    /** EUR 0.10/h running, 0.01/h stopped; version 2 doubles both. */
    private static final TemplateDefinition PYTHON_V1 = new TemplateDefinition("local", Map.of(), List.of(), null,
            new Pricing(new BigDecimal("0.10"), new BigDecimal("0.01"), "EUR"));
    private static final TemplateDefinition PYTHON_V2 = new TemplateDefinition("local", Map.of(), List.of(), null,
            new Pricing(new BigDecimal("0.20"), new BigDecimal("0.02"), "EUR"));
    private static final TemplateDefinition GPU = new TemplateDefinition("local", Map.of(), List.of(), null,
            new Pricing(new BigDecimal("0.50"), new BigDecimal("0.05"), "USD"));
    /** Not in the price table: unknown. */
    private static final TemplateDefinition ODD = new TemplateDefinition("aws-ec2",
            Map.of("instanceType", "x9.mega", "diskGb", 10), List.of(), null, null);
    /** From the table: m5.large 0.096 USD/h + 73 GB gp3 (73 x 0.08 / 730 = 0.008 USD/h). */
    private static final TemplateDefinition EC2 = new TemplateDefinition("aws-ec2",
            Map.of("instanceType", "m5.large", "diskGb", 73), List.of(), null, null);
    /** EUR 0.10/h running, nothing while stopped. */
    private static final TemplateDefinition PLAIN = new TemplateDefinition("local", Map.of(), List.of(), null,
            new Pricing(new BigDecimal("0.10"), BigDecimal.ZERO, "EUR"));

    @BeforeAll
    static void database() {
        dataSource = TestDatabase.migrated(2);
        jdbc = new JdbcTemplate(dataSource);
    }

    @AfterAll
    static void close() {
        dataSource.close();
    }

    @BeforeEach
    void projections() {
        PriceCatalogue catalogue = new PriceCatalogue(CostSettings.defaults());
        CostProjection costs = new CostProjection(jdbc, catalogue);
        reports = new CostReports(jdbc, CostSettings.defaults(), catalogue, clock);
        ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule());
        // The notices to other nodes go out as in production (nobody listens here).
        dev.atelier.cluster.ViewNotices notices = new dev.atelier.cluster.ViewNotices(jdbc, dataSource, json,
                new dev.atelier.cluster.Node(new dev.atelier.cluster.NodeSettings("cost-it")),
                new org.springframework.beans.factory.support.StaticListableBeanFactory()
                        .getBeanProvider(dev.atelier.cluster.ViewChangeHandler.class));
        budgets = new BudgetProjection(jdbc, json, SimpleQueryUpdateEmitter.builder().build(), reports, notices);
        feed = new EventFeed(costs, budgets);
        feed.replay(); // empty log: runs the reset handlers, a clean read model for every test
        jdbc.update("DELETE FROM cost_budget_history");
        jdbc.update("DELETE FROM cost_budget");
    }

    private static Instant at(String instant) {
        return OffsetDateTime.parse(instant).toInstant();
    }

    /**
     * The main history, "now" = 2026-04-02T12:00:00Z.
     * <ul>
     * <li>w1 (alpha, EUR): runs 03-31 22:30 - 04-01 01:15 on v1 (0.10/h), stopped until 10:00 (0.01/h), runs 10:00 -
     * 11:00 on v2 (0.20/h), stopped for idleness since (0.02/h).</li>
     * <li>w2 (beta, USD 0.50/h): started at 01:00 Berlin summer time on 04-02 = 04-01 23:00 UTC, still running.</li>
     * <li>w3 (alpha): a machine type the table does not know: unknown, never zero.</li>
     * <li>w4 (alpha, m5.large + 73 GB from the table, 0.104/0.008 USD/h): runs 04-01 00:00 - 02:00, stopped for its
     * maximum lifetime, deleted for dormancy at 03:00.</li>
     * </ul>
     */
    private void mainHistory() {
        Instant published = at("2026-03-01T00:00:00Z");
        feed.template("tpl-python", "python", PYTHON_V1, published);
        feed.version("tpl-python", 2, PYTHON_V2, published);
        feed.template("tpl-gpu", "gpu", GPU, published);
        feed.template("tpl-odd", "odd", ODD, published);
        feed.template("tpl-ec2", "ec2", EC2, published);

        feed.workspace("w1", "alice", "alpha", "tpl-python", "local", at("2026-03-31T22:30:00Z"))
                .succeeded(at("2026-03-31T22:31:00Z"))
                .stop(at("2026-04-01T01:00:00Z"), TransitionReason.USER).succeeded(at("2026-04-01T01:15:00Z"))
                .start(at("2026-04-01T10:00:00Z"), 2).succeeded(at("2026-04-01T10:00:30Z"))
                .stop(at("2026-04-01T11:00:00Z"), TransitionReason.IDLE).succeeded(at("2026-04-01T11:00:00.400Z"));
        feed.workspace("w2", "bob", "beta", "tpl-gpu", "local", at("2026-04-02T01:00:00+02:00"))
                .succeeded(at("2026-04-01T23:00:10Z"));
        feed.workspace("w3", "carol", "alpha", "tpl-odd", "aws-ec2", at("2026-04-01T08:00:00Z"))
                .succeeded(at("2026-04-01T08:01:00Z"))
                .stop(at("2026-04-01T09:00:00Z"), TransitionReason.USER).succeeded(at("2026-04-01T09:00:00Z"));
        feed.workspace("w4", "dave", "alpha", "tpl-ec2", "aws-ec2", at("2026-04-01T00:00:00Z"))
                .succeeded(at("2026-04-01T00:02:00Z"))
                .stop(at("2026-04-01T02:00:00Z"), TransitionReason.MAX_LIFETIME).succeeded(at("2026-04-01T02:00:00Z"))
                .delete(at("2026-04-01T03:00:00Z"), TransitionReason.DORMANCY).succeeded(at("2026-04-01T03:00:00Z"));
        clock.set(at("2026-04-02T12:00:00Z"));
    }

    private CostReport costs(GroupBy groupBy, Granularity granularity, String from, String to, String currency) {
        return reports.handle(new CostQueries.Costs(groupBy, granularity, at(from), at(to), currency));
    }

    private static CostRow row(CostReport report, String group, String period, String currency) {
        return report.rows().stream().filter(r -> java.util.Objects.equals(r.group(), group)
                        && r.period().equals(period) && java.util.Objects.equals(r.currency(), currency))
                .findFirst().orElseThrow(() -> new AssertionError("no row " + group + " " + period + " " + currency
                        + " in " + report.rows()));
    }

    @Test
    void dailySpendPerTeamAcrossDayAndMonthBoundariesPriceChangesStoppedDisksAndARunningWorkspace() {
        mainHistory();
        CostReport report = costs(GroupBy.TEAM, Granularity.DAY, "2026-03-31T00:00:00Z", "2026-04-03T00:00:00Z", null);

        // w1 on 03-31: 22:30-24:00 running at 0.10 = 1.5 h x 0.10
        assertThat(row(report, "alpha", "2026-03-31", "EUR").amount()).isEqualByComparingTo("0.1500");
        // w1 on 04-01: 1.25 h x 0.10 + 8.75 h x 0.01 (disk) + 1 h x 0.20 (v2) + 13 h x 0.02 (disk, v2)
        //            = 0.125 + 0.0875 + 0.20 + 0.26
        CostRow alphaApril1 = row(report, "alpha", "2026-04-01", "EUR");
        assertThat(alphaApril1.amount()).isEqualByComparingTo("0.6725");
        assertThat(alphaApril1.runningSeconds()).isEqualTo(4500 + 3600);
        assertThat(alphaApril1.stoppedSeconds()).isEqualTo(31500 + 46800);
        // w4 (USD, never added to EUR): 2 h x 0.104 + 1 h x 0.008
        assertThat(row(report, "alpha", "2026-04-01", "USD").amount()).isEqualByComparingTo("0.2160");
        // w3: unknown, with the time and the reason, not zero
        CostRow unknown = row(report, "alpha", "2026-04-01", null);
        assertThat(unknown.unknown()).isTrue();
        assertThat(unknown.amount()).isNull();
        assertThat(unknown.runningSeconds()).isEqualTo(3600);
        assertThat(unknown.stoppedSeconds()).isEqualTo(15 * 3600);
        assertThat(unknown.note()).contains("no price for aws-ec2 machine type 'x9.mega'");
        // w1 on 04-02 until now (12:00): 12 h x 0.02
        assertThat(row(report, "alpha", "2026-04-02", "EUR").amount()).isEqualByComparingTo("0.2400");
        assertThat(row(report, "alpha", "2026-04-02", null).stoppedSeconds()).isEqualTo(12 * 3600);
        // w2, started 01:00+02:00 = 23:00 UTC on 04-01, still running: 1 h then 12 h (to "now") x 0.50 USD
        assertThat(row(report, "beta", "2026-04-01", "USD").amount()).isEqualByComparingTo("0.5000");
        assertThat(row(report, "beta", "2026-04-02", "USD").amount()).isEqualByComparingTo("6.0000");
        assertThat(report.rows()).hasSize(8);
        assertThat(report.totals()).extracting(CostQueries.Money::currency, m -> m.amount().toPlainString())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("EUR", "1.0625"),
                        org.assertj.core.groups.Tuple.tuple("USD", "6.7160"));
        assertThat(report.incomplete()).isTrue();

        // A running workspace counts up to "now": an hour later, beta has spent 0.50 more.
        clock.set(at("2026-04-02T13:00:00Z"));
        assertThat(row(costs(GroupBy.TEAM, Granularity.DAY, "2026-03-31T00:00:00Z", "2026-04-03T00:00:00Z", null),
                "beta", "2026-04-02", "USD").amount()).isEqualByComparingTo("6.5000");
    }

    @Test
    void aWorkspaceFoundStoppedIsBilledAsStoppedAndOneFoundGoneIsBilledNoMore() {
        feed.template("tpl-python", "python", PYTHON_V1, at("2026-03-01T00:00:00Z"));
        feed.workspace("d1", "alice", "alpha", "tpl-python", "local", at("2026-04-01T00:00:00Z"))
                .succeeded(at("2026-04-01T00:00:00Z"))
                .drifted(at("2026-04-01T02:00:00Z"), dev.atelier.domain.workspace.DriftFinding.STOPPED);
        feed.workspace("d2", "bob", "beta", "tpl-python", "local", at("2026-04-01T00:00:00Z"))
                .succeeded(at("2026-04-01T00:00:00Z"))
                .drifted(at("2026-04-01T02:00:00Z"), dev.atelier.domain.workspace.DriftFinding.GONE);
        clock.set(at("2026-04-01T10:00:00Z"));
        CostReport report = costs(GroupBy.TEAM, Granularity.DAY, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z", null);
        // d1: 2 h running x 0.10, then 8 h stopped (the disk) x 0.01
        CostRow stopped = row(report, "alpha", "2026-04-01", "EUR");
        assertThat(stopped.amount()).isEqualByComparingTo("0.2800");
        assertThat(stopped.stoppedSeconds()).isEqualTo(8 * 3600);
        // d2: 2 h running, nothing after it was found gone
        CostRow gone = row(report, "beta", "2026-04-01", "EUR");
        assertThat(gone.amount()).isEqualByComparingTo("0.2000");
        assertThat(gone.stoppedSeconds()).isZero();
    }

    @Test
    void monthlySpendPerTeamTemplateAndWorkspaceWithACurrencyFilter() {
        mainHistory();
        CostReport march = costs(GroupBy.TEAM, Granularity.MONTH, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", null);
        assertThat(march.rows()).singleElement().satisfies(r -> {
            assertThat(r.group()).isEqualTo("alpha");
            assertThat(r.period()).isEqualTo("2026-03");
            assertThat(r.amount()).isEqualByComparingTo("0.15");
        });
        CostReport april = costs(GroupBy.TEAM, Granularity.MONTH, "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", null);
        assertThat(row(april, "alpha", "2026-04", "EUR").amount()).isEqualByComparingTo("0.9125");
        assertThat(row(april, "alpha", "2026-04", "USD").amount()).isEqualByComparingTo("0.2160");
        assertThat(row(april, "beta", "2026-04", "USD").amount()).isEqualByComparingTo("6.5000");

        // A range that cuts intervals: 04-01 00:30 - 01:00 is half an hour of w1 running (0.05) and of w4 (0.052).
        CostReport halfHour = costs(GroupBy.PROVIDER, Granularity.DAY, "2026-04-01T00:30:00Z", "2026-04-01T01:00:00Z", null);
        assertThat(row(halfHour, "local", "2026-04-01", "EUR").amount()).isEqualByComparingTo("0.0500");
        assertThat(row(halfHour, "aws-ec2", "2026-04-01", "USD").amount()).isEqualByComparingTo("0.0520");

        CostReport byTemplate = costs(GroupBy.TEMPLATE, Granularity.MONTH, "2026-04-01T00:00:00Z",
                "2026-05-01T00:00:00Z", null);
        assertThat(row(byTemplate, "tpl-python", "2026-04", "EUR").label()).isEqualTo("python");

        CostReport eurOnly = costs(GroupBy.WORKSPACE, Granularity.MONTH, "2026-04-01T00:00:00Z",
                "2026-05-01T00:00:00Z", "EUR");
        assertThat(eurOnly.rows()).extracting(CostRow::group, CostRow::currency).containsExactly(
                org.assertj.core.groups.Tuple.tuple("w1", "EUR"),
                org.assertj.core.groups.Tuple.tuple("w3", null)); // unknown cost is never hidden
        assertThat(row(eurOnly, "w1", "2026-04", "EUR").label()).isEqualTo("w1-name");
        assertThat(eurOnly.totals()).extracting(CostQueries.Money::currency).containsExactly("EUR");
    }

    @Test
    void savingsOfAutomaticStopsAreTheirPriceDifferenceUntilTheHorizon() {
        mainHistory();
        CostQueries.SavingsReport savings = reports.handle(new CostQueries.Savings(at("2026-04-01T00:00:00Z"),
                at("2026-04-03T00:00:00Z")));
        // w4 stopped for MAX_LIFETIME at 02:00: (0.104 - 0.008) USD/h for the horizon of 24 h = 2.304
        // w4 deleted for DORMANCY at 03:00: its disk, 0.008 USD/h for 24 h = 0.192
        // w1 stopped for IDLE at 11:00 on v2: (0.20 - 0.02) EUR/h for 24 h = 4.32
        // w1's stop by its owner (USER) and w3's are not savings.
        assertThat(savings.rows()).extracting(CostQueries.SavingRow::workspaceId, CostQueries.SavingRow::reason,
                        r -> r.amount().toPlainString(), CostQueries.SavingRow::currency,
                        CostQueries.SavingRow::countedUntilReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("w4", "MAX_LIFETIME", "2.3040", "USD", "horizon"),
                        org.assertj.core.groups.Tuple.tuple("w4", "DORMANCY", "0.1920", "USD", "horizon"),
                        org.assertj.core.groups.Tuple.tuple("w1", "IDLE", "4.3200", "EUR", "horizon"));
        assertThat(savings.rows().get(0).savedPerHour()).isEqualByComparingTo("0.096");
        assertThat(savings.totals()).extracting(m -> m.currency() + " " + m.amount().toPlainString())
                .containsExactly("EUR 4.3200", "USD 2.4960");
        assertThat(savings.byReason()).extracting(r -> r.reason() + " " + r.currency() + " " + r.amount().toPlainString())
                .containsExactly("DORMANCY USD 0.1920", "IDLE EUR 4.3200", "MAX_LIFETIME USD 2.3040");
    }

    @Test
    void savingsEndAtTheNextStartTheEndOfThePeriodOrNow() {
        feed.template("tpl-python", "python", PYTHON_V1, at("2026-03-01T00:00:00Z"));
        feed.workspace("w5", "erin", "gamma", "tpl-python", "local", at("2026-04-01T12:00:00Z"))
                .succeeded(at("2026-04-01T12:00:00Z"))
                .stop(at("2026-04-01T14:00:00Z"), TransitionReason.IDLE).succeeded(at("2026-04-01T14:00:00Z"))
                .start(at("2026-04-01T16:00:00Z"), 1).succeeded(at("2026-04-01T16:01:00Z"))
                .stop(at("2026-04-01T16:59:00Z"), TransitionReason.BUDGET).succeeded(at("2026-04-01T17:00:00Z"));
        clock.set(at("2026-04-02T12:00:00Z"));

        // 0.10 - 0.01 = 0.09 EUR/h not spent: 2 h until the next start; 19 h from 17:00 until now
        var whole = reports.handle(new CostQueries.Savings(at("2026-04-01T00:00:00Z"), at("2026-04-03T00:00:00Z")));
        assertThat(whole.rows()).extracting(r -> r.reason() + " " + r.seconds() + " " + r.amount().toPlainString()
                        + " " + r.countedUntilReason())
                .containsExactly("IDLE 7200 0.1800 next start", "BUDGET 68400 1.7100 now");
        assertThat(whole.rows().get(1).decidedAt()).isEqualTo(at("2026-04-01T16:59:00Z"));
        assertThat(whole.rows().get(1).stoppedAt()).isEqualTo(at("2026-04-01T17:00:00Z"));
        // A period that ends at midnight counts 7 h of the BUDGET stop; one that starts then, the 12 h after.
        var firstDay = reports.handle(new CostQueries.Savings(at("2026-04-01T00:00:00Z"), at("2026-04-02T00:00:00Z")));
        assertThat(firstDay.rows()).extracting(r -> r.reason() + " " + r.amount().toPlainString() + " "
                + r.countedUntilReason()).containsExactly("IDLE 0.1800 next start", "BUDGET 0.6300 end of period");
        var secondDay = reports.handle(new CostQueries.Savings(at("2026-04-02T00:00:00Z"), at("2026-04-03T00:00:00Z")));
        assertThat(secondDay.rows()).singleElement().satisfies(r -> {
            assertThat(r.countedFrom()).isEqualTo(at("2026-04-02T00:00:00Z"));
            assertThat(r.amount()).isEqualByComparingTo("1.08");
        });
    }

    @Test
    void forecastOfAMonthWithSteadyUseFollowsTheWeekdayPattern() {
        // Runs without a stop since the first of March at 0.10 EUR/h: 2.40 a day.
        feed.template("tpl-plain", "plain", PLAIN, at("2026-02-01T00:00:00Z"));
        feed.workspace("w", "alice", "alpha", "tpl-plain", "local", at("2026-03-01T00:00:00Z"))
                .succeeded(at("2026-03-01T00:00:00Z"));
        clock.set(at("2026-03-10T12:00:00Z"));
        var forecast = reports.handle(new CostQueries.Forecast("2026-03", GroupBy.TEAM));
        assertThat(forecast.method()).isEqualTo("WEEKDAY_PATTERN");
        assertThat(forecast.historyDays()).isEqualTo(9);
        // spent 9.5 days x 2.40 = 22.80; rest of today 12 h x 0.10 = 1.20; 21 days left x 2.40 = 50.40
        assertThat(forecast.rows()).singleElement().satisfies(r -> {
            assertThat(r.spentSoFar()).isEqualByComparingTo("22.80");
            assertThat(r.runRatePerHour()).isEqualByComparingTo("0.10");
            assertThat(r.restOfToday()).isEqualByComparingTo("1.20");
            assertThat(r.remainingDays()).isEqualByComparingTo("50.40");
            assertThat(r.projected()).isEqualByComparingTo("74.40");
        });
        assertThat(forecast.projected()).extracting(m -> m.currency() + " " + m.amount().toPlainString())
                .containsExactly("EUR 74.4000");
    }

    @Test
    void forecastOfOfficeHoursProjectsWeekdaysOnly() {
        // Mon-Fri 09:00-17:00 UTC since Monday 2026-02-16 at 0.10 EUR/h (0.80 a working day); running now,
        // Wednesday 2026-03-11 12:00.
        feed.template("tpl-plain", "plain", PLAIN, at("2026-02-01T00:00:00Z"));
        EventFeed.Workspace ws = null;
        Instant now = at("2026-03-11T12:00:00Z");
        for (LocalDate day = LocalDate.parse("2026-02-16"); !day.isAfter(LocalDate.parse("2026-03-11")); day = day.plusDays(1)) {
            if (day.getDayOfWeek() == DayOfWeek.SATURDAY || day.getDayOfWeek() == DayOfWeek.SUNDAY) {
                continue;
            }
            Instant nine = day.atTime(9, 0).toInstant(ZoneOffset.UTC);
            ws = ws == null ? feed.workspace("office", "alice", "alpha", "tpl-plain", "local", nine) : ws.start(nine, 1);
            ws.succeeded(nine);
            Instant five = day.atTime(17, 0).toInstant(ZoneOffset.UTC);
            if (five.isBefore(now)) {
                ws.stop(five, TransitionReason.USER).succeeded(five);
            }
        }
        clock.set(now);
        var forecast = reports.handle(new CostQueries.Forecast("2026-03", GroupBy.TEAM));
        assertThat(forecast.method()).isEqualTo("WEEKDAY_PATTERN");
        // History: 02-17 (the first whole day) to 03-10 = 22 days; Mon-Fri averaged 0.80, weekends 0.
        assertThat(forecast.historyDays()).isEqualTo(22);
        assertThat(forecast.historyFrom()).isEqualTo(at("2026-02-17T00:00:00Z"));
        // spent: 7 working days x 0.80 + 3 h today = 5.90; rest of today at the run rate 12 h x 0.10 = 1.20;
        // 14 working days left (12, 13, 16-20, 23-27, 30, 31) x 0.80 = 11.20
        assertThat(forecast.rows()).singleElement().satisfies(r -> {
            assertThat(r.spentSoFar()).isEqualByComparingTo("5.90");
            assertThat(r.restOfToday()).isEqualByComparingTo("1.20");
            assertThat(r.remainingDays()).isEqualByComparingTo("11.20");
            assertThat(r.projected()).isEqualByComparingTo("18.30");
        });
    }

    @Test
    void forecastWithLittleOrNoHistoryAndOfAPastMonth() {
        feed.template("tpl-plain", "plain", PLAIN, at("2026-02-01T00:00:00Z"));
        // Ran 03-07 00:00 - 03-09 00:00 (2.40 a day), stopped since (free): history 03-07..03-09 = 3 days.
        feed.workspace("w", "alice", "alpha", "tpl-plain", "local", at("2026-03-07T00:00:00Z"))
                .succeeded(at("2026-03-07T00:00:00Z"))
                .stop(at("2026-03-09T00:00:00Z"), TransitionReason.USER).succeeded(at("2026-03-09T00:00:00Z"));
        clock.set(at("2026-03-10T12:00:00Z"));
        var average = reports.handle(new CostQueries.Forecast("2026-03", GroupBy.OWNER));
        assertThat(average.method()).isEqualTo("DAILY_AVERAGE");
        assertThat(average.historyDays()).isEqualTo(3);
        // spent 4.80; run rate 0; (2.40 + 2.40 + 0) / 3 = 1.60 a day x 21 days = 33.60
        assertThat(average.rows()).singleElement().satisfies(r -> {
            assertThat(r.group()).isEqualTo("alice");
            assertThat(r.spentSoFar()).isEqualByComparingTo("4.80");
            assertThat(r.remainingDays()).isEqualByComparingTo("33.60");
            assertThat(r.projected()).isEqualByComparingTo("38.40");
        });

        // The month is over: projected = spent.
        clock.set(at("2026-04-05T00:00:00Z"));
        var past = reports.handle(new CostQueries.Forecast("2026-03", GroupBy.TEAM));
        assertThat(past.method()).isEqualTo("ACTUAL");
        assertThat(past.rows()).singleElement().satisfies(r -> {
            assertThat(r.spentSoFar()).isEqualByComparingTo("4.80");
            assertThat(r.projected()).isEqualByComparingTo("4.80");
        });
    }

    @Test
    void forecastWithoutAWholeDayOfHistoryUsesTheRunRate() {
        feed.template("tpl-plain", "plain", PLAIN, at("2026-02-01T00:00:00Z"));
        feed.workspace("w", "alice", "alpha", "tpl-plain", "local", at("2026-03-10T06:00:00Z"))
                .succeeded(at("2026-03-10T06:00:00Z"));
        clock.set(at("2026-03-10T12:00:00Z"));
        var forecast = reports.handle(new CostQueries.Forecast("2026-03", GroupBy.TEAM));
        assertThat(forecast.method()).isEqualTo("RUN_RATE");
        // 6 h so far = 0.60; 12 h + 21 days at 0.10/h = 1.20 + 50.40
        assertThat(forecast.rows()).singleElement().satisfies(r -> {
            assertThat(r.spentSoFar()).isEqualByComparingTo("0.60");
            assertThat(r.projected()).isEqualByComparingTo("52.20");
        });
    }

    @Test
    void aFailedStartOfAWorkspaceThatNeverRanCostsNothingAndOneThatRanKeepsItsDisk() {
        feed.template("tpl-python", "python", PYTHON_V1, at("2026-03-01T00:00:00Z"));
        feed.workspace("never", "alice", "alpha", "tpl-python", "local", at("2026-04-01T00:00:00Z"))
                .failed(at("2026-04-01T00:10:00Z"));
        feed.workspace("ran", "alice", "beta", "tpl-python", "local", at("2026-04-01T00:00:00Z"))
                .succeeded(at("2026-04-01T00:00:00Z"))
                .stop(at("2026-04-01T01:00:00Z"), TransitionReason.USER).succeeded(at("2026-04-01T01:00:00Z"))
                .start(at("2026-04-01T02:00:00Z"), 1).failed(at("2026-04-01T02:06:00Z"));
        clock.set(at("2026-04-01T03:00:00Z"));
        CostReport report = costs(GroupBy.WORKSPACE, Granularity.DAY, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z", null);
        // STARTING is billed as running: 10 min x 0.10
        assertThat(row(report, "never", "2026-04-01", "EUR").amount()).isEqualByComparingTo("0.0167");
        // 1 h running + 1 h disk + 6 min starting + 54 min disk after the failed start
        CostRow ran = row(report, "ran", "2026-04-01", "EUR");
        assertThat(ran.runningSeconds()).isEqualTo(3600 + 360);
        assertThat(ran.stoppedSeconds()).isEqualTo(3600 + 3240);
        assertThat(ran.amount()).isEqualByComparingTo("0.1290"); // 0.10 + 0.01 + 0.01 + 0.009
    }

    @Test
    void aRebuildFromTheSameEventsGivesIdenticalReports() {
        mainHistory();
        List<Object> before = everyReport();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM cost_interval", Integer.class)).isPositive();
        feed.replay();
        assertThat(everyReport()).isEqualTo(before);
    }

    private List<Object> everyReport() {
        List<Object> all = new java.util.ArrayList<>();
        for (GroupBy groupBy : GroupBy.values()) {
            for (Granularity granularity : Granularity.values()) {
                all.add(costs(groupBy, granularity, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", null));
            }
            all.add(reports.handle(new CostQueries.Forecast("2026-04", groupBy)));
        }
        all.add(reports.handle(new CostQueries.Savings(at("2026-03-01T00:00:00Z"), at("2026-05-01T00:00:00Z"))));
        all.add(reports.handle(new CostQueries.Prices()).templates());
        return all;
    }

    @Test
    void budgetsBlockTheirScopeUntilTheMonthEndsOrTheyAreRaised() {
        mainHistory();
        // What a budget of team alpha in EUR sees of April until now: w1 only (w4 is USD, w3 unknown).
        assertThat(reports.spent(BudgetScope.TEAM, "alpha", "EUR", at("2026-04-01T00:00:00Z"), clock.instant()))
                .isEqualByComparingTo("0.9125");
        assertThat(reports.spent(BudgetScope.OWNER, "bob", "USD", at("2026-04-01T00:00:00Z"), clock.instant()))
                .isEqualByComparingTo("6.50");
        Instant now = clock.instant();
        Actor fiona = Actor.user("fiona");
        feed.publish("Budget", "team:alpha", new BudgetSetEvent("team:alpha", BudgetScope.TEAM, "alpha",
                new BigDecimal("0.90"), "EUR", BudgetPeriod.MONTH, BudgetAction.STOP, null, BigDecimal.ZERO, "2026-04",
                0, fiona), now);
        assertThat(budgets.blocking("alice", "alpha", now)).isEmpty();
        feed.publish("Budget", "team:alpha", new BudgetThresholdCrossedEvent("team:alpha", BudgetScope.TEAM, "alpha",
                "2026-04", 100, new BigDecimal("0.9125"), new BigDecimal("0.90"), "EUR", BudgetAction.STOP, now), now);
        assertThat(budgets.blocking("anybody", "alpha", now)).get().satisfies(block -> {
            assertThat(block.describe()).contains("the budget of team 'alpha' (0.9 EUR per month, action stop) is used "
                    + "up for 2026-04", "until 2026-05-01T00:00:00Z");
        });
        assertThat(budgets.blocking("alice", "beta", now)).isEmpty();
        assertThat(budgets.blocking("alice", null, now)).isEmpty();
        assertThat(budgets.blocking("alice", "alpha", at("2026-05-01T00:00:00Z"))).isEmpty(); // next month
        assertThat(reports.runningWorkspaces(BudgetScope.TEAM, "beta")).containsExactly("w2");
        assertThat(reports.runningWorkspaces(BudgetScope.TEAM, "alpha")).isEmpty();

        var view = budgets.handle(new BudgetQueries.ListBudgets());
        assertThat(view).singleElement().satisfies(b -> {
            assertThat(b.status()).isEqualTo("EXHAUSTED");
            assertThat(b.blocking()).isTrue();
            assertThat(b.spent()).isEqualByComparingTo("0.9125");
            assertThat(b.percent()).isEqualByComparingTo("101.4");
        });

        // Raised: the aggregate says which thresholds still count.
        feed.publish("Budget", "team:alpha", new BudgetSetEvent("team:alpha", BudgetScope.TEAM, "alpha",
                new BigDecimal("2"), "EUR", BudgetPeriod.MONTH, BudgetAction.STOP, new BigDecimal("0.90"),
                new BigDecimal("0.9125"), "2026-04", 0, fiona), now);
        assertThat(budgets.blocking("alice", "alpha", now)).isEmpty();

        // An owner's budget blocks that owner's workspaces in any team.
        feed.publish("Budget", "owner:bob", new BudgetSetEvent("owner:bob", BudgetScope.OWNER, "bob",
                new BigDecimal("5"), "USD", BudgetPeriod.MONTH, BudgetAction.STOP, null, new BigDecimal("6.50"),
                "2026-04", 100, fiona), now);
        assertThat(budgets.blocking("bob", "gamma", now)).get()
                .satisfies(block -> assertThat(block.scope()).isEqualTo(BudgetScope.OWNER));
        var detail = budgets.handle(new BudgetQueries.FindBudget("team:alpha")).orElseThrow();
        assertThat(detail.history()).extracting(BudgetQueries.HistoryEntry::type)
                .containsExactly("BudgetSet", "BudgetThresholdCrossed", "BudgetSet");
    }

    /** "Now" under the test's control. */
    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
