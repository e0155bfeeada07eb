package dev.atelier.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The engine image of {@code deploy/image/} as an operator runs it: built from the Maven build's jar on the base made
 * by {@code build-base.sh} (debootstrap + Debian's JRE, no registry), started with podman next to a PostgreSQL
 * container made the same way, with a read-only root file system and a scratch data volume (as the Kubernetes
 * Deployment runs it). The engine answers its health endpoints and the image's HEALTHCHECK, runs as the image's
 * non-root user, and serves a docker workspace's lifecycle over HTTP: the docker provider reaches the host's podman
 * through a Docker API socket mounted into the container (a podman service of this test, whose socket belongs to the
 * image's user), which is how a container engine drives docker workspaces in production too.
 *
 * <p>Base images are kept between runs (built once, a few minutes); the engine image, the containers and the volume
 * this test makes are removed. If {@code target/atelier-*.jar} is missing or older than {@code target/classes} (the
 * integration tests run before Maven's package phase), the test packages the jar first.
 */
class EngineImageIT {

    static final Path ROOT = repositoryRoot();
    static final Path JAR = ROOT.resolve("target/atelier-0.1.0-SNAPSHOT.jar");
    static final String RUN = HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(4).putInt((int) System.nanoTime()).array());
    static final String IMAGE = "localhost/atelier-image-it:" + RUN;
    static final String DATABASE = "atelier-image-it-db-" + RUN;
    static final String ENGINE = "atelier-image-it-engine-" + RUN;
    static final String VOLUME = "atelier-image-it-data-" + RUN;
    static final String TOKEN = "atl_image-it-" + RUN + "-admin-token";
    static final String DB_PASSWORD = "image-it-" + RUN;
    static final int IMAGE_UID = 10001;
    /** The settings podman needs on these machines (runc, cgroupfs, file limits), written by podman.sh. */
    static final String CONTAINERS_CONF = TestInfra.STATE.resolve("containers.conf").toString();

    static Path socketDir;
    static Process apiService;
    static int dbPort;
    static int enginePort;
    static ApiClient admin;
    static final List<String> workspaceContainers = new ArrayList<>();

    @BeforeAll
    static void startDatabaseAndEngine() throws Exception {
        TestInfra.podman(); // podman installed and configured, the Debian minbase image built (deploy/test-infra)
        ensureJar();
        Map<String, String> built = script(Duration.ofMinutes(15), "bash", ROOT.resolve("deploy/image/build-image.sh")
                .toString(), IMAGE);
        assertThat(built).containsEntry("ATELIER_IMAGE", IMAGE);

        dbPort = freePort();
        podman("run", "-d", "--name", DATABASE, "--network", "host", "-e", "POSTGRES_PASSWORD=su-" + DB_PASSWORD,
                "-e", "APP_PASSWORD=" + DB_PASSWORD, "-e", "PGPORT=" + dbPort, "-e", "LISTEN_ADDRESSES=127.0.0.1",
                "localhost/atelier-postgres:15");
        String dbUrl = "jdbc:postgresql://127.0.0.1:" + dbPort + "/atelier";
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
            try (Connection c = DriverManager.getConnection(dbUrl, "atelier", DB_PASSWORD)) {
                return c.isValid(2);
            }
        });

        // A Docker API for the engine's docker provider whose socket the image's user may open.
        socketDir = Files.createTempDirectory("atelier-image-it");
        Path socket = socketDir.resolve("docker.sock");
        ProcessBuilder service = new ProcessBuilder("podman", "system", "service", "--time=0", "unix://" + socket)
                .directory(Path.of("/").toFile()).redirectErrorStream(true)
                .redirectOutput(socketDir.resolve("service.log").toFile());
        service.environment().put("CONTAINERS_CONF", CONTAINERS_CONF);
        apiService = service.start();
        apiService.getOutputStream().close();
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket));
        Files.setAttribute(socket, "unix:uid", IMAGE_UID);
        Files.setAttribute(socket, "unix:gid", IMAGE_UID);

        enginePort = freePort();
        podman("run", "-d", "--name", ENGINE, "--network", "host", "--read-only", "--tmpfs", "/tmp",
                "-v", VOLUME + ":/var/lib/atelier/data",
                "-v", socket + ":/run/atelier/docker.sock",
                "-e", "SERVER_PORT=" + enginePort, "-e", "ATELIER_NODE_ID=image-it",
                "-e", "ATELIER_DB_URL=" + dbUrl, "-e", "ATELIER_DB_USER=atelier", "-e", "ATELIER_DB_PASSWORD=" + DB_PASSWORD,
                "-e", "ATELIER_ADMIN_TOKEN=" + TOKEN,
                "-e", "ATELIER_PROVIDERS_DOCKER_ENABLED=true",
                "-e", "ATELIER_PROVIDERS_DOCKER_HOST=unix:///run/atelier/docker.sock",
                "-e", "ATELIER_PROVIDERS_DOCKER_READINESS_DELAY=PT0.5S",
                "-e", "ATELIER_PROVIDERS_DOCKER_STOP_GRACE_PERIOD=PT2S",
                IMAGE);
        admin = new ApiClient("http://127.0.0.1:" + enginePort, TOKEN);
        try {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptionsMatching(e -> !(e instanceof EngineStopped)).until(() -> {
                        if (!"true".equals(podman("inspect", "--format", "{{.State.Running}}", ENGINE).trim())) {
                            throw new EngineStopped();
                        }
                        return admin.get("/actuator/health").status() == 200;
                    });
        } catch (EngineStopped | org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the engine container did not become healthy; its log ends:\n" + logs(), e);
        }
    }

    @AfterAll
    static void removeEverything() throws Exception {
        List<String> containers = new ArrayList<>(workspaceContainers);
        containers.add(ENGINE);
        containers.add(DATABASE);
        for (String container : containers) {
            podmanQuietly("rm", "-f", "-t", "5", container);
        }
        podmanQuietly("volume", "rm", "-f", VOLUME);
        podmanQuietly("rmi", "-f", IMAGE);
        if (apiService != null) {
            apiService.destroy();
            apiService.waitFor(10, TimeUnit.SECONDS);
        }
        if (socketDir != null) {
            try (Stream<Path> files = Files.walk(socketDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
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
        assertThat(podmanExit("exec", ENGINE, "touch", "/opt/atelier/x")).as("read-only root file system").isNotZero();
        assertThat(admin.get("/api/v1/workspaces").status()).as("the API still wants a token").isEqualTo(200);
        assertThat(new ApiClient("http://127.0.0.1:" + enginePort, null).get("/api/v1/workspaces").status())
                .isEqualTo(401);
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

    // --- helpers ---------------------------------------------------------------------------------------------------

    /** Packages the jar unless it is newer than every compiled class (IT classes run before Maven's package phase). */
    private static void ensureJar() throws IOException {
        FileTime newestClass;
        try (Stream<Path> files = Files.walk(ROOT.resolve("target/classes"))) {
            newestClass = files.filter(Files::isRegularFile).map(EngineImageIT::modified)
                    .max(FileTime::compareTo).orElseThrow();
        }
        if (Files.exists(JAR) && modified(JAR).compareTo(newestClass) >= 0) {
            return;
        }
        script(Duration.ofMinutes(10), ROOT.resolve("mvnw").toString(), "-B", "-q", "-Dmaven.test.skip=true", "package");
        assertThat(JAR).exists();
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String logs() {
        try {
            String all = podman("logs", ENGINE);
            return all.length() > 6000 ? all.substring(all.length() - 6000) : all;
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    private static String podman(String... args) throws Exception {
        Result r = exec(Duration.ofMinutes(2), command(args));
        if (r.exit() != 0) {
            throw new IllegalStateException("podman " + String.join(" ", args).replace(DB_PASSWORD, "***")
                    + " failed (" + r.exit() + "): " + r.output());
        }
        return r.output();
    }

    private static int podmanExit(String... args) throws Exception {
        return exec(Duration.ofMinutes(1), command(args)).exit();
    }

    private static void podmanQuietly(String... args) {
        try {
            exec(Duration.ofMinutes(1), command(args));
        } catch (Exception e) {
            // clean-up goes on with the next object
        }
    }

    private static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        return command;
    }

    private static Map<String, String> script(Duration timeout, String... command) throws IOException {
        Result r = exec(timeout, List.of(command));
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + r.exit() + "): " + r.output());
        }
        Map<String, String> values = new java.util.LinkedHashMap<>();
        r.output().lines().filter(l -> l.matches("[A-Z_]+=.*")).forEach(l -> values.put(l.substring(0, l.indexOf('=')),
                l.substring(l.indexOf('=') + 1)));
        return values;
    }

    record Result(int exit, String output) {
    }

    static final class EngineStopped extends RuntimeException {
    }

    private static Result exec(Duration timeout, List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
        builder.environment().put("CONTAINERS_CONF", CONTAINERS_CONF);
        Path output = Files.createTempFile("atelier-image-it", ".log");
        try {
            Process p = builder.redirectOutput(output.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/image"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("deploy/image not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
