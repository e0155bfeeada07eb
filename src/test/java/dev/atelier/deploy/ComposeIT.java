package dev.atelier.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.codec.ServerSentEvent;
import reactor.core.Disposable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.atelier.deploy.Containers.podman;
import static dev.atelier.deploy.Containers.podmanExit;
import static dev.atelier.deploy.Containers.quietly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code deploy/compose/} brought up with podman-compose as its instructions say (the engine image of this build,
 * PostgreSQL and HAProxy from the locally made bases): a workspace created through engine-a is pushed live to a
 * watch stream open on engine-b; with engine-a killed the proxy still serves it and engine-b stops it; with engine-a
 * back and engine-b killed, engine-a deletes it, and everything done through either node is there, audit included.
 * The compose file and proxy configuration are used unchanged, from a copy (podman-compose would let a developer's
 * {@code deploy/compose/.env} override the test's settings).
 */
class ComposeIT {

    static final String RUN = Containers.runId();
    static final String PROJECT = "atelier-compose-it-" + RUN;
    static final String ENGINE_A = PROJECT + "_engine-a_1";
    static final String ENGINE_B = PROJECT + "_engine-b_1";
    static final String TOKEN = "atl_compose-it-" + RUN + "-admin-token";
    static final String DB_PASSWORD = "compose-it-db-" + RUN;

    static String podmanCompose;
    static Path project;
    static Map<String, String> environment;
    static Containers.DockerSocket dockerSocket;
    static ApiClient proxy;
    static ApiClient engineA;
    static ApiClient engineB;
    static final List<String> workspaceContainers = new ArrayList<>();

    @BeforeAll
    static void up() throws Exception {
        podmanCompose = TestInfra.podmanCompose();
        String image = Containers.engineImage();
        Containers.script(Duration.ofMinutes(15), "bash", Containers.ROOT.resolve("deploy/image/build-base.sh").toString(),
                "proxy");
        project = Files.createTempDirectory("atelier-compose-it");
        for (String file : List.of("compose.yaml", "haproxy.cfg")) {
            Path copy = project.resolve(file);
            Files.copy(Containers.ROOT.resolve("deploy/compose").resolve(file), copy);
            copy.toFile().setReadable(true, false);
        }
        dockerSocket = new Containers.DockerSocket();
        int port = Containers.freePort();
        int portA = Containers.freePort();
        int portB = Containers.freePort();
        environment = new LinkedHashMap<>();
        environment.put("ATELIER_IMAGE", image);
        environment.put("ATELIER_POSTGRES_PASSWORD", "su-" + DB_PASSWORD);
        environment.put("ATELIER_DB_PASSWORD", DB_PASSWORD);
        environment.put("ATELIER_ADMIN_TOKEN", TOKEN);
        environment.put("ATELIER_DOCKER_SOCKET", dockerSocket.socket.toString());
        environment.put("ATELIER_PORT", Integer.toString(port));
        environment.put("ATELIER_PORT_A", Integer.toString(portA));
        environment.put("ATELIER_PORT_B", Integer.toString(portB));
        compose(Duration.ofMinutes(5), "up", "-d");

        proxy = new ApiClient("http://127.0.0.1:" + port, TOKEN);
        engineA = new ApiClient("http://127.0.0.1:" + portA, TOKEN);
        engineB = new ApiClient("http://127.0.0.1:" + portB, TOKEN);
        EngineImageIT.awaitHealthy(ENGINE_A, engineA, Duration.ofMinutes(5));
        EngineImageIT.awaitHealthy(ENGINE_B, engineB, Duration.ofMinutes(5));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> proxy.get("/actuator/health/readiness").status() == 200);
    }

    @AfterAll
    static void down() throws Exception {
        if (environment != null) {
            try {
                compose(Duration.ofMinutes(3), "down", "-v");
            } catch (RuntimeException e) {
                // the explicit removals below still run
            }
        }
        for (String container : workspaceContainers) {
            quietly("rm", "-f", "-t", "2", container);
        }
        for (String service : List.of("proxy", "engine-a", "engine-b", "postgres")) {
            quietly("rm", "-f", "-t", "2", PROJECT + "_" + service + "_1");
        }
        for (String volume : List.of("postgres-data", "engine-a-data", "engine-b-data")) {
            quietly("volume", "rm", "-f", PROJECT + "_" + volume);
        }
        quietly("network", "rm", "-f", PROJECT + "_default"); // podman-compose 1.0 leaves the network behind
        if (dockerSocket != null) {
            dockerSocket.close();
        }
        if (project != null) {
            try (Stream<Path> files = Files.walk(project)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aWorkspaceCreatedOnOneNodeIsWatchedOnTheOtherAndKillingEitherNodeLosesNothing() throws Exception {
        assertThat(engineA.get("/actuator/health").json().at("/components/node/details/id").asText()).isEqualTo("engine-a");
        assertThat(engineB.get("/actuator/health").json().at("/components/node/details/id").asText()).isEqualTo("engine-b");
        await().atMost(Duration.ofSeconds(30)).until(() -> "listening".equals(
                engineB.get("/actuator/health").json().at("/components/node/details/viewNotices").asText()));

        // Created through engine-a, watched on engine-b.
        assertThat(engineA.post("/api/v1/teams", Map.of("name", "compose")).status()).isEqualTo(201);
        ApiClient.Response template = engineA.post("/api/v1/templates", Map.of("name", "compose-it",
                "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sleep", "100000")),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        assertThat(template.status()).as("%s", template).isEqualTo(201);
        List<ServerSentEvent<JsonNode>> onB = new CopyOnWriteArrayList<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        Disposable watch = engineB.watch("/api/v1/workspaces/watch", subscribed).subscribe(onB::add);
        String id;
        try {
            assertThat(subscribed.await(30, TimeUnit.SECONDS)).as("watch on engine-b subscribed").isTrue();
            ApiClient.Response created = engineA.post("/api/v1/workspaces", Map.of("name", "across-nodes",
                    "templateId", template.json().get("id").asText(), "team", "compose"));
            assertThat(created.status()).as("%s", created).isEqualTo(202);
            id = created.json().get("id").asText();
            workspaceContainers.add("atelier-" + id);
            String workspace = id;
            await().atMost(Duration.ofSeconds(60)).until(() -> statuses(onB, workspace).contains("RUNNING"));
            assertThat(statuses(onB, id)).endsWith("RUNNING");
        } finally {
            watch.dispose();
        }
        assertThat(running("atelier-" + id)).isTrue();

        // engine-a killed: the proxy serves everything from engine-b, which stops the workspace.
        podman("kill", ENGINE_A);
        assertThat(untilServed(() -> proxy.get("/api/v1/workspaces/" + id)).json().path("status").asText())
                .isEqualTo("RUNNING");
        assertThat(untilServed(() -> proxy.post("/api/v1/workspaces/" + id + "/stop", Map.of())).status())
                .isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> "STOPPED".equals(
                proxy.get("/api/v1/workspaces/" + id).json().path("status").asText()));
        assertThat(running("atelier-" + id)).isFalse();

        // engine-a back, engine-b killed: engine-a deletes it and has all of it.
        podman("start", ENGINE_A);
        EngineImageIT.awaitHealthy(ENGINE_A, engineA, Duration.ofMinutes(5));
        podman("kill", ENGINE_B);
        assertThat(untilServed(() -> proxy.delete("/api/v1/workspaces/" + id)).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> "DELETED".equals(
                proxy.get("/api/v1/workspaces/" + id).json().path("status").asText()));
        assertThat(podmanExit("container", "exists", "atelier-" + id)).as("its container is gone").isNotZero();
        assertThat(engineA.get("/api/v1/templates").body()).contains("compose-it");
        // The audit trail has what both nodes did (its single segment moves to the node that is alive).
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            JsonNode entries = engineA.get("/api/v1/audit?resourceId=" + id).json().path("entries");
            List<String> actions = new ArrayList<>();
            entries.forEach(e -> actions.add(e.path("action").asText().toLowerCase()));
            assertThat(actions).anyMatch(a -> a.contains("stop")).anyMatch(a -> a.contains("delete"))
                    .anyMatch(a -> a.contains("create"));
        });
    }

    /** Through the proxy, once it has noticed which node is down (it answers 503 while it has no node). */
    private static ApiClient.Response untilServed(java.util.function.Supplier<ApiClient.Response> call) {
        List<ApiClient.Response> last = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            ApiClient.Response r = call.get();
            last.add(0, r);
            return r.status() != 503;
        });
        return last.get(0);
    }

    private static boolean running(String container) throws Exception {
        return "true".equals(podman("inspect", "--format", "{{.State.Running}}", container).trim());
    }

    private static List<String> statuses(List<ServerSentEvent<JsonNode>> pushed, String id) {
        return pushed.stream().map(ServerSentEvent::data).filter(d -> id.equals(d.path("id").asText()))
                .map(d -> d.path("status").asText()).toList();
    }

    private static void compose(Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(podmanCompose, "-p", PROJECT, "-f",
                project.resolve("compose.yaml").toString()));
        command.addAll(List.of(args));
        Containers.Result r = Containers.exec(timeout, environment, command);
        if (r.exit() != 0) {
            throw new IllegalStateException("podman-compose " + String.join(" ", args) + " failed (" + r.exit() + "): "
                    + r.output().replace(DB_PASSWORD, "***").replace(TOKEN, "***"));
        }
    }
}
