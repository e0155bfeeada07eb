package dev.atelier.lifecycle;

import dev.atelier.AtelierApplication;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stops the engine in the middle of a transition and starts it again on the same database: the workspace still
 * reaches its target status, driven by the persisted saga and deadline, without a second provider call for the
 * same build.
 */
class EngineRestartIT {

    private final GatedProvider provider = new GatedProvider();
    private final TestDatabase.Database db = TestDatabase.create();
    private final Path data = EngineTestSupport.tempDataDir();

    @Test
    void aTransitionInterruptedByARestartFinishesAfterwardsWithoutDuplicateProviderCalls() {
        String workspaceId;
        try (ConfigurableApplicationContext first = start()) {
            ApiClient api = client(first);
            String templateId = api.post("/api/v1/templates", Map.of("name", "gated", "provider", "gated"))
                    .json().get("id").asText();
            workspaceId = api.post("/api/v1/workspaces", Map.of("name", "survivor", "templateId", templateId))
                    .json().get("id").asText();
            String key = workspaceId + "-1";
            await().atMost(Duration.ofSeconds(20)).until(() -> provider.count("poll", key) >= 1);
            assertThat(api.get("/api/v1/workspaces/" + workspaceId).json().get("status").asText()).isEqualTo("STARTING");
        }
        String key = workspaceId + "-1";
        long pollsBeforeRestart = provider.count("poll", key);
        provider.open();

        try (ConfigurableApplicationContext second = start()) {
            ApiClient api = client(second);
            api.awaitStatus(workspaceId, "RUNNING");
            assertThat(provider.count("create", key)).as("create calls for build 1").isEqualTo(1);
            assertThat(provider.count("poll", key)).as("polled again after the restart").isGreaterThan(pollsBeforeRestart);
            assertThat(provider.calls).noneMatch(c -> c.operation().equals("start"));

            api.post("/api/v1/workspaces/" + workspaceId + "/stop", null);
            api.awaitStatus(workspaceId, "STOPPED");
            assertThat(provider.count("stop", workspaceId + "-2")).isEqualTo(1);
        }
    }

    @Test
    void anIdleStopScheduledBeforeARestartHappensOnceAfterIt() {
        provider.open();
        String workspaceId;
        try (ConfigurableApplicationContext first = start()) {
            ApiClient api = client(first);
            String templateId = api.post("/api/v1/templates", Map.of("name", "idle-gated", "provider", "gated",
                    "policy", Map.of("idleTimeout", "PT4S"))).json().get("id").asText();
            workspaceId = api.post("/api/v1/workspaces", Map.of("name", "sleeper", "templateId", templateId))
                    .json().get("id").asText();
            api.awaitStatus(workspaceId, "RUNNING");
        }
        try (ConfigurableApplicationContext second = start()) {
            ApiClient api = client(second);
            var stopped = api.awaitStatus(workspaceId, "STOPPED");
            assertThat(stopped.at("/lastTransition/reason").asText()).isEqualTo("IDLE");
            var history = api.get("/api/v1/workspaces/" + workspaceId + "/history").json().get("events");
            long idleStops = 0;
            for (var event : history) {
                if ("IDLE".equals(event.path("reason").asText()) && "TransitionStarted".equals(event.get("type").asText())) {
                    idleStops++;
                }
            }
            assertThat(idleStops).isEqualTo(1);
            assertThat(provider.count("stop", workspaceId + "-2")).isEqualTo(1);
        }
    }

    private ConfigurableApplicationContext start() {
        Map<String, Object> properties = new HashMap<>(EngineTestSupport.properties(db, data));
        return new SpringApplicationBuilder(AtelierApplication.class)
                .initializers(context -> context.getBeanFactory().registerSingleton("gatedProvider", provider))
                // Command-line arguments: application.yml (${SERVER_PORT:8080}, ${ATELIER_DATA_DIR:./data}) would win
                // over the builder's default properties.
                .run(EngineTestSupport.arguments(properties, "--server.port=0"));
    }

    private static ApiClient client(ConfigurableApplicationContext context) {
        String port = context.getEnvironment().getProperty("local.server.port");
        return new ApiClient("http://localhost:" + port, EngineTestSupport.ADMIN_TOKEN);
    }
}
