package dev.atelier.projections;

import dev.atelier.config.ProjectionReplays;
import dev.atelier.projections.audit.AuditTrail;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.atelier.projections.ProjectionBatchSupport.POOLED;
import static dev.atelier.projections.ProjectionBatchSupport.TABLES;
import static dev.atelier.projections.ProjectionBatchSupport.WORKSPACE_TABLES;
import static dev.atelier.projections.ProjectionBatchSupport.awaitCaughtUp;
import static dev.atelier.projections.ProjectionBatchSupport.head;
import static dev.atelier.projections.ProjectionBatchSupport.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rebuild in large batches yields exactly the read models (and audit hashes) of a rebuild event by event: the
 * same event store is replayed by an engine with the default batch sizes (live 50, replay 500, audit 200) and by one
 * whose every batch holds a single event, and the full contents of every read-model table are compared.
 */
class ProjectionBatchesIT {

    private final TestDatabase.Database db = TestDatabase.create();
    private final Path data = EngineTestSupport.tempDataDir();

    @Test
    void aRebuildInBatchesEqualsARebuildEventByEvent() {
        Map<String, Object> properties = EngineTestSupport.properties(db, data);
        Map<String, List<String>> live;
        Map<String, List<String>> inBatches;
        long head;
        try (ConfigurableApplicationContext engine = ProjectionBatchSupport.start(properties)) {
            ProjectionBatchSupport.fill(ProjectionBatchSupport.client(engine), 24);
            awaitCaughtUp(engine);
            JdbcTemplate jdbc = engine.getBean(JdbcTemplate.class);
            head = head(jdbc);
            live = snapshot(jdbc, TABLES);
            assertThat(live.get("workspace_view")).hasSize(24);
            assertThat(live.get("workspace_history")).hasSizeGreaterThan(24 * 8);
            assertThat(live.get("cost_interval")).isNotEmpty();
            assertThat(live.get("audit_entry")).isNotEmpty();

            rebuild(engine, 0);
            inBatches = snapshot(jdbc, TABLES);
            assertThat(head(jdbc)).as("the rebuild stored no events").isEqualTo(head);
        }

        try (ConfigurableApplicationContext engine = ProjectionBatchSupport.start(properties,
                "--axon.eventhandling.processors.workspaces.batch-size=1",
                "--axon.eventhandling.processors.costs.batch-size=1",
                "--axon.eventhandling.processors.idle.batch-size=1",
                "--axon.eventhandling.processors.audit.batch-size=1")) {
            JdbcTemplate jdbc = engine.getBean(JdbcTemplate.class);
            awaitCaughtUp(engine);
            assertThat(head(jdbc)).as("a restart stores no events").isEqualTo(head);
            rebuild(engine, 1);
            Map<String, List<String>> oneByOne = snapshot(jdbc, TABLES);
            assertThat(head(jdbc)).isEqualTo(head);

            for (String table : TABLES) {
                if (!table.equals("cost_saving")) { // only automatic stops save money; these workspaces have none
                    assertThat(oneByOne.get(table)).as(table + " after a rebuild in batches of 1").isNotEmpty();
                }
                assertThat(oneByOne.get(table)).as(table + " after a rebuild in batches of 1")
                        .containsExactlyElementsOf(inBatches.get(table));
            }
            // What live processing built (batches of whatever had arrived) is what a rebuild builds.
            for (String table : WORKSPACE_TABLES) {
                assertThat(inBatches.get(table)).as(table + " rebuilt vs live").containsExactlyElementsOf(live.get(table));
            }
        }
    }

    /** Rebuilds every projection; {@code batchSize} 0: the configured replay batch size. */
    private static void rebuild(ConfigurableApplicationContext engine, int batchSize) {
        ProjectionReplays replays = engine.getBean(ProjectionReplays.class);
        JdbcTemplate jdbc = engine.getBean(JdbcTemplate.class);
        for (String group : POOLED) {
            if (batchSize == 0) {
                replays.replay(group);
            } else {
                replays.replay(group, batchSize);
            }
        }
        engine.getBean(AuditTrail.class).rebuild();
        awaitCaughtUp(engine);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM workspace_view", Long.class)).isEqualTo(24);
    }
}
