package dev.atelier.projections.idle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.LocalWorkspaceCleanup;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * End to end: local workspaces run the real agent script in their sandbox, which reports the connections it sees to
 * the engine through the relay socket (the sandbox cannot reach the engine's port); the engine stops a workspace
 * nobody is connected to, and never one somebody is connected to.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class IdleDetectionIT {

    static final Path DATA = EngineTestSupport.tempDataDir();
    static final ServerSocket IDE;

    static {
        try {
            // Stands in for the workspace's SSH server: the agent counts connections to this port.
            IDE = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void engine(DynamicPropertyRegistry registry) {
        EngineTestSupport.properties(TestDatabase.create(), DATA).forEach((k, v) -> registry.add(k, () -> v));
        registry.add("atelier.agent.heartbeat", () -> "PT1S");
        registry.add("atelier.agent.ports", () -> "ssh:" + IDE.getLocalPort());
        registry.add("atelier.idle.flush-interval", () -> "PT0.5S");
        registry.add("atelier.idle.stale-after", () -> "PT3S");
        registry.add("atelier.policies.idle-warning", () -> "PT2S");
    }

    @LocalServerPort
    int port;
    @org.springframework.beans.factory.annotation.Autowired
    dev.atelier.security.AgentTokens agentTokens;
    ApiClient admin;

    @BeforeEach
    void client() {
        admin = new ApiClient("http://localhost:" + port, EngineTestSupport.ADMIN_TOKEN);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        LocalWorkspaceCleanup.killAll(DATA);
        IDE.close();
    }

    @Test
    void aConnectedWorkspaceStaysUpAndIsStoppedForIdlenessAfterTheLastConnectionCloses() throws Exception {
        // The IDE connects to the host's loopback: a workspace that serves it shares the host's network. Its agent
        // still reports through the engine's relay socket, as every sandboxed local workspace's does.
        String id = workspace("connected", "PT6S", true);
        try (Socket connection = new Socket(InetAddress.getLoopbackAddress(), IDE.getLocalPort());
             Socket accepted = IDE.accept()) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    admin.get("/api/v1/workspaces/" + id).json().at("/activity/openConnections/ssh").asInt() == 1);
            Thread.sleep(9_000); // well past the idle timeout: the open connection keeps it running
            JsonNode detail = admin.get("/api/v1/workspaces/" + id).json();
            assertThat(detail.get("status").asText()).isEqualTo("RUNNING");
            assertThat(detail.at("/activity/lastActivityAt").asText()).isNotEmpty();
            assertThat(ids(admin.get("/api/v1/idle?minIdle=PT0S").json())).doesNotContain(id);
        }
        Instant closed = Instant.now();
        JsonNode stopped = admin.awaitStatus(id, "STOPPED");
        Duration afterClose = Duration.between(closed, Instant.parse(stopped.get("updatedAt").asText()));
        // At most idleTimeout (6 s) + the idle warning (2 s, which always comes first) + one heartbeat (1 s) after
        // the connection closed, plus the stop itself (saga, provider, projection): 4 s of slack for a loaded machine.
        assertThat(afterClose).isLessThan(Duration.ofSeconds(6 + 2 + 1 + 4));
        assertThat(stopped.at("/lastTransition/reason").asText()).isEqualTo("IDLE");
        assertThat(stopped.at("/lastTransition/actor").asText()).isEqualTo("atelier");
        List<String> types = types(id);
        assertThat(types).containsSubsequence("IdleStopWarning", "TransitionStarted", "TransitionSucceeded");
        assertThat(types.stream().filter(t -> t.equals("TransitionStarted")).count()).isEqualTo(2);
    }

    @Test
    void anUnusedAgentWorkspaceShowsUpAsIdleWithItsCostAndStopsByItself() {
        String id = workspace("forgotten", "PT5S");
        await().atMost(Duration.ofSeconds(10)).until(() -> ids(admin.get("/api/v1/idle?minIdle=PT2S").json()).contains(id));
        JsonNode idle = find(admin.get("/api/v1/idle?minIdle=PT2S").json(), id);
        assertThat(idle.get("kind").asText()).isEqualTo("AGENT");
        assertThat(idle.at("/policy/idleTimeout").asText()).isEqualTo("PT5S");
        assertThat(idle.at("/nextAutoStop/reason").asText()).isEqualTo("IDLE");
        assertThat(idle.at("/accruingPerHour/amount").decimalValue()).isEqualByComparingTo("3.60");
        assertThat(idle.at("/accruingPerHour/currency").asText()).isEqualTo("EUR");
        assertThat(idle.at("/spentWhileIdle/amount").decimalValue()).isPositive();

        JsonNode stopped = admin.awaitStatus(id, "STOPPED");
        assertThat(stopped.at("/lastTransition/reason").asText()).isEqualTo("IDLE");
        assertThat(ids(admin.get("/api/v1/idle?minIdle=PT0S").json())).doesNotContain(id);
    }

    @Test
    void oneHeartbeatCarriesEverySourceTheAgentWatches() {
        String id = workspace("multi-source", "PT1H");
        ApiClient agent = new ApiClient("http://localhost:" + port, agentTokens.issue(id, 1));
        String path = "/api/v1/workspaces/" + id + "/activity";
        // Sources the workspace's own agent (beating every second here, with 'ssh') does not report.
        assertThat(agent.post(path, Map.of("sources", Map.of("vscode", 2, "web", 1, "agent", 0))).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            JsonNode open = admin.get("/api/v1/workspaces/" + id).json().at("/activity/openConnections");
            return open.path("vscode").asInt() == 2 && open.path("web").asInt() == 1;
        });

        ApiClient.Response both = agent.post(path, Map.of("source", "ssh", "connections", 1, "sources", Map.of("ssh", 1)));
        assertThat(both.status()).isEqualTo(400);
        assertThat(both.json().get("detail").asText()).contains("not both");
        ApiClient.Response badName = agent.post(path, Map.of("sources", Map.of("SSH; rm", 1)));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.json().get("detail").asText()).contains("source names");
        ApiClient.Response badCount = agent.post(path, Map.of("sources", Map.of("ssh", -1)));
        assertThat(badCount.status()).isEqualTo(400);
        assertThat(badCount.json().get("detail").asText()).contains("'ssh' must be 0 to 10000");
        assertThat(agent.post(path, Map.of("sources", Map.of())).status()).isEqualTo(400);
        ApiClient.Response neither = agent.post(path, Map.of("connections", 1));
        assertThat(neither.status()).isEqualTo(400);
        assertThat(neither.json().get("detail").asText()).contains("'sources'");
    }

    @Test
    void heartbeatsNeedTheWorkspacesOwnAgentTokenOrItsOwner() {
        String id = workspace("guarded", "PT1H");
        ApiClient stranger = client("mallory", "member");
        ApiClient.Response denied = stranger.post("/api/v1/workspaces/" + id + "/activity",
                Map.of("source", "ssh", "connections", 1));
        assertThat(denied.status()).isEqualTo(404);
        ApiClient forged = new ApiClient("http://localhost:" + port, "atw_" + id + ".1." + "A".repeat(43));
        assertThat(forged.post("/api/v1/workspaces/" + id + "/activity", Map.of("source", "ssh", "connections", 1))
                .status()).isEqualTo(401);
        ApiClient.Response bad = admin.post("/api/v1/workspaces/" + id + "/activity", Map.of("source", "SSH; rm", "connections", -1));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(admin.post("/api/v1/workspaces/" + id + "/activity", Map.of("source", "vscode", "connections", 2))
                .status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(5)).until(() ->
                admin.get("/api/v1/workspaces/" + id).json().at("/activity/openConnections/vscode").asInt() == 2);
    }

    @Test
    void anAgentTokenIsValidForItsBuildOnly() {
        String id = workspace("rebuilt", "PT1H");
        Map<String, Object> beat = Map.of("source", "ssh", "connections", 0);
        ApiClient firstAgent = new ApiClient("http://localhost:" + port, agentTokens.issue(id, 1));
        assertThat(firstAgent.post("/api/v1/workspaces/" + id + "/activity", beat).status()).isEqualTo(204);
        admin.post("/api/v1/workspaces/" + id + "/stop", null);
        admin.awaitStatus(id, "STOPPED");
        admin.post("/api/v1/workspaces/" + id + "/start", null);
        admin.awaitStatus(id, "RUNNING");
        assertThat(firstAgent.post("/api/v1/workspaces/" + id + "/activity", beat).status()).as("revoked by the stop")
                .isEqualTo(404);
        ApiClient thirdAgent = new ApiClient("http://localhost:" + port, agentTokens.issue(id, 3));
        assertThat(thirdAgent.post("/api/v1/workspaces/" + id + "/activity", beat).status()).isEqualTo(204);
        assertThat(thirdAgent.post("/api/v1/workspaces/" + java.util.UUID.randomUUID() + "/activity", beat).status())
                .as("another workspace").isEqualTo(404);
        assertThat(thirdAgent.get("/api/v1/workspaces/" + id).status()).as("heartbeats only").isEqualTo(404);
    }

    @Test
    void theOwnerCanKeepAWorkspaceAliveWithinItsMaximumLifetime() {
        String id = workspace("extended", "PT1H");
        ApiClient.Response tooLong = admin.post("/api/v1/workspaces/" + id + "/extend", Map.of("duration", "PT5H"));
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.json().get("detail").asText()).contains("maximum lifetime PT4H");
        ApiClient.Response ok = admin.post("/api/v1/workspaces/" + id + "/extend", Map.of("duration", "PT2H"));
        assertThat(ok.status()).isEqualTo(202);
        Instant until = Instant.parse(ok.json().get("keepAliveUntil").asText());
        await().atMost(Duration.ofSeconds(5)).until(() -> !admin.get("/api/v1/workspaces/" + id).json()
                .at("/activity/keepAliveUntil").asText().isEmpty());
        JsonNode activity = admin.get("/api/v1/workspaces/" + id).json().get("activity");
        assertThat(Instant.parse(activity.get("keepAliveUntil").asText())).isCloseTo(until, within(1, ChronoUnit.MILLIS));
        assertThat(activity.at("/nextAutoStop/reason").asText()).isEqualTo("IDLE");
        assertThat(Instant.parse(activity.at("/nextAutoStop/at").asText())).isCloseTo(until, within(1, ChronoUnit.MILLIS));
    }

    private String workspace(String name, String idleTimeout) {
        return workspace(name, idleTimeout, false);
    }

    /** {@code hostNetwork}: the template asks for the host's network; otherwise the workspace has its own. */
    private String workspace(String name, String idleTimeout, boolean hostNetwork) {
        String templateId = admin.post("/api/v1/templates", Map.of("name", name, "provider", "local",
                "spec", Map.of("startupScript", "exec sleep 1000", "network", hostNetwork),
                "policy", Map.of("idleTimeout", idleTimeout),
                "pricing", Map.of("runningPerHour", "3.60", "stoppedPerHour", "0.10", "currency", "EUR"))).json().get("id").asText();
        String id = admin.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId, "kind", "AGENT"))
                .json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        return id;
    }

    private ApiClient client(String subject, String... roles) {
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", subject, "subject", subject,
                "roles", List.of(roles)));
        return new ApiClient("http://localhost:" + port, issued.json().get("token").asText());
    }

    private List<String> types(String id) {
        List<String> types = new java.util.ArrayList<>();
        admin.get("/api/v1/workspaces/" + id + "/history").json().get("events").forEach(e -> types.add(e.get("type").asText()));
        return types;
    }

    private static List<String> ids(JsonNode idle) {
        List<String> ids = new java.util.ArrayList<>();
        idle.get("workspaces").forEach(w -> ids.add(w.get("workspaceId").asText()));
        return ids;
    }

    private static JsonNode find(JsonNode idle, String id) {
        for (JsonNode w : idle.get("workspaces")) {
            if (w.get("workspaceId").asText().equals(id)) {
                return w;
            }
        }
        throw new AssertionError("not idle: " + id);
    }
}
