package dev.atelier.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark harness in its smoke mode (tiny numbers, a fresh database of the test suite, nothing appended to
 * docs/): every phase runs end to end against the real engine and produces its numbers. No timing is asserted.
 */
class BenchmarkSmokeIT {

    @Test
    void everyPhaseRunsAndProducesNumbers() throws Exception {
        Path out = Files.createTempDirectory("atelier-bench-smoke");
        Properties p = new Properties();
        p.setProperty("bench.mode", "smoke");
        p.setProperty("bench.output", out.toString());
        BenchConfig config = BenchConfig.from(p);
        TestDatabase.Database db = TestDatabase.create();

        Report report;
        JsonNode json;
        try {
            report = Benchmark.run(config, BenchDatabase.given(db.url(), db.user(), db.password()));
            json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        } finally {
            try (var files = Files.walk(out)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }

        assertThat(report.phases.keySet()).containsExactlyInAnyOrderElementsOf(BenchConfig.ALL_PHASES);
        report.phases.forEach((phase, result) -> assertThat(result).as(phase).doesNotContainKey("error"));
        assertThat(report.memory).containsKeys("engine started", "lifecycle", "audit", "catchup");

        JsonNode phases = json.get("phases");
        assertThat(phases.at("/lifecycle/lifecyclesPerSecond").asDouble()).isPositive();
        assertThat(phases.at("/lifecycle/api/create/count").asInt()).isEqualTo(config.workspaces());
        assertThat(phases.at("/lifecycle/acceptedToVisible/DELETED/count").asInt()).isEqualTo(config.workspaces());
        assertThat(phases.at("/sse/deliveries").asLong()).isEqualTo(phases.at("/sse/deliveriesExpected").asLong())
                .isPositive();
        assertThat(phases.at("/heartbeat/statuses/204").asLong()).isEqualTo(phases.at("/heartbeat/requests").asLong());
        assertThat(phases.at("/heartbeat/load/engineCpuSeconds").isNumber()).isTrue();
        assertThat(phases.at("/idle/stoppedForIdle").asInt()).isEqualTo(config.idleWorkspaces());
        assertThat(phases.at("/idle/deadlineToStoppedVisible/count").asInt()).isEqualTo(config.idleWorkspaces());
        assertThat(phases.at("/cost/intervals").asLong()).isPositive();
        assertThat(phases.at("/cost/seededSecondsReported").asLong()).isEqualTo(phases.at("/cost/seededSecondsExpected").asLong())
                .isPositive();
        for (String costReport : new String[]{"teamMonth", "teamPreviousMonth", "teamMonthByDay", "forecast", "ownerMonth"}) {
            assertThat(phases.at("/cost/" + costReport + "/count").asInt()).as(costReport).isPositive();
            assertThat(phases.at("/cost/" + costReport + "/rows").asInt()).as(costReport).isPositive();
        }
        assertThat(phases.at("/catchup/rebuild.costs/complete").asBoolean()).isTrue();
        assertThat(phases.at("/append/axonEventsPerSecond").asDouble()).isPositive();
        assertThat(phases.at("/append/rawJdbcEventsPerSecond").asDouble()).isPositive();
        assertThat(phases.at("/audit/entries").asLong()).isGreaterThanOrEqualTo(config.auditEntries());
        assertThat(phases.at("/audit/verify/valid").asBoolean()).as("seeded chain verifies").isTrue();
        JsonNode queries = phases.at("/audit/queries");
        assertThat(queries.size()).isEqualTo(10); // nine filters and a second page
        queries.fields().forEachRemaining(q -> {
            assertThat(q.getValue().get("count").asInt()).as(q.getKey()).isEqualTo(config.auditQueries());
            assertThat(q.getValue().get("entriesReturned").asLong()).as(q.getKey()).isPositive();
            assertThat(q.getValue().get("p99Ms").isNumber()).as(q.getKey()).isTrue();
        });
        for (String format : new String[]{"jsonl", "csv"}) {
            assertThat(phases.at("/audit/export." + format + "/rows").asLong()).as(format)
                    .isGreaterThanOrEqualTo(phases.at("/audit/entries").asLong());
            assertThat(phases.at("/audit/export." + format + "/rowsPerSecond").asDouble()).as(format).isPositive();
        }
        assertThat(phases.at("/catchup/eventsInStore").asLong()).isGreaterThanOrEqualTo(config.events());
        assertThat(phases.at("/catchup/rawRead/eventsPerSecond").asDouble()).isPositive();
        assertThat(phases.at("/catchup/rebuild.workspaces/complete").asBoolean()).isTrue();
        assertThat(phases.at("/catchup/rebuild.workspaces/rows").asLong()).isPositive();
        assertThat(phases.at("/catchup/rebuild.audit/complete").asBoolean()).isTrue();
        assertThat(phases.at("/catchup/rebuild.audit/rows").asLong()).isGreaterThanOrEqualTo(config.events());
        assertThat(json.get("targets").findValuesAsText("id")).contains("lifecycle.throughput", "lifecycle.apiP99",
                "lifecycle.visibleP99", "append.ratio", "rebuild.workspaces", "heartbeat.cpu", "audit.p99", "cost.month",
                "cost.owner");
        assertThat(report.markdown()).contains("| Target | Goal | Measured | Met |", "Load average");
    }
}
