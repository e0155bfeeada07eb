package dev.atelier.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.atelier.deploy.Containers.podman;
import static dev.atelier.deploy.Containers.podmanExit;
import static dev.atelier.deploy.Containers.quietly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The engine image of {@code deploy/image/} as an operator runs it: built from the Maven build's jar on the base made
 * by {@code build-base.sh} (debootstrap + Debian's JRE, no registry), started with podman next to a PostgreSQL
 * container made the same way, with a read-only root file system and a scratch data volume (as the Kubernetes
 * Deployment runs it). The engine answers its health endpoints and the image's HEALTHCHECK, runs as the image's
 * non-root user, and serves a docker workspace's lifecycle over HTTP: the docker provider reaches the host's podman
 * through a Docker API socket mounted into the container (a podman service of this test, whose socket belongs to the
 * image's user), which is how a containerised engine drives docker workspaces in production too.
 */
class EngineImageIT {

    static final String RUN = Containers.runId();
    static final String DATABASE = "atelier-image-it-db-" + RUN;
    static final String ENGINE = "atelier-image-it-engine-" + RUN;
    static final String VOLUME = "atelier-image-it-data-" + RUN;
    static final String TOKEN = "atl_image-it-" + RUN + "-admin-token";
    static final String DB_PASSWORD = "image-it-" + RUN;

    static Containers.DockerSocket dockerSocket;
    static int enginePort;
    static ApiClient admin;
    static final List<String> workspaceContainers = new ArrayList<>();

    @BeforeAll
    static void startDatabaseAndEngine() throws Exception {
        String image = Containers.engineImage();

        int dbPort = Containers.freePort();
        podman(List.of(DB_PASSWORD), "run", "-d", "--name", DATABASE, "--network", "host",
                "-e", "POSTGRES_PASSWORD=su-" + DB_PASSWORD, "-e", "APP_PASSWORD=" + DB_PASSWORD,
                "-e", "PGPORT=" + dbPort, "-e", "LISTEN_ADDRESSES=127.0.0.1", Containers.POSTGRES_IMAGE);
        String dbUrl = "jdbc:postgresql://127.0.0.1:" + dbPort + "/atelier";
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
            try (Connection c = DriverManager.getConnection(dbUrl, "atelier", DB_PASSWORD)) {
                return c.isValid(2);
            }
        });

        dockerSocket = new Containers.DockerSocket();
        enginePort = Containers.freePort();
        podman(List.of(DB_PASSWORD, TOKEN), "run", "-d", "--name", ENGINE, "--network", "host", "--read-only",
                "--tmpfs", "/tmp", "-v", VOLUME + ":/var/lib/atelier/data",
                "-v", dockerSocket.socket + ":/run/atelier/docker.sock",
                "-e", "SERVER_PORT=" + enginePort, "-e", "ATELIER_NODE_ID=image-it",
                "-e", "ATELIER_DB_URL=" + dbUrl, "-e", "ATELIER_DB_USER=atelier", "-e", "ATELIER_DB_PASSWORD=" + DB_PASSWORD,
                "-e", "ATELIER_ADMIN_TOKEN=" + TOKEN,
                // Host network: the gateway's default port, 2222, is the test sshd's (deploy/test-infra/sshd.sh).
                "-e", "ATELIER_SSH_GATEWAY_PORT=0",
                "-e", "ATELIER_PROVIDERS_DOCKER_ENABLED=true",
                "-e", "ATELIER_PROVIDERS_DOCKER_HOST=unix:///run/atelier/docker.sock",
                "-e", "ATELIER_PROVIDERS_DOCKER_READINESS_DELAY=PT0.5S",
                "-e", "ATELIER_PROVIDERS_DOCKER_STOP_GRACE_PERIOD=PT2S",
                image);
        admin = new ApiClient("http://127.0.0.1:" + enginePort, TOKEN);
        awaitHealthy(ENGINE, admin, Duration.ofMinutes(4));
    }

    /** Waits until the engine in the container answers its readiness group; fails at once if the container ends. */
    static void awaitHealthy(String container, ApiClient client, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptionsMatching(e -> !(e instanceof ContainerEnded)).until(() -> {
                        if (!"true".equals(podman("inspect", "--format", "{{.State.Running}}", container).trim())) {
                            throw new ContainerEnded();
                        }
                        return client.get("/actuator/health/readiness").status() == 200;
                    });
        } catch (ContainerEnded | org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(container + " did not become ready; its log ends:\n" + logs(container), e);
        }
    }

    static String logs(String container) {
        try {
            String all = podman("logs", container);
            return all.length() > 6000 ? all.substring(all.length() - 6000) : all;
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    static final class ContainerEnded extends RuntimeException {
    }

    @AfterAll
    static void removeEverything() throws Exception {
        List<String> containers = new ArrayList<>(workspaceContainers);
        containers.add(ENGINE);
        containers.add(DATABASE);
        for (String container : containers) {
            quietly("rm", "-f", "-t", "5", container);
        }
        quietly("volume", "rm", "-f", VOLUME);
        if (dockerSocket != null) {
            dockerSocket.close();
        }
    }

    @Test
    void theImageRunsAsItsNonRootUserAndAnswersHealthAndItsHealthCheck() throws Exception {
        JsonNode health = admin.get("/actuator/health").json();
        assertThat(health.path("status").asText()).isEqualTo("UP");
        assertThat(health.at("/components/db/details/database").asText()).isEqualTo("PostgreSQL");
        assertThat(health.at("/components/node/details/id").asText()).isEqualTo("image-it");
        assertThat(admin.get("/actuator/health/liveness").status()).isEqualTo(200);
        assertThat(admin.get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(podmanExit("healthcheck", "run", ENGINE)).as("the image's HEALTHCHECK").isZero();

        assertThat(podman("inspect", "--format", "{{.Config.User}}", ENGINE).trim()).isEqualTo("10001:10001");
        assertThat(podman("exec", ENGINE, "cat", "/proc/1/status")).containsPattern("Uid:\\s+10001\\s+10001");
        // The user's home belongs to it, so only the read-only root file system keeps it from writing there.
        assertThat(podman("exec", ENGINE, "stat", "-c", "%u", "/var/lib/atelier").trim()).isEqualTo("10001");
        assertThat(podmanExit("exec", ENGINE, "touch", "/var/lib/atelier/probe")).as("read-only root file system")
                .isNotZero();
        assertThat(podmanExit("exec", ENGINE, "touch", "/var/lib/atelier/data/probe")).as("writable data dir").isZero();
        assertThat(admin.get("/api/v1/workspaces").status()).isEqualTo(200);
        assertThat(new ApiClient("http://127.0.0.1:" + enginePort, null).get("/api/v1/workspaces").status())
                .as("the API still wants a token").isEqualTo(401);
    }

    @Test
    void aDockerWorkspaceLivesThroughItsLifecycleOnTheContainerisedEngine() throws Exception {
        ApiClient.Response team = admin.post("/api/v1/teams", Map.of("name", "image"));
        assertThat(team.status()).as("%s", team).isEqualTo(201);
        ApiClient.Response template = admin.post("/api/v1/templates", Map.of("name", "image-it", "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sleep", "100000")),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        assertThat(template.status()).as("%s", template).isEqualTo(201);
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "in-a-container",
                "templateId", template.json().get("id").asText(), "team", "image"));
        assertThat(created.status()).as("%s", created).isEqualTo(202);
        String id = created.json().get("id").asText();
        String container = "atelier-" + id;
        workspaceContainers.add(container);

        admin.awaitStatus(id, "RUNNING");
        assertThat(podman("inspect", "--format", "{{.State.Running}}", container).trim()).isEqualTo("true");

        assertThat(admin.post("/api/v1/workspaces/" + id + "/stop", Map.of()).status()).isEqualTo(202);
        admin.awaitStatus(id, "STOPPED");
        assertThat(podman("inspect", "--format", "{{.State.Running}}", container).trim()).isEqualTo("false");

        assertThat(admin.post("/api/v1/workspaces/" + id + "/start", Map.of()).status()).isEqualTo(202);
        admin.awaitStatus(id, "RUNNING");
        assertThat(podman("inspect", "--format", "{{.State.Running}}", container).trim()).isEqualTo("true");

        assertThat(admin.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        admin.awaitStatus(id, "DELETED");
        assertThat(podmanExit("container", "exists", container)).as("the workspace's container is gone").isNotZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.get("/api/v1/audit?resourceId=" + id).json()
                .path("entries").size() > 0);
    }
}
