package dev.atelier.providers.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.config.DatabaseConfiguration;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestDatabase;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.atelier.gateway.SshClient;
import io.fabric8.kubernetes.client.server.mock.ErrorStreamMessage;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.OutputStreamMessage;
import io.fabric8.kubernetes.client.server.mock.StatusStreamMessage;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end through the HTTP API and the real engine (saga, persistent deadlines, projections) with the
 * {@code kubernetes} provider enabled and pointed at fabric8's mock API server in CRUD mode. No cluster runs:
 * {@link FakeStatefulSetController} plays the StatefulSet controller and kubelet in the background (creates the
 * pod when one replica is wanted and reports it Ready, removes it when scaled to zero).
 */
class KubernetesProviderIT extends EngineIntegrationTest {

    static final String NAMESPACE = "atelier-it";
    /** CRUD mode, plus scripted answers (the exec websocket of the SSH gateway test) where one is expected. */
    static final Map<ServerRequest, Queue<ServerResponse>> EXPECTED = new HashMap<>();
    static final KubernetesMockServer API = new KubernetesMockServer(new Context(), new MockWebServer(), EXPECTED,
            new KubernetesMixedDispatcher(EXPECTED), false);
    static final int GATEWAY_PORT = freePort();
    /**
     * This test's engine has other properties than the other integration tests', so Spring starts a second engine
     * while theirs may still be cached and running; it gets a database of its own, or both engines would share
     * event processors and sagas (and theirs has no kubernetes provider).
     */
    static final TestDatabase.Database OWN_DB = TestDatabase.create();

    static {
        API.init();
    }

    static KubernetesClient cluster;
    static FakeStatefulSetController controller;

    @DynamicPropertySource
    static void kubernetes(DynamicPropertyRegistry registry) {
        registry.add("atelier.providers.kubernetes.enabled", () -> "true");
        registry.add("atelier.providers.kubernetes.master-url", () -> API.url("/"));
        registry.add("atelier.providers.kubernetes.namespace", () -> NAMESPACE);
        registry.add("atelier.providers.kubernetes.ingress-cidrs", () -> "10.8.0.0/16,172.16.4.0/24");
        registry.add("atelier.providers.kubernetes.poll-interval", () -> "PT0.1S");
        registry.add("atelier.test.ssh-gateway-port", () -> Integer.toString(GATEWAY_PORT));
        registry.add("atelier.ssh.gateway.bind-address", () -> "127.0.0.1");
    }

    private static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestConfiguration
    static class OwnDatabase {
        @Bean
        DatabaseConfiguration.HikariConfigCustomizer kubernetesItDatabase() {
            return config -> {
                config.setJdbcUrl(OWN_DB.url());
                config.setUsername(OWN_DB.user());
                config.setPassword(OWN_DB.password());
            };
        }
    }

    @BeforeAll
    static void controller() {
        cluster = API.createClient();
        controller = new FakeStatefulSetController(cluster).runInBackground();
    }

    @AfterAll
    static void stopCluster() {
        controller.close();
        cluster.close();
        API.destroy();
    }

    @Test
    void aKubernetesWorkspaceGoesThroughItsLifecycleThroughTheApi() {
        ApiClient.Response invalid = admin.post("/api/v1/templates", template("gpu-typo", Map.of("image", "x",
                "resources", Map.of("gpu", "one"))));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("detail").asText()).contains("resources.gpu must be a whole number");

        Map<String, Object> spec = Map.of("image", "ghcr.io/example/devbox:1", "command", List.of("sleep", "infinity"),
                "resources", Map.of("requests", Map.of("cpu", "1", "memory", "2Gi"), "limits", Map.of("memory", "4Gi"),
                        "gpu", 1),
                "storageGb", 5, "networkPolicy", Map.of("egress", "deny-all"));
        ApiClient.Response template = admin.post("/api/v1/templates", template("k8s-devbox", spec));
        assertThat(template.status()).as(template.toString()).isEqualTo(201);

        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "pod-box",
                "templateId", template.json().get("id").asText()));
        assertThat(created.status()).as(created.toString()).isEqualTo(202);
        String id = created.json().get("id").asText();
        String name = "atelier-" + id;

        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.get("buildNumber").asLong()).isEqualTo(1);
        StatefulSet set = cluster.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get();
        assertThat(set.getMetadata().getLabels()).containsEntry("atelier-workspace-id", id).containsEntry("atelier-build", "1");
        assertThat(set.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getLimits())
                .containsEntry("nvidia.com/gpu", new Quantity("1"));
        var policy = cluster.network().v1().networkPolicies().inNamespace(NAMESPACE).withName(name).get();
        assertThat(policy.getSpec().getIngress().get(0).getFrom()).extracting(p -> p.getIpBlock().getCidr())
                .containsExactly("10.8.0.0/16", "172.16.4.0/24");
        assertThat(policy.getSpec().getEgress()).isEmpty();

        JsonNode connection = admin.get("/api/v1/workspaces/" + id + "/connection").json();
        assertThat(connection.get("provider").asText()).isEqualTo("kubernetes");
        assertThat(connection.get("namespace").asText()).isEqualTo(NAMESPACE);
        assertThat(connection.get("pod").asText()).isEqualTo(name + "-0");
        assertThat(connection.get("exec").asText()).isEqualTo("kubectl exec -it -n " + NAMESPACE + " " + name
                + "-0 -c workspace -- /bin/sh");

        assertThat(admin.post("/api/v1/workspaces/" + id + "/stop", null).status()).isEqualTo(202);
        admin.awaitStatus(id, "STOPPED");
        assertThat(cluster.apps().statefulSets().inNamespace(NAMESPACE).withName(name).get().getSpec().getReplicas())
                .isZero();
        assertThat(cluster.pods().inNamespace(NAMESPACE).withName(name + "-0").get()).isNull();
        assertThat(cluster.persistentVolumeClaims().inNamespace(NAMESPACE).withName(name + "-home").get())
                .as("the home volume survives stop").isNotNull();

        assertThat(admin.post("/api/v1/workspaces/" + id + "/start", null).status()).isEqualTo(202);
        JsonNode restarted = admin.awaitStatus(id, "RUNNING");
        assertThat(restarted.get("buildNumber").asLong()).isEqualTo(3);
        assertThat(cluster.pods().inNamespace(NAMESPACE).withName(name + "-0").get().getMetadata().getLabels())
                .containsEntry("atelier-build", "3");

        assertThat(admin.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        admin.awaitStatus(id, "DELETED");
        assertThat(labelled(id)).isEmpty();

        JsonNode history = admin.get("/api/v1/workspaces/" + id + "/history").json().get("events");
        assertThat(history).extracting(e -> e.get("type").asText()).containsExactly(
                "WorkspaceCreated", "TransitionStarted", "TransitionSucceeded",
                "TransitionStarted", "TransitionSucceeded",
                "TransitionStarted", "TransitionSucceeded",
                "TransitionStarted", "TransitionSucceeded");
    }

    /**
     * The SSH gateway with OpenSSH's own client into a kubernetes workspace: the command goes to the pod's exec
     * (the mock server answers only the exact request: argv, container, streams), its output and exit status come
     * back to the client.
     */
    @Test
    void aKubernetesWorkspaceRunsCommandsThroughTheSshGateway() throws Exception {
        ApiClient.Response created = admin.post("/api/v1/users", Map.of("id", "k8s-gw", "name", "k8s-gw",
                "roles", List.of("member")));
        assertThat(created.status()).as("%s", created).isIn(201, 409);
        ApiClient member = clientFor("k8s-gw", "member");
        java.nio.file.Path key = SshClient.newKey(DATA.resolve("k8s-client-keys"), "k8s-gw");
        assertThat(member.post("/api/v1/users/me/keys", Map.of("name", "laptop", "publicKey",
                SshClient.publicKey(key))).status()).isEqualTo(201);
        ApiClient.Response template = admin.post("/api/v1/templates", template("k8s-ssh", Map.of("image",
                "ghcr.io/example/devbox:1")));
        assertThat(template.status()).as(template.toString()).isEqualTo(201);
        ApiClient.Response workspace = member.post("/api/v1/workspaces", Map.of("name", "pod-shell",
                "templateId", template.json().get("id").asText()));
        assertThat(workspace.status()).as(workspace.toString()).isEqualTo(202);
        String id = workspace.json().get("id").asText();
        member.awaitStatus(id, "RUNNING");

        API.expect().get().withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/atelier-" + id + "-0/exec?command="
                        + "%2Fbin%2Fsh&command=-c&command=echo%20hi%3B%20exit%203&container=workspace"
                        + "&stdin=true&stdout=true&stderr=true")
                .andUpgradeToWebSocket().open(new OutputStreamMessage("hello from the pod\n"),
                        new ErrorStreamMessage("a warning\n"), new StatusStreamMessage(3))
                .done().once();

        SshClient.Result result = new SshClient(GATEWAY_PORT).ssh(key, "pod-shell", null, List.of(), "echo hi; exit 3");

        assertThat(result.out()).as("%s", result).isEqualTo("hello from the pod\n");
        assertThat(result.err()).as("%s", result).contains("a warning");
        assertThat(result.exit()).isEqualTo(3);
    }

    private static List<String> labelled(String id) {
        List<HasMetadata> found = new ArrayList<>();
        found.addAll(cluster.apps().statefulSets().inAnyNamespace().withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(cluster.pods().inAnyNamespace().withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(cluster.persistentVolumeClaims().inAnyNamespace().withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(cluster.secrets().inAnyNamespace().withLabel("atelier-workspace-id", id).list().getItems());
        found.addAll(cluster.network().v1().networkPolicies().inAnyNamespace().withLabel("atelier-workspace-id", id)
                .list().getItems());
        return found.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    }

    private static Map<String, Object> template(String name, Map<String, Object> spec) {
        return Map.of("name", name, "provider", "kubernetes", "spec", spec,
                "pricing", Map.of("runningPerHour", "1.20", "stoppedPerHour", "0.05", "currency", "EUR"));
    }
}
