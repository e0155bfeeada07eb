package dev.atelier.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.jdbc.core.JdbcTemplate;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue phase 5. The cost month report by team and the forecast over the usage intervals of {@code costWorkspaces}
 * workspaces (100,000 in a full run), through the HTTP API.
 *
 * <p>The usage is a working fleet since the first day of the previous month: every workspace runs about eight
 * hours each weekday (its own start time between 08:00 and 10:00 UTC) and is stopped in between, so each has ~44
 * intervals a month and one open interval now (a full run: ~8M intervals). They are written server-side into
 * {@code cost_interval}, and the daily rollup is built from them with the engine's own backfill statement (the one
 * of migration V22), so the read model is what the cost projection would have written for those events. Their
 * teams ({@code cost-team-N}, 500 workspaces each), owners and 20 templates (created through the API, with prices)
 * are the benchmark's own (each team uses three of the templates); the earlier phases' workspaces are in the
 * reports too.
 *
 * <p>Each report is asked {@code costRepetitions} times after a warm-up, and its total billed seconds of the seeded
 * teams is checked against what the pattern implies (every seeded workspace is billed without a gap since before the
 * month began), so a fast but wrong report does not pass.
 */
final class CostReportPhase implements BenchPhase {

    static final String TITLE = "5 Cost report";
    private static final int TEMPLATES = 20;
    private static final int PER_TEAM = 500;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String id() {
        return "cost";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int workspaces = run.config.costWorkspaces();
        Map<String, Object> p = run.report.phase(id());
        List<String> templates = new ArrayList<>();
        for (int i = 0; i < TEMPLATES; i++) {
            templates.add(run.createTemplate("bench-cost-" + i, null));
        }
        JdbcTemplate jdbc = run.engine.jdbc();
        run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(2));
        Instant now = Instant.now();
        YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
        LocalDate historyStart = month.minusMonths(1).atDay(1);
        long intervals = seed(run, jdbc, workspaces, templates, historyStart, now, p);
        p.put("workspaces", workspaces);
        p.put("intervals", intervals);
        p.put("historyFrom", historyStart.toString());
        run.report.line(TITLE, String.format(Locale.ROOT,
                "%,d workspaces in %,d teams, %,d usage intervals since %s (%,d rows in the daily rollup); seeded in %.0f s",
                workspaces, teams(workspaces), intervals, historyStart, p.get("rollupRows"), p.get("seedSeconds")));

        String current = month.toString();
        String previous = month.minusMonths(1).toString();
        int n = run.config.costRepetitions();
        Stats.Summary teamMonth = measure(run, p, "teamMonth", "/api/v1/costs?groupBy=team&month=" + current, n,
                body -> checkSeededSeconds(body, workspaces, month, p));
        measure(run, p, "teamPreviousMonth", "/api/v1/costs?groupBy=team&month=" + previous, n, null);
        measure(run, p, "teamMonthByDay", "/api/v1/costs?groupBy=team&granularity=day&month=" + current, n, null);
        Stats.Summary forecast = measure(run, p, "forecast", "/api/v1/costs/forecast?groupBy=team&month=" + current, n,
                body -> p.put("forecastMethod", body.path("method").asText()));
        // Owners have their own monthly rollup (migration V68): whole months from it, open intervals per workspace.
        Stats.Summary ownerMonth = measure(run, p, "ownerMonth", "/api/v1/costs?groupBy=owner&month=" + current, n,
                null);

        run.report.atMost("cost.month", "Cost month report by team at " + String.format(Locale.ROOT, "%,d", workspaces)
                        + " workspaces (p99)", "≤ 500 ms", 500, teamMonth.p99Ms(), "ms",
                String.format(Locale.ROOT, "%,d intervals; forecast p99 %.0f ms", intervals, forecast.p99Ms()));
        run.report.atMost("cost.owner", "Cost month report by owner at " + String.format(Locale.ROOT, "%,d",
                workspaces) + " workspaces (p99)", "≤ 1,000 ms", 1000, ownerMonth.p99Ms(), "ms",
                String.format(Locale.ROOT, "%,d owners", Math.max(1, workspaces * 2 / 5)));
    }

    private interface Check {
        void accept(JsonNode body);
    }

    private static Stats.Summary measure(BenchRun run, Map<String, Object> p, String name, String path, int times,
                                         Check check) throws IOException {
        // Warm-up: JIT, plan caches, the rollup's pages in shared buffers.
        for (int i = 0; i < Math.min(3, times); i++) {
            run.http.send("GET", path, run.admin(), null).expect(200, name);
        }
        Stats.Samples samples = new Stats.Samples();
        int rows = 0;
        int bytes = 0;
        for (int i = 0; i < times; i++) {
            BenchHttp.Response r = run.http.send("GET", path, run.admin(), null).expect(200, name);
            samples.add(r.latencyNanos());
            if (i == 0) {
                JsonNode body = JSON.readTree(r.body());
                rows = body.path("rows").size();
                bytes = r.body().length();
                if (check != null) {
                    check.accept(body);
                }
            }
        }
        Stats.Summary s = samples.summary();
        Map<String, Object> m = new LinkedHashMap<>(s.toMap());
        m.put("rows", rows);
        m.put("responseBytes", bytes);
        m.put("path", path);
        p.put(name, m);
        run.report.line(TITLE, String.format(Locale.ROOT, "`GET %s` (%,d rows): %s", path, rows, s));
        BenchRun.log("cost: %s %s", name, s);
        return s;
    }

    /** Every seeded workspace is billed (running or stopped) from the month's start to the report's "now". */
    private static void checkSeededSeconds(JsonNode body, int workspaces, YearMonth month, Map<String, Object> p) {
        Instant asOf = Instant.parse(body.path("asOf").asText());
        long expected = (long) workspaces * Duration.between(month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                asOf).getSeconds();
        long billed = 0;
        for (JsonNode row : body.path("rows")) {
            if (row.path("group").asText().startsWith("cost-team-")) {
                billed += row.path("runningSeconds").asLong() + row.path("stoppedSeconds").asLong();
            }
        }
        p.put("seededSecondsExpected", expected);
        p.put("seededSecondsReported", billed);
        if (billed != expected) {
            throw new IllegalStateException("the month report bills " + billed + " s for the seeded teams, the "
                    + "seeded usage is " + expected + " s");
        }
    }

    private static int teams(int workspaces) {
        return Math.max(1, (workspaces + PER_TEAM - 1) / PER_TEAM);
    }

    private static long seed(BenchRun run, JdbcTemplate jdbc, int workspaces, List<String> templates,
                             LocalDate historyStart, Instant now, Map<String, Object> p) throws IOException {
        long start = System.nanoTime();
        String nowUtc = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).atZone(ZoneOffset.UTC).toLocalDateTime()
                .toString();
        // Per weekday d: RUNNING [d + offset, d + offset + 8 h + jitter), then STOPPED until the next weekday's start
        // (Friday's until Monday's). Intervals that end after "now" are open; those that start after it do not exist
        // (one that starts exactly then is open, so that the one ending then is followed without a gap).
        String insert = """
                INSERT INTO cost_interval (workspace_id, seq, state, start_at, end_at, template_id,
                    template_version, workspace_name, owner, team, provider)
                SELECT 'bench-cost-' || w, k * 2 + s, CASE s WHEN 0 THEN 'RUNNING' ELSE 'STOPPED' END,
                    b AT TIME ZONE 'UTC', CASE WHEN e > CAST(? AS timestamp) THEN NULL ELSE e AT TIME ZONE 'UTC' END,
                    (string_to_array(?, ','))[1 + ((w / %2$d) * 7 + (w %% 3) * 5) %% %1$d], 1, 'bench-cost-' || w,
                    'cost-user-' || (w * 7 %% ?), 'cost-team-' || (w / %2$d), ?
                FROM generate_series(?, ?) AS w
                CROSS JOIN LATERAL (SELECT interval '8 hours' + (w %% 120) * interval '1 minute' AS offset_,
                    interval '8 hours' + (w %% 61) * interval '1 minute' AS length_) o
                CROSS JOIN LATERAL (SELECT day, row_number() OVER (ORDER BY day) - 1 AS k,
                        day + CASE extract(isodow FROM day) WHEN 5 THEN 3 ELSE 1 END * interval '1 day' AS next_day
                    FROM generate_series(CAST(? AS timestamp), CAST(? AS timestamp), interval '1 day') AS day
                    WHERE extract(isodow FROM day) < 6) d
                CROSS JOIN generate_series(0, 1) AS s
                CROSS JOIN LATERAL (SELECT CASE s WHEN 0 THEN d.day + o.offset_ ELSE d.day + o.offset_ + o.length_ END AS b,
                    CASE s WHEN 0 THEN d.day + o.offset_ + o.length_ ELSE d.next_day + o.offset_ END AS e) t
                WHERE b <= CAST(? AS timestamp)""".formatted(TEMPLATES, PER_TEAM);
        int owners = Math.max(1, workspaces * 2 / 5);
        long rows = 0;
        String today = now.atZone(ZoneOffset.UTC).toLocalDate().toString();
        for (int from = 0; from < workspaces; from += 10_000) {
            int to = Math.min(workspaces, from + 10_000) - 1;
            rows += jdbc.update(insert, nowUtc, String.join(",", templates), owners, NullProvider.NAME, from, to,
                    historyStart.toString(), today, nowUtc);
        }
        BenchRun.log("cost: %,d intervals generated in %.1f s", rows, BenchRun.seconds(System.nanoTime() - start));
        // The rollups of the seeded closed intervals, by the migrations' own backfill statements.
        String where = "WHERE i.end_at IS NOT NULL";
        for (String[] migration : new String[][]{{"V22__cost_usage_day.sql", "INSERT INTO cost_usage_day"},
                {"V68__cost_usage_owner_month.sql", "INSERT INTO cost_usage_owner_month"}}) {
            String backfill = backfill(migration[0], migration[1]);
            if (!backfill.contains(where)) {
                throw new IllegalStateException("the backfill of " + migration[0] + " changed: " + backfill);
            }
            jdbc.update(backfill.replace(where, "WHERE i.workspace_id LIKE 'bench-cost-%' AND i.end_at IS NOT NULL"));
        }
        jdbc.update("""
                INSERT INTO cost_workspace (workspace_id, name, owner, team, template_id, provider, status, billing,
                    price_version, has_resource, billing_since)
                SELECT workspace_id, workspace_name, owner, team, template_id, provider, state, state, 1, TRUE, start_at
                FROM cost_interval WHERE workspace_id LIKE 'bench-cost-%' AND end_at IS NULL""");
        jdbc.execute("ANALYZE cost_interval");
        jdbc.execute("ANALYZE cost_usage_day");
        jdbc.execute("ANALYZE cost_usage_owner_month");
        jdbc.execute("ANALYZE cost_workspace");
        Long rollup = jdbc.queryForObject("SELECT count(*) FROM cost_usage_day", Long.class);
        double seconds = BenchRun.seconds(System.nanoTime() - start);
        p.put("rollupRows", rollup);
        p.put("seedSeconds", Report.round(seconds));
        BenchRun.log("cost: seeded %,d intervals (rollup %,d rows) in %.1f s", rows, rollup, seconds);
        return rows;
    }

    /** The last statement of a migration, from {@code start} on. */
    private static String backfill(String migration, String start) throws IOException {
        try (InputStream in = CostReportPhase.class.getResourceAsStream("/db/migration/" + migration)) {
            if (in == null) {
                throw new IllegalStateException("migration " + migration + " not on the class path");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.substring(text.indexOf(start));
        }
    }
}
