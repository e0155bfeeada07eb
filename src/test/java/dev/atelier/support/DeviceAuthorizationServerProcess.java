package dev.atelier.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * {@link DeviceAuthorizationServer} in a JVM of its own on a free port: the servlet stack it needs never shares a JVM
 * with the WebFlux engine. Ready when its
 * discovery document answers; {@link #close()} ends it.
 */
public final class DeviceAuthorizationServerProcess implements AutoCloseable {

    /** By name: the class needs the servlet API, which the test JVM does not have. */
    private static final String MAIN = "dev.atelier.support.DeviceAuthorizationServer";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int port;
    private final Path log;

    private DeviceAuthorizationServerProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    public static DeviceAuthorizationServerProcess start() throws IOException {
        int port = freePort();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath(), MAIN,
                "--server.port=" + port, "--logging.level.root=WARN");
        Path log = Files.createTempFile("device-authorization-server-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        process.getOutputStream().close();
        // Ended with the test JVM too, should a test class never reach its @AfterAll.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "device-authorization-server-stop"));
        DeviceAuthorizationServerProcess server = new DeviceAuthorizationServerProcess(process, port, log);
        try {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                    .failFast("the authorization server exited", () -> !process.isAlive())
                    .until(server::discoveryAnswers);
        } catch (RuntimeException | Error e) {
            String tail = server.logTail();
            server.close();
            throw new IllegalStateException("the authorization server did not start; its log:\n" + tail, e);
        }
        return server;
    }

    public String issuerUri() {
        return "http://localhost:" + port;
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private boolean discoveryAnswers() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(issuerUri() + "/.well-known/openid-configuration"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException notListeningYet) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file
        }
    }

    /**
     * The test classpath (Surefire's, when its booter jar stands in for it) plus the servlet container and Spring MVC,
     * which pom.xml keeps off the test JVMs' classpath and names in {@code atelier.test.servlet-classpath}.
     */
    private static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        String tests = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        String servlet = System.getProperty("atelier.test.servlet-classpath");
        return servlet == null || servlet.isBlank() ? tests : tests + java.io.File.pathSeparator + servlet;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
