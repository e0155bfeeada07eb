package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import dev.atelier.AtelierApplication;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The scheduled path: with {@code atelier.reconcile.enabled} (the production default) an engine finds an orphan by
 * itself every {@code atelier.reconcile.interval}, nobody calling {@code POST /api/v1/reconcile}. A context of its
 * own (the shared test properties switch the schedule off).
 */
class ScheduledReconciliationIT {

    @Test
    void theRecurringTaskFindsAnOrphanWithoutBeingAsked() throws Exception {
        String host = TestInfra.podman();
        String ghost = UUID.randomUUID().toString();
        Map<String, Object> props = new HashMap<>(EngineTestSupport.properties(TestDatabase.create(),
                EngineTestSupport.tempDataDir()));
        props.put("atelier.reconcile.enabled", "true");
        props.put("atelier.reconcile.interval", "PT1S");
        props.put("server.port", "0");
        try (DockerClient docker = DockerProviderConfiguration.client(new DockerProviderProperties(true, host, false,
                null, "127.0.0.1", null, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1),
                List.of()));
             ConfigurableApplicationContext engine = new SpringApplicationBuilder(AtelierApplication.class)
                     .run(EngineTestSupport.arguments(props))) {
            ApiClient admin = new ApiClient("http://localhost:" + engine.getEnvironment()
                    .getProperty("local.server.port"), EngineTestSupport.ADMIN_TOKEN);
            try {
                docker.createContainerCmd(TestInfra.BUSYBOX_IMAGE).withName("atelier-" + ghost)
                        .withCmd("sleep", "100000").withLabels(Map.of("atelier-workspace-id", ghost)).exec();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() ->
                        admin.get("/api/v1/orphans").body().contains(ghost));
                assertThat(admin.get("/actuator/prometheus").body())
                        .containsPattern("atelier_orphans\\{provider=\"docker\"\\} [1-9]");
            } finally {
                docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of("atelier-workspace-id=" + ghost))
                        .exec().forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).exec());
            }
        }
    }
}
