package dev.atelier.projections;

import dev.atelier.AtelierApplication;
import dev.atelier.bench.NullProvider;
import dev.atelier.config.ProjectionReplays;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineTestSupport;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * Shared by the projection batch tests: an engine with the null provider, workspaces driven through real lifecycles
 * over the API, a wait for every projection to reach the head of the event store, and the full contents of the
 * read-model tables.
 */
final class ProjectionBatchSupport {

    /** The pooled projections a replay rebuilds with its own batch size. */
    static final List<String> POOLED = List.of("workspaces", "costs", "idle");
    static final List<String> WORKSPACE_TABLES = List.of("workspace_view", "workspace_history");
    static final List<String> COST_TABLES = List.of("cost_template", "cost_price", "cost_workspace", "cost_interval",
            "cost_saving", "cost_usage_day", "cost_usage_owner_month");
    static final List<String> TABLES;

    static {
        List<String> all = new ArrayList<>(WORKSPACE_TABLES);
        all.addAll(COST_TABLES);
        all.add("idle_workspace");
        all.add("audit_entry");
        TABLES = List.copyOf(all);
    }

    private ProjectionBatchSupport() {
    }

    static ConfigurableApplicationContext start(Map<String, Object> properties, String... more) {
        return start(List.of(), properties, more);
    }

    /** With {@code components} (test-only beans, e.g. a failing event handler) next to the engine's own. */
    static ConfigurableApplicationContext start(List<Class<?>> components, Map<String, Object> properties,
                                                String... more) {
        List<Class<?>> sources = new ArrayList<>(List.of(AtelierApplication.class));
        sources.addAll(components);
        return new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
                .initializers(c -> c.getBeanFactory().registerSingleton("nullProvider", new NullProvider()))
                .run(EngineTestSupport.arguments(properties, concat(more, "--server.port=0")));
    }

    static String[] concat(String[] more, String... extra) {
        List<String> all = new ArrayList<>(List.of(more));
        all.addAll(List.of(extra));
        return all.toArray(String[]::new);
    }

    static ApiClient client(ConfigurableApplicationContext context) {
        return new ApiClient("http://localhost:" + context.getEnvironment().getProperty("local.server.port"),
                EngineTestSupport.ADMIN_TOKEN);
    }

    /**
     * {@code workspaces} workspaces, each created (and started), stopped and started again; every third is then
     * stopped and deleted, every other one stopped: a few hundred events of several kinds across all segments.
     */
    static void fill(ApiClient api, int workspaces) {
        String templateId = api.post("/api/v1/templates", Map.of("name", "batches", "provider", NullProvider.NAME))
                .json().get("id").asText();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < workspaces; i++) {
            ids.add(api.post("/api/v1/workspaces", Map.of("name", "batch-" + i, "templateId", templateId,
                    "labels", Map.of("n", Integer.toString(i)))).json().get("id").asText());
        }
        ids.forEach(id -> api.awaitStatus(id, "RUNNING"));
        ids.forEach(id -> api.post("/api/v1/workspaces/" + id + "/stop", null));
        ids.forEach(id -> api.awaitStatus(id, "STOPPED"));
        ids.forEach(id -> api.post("/api/v1/workspaces/" + id + "/start", null));
        ids.forEach(id -> api.awaitStatus(id, "RUNNING"));
        ids.forEach(id -> api.post("/api/v1/workspaces/" + id + "/stop", null));
        ids.forEach(id -> api.awaitStatus(id, "STOPPED"));
        for (int i = 0; i < ids.size(); i += 3) {
            api.delete("/api/v1/workspaces/" + ids.get(i));
        }
        for (int i = 0; i < ids.size(); i += 3) {
            api.awaitStatus(ids.get(i), "DELETED");
        }
    }

    static long head(JdbcTemplate jdbc) {
        Long head = jdbc.queryForObject("SELECT coalesce(max(globalindex), -1) FROM domainevententry", Long.class);
        return head == null ? -1 : head;
    }

    /**
     * Every pooled projection has left its replay (if any) and all its segments are claimed and at the head of the store;
     * the audit chain has chained up to the head and nothing waits to be chained.
     */
    static void awaitCaughtUp(ConfigurableApplicationContext context) {
        JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
        EventProcessingConfiguration processing = context.getBean(EventProcessingConfiguration.class);
        ProjectionReplays replays = context.getBean(ProjectionReplays.class);
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
            long head = head(jdbc);
            for (String group : POOLED) {
                if (replays.replaying(group).isPresent()) {
                    return false;
                }
                StreamingEventProcessor p = processing.eventProcessor(group, StreamingEventProcessor.class).orElseThrow();
                Map<Integer, EventTrackerStatus> status = p.processingStatus();
                // Every segment claimed: after a crash, a dead engine's claims hold until they time out.
                Long segments = jdbc.queryForObject("SELECT count(*) FROM tokenentry WHERE processorname = ?",
                        Long.class, group);
                if (!p.isRunning() || status.isEmpty() || segments == null || status.size() != segments
                        || status.values().stream()
                        .anyMatch(s -> s.isErrorState() || s.getCurrentPosition().orElse(-1) < head)) {
                    return false;
                }
            }
            Long unchained = jdbc.queryForObject("SELECT (SELECT count(*) FROM audit_pending) + CASE WHEN "
                    + "(SELECT last_index FROM audit_chain) < ? THEN 1 ELSE 0 END", Long.class, head);
            return unchained != null && unchained == 0;
        });
    }

    /** Every row of each table as JSON text, sorted: equal snapshots mean equal table contents. */
    static Map<String, List<String>> snapshot(JdbcTemplate jdbc, List<String> tables) {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (String table : tables) {
            rows.put(table, jdbc.queryForList("SELECT to_jsonb(t)::text AS row FROM " + table + " t ORDER BY 1",
                    String.class));
        }
        return rows;
    }
}
