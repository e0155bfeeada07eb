package dev.atelier.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real back ends for the provider tests, set up by {@code deploy/test-infra/*.sh}: bubblewrap for the local
 * provider's sandbox, podman's Docker Engine API with locally built images, an OpenSSH server on loopback, and
 * Debian's chromium with its WebDriver for the web console's browser tests. The scripts are idempotent and fast
 * when everything already runs ({@code .ci/run} calls them before Maven); tests call them again so that a single
 * test class also works on a fresh machine. They need root (package installs, a Unix user for sshd).
 */
public final class TestInfra {

    /** Where the scripts keep their state; the same default as the scripts. */
    public static final Path STATE = Path.of(System.getenv().getOrDefault("ATELIER_TEST_INFRA_DIR",
            "/var/tmp/atelier-test-infra"));
    public static final String DOCKER_HOST = "unix://" + System.getenv().getOrDefault("ATELIER_TEST_PODMAN_SOCKET",
            STATE.resolve("podman.sock").toString());
    public static final Path SSH_KEY_DIR = STATE.resolve("sshd/keys");
    public static final String BUSYBOX_IMAGE = "localhost/atelier-test-busybox:1";
    public static final String SSHD_IMAGE = "localhost/atelier-test-sshd:1";

    private static boolean podmanReady;
    private static boolean bubblewrapReady;
    private static SshHost sshHost;
    private static Browser browser;

    private TestInfra() {
    }

    /** The test sshd: where it listens, the Unix user, its host key fingerprint, and the engine's key reference. */
    public record SshHost(String address, int port, String user, String fingerprint, Path keyDir, String keyRef) {
        public Path privateKey() {
            return keyDir.resolve(keyRef);
        }
    }

    /** Debian's chromium and chromium-driver, same version (for Selenium, with the driver's path given explicitly). */
    public record Browser(Path binary, Path driver, String version) {
    }

    /** Installs chromium and chromium-driver if needed. */
    public static synchronized Browser chromium() {
        if (browser == null) {
            Map<String, String> env = run("chromium.sh", 600);
            browser = new Browser(Path.of(env.get("CHROMIUM")), Path.of(env.get("CHROMEDRIVER")),
                    env.get("CHROMIUM_VERSION"));
        }
        return browser;
    }

    /** Starts podman's API service and builds the test images if needed; returns {@code DOCKER_HOST}. */
    public static synchronized String podman() {
        if (!podmanReady) {
            Map<String, String> out = run("podman.sh", 240);
            if (!DOCKER_HOST.equals(out.get("DOCKER_HOST"))) {
                throw new IllegalStateException("podman.sh served " + out.get("DOCKER_HOST") + ", expected " + DOCKER_HOST);
            }
            podmanReady = true;
        }
        return DOCKER_HOST;
    }

    /** podman as {@link #podman()} sets it up, plus Debian's podman-compose; returns the podman-compose command. */
    public static synchronized String podmanCompose() {
        podman();
        String command = run("compose.sh", 240).get("PODMAN_COMPOSE");
        if (command == null) {
            throw new IllegalStateException("compose.sh did not report podman-compose");
        }
        return command;
    }

    /** Installs bubblewrap (and what the local provider runs besides) if needed and proves that a sandbox starts. */
    public static synchronized void bubblewrap() {
        if (!bubblewrapReady) {
            Map<String, String> out = run("bubblewrap.sh", 240);
            if (out.get("ATELIER_TEST_BWRAP") == null) {
                throw new IllegalStateException("bubblewrap.sh did not report bwrap");
            }
            bubblewrapReady = true;
        }
    }

    /** Starts the loopback sshd if needed. */
    public static synchronized SshHost sshd() {
        if (sshHost == null) {
            Map<String, String> env = run("sshd.sh", 120);
            sshHost = new SshHost(env.get("ATELIER_TEST_SSH_HOST"), Integer.parseInt(env.get("ATELIER_TEST_SSH_PORT")),
                    env.get("ATELIER_TEST_SSH_USER"), env.get("ATELIER_TEST_SSH_FINGERPRINT"),
                    Path.of(env.get("ATELIER_TEST_SSH_KEY_DIR")), env.get("ATELIER_TEST_SSH_KEY_REF"));
            if (!sshHost.keyDir().equals(SSH_KEY_DIR)) {
                throw new IllegalStateException("sshd.sh keeps keys in " + sshHost.keyDir() + ", expected " + SSH_KEY_DIR);
            }
        }
        return sshHost;
    }

    private static Map<String, String> run(String script, int timeoutSeconds) {
        Path path = repositoryRoot().resolve("deploy/test-infra").resolve(script);
        try {
            Path log = Files.createTempFile("atelier-test-infra", ".log");
            Process p = new ProcessBuilder("bash", path.toString()).redirectErrorStream(false)
                    .redirectError(log.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(script + " did not finish within " + timeoutSeconds + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(script + " failed (" + p.exitValue() + "): " + out
                        + Files.readString(log));
            }
            Files.deleteIfExists(log);
            Map<String, String> values = new LinkedHashMap<>();
            out.lines().filter(l -> l.contains("=")).forEach(l -> values.put(l.substring(0, l.indexOf('=')),
                    l.substring(l.indexOf('=') + 1)));
            return values;
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/test-infra"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("deploy/test-infra not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
