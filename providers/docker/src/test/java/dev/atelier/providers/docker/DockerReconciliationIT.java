package dev.atelier.providers.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reconciliation against the real docker provider (podman's Docker API): a container stopped behind the engine's
 * back drifts its workspace to STOPPED (reason SYSTEM); a container left labelled with a deleted workspace, and one
 * labelled with a workspace the engine never knew, are orphans that an owner lists and deletes through the provider.
 */
class DockerReconciliationIT extends EngineIntegrationTest {

    private static DockerClient docker;
    private final List<String> labelled = new ArrayList<>();

    @BeforeAll
    static void daemon() {
        String host = TestInfra.podman();
        docker = DockerProviderConfiguration.client(new DockerProviderProperties(true, host, false, null, "127.0.0.1",
                null, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1), List.of()));
    }

    @AfterAll
    static void close() throws Exception {
        docker.close();
    }

    @AfterEach
    void removeLeftovers() {
        for (String id : labelled) {
            docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of("atelier-workspace-id=" + id)).exec()
                    .forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).exec());
            docker.listNetworksCmd().withFilter("label", List.of("atelier-workspace-id=" + id)).exec()
                    .forEach(n -> docker.removeNetworkCmd(n.getId()).exec());
        }
        labelled.clear();
    }

    @Test
    void driftFollowsRealityAndOrphansAreListedAndDeleted() {
        ApiClient.Response template = admin.post("/api/v1/templates", Map.of("name", "docker-reconcile",
                "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sleep", "100000")),
                "pricing", Map.of("runningPerHour", "0.20", "stoppedPerHour", "0.02", "currency", "EUR")));
        assertThat(template.status()).as(template.body()).isEqualTo(201);
        String templateId = template.json().get("id").asText();
        String stoppedBehindOurBack = create("drifter", templateId);
        String leftBehind = create("left-behind", templateId);
        admin.awaitStatus(stoppedBehindOurBack, "RUNNING");
        admin.awaitStatus(leftBehind, "RUNNING");

        // Behind the engine's back: one container stopped; one workspace's record deleted while a container with
        // its labels lives on (what a forced delete whose provider call failed leaves); one container labelled with
        // a workspace this engine never had.
        docker.stopContainerCmd("atelier-" + stoppedBehindOurBack).withTimeout(1).exec();
        assertThat(admin.delete("/api/v1/workspaces/" + leftBehind).status()).isEqualTo(202);
        admin.awaitStatus(leftBehind, "DELETED");
        assertThat(containers(leftBehind)).isZero();
        String leftover = run(leftBehind, "3");
        String ghost = UUID.randomUUID().toString();
        labelled.add(ghost);
        run(ghost, "1");
        assertThat(containers(leftBehind)).isEqualTo(1);

        ApiClient member = clientFor("rita", "member");
        assertThat(member.post("/api/v1/reconcile", Map.of()).status()).isEqualTo(403);
        assertThat(member.get("/api/v1/orphans").status()).isEqualTo(403);
        assertThat(admin.get("/api/v1/workspaces/" + stoppedBehindOurBack).json().get("status").asText())
                .as("a refused run changed nothing").isEqualTo("RUNNING");

        ApiClient.Response ran = admin.post("/api/v1/reconcile", Map.of());
        assertThat(ran.status()).as(ran.body()).isEqualTo(200);
        assertThat(ran.json().get("ran").asBoolean()).isTrue();
        assertThat(ran.json().get("providers").toString()).contains("docker");
        assertThat(ran.json().get("drifts").toString()).contains(stoppedBehindOurBack).contains("STOPPED")
                .doesNotContain(leftBehind);

        JsonNode drifted = admin.get("/api/v1/workspaces/" + stoppedBehindOurBack).json();
        assertThat(drifted.get("status").asText()).isEqualTo("STOPPED");
        assertThat(drifted.at("/lastTransition/transition").asText()).isEqualTo("DRIFT");
        assertThat(drifted.at("/lastTransition/reason").asText()).isEqualTo("SYSTEM");
        assertThat(drifted.at("/lastTransition/error").asText()).contains("atelier-" + stoppedBehindOurBack)
                .contains("STOPPED");
        // The engine follows reality; it does not act on it: the container is still there, stopped.
        assertThat(containers(stoppedBehindOurBack)).isPositive();

        JsonNode orphans = admin.get("/api/v1/orphans").json().get("orphans");
        JsonNode mine = find(orphans, leftBehind);
        assertThat(mine.get("provider").asText()).isEqualTo("docker");
        assertThat(mine.get("knownWorkspace").asBoolean()).isTrue();
        assertThat(mine.get("handles").toString()).contains("container/" + leftover);
        assertThat(mine.get("state").asText()).isEqualTo("RUNNING");
        assertThat(mine.get("costPerHour").decimalValue()).isEqualByComparingTo("0.20");
        assertThat(mine.get("currency").asText()).isEqualTo("EUR");
        assertThat(mine.get("ageSeconds").asLong()).isNotNegative();
        JsonNode unknown = find(orphans, ghost);
        assertThat(unknown.get("knownWorkspace").asBoolean()).isFalse();
        assertThat(unknown.has("costPerHour")).isFalse();
        assertThat(orphans.toString()).doesNotContain(stoppedBehindOurBack);

        // A second run finds nothing new: the drift is not recorded twice, the orphans keep their first sighting.
        JsonNode again = admin.post("/api/v1/reconcile", Map.of()).json();
        assertThat(again.get("drifts").toString()).doesNotContain(stoppedBehindOurBack);
        assertThat(find(admin.get("/api/v1/orphans").json().get("orphans"), leftBehind).get("firstSeenAt"))
                .isEqualTo(mine.get("firstSeenAt"));

        String orphanId = mine.get("id").asText();
        assertThat(member.delete("/api/v1/orphans/" + orphanId).status()).isEqualTo(403);
        assertThat(containers(leftBehind)).as("a refused delete removed nothing").isEqualTo(1);
        assertThat(admin.delete("/api/v1/orphans/no-such-orphan").status()).isEqualTo(404);
        assertThat(admin.delete("/api/v1/orphans/" + orphanId).status()).isEqualTo(204);
        assertThat(containers(leftBehind)).isZero();
        assertThat(admin.get("/api/v1/orphans").json().get("orphans").toString()).doesNotContain(leftBehind)
                .contains(ghost);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode drift = admin.get("/api/v1/audit?action=drift&resourceId=" + stoppedBehindOurBack).json()
                    .get("entries");
            assertThat(drift).hasSize(1);
            assertThat(drift.get(0).get("reason").asText()).isEqualTo("SYSTEM");
            JsonNode orphanEntries = admin.get("/api/v1/audit?resourceType=orphan&resourceId=" + orphanId).json()
                    .get("entries");
            assertThat(orphanEntries.toString()).contains("orphan-found").contains("\"delete\"");
            assertThat(admin.get("/api/v1/audit?action=reconcile").json().get("entries")).hasSizeGreaterThanOrEqualTo(2);
            // the member's refused calls are on record too, named like the owner's
            assertThat(admin.get("/api/v1/audit?resourceType=orphan&outcome=denied").json().get("entries").toString())
                    .contains("\"list\"").contains("\"delete\"").contains("rita");
            assertThat(admin.get("/api/v1/audit?resourceType=reconciliation&outcome=denied").json().get("entries"))
                    .hasSize(1);
        });
        String metrics = client(null).get("/actuator/prometheus").body();
        assertThat(metrics).containsPattern("atelier_drift_total\\{found=\"STOPPED\",provider=\"docker\"\\} 1\\.0");
        assertThat(metrics).containsPattern("atelier_orphans\\{provider=\"docker\"\\} [1-9]");
    }

    private String create(String name, String templateId) {
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        labelled.add(id);
        return id;
    }

    /** A container with a workspace's labels, made directly at the Docker API. @return its name */
    private String run(String workspaceId, String build) {
        String name = "atelier-" + workspaceId;
        docker.createContainerCmd(TestInfra.BUSYBOX_IMAGE).withName(name).withCmd("sleep", "100000")
                .withLabels(Map.of("atelier-workspace-id", workspaceId, "atelier-build", build, "atelier-role", "main"))
                .exec();
        docker.startContainerCmd(name).exec();
        return name;
    }

    private int containers(String workspaceId) {
        return docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of("atelier-workspace-id=" + workspaceId)).exec().size();
    }

    private static JsonNode find(JsonNode orphans, String workspaceId) {
        return StreamSupport.stream(orphans.spliterator(), false)
                .filter(o -> workspaceId.equals(o.get("workspaceId").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no orphan for " + workspaceId + " in " + orphans));
    }
}
