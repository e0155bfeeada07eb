package dev.atelier.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.AtelierApplication;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.LocalWorkspaceCleanup;
import dev.atelier.support.TestDatabase;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import reactor.core.Disposable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two engines on one PostgreSQL in one JVM: node A is the test's Spring context, node B a second
 * {@link AtelierApplication} started on A's database with its own port, data dir and node id. Node A holds every
 * segment of the workspaces projection (asserted), so what B's watch stream shows of a workspace created through A
 * can only have come through PostgreSQL's notification channel.
 */
class TwoNodesIT extends EngineIntegrationTest {

    private static final Path DATA_B = EngineTestSupport.tempDataDir();
    private static ConfigurableApplicationContext nodeB;

    @Autowired
    Environment environment;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    Node nodeA;

    @BeforeEach
    void startNodeB() {
        if (nodeB != null) {
            return;
        }
        // A claims its segments when it starts; B must find them all taken.
        await().atMost(Duration.ofSeconds(30)).until(() -> owners("workspaces").equals(List.of(nodeA.id())));
        TestDatabase.Database db = new TestDatabase.Database(environment.getProperty("atelier.db.url"),
                environment.getProperty("atelier.db.user"), environment.getProperty("atelier.db.password"));
        Map<String, Object> props = new HashMap<>(EngineTestSupport.properties(db, DATA_B));
        props.put("atelier.node-id", "node-b");
        props.put("server.port", "0");
        // As command-line arguments: they win over application.yml (builder properties would be defaults, below it,
        // and node B would serve on 8080 from the shared ./data directory).
        nodeB = new SpringApplicationBuilder(AtelierApplication.class).run(EngineTestSupport.arguments(props));
    }

    @AfterAll
    static void stopNodeB() {
        if (nodeB != null) {
            nodeB.close();
            nodeB = null;
        }
        LocalWorkspaceCleanup.killAll(DATA_B);
    }

    private ApiClient onB(String token) {
        return new ApiClient("http://localhost:" + nodeB.getEnvironment().getProperty("local.server.port"), token);
    }

    private List<String> owners(String processor) {
        return jdbc.queryForList("SELECT DISTINCT COALESCE(owner, '-') FROM tokenentry WHERE processorname = ?",
                String.class, processor);
    }

    @Test
    void aWorkspaceCreatedThroughNodeAIsPushedToAWatchStreamOnNodeB() throws Exception {
        ApiClient b = onB(EngineTestSupport.ADMIN_TOKEN);
        assertThat(b.get("/actuator/health").json().at("/components/node/details/id").asText()).isEqualTo("node-b");
        assertThat(admin.get("/actuator/health").json().at("/components/node/details/id").asText())
                .isEqualTo(nodeA.id());
        await().atMost(Duration.ofSeconds(10)).until(() -> "listening".equals(
                b.get("/actuator/health").json().at("/components/node/details/viewNotices").asText()));

        // A docker workspace: both nodes reach the same back end (podman), as nodes of one deployment do. (A local
        // workspace lives on the node that started it: a poll that fires on the other node would not find it.)
        TestInfra.podman();
        ApiClient.Response template = admin.post("/api/v1/templates", Map.of("name", "two-nodes", "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sleep", "100000")),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        assertThat(template.status()).as("%s", template).isEqualTo(201);
        String templateId = template.json().get("id").asText();
        List<ServerSentEvent<JsonNode>> onNodeB = new CopyOnWriteArrayList<>();
        List<ServerSentEvent<JsonNode>> onNodeA = new CopyOnWriteArrayList<>();
        CountDownLatch subscribedB = new CountDownLatch(1);
        CountDownLatch subscribedA = new CountDownLatch(1);
        Disposable watchB = b.watch("/api/v1/workspaces/watch", subscribedB).subscribe(onNodeB::add);
        Disposable watchA = admin.watch("/api/v1/workspaces/watch", subscribedA).subscribe(onNodeA::add);
        try {
            assertThat(subscribedB.await(10, TimeUnit.SECONDS)).as("watch on B subscribed").isTrue();
            assertThat(subscribedA.await(10, TimeUnit.SECONDS)).as("watch on A subscribed").isTrue();
            ensureTeam("core");
            ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "across", "templateId",
                    templateId, "team", "core"));
            assertThat(created.status()).isEqualTo(202);
            String id = created.json().get("id").asText();

            await().atMost(Duration.ofSeconds(30)).until(() -> statuses(onNodeB, id).contains("RUNNING"));
            // A notice carries the id only and B reads the view as it is when the notice arrives, so B may see a later
            // state than the one that caused the notice: never an older one, and never out of order.
            assertThat(statuses(onNodeB, id)).isSortedAccordingTo(LIFECYCLE).endsWith("RUNNING");
            // Only A projected: B's stream was fed by notices, and A did not hear its own notices a second time.
            assertThat(owners("workspaces")).containsExactly(nodeA.id());
            await().atMost(Duration.ofSeconds(10)).until(() -> statuses(onNodeA, id).contains("RUNNING"));
            assertThat(statuses(onNodeA, id)).doesNotHaveDuplicates();
            assertThat(statuses(onNodeA, id)).startsWith("PENDING").endsWith("RUNNING");
            assertThat(statuses(onNodeA, id)).containsAll(statuses(onNodeB, id));
            assertThat(b.get("/actuator/health").json().at("/components/node/details/noticesReceived").asLong())
                    .isPositive();
            assertThat(admin.get("/actuator/health").json().at("/components/node/details/noticesReceived").asLong())
                    .as("A hears only its own notices, and ignores them").isZero();

            // A single workspace's stream on B too.
            List<ServerSentEvent<JsonNode>> oneOnB = new CopyOnWriteArrayList<>();
            CountDownLatch subscribedOne = new CountDownLatch(1);
            Disposable watchOne = b.watch("/api/v1/workspaces/" + id + "/watch", subscribedOne).subscribe(oneOnB::add);
            try {
                assertThat(subscribedOne.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(admin.post("/api/v1/workspaces/" + id + "/stop", Map.of()).status()).isEqualTo(202);
                await().atMost(Duration.ofSeconds(30)).until(() -> statuses(oneOnB, id).contains("STOPPED"));
                assertThat(statuses(oneOnB, id)).isSortedAccordingTo(LIFECYCLE).endsWith("STOPPED");
            } finally {
                watchOne.dispose();
                admin.delete("/api/v1/workspaces/" + id); // its container goes
            }
        } finally {
            watchB.dispose();
            watchA.dispose();
        }
    }

    @Test
    void aBudgetSetThroughNodeAIsPushedToTheBudgetStreamOnNodeB() throws Exception {
        ApiClient b = onB(EngineTestSupport.ADMIN_TOKEN);
        await().atMost(Duration.ofSeconds(10)).until(() -> "listening".equals(
                b.get("/actuator/health").json().at("/components/node/details/viewNotices").asText()));
        ensureTeam("budgeted");
        List<ServerSentEvent<JsonNode>> onNodeB = new CopyOnWriteArrayList<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        Disposable watch = b.watch("/api/v1/budgets/watch", subscribed).subscribe(onNodeB::add);
        try {
            assertThat(subscribed.await(10, TimeUnit.SECONDS)).isTrue();
            ApiClient.Response set = admin.post("/api/v1/budgets", Map.of("scope", "team", "name", "budgeted",
                    "amount", 120, "currency", "EUR", "action", "notify"));
            assertThat(set.status()).as(set.toString()).isBetween(200, 201);
            await().atMost(Duration.ofSeconds(10)).until(() -> onNodeB.stream().anyMatch(e ->
                    "BudgetSet".equals(e.data().path("type").asText())
                            && "budgeted".equals(e.data().path("name").asText())));
            JsonNode notice = onNodeB.get(0).data();
            assertThat(notice.path("message").asText()).contains("120").contains("EUR");
            assertThat(onNodeB).hasSize(1);
        } finally {
            watch.dispose();
        }
    }

    /** The order a workspace's statuses come in, from creation to a stop (duplicates allowed, going back not). */
    private static final java.util.Comparator<String> LIFECYCLE = java.util.Comparator.comparingInt(
            List.of("PENDING", "STARTING", "RUNNING", "STOPPING", "STOPPED")::indexOf);

    private static List<String> statuses(List<ServerSentEvent<JsonNode>> pushed, String id) {
        return pushed.stream().map(ServerSentEvent::data).filter(d -> id.equals(d.path("id").asText()))
                .map(d -> d.path("status").asText()).toList();
    }
}
