package dev.atelier.metrics;

import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operational metrics as Prometheus scrapes them: workspaces by status and provider, transition durations,
 * the stops the engine's policies decided, and how far each processing group is behind the event store.
 */
class OperationalMetricsIT extends EngineIntegrationTest {

    @Test
    void aWorkspaceStartedAndStoppedForIdlenessShowsInTheMetrics() {
        Map<String, Object> template = new HashMap<>(ApiClient.localTemplate("metered", "sleep 100000"));
        template.put("policy", Map.of("idleTimeout", "PT4S"));
        ApiClient.Response created = admin.post("/api/v1/templates", template);
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        double idleStopsBefore = value(scrape(), "atelier_stops_total", "reason=\"idle\"");
        double startsBefore = value(scrape(), "atelier_transition_seconds_count",
                "kind=\"start\",outcome=\"succeeded\",provider=\"local\"");

        // A workspace without an idle timeout stays RUNNING: the gauges are read from the database at most every
        // few seconds, and the idle one below may be stopped before the next reading.
        String steady = admin.post("/api/v1/workspaces", Map.of("name", "steady", "templateId",
                createLocalTemplate("steady", "sleep 100000"))).json().get("id").asText();
        admin.awaitStatus(steady, "RUNNING");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(value(scrape(), "atelier_workspaces",
                "provider=\"local\",status=\"RUNNING\"")).isGreaterThanOrEqualTo(1));
        startsBefore += 1;

        String id = admin.post("/api/v1/workspaces", Map.of("name", "metered", "templateId",
                created.json().get("id").asText())).json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        assertThat(value(scrape(), "atelier_transition_seconds_count",
                "kind=\"start\",outcome=\"succeeded\",provider=\"local\"")).isEqualTo(startsBefore + 1);
        assertThat(scrape()).containsPattern("atelier_transition_seconds_sum\\{kind=\"start\",outcome=\"succeeded\","
                + "provider=\"local\"\\} [0-9.E-]+");

        // Stopped by the idle policy (no agent connection within PT4S): counted once, as an idle stop.
        await().atMost(Duration.ofSeconds(30)).until(() -> "STOPPED".equals(
                admin.get("/api/v1/workspaces/" + id).json().path("status").asText()));
        assertThat(value(scrape(), "atelier_stops_total", "reason=\"idle\"")).isEqualTo(idleStopsBefore + 1);
        assertThat(value(scrape(), "atelier_stops_total", "reason=\"budget\"")).isZero();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(value(scrape(), "atelier_workspaces",
                "provider=\"local\",status=\"STOPPED\"")).isGreaterThanOrEqualTo(1));

        // Every streaming group has a lag series; once the engine is quiet the workspaces view has caught up.
        String metrics = scrape();
        for (String group : new String[] {"workspaces", "audit", "idle", "costs", "WorkspaceTransitionSagaProcessor"}) {
            assertThat(metrics).contains("atelier_processor_lag{processing_group=\"" + group + "\"}");
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(value(scrape(), "atelier_processor_lag",
                "processing_group=\"workspaces\"")).isZero());
        assertThat(metrics).doesNotContain("processing_group=\"templates\"").as("subscribing groups have no lag");
    }

    @Test
    void theLagOfAGroupIsTheEventsItHasNotYetProcessed() {
        // A processing group whose token stands 3 events behind the head (as if its node had stalled) shows a lag
        // of 3 at the next reading, whichever node holds it.
        var jdbc = new org.springframework.jdbc.core.JdbcTemplate(dataSource);
        long head = jdbc.queryForObject("SELECT max(globalindex) FROM domainevententry", Long.class);
        jdbc.update("INSERT INTO tokenentry (processorname, segment, token, tokentype, timestamp, owner) "
                        + "VALUES ('stalled-probe', 0, ?, 'org.axonframework.eventhandling.GlobalSequenceTrackingToken', "
                        + "'2026-01-01T00:00:00Z', NULL)",
                ("{\"globalIndex\":" + (head - 3) + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
            OperationalMetrics metrics = context.getBean(OperationalMetrics.class);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(metrics.lagOf("stalled-probe")).isBetween(3L, 3L + 50));
        } finally {
            jdbc.update("DELETE FROM tokenentry WHERE processorname = 'stalled-probe'");
        }
    }

    @org.springframework.beans.factory.annotation.Autowired
    javax.sql.DataSource dataSource;
    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.context.ApplicationContext context;

    private String scrape() {
        ApiClient.Response response = client(null).get("/actuator/prometheus");
        assertThat(response.status()).isEqualTo(200);
        return response.body();
    }

    /** The value of one series (labels in Prometheus' alphabetical order), 0 when absent. */
    private static double value(String metrics, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
