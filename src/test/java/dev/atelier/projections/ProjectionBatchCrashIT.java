package dev.atelier.projections;

import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.atelier.projections.ProjectionBatchSupport.COST_TABLES;
import static dev.atelier.projections.ProjectionBatchSupport.WORKSPACE_TABLES;
import static dev.atelier.projections.ProjectionBatchSupport.awaitCaughtUp;
import static dev.atelier.projections.ProjectionBatchSupport.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An engine killed with SIGKILL while it rebuilds projections in large batches, each held open in the middle of a
 * batch (handled events not yet committed): the engine started again on the same database finishes the rebuild and
 * its read models equal those built before, row for row — nothing lost, nothing doubled. The engine being killed is
 * a separate JVM ({@link ProjectionReplayChild}), so no shutdown hook, no graceful close, no rollback by the JVM.
 */
class ProjectionBatchCrashIT {

    private final TestDatabase.Database db = TestDatabase.create();
    private final Path data = EngineTestSupport.tempDataDir();

    @Test
    void anEngineKilledInTheMiddleOfABatchLosesAndDoublesNothingWhenItResumes() throws Exception {
        Map<String, Object> properties = EngineTestSupport.properties(db, data);
        List<String> tables = new ArrayList<>(WORKSPACE_TABLES);
        tables.addAll(COST_TABLES);
        Map<String, List<String>> reference;
        try (ConfigurableApplicationContext engine = ProjectionBatchSupport.start(properties)) {
            ProjectionBatchSupport.fill(ProjectionBatchSupport.client(engine), 16);
            awaitCaughtUp(engine);
            reference = snapshot(engine.getBean(JdbcTemplate.class), tables);
        }
        assertThat(reference.get("workspace_view")).hasSize(16);
        assertThat(reference.get("cost_usage_day")).isNotEmpty();

        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-cp", System.getProperty("java.class.path"), ProjectionReplayChild.class.getName()));
        command.addAll(List.of(EngineTestSupport.arguments(properties, "--server.port=0")));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
                for (String line; (line = in.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (java.io.IOException ignored) {
                // the child is gone
            }
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(100)).until(() -> !child.isAlive()
                    || (held(output, "workspaces") && held(output, "costs")));
            assertThat(child.isAlive()).as("the replaying engine runs: %s", tail(output)).isTrue();

            output.stream().filter(line -> line.startsWith("MID-BATCH")).forEach(System.out::println);
            long pid = child.pid();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            child.destroyForcibly(); // on Linux: SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).as("killed by signal 9 (128 + 9)").isEqualTo(137);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        } finally {
            child.destroyForcibly();
        }

        SingleConnectionDataSource direct = new SingleConnectionDataSource(db.url(), db.user(), db.password(), true);
        try {
            Map<String, List<String>> killed = snapshot(new JdbcTemplate(direct), tables);
            assertThat(killed).as("the rebuild was interrupted, not finished").isNotEqualTo(reference);
            // The held batch's events (and every later one of its segment) have no history row.
            assertThat(killed.get("workspace_history").size()).isLessThan(reference.get("workspace_history").size());
        } finally {
            direct.destroy();
        }

        try (ConfigurableApplicationContext engine = ProjectionBatchSupport.start(properties)) {
            awaitCaughtUp(engine);
            Map<String, List<String>> resumed = snapshot(engine.getBean(JdbcTemplate.class), tables);
            for (String table : tables) {
                assertThat(resumed.get(table)).as(table + " after the resumed rebuild")
                        .containsExactlyElementsOf(reference.get(table));
            }
        }
    }

    private static boolean held(List<String> output, String group) {
        return output.stream().anyMatch(line -> line.startsWith("MID-BATCH " + group + " "));
    }

    private static String tail(List<String> output) {
        return String.join("\n", output.subList(Math.max(0, output.size() - 40), output.size()));
    }
}
