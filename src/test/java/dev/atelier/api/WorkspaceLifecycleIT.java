package dev.atelier.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.projections.workspaces.WorkspaceWatchers;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import reactor.core.Disposable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole path on a real engine: HTTP → command → event store (PostgreSQL) → saga → local provider (real
 * processes) → projection → server-sent events.
 */
class WorkspaceLifecycleIT extends EngineIntegrationTest {

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    WorkspaceWatchers watchers;
    ApiClient api;

    @BeforeEach
    void client() {
        api = admin;
    }

    @Test
    void workspaceGoesThroughItsWholeLifecycleAndEveryChangeIsPushed() throws Exception {
        String templateId = api.post("/api/v1/templates", ApiClient.localTemplate("lifecycle",
                "echo \"started $ATELIER_WORKSPACE_ID\" > started.txt; sleep 1000 & exec sleep 1000")).json().get("id").asText();
        List<ServerSentEvent<JsonNode>> pushed = new CopyOnWriteArrayList<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        int watchesBefore = watchers.size();
        Disposable watch = api.watch("/api/v1/workspaces/watch", subscribed).subscribe(pushed::add);
        try {
            assertThat(subscribed.await(10, TimeUnit.SECONDS)).as("watch subscribed").isTrue();
            assertThat(watchers.size()).as("the stream's watch is in the index").isEqualTo(watchesBefore + 1);
            ensureTeam("core");
            ApiClient.Response created = api.post("/api/v1/workspaces", Map.of("name", "life", "templateId", templateId,
                    "team", "core", "labels", Map.of("purpose", "test")));
            assertThat(created.status()).isEqualTo(202);
            assertThat(created.json().get("status").asText()).isEqualTo("PENDING");
            String id = created.json().get("id").asText();

            awaitPushed(pushed, id, "RUNNING");
            JsonNode running = api.get("/api/v1/workspaces/" + id).json();
            assertThat(running.get("buildNumber").asLong()).isEqualTo(1);
            assertThat(running.get("team").asText()).isEqualTo("core");
            assertThat(running.at("/lastTransition/reason").asText()).isEqualTo("USER");
            assertThat(running.at("/lastTransition/actor").asText()).isEqualTo("admin");
            Path dir = Path.of(running.at("/connection/directory").asText());
            assertThat(dir).startsWith(DATA);
            assertThat(Files.readString(dir.resolve("started.txt"), StandardCharsets.UTF_8).trim())
                    .isEqualTo("started " + id);
            long pid = running.at("/connection/pid").asLong();
            assertThat(ProcessHandle.of(pid)).isPresent();
            List<ProcessHandle> tree = ProcessHandle.of(pid).orElseThrow().descendants().toList();
            assertThat(tree).isNotEmpty();

            JsonNode connection = api.get("/api/v1/workspaces/" + id + "/connection").json();
            assertThat(connection.get("type").asText()).isEqualTo("local");
            assertThat(connection.get("directory").asText()).isEqualTo(dir.toString());

            ApiClient.Response stop = api.post("/api/v1/workspaces/" + id + "/stop", null);
            assertThat(stop.status()).isEqualTo(202);
            assertThat(stop.json().get("buildNumber").asLong()).isEqualTo(2);
            awaitPushed(pushed, id, "STOPPED");
            await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(pid).isEmpty()
                    && tree.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(dir.resolve("started.txt")).exists();
            ApiClient.Response unreachable = api.get("/api/v1/workspaces/" + id + "/connection");
            assertThat(unreachable.status()).isEqualTo(409);
            assertThat(unreachable.json().get("detail").asText()).contains("is STOPPED");

            assertThat(api.post("/api/v1/workspaces/" + id + "/start", null).json().get("buildNumber").asLong())
                    .isEqualTo(3);
            awaitPushed(pushed, id, "RUNNING");
            assertThat(api.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
            awaitPushed(pushed, id, "DELETED");
            assertThat(dir).doesNotExist();

            List<String> statuses = pushed.stream().filter(e -> id.equals(e.data().path("id").asText()))
                    .map(e -> e.data().get("status").asText()).toList();
            assertThat(statuses).containsSubsequence("STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING",
                    "RUNNING", "DELETING", "DELETED");

            JsonNode history = api.get("/api/v1/workspaces/" + id + "/history").json().get("events");
            assertThat(history).extracting(e -> e.get("type").asText()).containsExactly(
                    "WorkspaceCreated", "TransitionStarted", "TransitionSucceeded",
                    "TransitionStarted", "TransitionSucceeded",
                    "TransitionStarted", "TransitionSucceeded",
                    "TransitionStarted", "TransitionSucceeded");
            assertThat(history.get(3).get("buildNumber").asLong()).isEqualTo(2);
            assertThat(history.get(3).get("actor").asText()).isEqualTo("admin");
            assertThat(history.get(3).at("/data/transition").asText()).isEqualTo("STOP");
            assertThat(history.get(4).get("actor").asText()).as("outcomes are the engine's").isEqualTo("atelier");
        } finally {
            watch.dispose();
        }
        // The client is gone: its watch leaves the index.
        await().atMost(Duration.ofSeconds(10)).until(() -> watchers.size() == watchesBefore);
    }

    @Test
    void eventsAreStoredAsVersionedJsonWithTheRequestContextInTheirMetadata() throws Exception {
        String templateId = api.post("/api/v1/templates", ApiClient.localTemplate("stored", "exec sleep 1000"))
                .json().get("id").asText();
        String id = api.post("/api/v1/workspaces", Map.of("name", "stored", "templateId", templateId))
                .json().get("id").asText();
        api.awaitStatus(id, "RUNNING");
        Map<String, Object> row = jdbc.queryForMap("""
                SELECT payloadtype, payloadrevision, convert_from(payload, 'UTF8') AS payload,
                       convert_from(metadata, 'UTF8') AS metadata
                FROM domainevententry WHERE aggregateidentifier = ? ORDER BY sequencenumber LIMIT 1""", id);
        assertThat(row.get("payloadtype")).isEqualTo("dev.atelier.domain.workspace.WorkspaceCreatedEvent");
        assertThat(row.get("payloadrevision")).isEqualTo("1");
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree((String) row.get("payload")).get("name").asText()).isEqualTo("stored");
        JsonNode metadata = json.readTree((String) row.get("metadata"));
        assertThat(metadata.get("actorId").asText()).isEqualTo("admin");
        assertThat(metadata.get("actorType").asText()).isEqualTo("API_TOKEN");
        assertThat(metadata.get("requestId").asText()).startsWith("test-");
        assertThat(metadata.get("clientIp").asText()).isEqualTo("127.0.0.1");
        // The saga's own commands inherit the request's context, so the outcome is traceable to the request.
        String successMetadata = jdbc.queryForObject("""
                SELECT convert_from(metadata, 'UTF8') FROM domainevententry
                WHERE aggregateidentifier = ? AND payloadtype LIKE '%TransitionSucceededEvent'""", String.class, id);
        assertThat(json.readTree(successMetadata).get("requestId").asText()).isEqualTo(metadata.get("requestId").asText());
    }

    @Test
    void aStartUpScriptThatFailsLeavesTheWorkspaceFailedWithTheReasonAndItCanStillBeDeleted() {
        String templateId = api.post("/api/v1/templates", ApiClient.localTemplate("broken",
                "echo 'cannot find project.toml' >&2; exit 3")).json().get("id").asText();
        String id = api.post("/api/v1/workspaces", Map.of("name", "broken", "templateId", templateId))
                .json().get("id").asText();
        JsonNode failed = api.awaitStatus(id, "FAILED");
        assertThat(failed.at("/lastTransition/error").asText())
                .contains("exited with code 3").contains("cannot find project.toml");
        assertThat(api.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        api.awaitStatus(id, "DELETED");
    }

    private static void awaitPushed(List<ServerSentEvent<JsonNode>> pushed, String id, String status) {
        await().atMost(Duration.ofSeconds(30)).until(() -> pushed.stream()
                .anyMatch(e -> id.equals(e.data().path("id").asText()) && status.equals(e.data().path("status").asText())
                        && pushed.indexOf(e) >= lastIndexOfOtherStatus(pushed, id, status)));
    }

    /** The newest event of this workspace must be the awaited status (not an older one with the same status). */
    private static int lastIndexOfOtherStatus(List<ServerSentEvent<JsonNode>> pushed, String id, String status) {
        int last = -1;
        for (int i = 0; i < pushed.size(); i++) {
            JsonNode data = pushed.get(i).data();
            if (id.equals(data.path("id").asText()) && !status.equals(data.path("status").asText())) {
                last = i;
            }
        }
        return last;
    }
}
