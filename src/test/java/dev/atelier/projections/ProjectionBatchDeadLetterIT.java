package dev.atelier.projections;

import dev.atelier.config.ProjectionReplays;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.atelier.projections.ProjectionBatchSupport.TABLES;
import static dev.atelier.projections.ProjectionBatchSupport.awaitCaughtUp;
import static dev.atelier.projections.ProjectionBatchSupport.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A poison event in a large batch (issue #15: events are handled without a savepoint until one fails): the workspaces
 * and costs projections are rebuilt in batches of 500 while a handler of each group throws for one workspace's
 * creation. That event is parked after its attempts, the later events of its workspace are parked behind it (Axon's
 * sequencing by aggregate), and every other workspace's rows are exactly what a rebuild without the poison wrote:
 * the rest of the batch the poison was in was committed, once, and the parked events left nothing in the batch.
 */
class ProjectionBatchDeadLetterIT {

    /** Tables whose every row names its workspace (the rollups sum over workspaces). */
    private static final List<String> PER_WORKSPACE = List.of("workspace_view", "workspace_history", "cost_workspace",
            "cost_interval");

    private final TestDatabase.Database db = TestDatabase.create();
    private final Path data = EngineTestSupport.tempDataDir();

    @AfterEach
    void noPoison() {
        PoisonedCreation.name = null;
    }

    /**
     * With 2 attempts the first failure marks the event and its retry runs inside a savepoint; with 1 the only
     * attempt has no savepoint to roll back to, so the batch is retried once more with one before the event is parked.
     */
    @ParameterizedTest(name = "attempts = {0}")
    @ValueSource(ints = {2, 1})
    void aPoisonInABatchIsParkedAloneWithItsSequenceAndTheRestOfTheBatchIsKept(int attempts) {
        Map<String, Object> properties = EngineTestSupport.properties(db, data);
        try (ConfigurableApplicationContext engine = ProjectionBatchSupport.start(
                List.of(PoisonedCreation.class, PoisonedCostCreation.class),
                properties, "--atelier.dead-letters.attempts=" + attempts)) {
            ProjectionBatchSupport.fill(ProjectionBatchSupport.client(engine), 9);
            awaitCaughtUp(engine);
            JdbcTemplate jdbc = engine.getBean(JdbcTemplate.class);
            Map<String, List<String>> clean = snapshot(jdbc, TABLES);
            String poisoned = jdbc.queryForObject("SELECT id FROM workspace_view WHERE name = 'batch-4'", String.class);
            List<Long> handled = jdbc.queryForList(
                    "SELECT sequence FROM workspace_history WHERE workspace_id = ? ORDER BY sequence", Long.class, poisoned);
            assertThat(handled).hasSizeGreaterThan(2);
            assertThat(letters(jdbc, "workspaces") + letters(jdbc, "costs")).isZero();

            PoisonedCreation.name = "batch-4";
            engine.getBean(ProjectionReplays.class).replay("workspaces");
            engine.getBean(ProjectionReplays.class).replay("costs");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .until(() -> letters(jdbc, "workspaces") >= handled.size() && letters(jdbc, "costs") >= 2);
            awaitCaughtUp(engine);

            // The poison and, behind it, every later event of its workspace; nothing of any other.
            assertThat(jdbc.queryForList("""
                    SELECT DISTINCT aggregateidentifier FROM deadletterentry WHERE processinggroup = 'workspaces'""",
                    String.class)).containsExactly(poisoned);
            assertThat(jdbc.queryForList("""
                    SELECT sequencenumber FROM deadletterentry WHERE processinggroup = 'workspaces'
                    ORDER BY sequenceindex""", Long.class)).containsExactlyElementsOf(handled);
            assertThat(jdbc.queryForObject("""
                    SELECT payloadtype FROM deadletterentry WHERE processinggroup = 'workspaces'
                    ORDER BY sequenceindex LIMIT 1""", String.class)).isEqualTo(WorkspaceCreatedEvent.class.getName());

            assertThat(jdbc.queryForList("""
                    SELECT DISTINCT aggregateidentifier FROM deadletterentry WHERE processinggroup = 'costs'""",
                    String.class)).containsExactly(poisoned);
            assertThat(jdbc.queryForObject("""
                    SELECT payloadtype FROM deadletterentry WHERE processinggroup = 'costs'
                    ORDER BY sequenceindex LIMIT 1""", String.class)).isEqualTo(WorkspaceCreatedEvent.class.getName());

            // Every other workspace exactly as before, its history rows, intervals and savings once each.
            Map<String, List<String>> after = snapshot(jdbc, TABLES);
            for (String table : PER_WORKSPACE) {
                List<String> expected = clean.get(table).stream().filter(row -> !row.contains(poisoned)).toList();
                assertThat(expected).as(table).isNotEmpty().hasSizeLessThan(clean.get(table).size());
                assertThat(after.get(table)).as(table + " rebuilt with a poison").containsExactlyElementsOf(expected);
            }
        }
    }

    private static long letters(JdbcTemplate jdbc, String group) {
        Long count = jdbc.queryForObject("SELECT count(*) FROM deadletterentry WHERE processinggroup = ?",
                Long.class, group);
        return count == null ? 0 : count;
    }

    /** A handler of the workspaces group that throws for the creation of the workspace named {@link #name}. */
    @ProcessingGroup("workspaces")
    static class PoisonedCreation {
        static volatile String name;

        @EventHandler
        void on(WorkspaceCreatedEvent event) {
            if (event.name().equals(name)) {
                throw new IllegalStateException("test poison: workspace " + event.name());
            }
        }
    }

    /** The same in the costs group. */
    @ProcessingGroup("costs")
    static class PoisonedCostCreation {
        @EventHandler
        void on(WorkspaceCreatedEvent event) {
            if (event.name().equals(PoisonedCreation.name)) {
                throw new IllegalStateException("test poison: workspace " + event.name());
            }
        }
    }
}
