package dev.atelier.deploy;

import dev.atelier.support.TestInfra;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the tests of {@code deploy/} share: the podman CLI with the settings of {@code deploy/test-infra/podman.sh},
 * the engine image built once per test JVM from the Maven build's jar by {@code deploy/image/build-image.sh}
 * (removed when the JVM exits; the base images stay for the next run), and a Docker API socket the image's user
 * may open.
 */
final class Containers {

    static final Path ROOT = repositoryRoot();
    static final Path JAR = ROOT.resolve("target/atelier-0.1.0-SNAPSHOT.jar");
    /** The uid and gid the engine image runs as (deploy/image/Containerfile). */
    static final int IMAGE_UID = 10001;
    static final String POSTGRES_IMAGE = "localhost/atelier-postgres:15";
    static final String PROXY_IMAGE = "localhost/atelier-proxy:1";
    /** The settings podman needs on these machines (runc, cgroupfs, file limits), written by podman.sh. */
    static final String CONTAINERS_CONF = TestInfra.STATE.resolve("containers.conf").toString();

    private static String engineImage;

    private Containers() {
    }

    /** A short random tag for the names of one test's containers, volumes and images. */
    static String runId() {
        byte[] bytes = new byte[4];
        new java.security.SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * The engine image of the current build: packages the jar first unless it is newer than every compiled class
     * (surefire runs the integration tests before Maven's package phase), then builds it with build-image.sh.
     */
    static synchronized String engineImage() throws IOException {
        if (engineImage == null) {
            TestInfra.podman(); // podman installed and configured, the Debian minbase image built
            ensureJar();
            String tag = "localhost/atelier-image-it:" + runId();
            Map<String, String> built = script(Duration.ofMinutes(15), "bash",
                    ROOT.resolve("deploy/image/build-image.sh").toString(), tag);
            assertThat(built).containsEntry("ATELIER_IMAGE", tag);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> quietly("rmi", "-f", tag)));
            engineImage = tag;
        }
        return engineImage;
    }

    private static void ensureJar() throws IOException {
        FileTime newestClass;
        try (Stream<Path> files = Files.walk(ROOT.resolve("target/classes"))) {
            newestClass = files.filter(Files::isRegularFile).map(Containers::modified).max(FileTime::compareTo)
                    .orElseThrow();
        }
        if (Files.exists(JAR) && modified(JAR).compareTo(newestClass) >= 0) {
            return;
        }
        script(Duration.ofMinutes(10), ROOT.resolve("mvnw").toString(), "-B", "-q", "-Dmaven.test.skip=true", "package");
        assertThat(JAR).exists();
    }

    /** A podman API service of the test's own whose socket belongs to the image's user. */
    static final class DockerSocket implements AutoCloseable {
        final Path dir;
        final Path socket;
        private final Process service;

        DockerSocket() throws IOException {
            dir = Files.createTempDirectory("atelier-docker-api");
            socket = dir.resolve("docker.sock");
            ProcessBuilder builder = new ProcessBuilder("podman", "system", "service", "--time=0", "unix://" + socket)
                    .directory(Path.of("/").toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("service.log").toFile());
            builder.environment().put("CONTAINERS_CONF", CONTAINERS_CONF);
            service = builder.start();
            service.getOutputStream().close();
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(socket));
            Files.setAttribute(socket, "unix:uid", IMAGE_UID);
            Files.setAttribute(socket, "unix:gid", IMAGE_UID);
        }

        @Override
        public void close() throws Exception {
            service.destroy();
            service.waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    record Result(int exit, String output) {
    }

    /** podman with the given arguments; fails with its output (secrets given in {@code hide} masked). */
    static String podman(List<String> hide, String... args) throws IOException {
        Result r = exec(Duration.ofMinutes(2), Map.of(), command("podman", args));
        if (r.exit() != 0) {
            String shown = "podman " + String.join(" ", args) + " failed (" + r.exit() + "): " + r.output();
            for (String secret : hide) {
                shown = shown.replace(secret, "***");
            }
            throw new IllegalStateException(shown);
        }
        return r.output();
    }

    static String podman(String... args) throws IOException {
        return podman(List.of(), args);
    }

    static int podmanExit(String... args) throws IOException {
        return exec(Duration.ofMinutes(1), Map.of(), command("podman", args)).exit();
    }

    static void quietly(String... args) {
        try {
            exec(Duration.ofMinutes(1), Map.of(), command("podman", args));
        } catch (Exception e) {
            // clean-up goes on with the next object
        }
    }

    static List<String> command(String program, String... args) {
        List<String> command = new ArrayList<>(List.of(program));
        command.addAll(List.of(args));
        return command;
    }

    /** Runs a script; its {@code NAME=value} output lines as a map. */
    static Map<String, String> script(Duration timeout, String... command) throws IOException {
        Result r = exec(timeout, Map.of(), List.of(command));
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + r.exit() + "): " + r.output());
        }
        Map<String, String> values = new LinkedHashMap<>();
        r.output().lines().filter(l -> l.matches("[A-Z_]+=.*")).forEach(l -> values.put(l.substring(0, l.indexOf('=')),
                l.substring(l.indexOf('=') + 1)));
        return values;
    }

    static Result exec(Duration timeout, Map<String, String> environment, List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
        builder.environment().put("CONTAINERS_CONF", CONTAINERS_CONF);
        builder.environment().putAll(environment);
        Path output = Files.createTempFile("atelier-containers", ".log");
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

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
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
