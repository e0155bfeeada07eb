package dev.atelier.projections.cost;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import reactor.core.Disposable;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * End to end through the API with the local provider (real processes): a finance user's reports, CSV, forecast and
 * savings agree with the workspace history; rebuilding the read model from the event store gives identical reports;
 * a used-up budget stops its team's workspaces, refuses starts until it is raised, and is pushed as SSE.
 */
class CostApiIT extends EngineIntegrationTest {

    private static final String SCRIPT = "exec sleep 1000";

    @Autowired
    JdbcTemplate jdbc;

    private String template(String name, String runningPerHour, String stoppedPerHour, Map<String, String> policy) {
        ApiClient.Response created = admin.post("/api/v1/templates", Map.of("name", name, "provider", "local",
                "spec", Map.of("startupScript", SCRIPT), "policy", policy,
                "pricing", Map.of("runningPerHour", runningPerHour, "stoppedPerHour", stoppedPerHour, "currency", "EUR")));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        return created.json().get("id").asText();
    }

    private String workspace(String name, String templateId, String owner, String team) {
        ensureTeam(team);
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId,
                "owner", owner, "team", team));
        assertThat(created.status()).as(created.toString()).isEqualTo(202);
        return created.json().get("id").asText();
    }

    private Instant historyTime(String workspaceId, String type, long build) {
        JsonNode events = admin.get("/api/v1/workspaces/" + workspaceId + "/history").json().get("events");
        return StreamSupport.stream(events.spliterator(), false)
                .filter(e -> e.get("type").asText().equals(type) && e.path("buildNumber").asLong() == build)
                .map(e -> Instant.parse(e.get("time").asText())).findFirst()
                .orElseThrow(() -> new AssertionError(type + " of build " + build + " not in " + events));
    }

    private static List<JsonNode> rowsOf(JsonNode report, String group) {
        List<JsonNode> rows = new ArrayList<>();
        report.get("rows").forEach(r -> {
            if (group.equals(r.path("group").asText())) {
                rows.add(r);
            }
        });
        return rows;
    }

    @Test
    void aFinanceUserGetsSpendCsvForecastAndSavingsThatMatchTheWorkspaceHistory() {
        String team = "fin-" + UUID.randomUUID().toString().substring(0, 6);
        // 3.60 EUR/h running = 0.001 a second; 0.36 EUR/h stopped. Stopped by the engine after 3 s (MAX_LIFETIME,
        // whatever the activity: an automatic stop that does not depend on the machine's own connections).
        String templateId = template("costs-" + team, "3.60", "0.36", Map.of("maxLifetime", "PT3S"));
        String id = workspace("short-one", templateId, "olga", team);
        admin.awaitStatus(id, "RUNNING");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                "STOPPED".equals(admin.get("/api/v1/workspaces/" + id).json().path("status").asText()));
        assertThat(admin.get("/api/v1/workspaces/" + id).json().at("/lastTransition/reason").asText())
                .isEqualTo("MAX_LIFETIME");

        // From the history alone: billed running from the START's beginning to the STOP's success, whole seconds.
        Instant started = historyTime(id, "TransitionStarted", 1).truncatedTo(ChronoUnit.SECONDS);
        Instant stopped = historyTime(id, "TransitionSucceeded", 2).truncatedTo(ChronoUnit.SECONDS);
        long runningSeconds = Duration.between(started, stopped).getSeconds();
        Instant from = started.minusSeconds(5);
        Instant to = stopped.plusSeconds(2);
        await().until(() -> Instant.now().isAfter(to.plusSeconds(1)));
        BigDecimal expected = new BigDecimal("0.001").multiply(BigDecimal.valueOf(runningSeconds))
                .add(new BigDecimal("0.0002")); // + 2 s stopped at 0.0001 a second
        ApiClient finance = clientFor("fiona", "finance");

        String range = "from=" + from + "&to=" + to;
        JsonNode report = finance.get("/api/v1/costs?groupBy=team&granularity=day&" + range).json();
        List<JsonNode> rows = rowsOf(report, team);
        assertThat(rows).isNotEmpty().allSatisfy(r -> assertThat(r.get("currency").asText()).isEqualTo("EUR"));
        assertThat(rows.stream().map(r -> r.get("amount").decimalValue()).reduce(BigDecimal.ZERO, BigDecimal::add))
                .isEqualByComparingTo(expected);
        assertThat(rows.stream().mapToLong(r -> r.get("runningSeconds").asLong()).sum()).isEqualTo(runningSeconds);
        assertThat(rows.stream().mapToLong(r -> r.get("stoppedSeconds").asLong()).sum()).isEqualTo(2);

        ApiClient.Response csv = finance.get("/api/v1/costs/export?format=csv&groupBy=team&granularity=day&" + range);
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.contentType()).startsWith("text/csv");
        assertThat(csv.body()).startsWith("group,label,period,period_start,currency,amount,running_seconds,"
                + "stopped_seconds,status,note");
        BigDecimal csvTotal = csv.body().lines().filter(l -> l.startsWith(team + ","))
                .map(l -> new BigDecimal(l.split(",")[5])).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(csvTotal).isEqualByComparingTo(expected);

        // The automatic stop saved (3.60 - 0.36) EUR/h for the 2 s until the end of the period.
        JsonNode savings = finance.get("/api/v1/costs/savings?" + range).json();
        JsonNode saving = StreamSupport.stream(savings.get("rows").spliterator(), false)
                .filter(r -> r.get("workspaceId").asText().equals(id)).findFirst().orElseThrow();
        assertThat(saving.get("reason").asText()).isEqualTo("MAX_LIFETIME");
        assertThat(saving.get("seconds").asLong()).isEqualTo(2);
        assertThat(saving.get("amount").decimalValue()).isEqualByComparingTo("0.0018");
        assertThat(saving.get("countedUntilReason").asText()).isEqualTo("end of period");
        assertThat(finance.get("/api/v1/costs/export?format=csv&report=savings&" + range).body())
                .contains(id + ",short-one,olga," + team + ",").contains(",MAX_LIFETIME,STOP,");

        JsonNode forecast = finance.get("/api/v1/costs/forecast?groupBy=team").json();
        assertThat(forecast.get("method").asText()).isIn("RUN_RATE", "DAILY_AVERAGE", "WEEKDAY_PATTERN");
        assertThat(forecast.get("methodDescription").asText()).isNotBlank();
        JsonNode teamForecast = StreamSupport.stream(forecast.get("rows").spliterator(), false)
                .filter(r -> team.equals(r.path("group").asText())).findFirst().orElseThrow();
        assertThat(teamForecast.get("projected").decimalValue())
                .isGreaterThanOrEqualTo(teamForecast.get("spentSoFar").decimalValue());
        assertThat(finance.get("/api/v1/costs/export?format=csv&report=forecast").body())
                .startsWith("month,method,group,label,currency,spent_so_far");

        ApiClient.Response prices = finance.get("/api/v1/costs/prices");
        assertThat(prices.json().get("table").size()).isGreaterThan(60);
        assertThat(finance.get("/api/v1/costs/export?format=csv&report=prices").body())
                .contains("aws-ec2,m5.large,us-east-1,0.096,per hour,USD,https://aws.amazon.com/ec2/pricing/on-demand/");

        ApiClient member = clientFor("mike", "member");
        ApiClient.Response refused = member.get("/api/v1/costs");
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.json().get("detail").asText()).contains("finance");
        assertThat(finance.get("/api/v1/costs?groupBy=department").json().get("detail").asText())
                .contains("groupBy 'department' is unknown (allowed: team, owner, template, provider, workspace)");
        assertThat(finance.get("/api/v1/costs?from=yesterday").status()).isEqualTo(400);
    }

    @Test
    void rebuildingFromTheEventStoreGivesIdenticalReports() {
        String templateId = template("rebuild-" + UUID.randomUUID().toString().substring(0, 6), "3.60", "0.36",
                Map.of("idleTimeout", "PT1H"));
        String id = workspace("rebuilt", templateId, "rita", "rebuild");
        admin.awaitStatus(id, "RUNNING");
        admin.post("/api/v1/workspaces/" + id + "/stop", null);
        admin.awaitStatus(id, "STOPPED");
        Instant to = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String range = "from=" + to.minus(Duration.ofDays(2)) + "&to=" + to;
        await().until(() -> Instant.now().isAfter(to.plusMillis(200)));

        List<String> before = reports(range);
        assertThat(before.get(0)).contains(id);
        // Something only the read model has (no event behind it) must disappear in the rebuild.
        jdbc.update("""
                        INSERT INTO cost_interval (workspace_id, seq, state, start_at, end_at, template_id,
                            template_version, workspace_name, owner, team, provider)
                        VALUES ('ghost', 0, 'RUNNING', ?, ?, ?, 1, 'ghost', 'nobody', 'rebuild', 'local')""",
                Timestamp.from(to.minusSeconds(100)), Timestamp.from(to.minusSeconds(50)), templateId);
        assertThat(reports(range).get(0)).contains("ghost");

        assertThat(clientFor("fred", "finance").post("/api/v1/costs/rebuild", null).status()).isEqualTo(403);
        ApiClient.Response rebuild = admin.post("/api/v1/costs/rebuild", null);
        assertThat(rebuild.status()).as(rebuild.toString()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> admin.get("/api/v1/costs/rebuild").json().path("caughtUp").asBoolean());
        assertThat(reports(range)).isEqualTo(before);
    }

    /** Every report over a range in the past, without the time it was asked ("asOf"). */
    private List<String> reports(String range) {
        List<String> all = new ArrayList<>();
        all.add(admin.get("/api/v1/costs?groupBy=workspace&granularity=day&" + range).json().get("rows").toString());
        for (String groupBy : List.of("team", "owner", "template", "provider")) {
            JsonNode report = admin.get("/api/v1/costs?granularity=month&groupBy=" + groupBy + "&" + range).json();
            all.add(report.get("rows").toString() + report.get("totals"));
        }
        JsonNode savings = admin.get("/api/v1/costs/savings?" + range).json();
        all.add(savings.get("rows").toString() + savings.get("totals"));
        all.add(admin.get("/api/v1/costs/prices").json().get("templates").toString());
        return all;
    }

    @Test
    void aUsedUpBudgetStopsItsTeamsWorkspacesAndRefusesStartsUntilItIsRaised() {
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        String team = "bud-" + suffix;
        // 36 EUR/h = 0.01 EUR a second per workspace; two of them use up 0.05 EUR in under 3 s.
        String templateId = template("budget-" + suffix, "36", "0", Map.of("idleTimeout", "PT1H"));
        ApiClient finance = clientFor("fiona", "finance");
        List<ServerSentEvent<JsonNode>> pushed = new CopyOnWriteArrayList<>();
        Disposable watch = finance.watch("/api/v1/budgets/watch").subscribe(pushed::add);
        String a = workspace("budget-a", templateId, "ann", team);
        String b = workspace("budget-b", templateId, "ben", team);
        String other = workspace("other", templateId, "ann", "other-" + suffix);
        admin.awaitStatus(a, "RUNNING");
        admin.awaitStatus(b, "RUNNING");
        admin.awaitStatus(other, "RUNNING");

        try {
            ApiClient.Response set = finance.post("/api/v1/budgets", Map.of("scope", "team", "name", team,
                    "amount", "0.05", "currency", "EUR", "period", "month", "action", "stop"));
            assertThat(set.status()).as(set.toString()).isEqualTo(201);
            assertThat(set.json().get("budgetId").asText()).isEqualTo("team:" + team);

            for (String id : List.of(a, b)) {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                        "STOPPED".equals(admin.get("/api/v1/workspaces/" + id).json().path("status").asText()));
                JsonNode last = admin.get("/api/v1/workspaces/" + id).json().get("lastTransition");
                assertThat(last.get("reason").asText()).isEqualTo("BUDGET");
                assertThat(last.get("actor").asText()).isEqualTo("atelier");
            }
            assertThat(admin.get("/api/v1/workspaces/" + other).json().get("status").asText()).isEqualTo("RUNNING");

            ApiClient.Response refused = admin.post("/api/v1/workspaces/" + a + "/start", null);
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.contentType()).startsWith("application/problem+json");
            assertThat(refused.json().get("detail").asText()).contains("cannot start workspace " + a,
                    "the budget of team '" + team + "' (0.05 EUR per month, action stop) is used up",
                    "until the budget is raised");
            ApiClient.Response noCreate = admin.post("/api/v1/workspaces", Map.of("name", "budget-c",
                    "templateId", templateId, "owner", "ann", "team", team));
            assertThat(noCreate.status()).isEqualTo(409);
            assertThat(noCreate.json().get("detail").asText()).contains("cannot create workspace 'budget-c'");

            JsonNode budget = finance.get("/api/v1/budgets/team/" + team).json();
            assertThat(budget.at("/budget/status").asText()).isEqualTo("EXHAUSTED");
            assertThat(budget.at("/budget/blocking").asBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> pushed.stream().anyMatch(e -> percent(e, team) == 100));
            assertThat(pushed.stream().filter(e -> percent(e, team) > 0).map(e -> percent(e, team)))
                    .containsExactly(80, 100);

            // Raised: starts go through at once.
            ApiClient.Response raised = finance.post("/api/v1/budgets", Map.of("scope", "team", "name", team,
                    "amount", "1000", "currency", "EUR", "action", "stop"));
            assertThat(raised.status()).as(raised.toString()).isEqualTo(200);
            assertThat(raised.json().get("blocking").asBoolean()).isFalse();
            assertThat(admin.post("/api/v1/workspaces/" + a + "/start", null).status()).isEqualTo(202);
            admin.awaitStatus(a, "RUNNING");
            assertThat(finance.get("/api/v1/budgets/team/" + team).json().get("history"))
                    .extracting(h -> h.get("type").asText())
                    .containsExactly("BudgetSet", "BudgetThresholdCrossed", "BudgetThresholdCrossed", "BudgetSet",
                            "BudgetReleased");
            await().atMost(Duration.ofSeconds(5)).until(() -> pushed.stream()
                    .anyMatch(e -> "BudgetReleased".equals(e.data().path("type").asText())
                            && ("team:" + team).equals(e.data().path("budgetId").asText())));
            assertThat(clientFor("max", "member").get("/api/v1/budgets").status()).isEqualTo(403);
        } finally {
            watch.dispose();
            admin.post("/api/v1/workspaces/" + a + "/stop", null);
            admin.post("/api/v1/workspaces/" + other + "/stop", null);
        }
    }

    private static int percent(ServerSentEvent<JsonNode> event, String team) {
        JsonNode data = event.data();
        if (!"BudgetThresholdCrossed".equals(data.path("type").asText())
                || !("team:" + team).equals(data.path("budgetId").asText())) {
            return 0;
        }
        return data.get("percent").asInt();
    }
}
