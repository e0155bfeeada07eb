package dev.atelier.projections.cost;

import com.zaxxer.hikari.HikariDataSource;
import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.projections.cost.CostCalculator.Usage;
import dev.atelier.projections.cost.CostQueries.Granularity;
import dev.atelier.projections.cost.CostQueries.GroupBy;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daily rollup ({@code cost_usage_day}) and the owners' monthly rollup ({@code cost_usage_owner_month}) against
 * the intervals they summarise: for random histories (day and month
 * boundaries, price versions, failed starts, deletes, workspaces without a team, a still-running fleet) every
 * report range, granularity and grouping the rollup serves gives exactly the seconds that summing the intervals
 * themselves gives; and the migration's backfill builds the same rollup as the projection does event by event.
 */
class CostRollupIT {

    private static final String[] TEAMS = {"alpha", "beta", null};
    private static HikariDataSource dataSource;
    private static JdbcTemplate jdbc;

    @BeforeAll
    static void database() {
        dataSource = TestDatabase.migrated(2);
        jdbc = new JdbcTemplate(dataSource);
    }

    @AfterAll
    static void close() {
        dataSource.close();
    }

    @Test
    void theRollupGivesTheSameSecondsAsTheIntervalsForEveryRangeGranularityAndGrouping() throws IOException {
        Random random = new Random(42);
        Instant begin = Instant.parse("2026-03-28T00:00:00Z");
        Instant now = history(random, begin, 40);
        // A close stamped before its open (clock skew between nodes) bills nothing, on every path.
        jdbc.update("""
                INSERT INTO cost_interval (workspace_id, seq, state, start_at, end_at, template_id, template_version,
                    workspace_name, owner, team, provider)
                VALUES ('skewed', 1, 'RUNNING', ?, ?, 'tpl-a', 1, 'skewed', 'user1', 'alpha', 'local')""",
                java.sql.Timestamp.from(begin.plus(Duration.ofDays(12)).plusSeconds(7200)),
                java.sql.Timestamp.from(begin.plus(Duration.ofDays(12)).plusSeconds(3600)));
        Long rollupRows = jdbc.queryForObject("SELECT count(*) FROM cost_usage_day", Long.class);
        assertThat(rollupRows).as("the history closed intervals").isGreaterThan(50);
        // The history crosses a month boundary: the owners' monthly rollup has rows in two months.
        assertThat(jdbc.queryForObject("SELECT count(DISTINCT month) FROM cost_usage_owner_month", Long.class))
                .isGreaterThanOrEqualTo(2);

        CostUsage usage = new CostUsage(jdbc);
        List<Instant[]> ranges = new ArrayList<>();
        ranges.add(new Instant[]{Instant.parse("2026-04-01T00:00:00Z"), Instant.parse("2026-05-01T00:00:00Z")});
        ranges.add(new Instant[]{Instant.parse("2026-04-01T00:00:00Z"), now});
        ranges.add(new Instant[]{begin, now});
        ranges.add(new Instant[]{now.minus(Duration.ofHours(5)), now});
        // After the last closed interval the partial last day comes from the rollup; before it, from the intervals.
        Instant lastEnd = jdbc.queryForObject("SELECT max(end_at) FROM cost_interval", java.sql.Timestamp.class).toInstant();
        ranges.add(new Instant[]{begin.plus(Duration.ofDays(10)), lastEnd.plus(Duration.ofHours(3))});
        ranges.add(new Instant[]{lastEnd.truncatedTo(java.time.temporal.ChronoUnit.DAYS), lastEnd.plusSeconds(1)});
        ranges.add(new Instant[]{lastEnd.minus(Duration.ofHours(30)), lastEnd.minusSeconds(1)});
        for (int i = 0; i < 12; i++) {
            Instant a = begin.plusSeconds(random.nextInt(45 * 86_400));
            Instant b = a.plusSeconds(1 + random.nextInt(20 * 86_400));
            ranges.add(new Instant[]{a, CostCalculator.earlier(b, now)});
        }
        int compared = 0;
        for (Instant[] range : ranges) {
            for (Granularity granularity : Granularity.values()) {
                for (GroupBy groupBy : GroupBy.values()) {
                    Map<String, Long> viaRollup = sum(usage.usage(groupBy, granularity, range[0], range[1], null, false));
                    Map<String, Long> viaIntervals = sum(usage.usage(groupBy, granularity, range[0], range[1], null, true));
                    assertThat(viaRollup).as("%s by %s from %s to %s", granularity, groupBy, range[0], range[1])
                            .isEqualTo(viaIntervals);
                    compared += viaIntervals.size();
                }
            }
            CostUsage.Scope alpha = new CostUsage.Scope(BudgetScope.TEAM, "alpha");
            assertThat(sum(usage.usage(GroupBy.TEAM, Granularity.MONTH, range[0], range[1], alpha, false)))
                    .isEqualTo(sum(usage.usage(GroupBy.TEAM, Granularity.MONTH, range[0], range[1], alpha, true)));
            CostUsage.Scope user = new CostUsage.Scope(BudgetScope.OWNER, "user1");
            assertThat(sum(usage.usage(GroupBy.OWNER, Granularity.DAY, range[0], range[1], user, false)))
                    .isEqualTo(sum(usage.usage(GroupBy.OWNER, Granularity.DAY, range[0], range[1], user, true)));
            // An owner budget reads the owner's monthly rollup.
            assertThat(sum(usage.usage(GroupBy.OWNER, Granularity.MONTH, range[0], range[1], user, false)))
                    .isEqualTo(sum(usage.usage(GroupBy.OWNER, Granularity.MONTH, range[0], range[1], user, true)));
        }
        assertThat(compared).as("non-empty rows compared").isGreaterThan(200);

        // A "now" with a fraction of a second counts whole seconds, as the intervals do.
        Instant month = Instant.parse("2026-04-01T00:00:00Z");
        assertThat(sum(usage.usage(GroupBy.TEAM, Granularity.MONTH, month, now.plusMillis(999), null, false)))
                .isEqualTo(sum(usage.usage(GroupBy.TEAM, Granularity.MONTH, month, now, null, true)));

        // What is billed right now, from cost_workspace, is what the open intervals say.
        long open = usage.open(GroupBy.WORKSPACE, now).stream().mapToLong(CostCalculator.Open::count).sum();
        assertThat(open).isPositive().isEqualTo(jdbc.queryForObject(
                "SELECT count(*) FROM cost_interval WHERE end_at IS NULL AND start_at <= ?", Long.class,
                java.sql.Timestamp.from(now)));

        // The migrations' backfills, run over the same intervals, build the same rollups.
        List<Map<String, Object>> incremental = rollup();
        jdbc.update("DELETE FROM cost_usage_day");
        jdbc.update(backfill("V22__cost_usage_day.sql", "INSERT INTO cost_usage_day"));
        assertThat(rollup()).isEqualTo(incremental);
        List<Map<String, Object>> ownerIncremental = ownerRollup();
        assertThat(ownerIncremental).isNotEmpty();
        jdbc.update("DELETE FROM cost_usage_owner_month");
        jdbc.update(backfill("V68__cost_usage_owner_month.sql", "INSERT INTO cost_usage_owner_month"));
        assertThat(ownerRollup()).isEqualTo(ownerIncremental);
    }

    /** Random lifecycles of 40 workspaces from {@code begin} for {@code days}; returns "now" (the end). */
    private Instant history(Random random, Instant begin, int days) {
        PriceCatalogue catalogue = new PriceCatalogue(CostSettings.defaults());
        EventFeed feed = new EventFeed(new CostProjection(jdbc, catalogue));
        feed.replay();
        TemplateDefinition v1 = new TemplateDefinition("local", Map.of(), List.of(), null,
                new Pricing(new BigDecimal("0.10"), new BigDecimal("0.01"), "EUR"));
        TemplateDefinition v2 = new TemplateDefinition("local", Map.of(), List.of(), null,
                new Pricing(new BigDecimal("0.20"), new BigDecimal("0.02"), "EUR"));
        feed.template("tpl-a", "a", v1, begin);
        feed.version("tpl-a", 2, v2, begin);
        feed.template("tpl-b", "b", v1, begin);
        Instant end = begin.plus(Duration.ofDays(days));
        // Events must arrive in time order per workspace only; interleaving across workspaces is irrelevant here.
        for (int w = 0; w < 40; w++) {
            String template = w % 4 == 0 ? "tpl-b" : "tpl-a";
            Instant t = begin.plusSeconds(random.nextInt(3 * 86_400));
            EventFeed.Workspace ws = feed.workspace("w" + w, "user" + (w % 5), TEAMS[w % 3], template,
                    w % 2 == 0 ? "local" : "docker", t);
            t = t.plusSeconds(1 + random.nextInt(120));
            ws.succeeded(t);
            boolean running = true;
            boolean deleted = false;
            while (!deleted) {
                t = t.plusSeconds(60 + random.nextInt(random.nextBoolean() ? 8 * 3600 : 4 * 86_400));
                if (t.isAfter(end)) {
                    break;
                }
                int choice = random.nextInt(20);
                if (running) {
                    ws.stop(t, random.nextBoolean() ? TransitionReason.USER : TransitionReason.IDLE);
                    t = t.plusSeconds(random.nextInt(30));
                    ws.succeeded(t);
                    running = false;
                } else if (choice == 0) {
                    ws.delete(t, TransitionReason.USER).succeeded(t.plusSeconds(5));
                    deleted = true;
                } else {
                    ws.start(t, template.equals("tpl-a") ? 1 + random.nextInt(2) : 1);
                    t = t.plusSeconds(random.nextInt(90));
                    if (choice == 1) {
                        ws.failed(t);
                    } else {
                        ws.succeeded(t);
                        running = true;
                    }
                }
            }
        }
        return end;
    }

    /** Seconds per (group, label, template, version, state, period). */
    private static Map<String, Long> sum(List<Usage> usage) {
        Map<String, Long> out = new TreeMap<>();
        for (Usage u : usage) {
            if (u.seconds() != 0) {
                out.merge(String.join("|", u.group(), u.label(), u.templateId(), Integer.toString(u.version()),
                        u.state().name(), u.periodStart().toString()), u.seconds(), Long::sum);
            }
        }
        return out;
    }

    private static List<Map<String, Object>> rollup() {
        return jdbc.queryForList("SELECT * FROM cost_usage_day ORDER BY day, team, template_id, template_version, "
                + "provider, state");
    }

    private static List<Map<String, Object>> ownerRollup() {
        return jdbc.queryForList("SELECT * FROM cost_usage_owner_month ORDER BY month, owner, template_id, "
                + "template_version, provider, state");
    }

    /** The last statement of a migration, from {@code start} on. */
    private static String backfill(String migration, String start) throws IOException {
        try (InputStream in = CostRollupIT.class.getResourceAsStream("/db/migration/" + migration)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.substring(text.indexOf(start));
        }
    }
}
