package dev.atelier.cli;

import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end through the engine's SSH gateway: a user registers a key through the API, {@code atelier config-ssh}
 * (temporary HOME) writes the Host block and the gateway's host key, and then the real OpenSSH client, given nothing
 * but that config file ({@code ssh -F}), runs {@code hostname} in a local workspace, its ProxyCommand being this CLI
 * started as its own process (a launcher script on the CLI's own class path: the classes, picocli, Jackson). A second
 * config-ssh leaves the file byte-identical and untouched; {@code --remove} gives back the user's own file.
 */
class CliSshGatewayIT extends EngineIntegrationTest {

    private static final int GATEWAY_PORT = freePort();

    @DynamicPropertySource
    static void gateway(DynamicPropertyRegistry registry) {
        registry.add("atelier.test.ssh-gateway-port", () -> GATEWAY_PORT);
        registry.add("atelier.ssh.gateway.bind-address", () -> "127.0.0.1");
    }

    @TempDir
    Path home;

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A launcher like src/cli/bin/atelier, on the CLI's class path only (what atelier-cli.jar holds). */
    private Path launcher() throws Exception {
        List<String> classPath = new ArrayList<>();
        for (Class<?> type : List.of(Atelier.class, picocli.CommandLine.class, com.fasterxml.jackson.databind.JsonNode.class,
                com.fasterxml.jackson.core.JsonFactory.class, com.fasterxml.jackson.annotation.JsonInclude.class)) {
            classPath.add(Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path script = home.resolve("bin").resolve("atelier");
        Files.createDirectories(script.getParent());
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '"
                + String.join(":", classPath) + "' dev.atelier.cli.Atelier \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private record Ran(int exitCode, String out, String err) {
    }

    private Ran run(Map<String, String> env, String... argv) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().put("HOME", home.toString());
        builder.environment().putAll(env);
        Process process = builder.start();
        process.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", argv));
        }
        return new Ran(process.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void configSshThenPlainSshRunsACommandInTheWorkspaceAndASecondRunChangesNothing() throws Exception {
        ApiClient.Response user = admin.post("/api/v1/users", Map.of("id", "cli-carol", "name", "Carol",
                "roles", List.of("member")));
        assertThat(user.status()).as(user.toString()).isIn(201, 409);
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", "carol-cli", "subject", "cli-carol",
                "roles", List.of("member")));
        String token = issued.json().get("token").asText();
        Path key = home.resolve("id_ed25519");
        assertThat(run(Map.of(), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol", "-f", key.toString())
                .exitCode()).isZero();
        ApiClient.Response registered = client(token).post("/api/v1/users/me/keys", Map.of("name", "laptop",
                "publicKey", Files.readString(home.resolve("id_ed25519.pub")).trim()));
        assertThat(registered.status()).as(registered.toString()).isEqualTo(201);
        admin.post("/api/v1/templates", ApiClient.localTemplate("cli-ssh",
                "mkdir -p www && echo served-from-the-workspace > www/index.html\n"
                        + "busybox httpd -f -p 127.0.0.1:8088 -h www &\nwhile true; do sleep 3600; done\n"));

        Path launcher = launcher();
        CliRun carol = new CliRun(home).env("ATELIER_URL", "http://localhost:" + port).env("ATELIER_TOKEN", token)
                .env(SshSupport.CLI_VARIABLE, launcher.toString());
        CliRun.Result created = carol.run("create", "cli-box", "-t", "cli-ssh");
        assertThat(created.exitCode()).as(created.toString()).isZero();

        Path config = home.resolve(".ssh").resolve("config");
        Files.createDirectories(config.getParent());
        String own = "Host elsewhere\n  HostName elsewhere.example.com\n";
        Files.writeString(config, own);

        CliRun.Result configured = carol.run("config-ssh", "-i", key.toString());
        assertThat(configured.exitCode()).as(configured.toString()).isZero();
        assertThat(configured.out()).startsWith("Updated " + config + " (1 host)").contains("ssh atelier.cli-box");
        String written = Files.readString(config);
        assertThat(written).startsWith(own + "\n" + SshConfigFile.BEGIN).contains("Host atelier.cli-box\n  User cli-box\n"
                + "  ProxyCommand " + launcher + " ssh --stdio --gateway localhost:" + GATEWAY_PORT + " cli-box\n");
        Path knownHosts = home.resolve(".config/atelier/known_hosts");
        String[] hostKey = client(token).get("/api/v1/ssh/host-keys").json().at("/keys/0/publicKey").asText().split(" ");
        assertThat(Files.readString(knownHosts)).contains(Gateway.HOST_KEY_ALIAS + " " + hostKey[0] + " " + hostKey[1] + "\n");

        Ran ssh = run(Map.of(), "/usr/bin/ssh", "-F", config.toString(), "-o", "BatchMode=yes", "atelier.cli-box", "hostname");
        assertThat(ssh.exitCode()).as(ssh.err()).isZero();
        assertThat(ssh.out().trim()).isNotBlank();

        // atelier ssh: the system ssh with the same ProxyCommand, run by the CLI itself.
        Ran viaCli = run(Map.of("ATELIER_URL", "http://localhost:" + port, "ATELIER_TOKEN", token),
                launcher.toString(), "ssh", "-i", key.toString(), "--cli-command", launcher.toString(), "cli-box",
                "echo", "inside-$((6*7))");
        assertThat(viaCli.exitCode()).as(viaCli.err()).isZero();
        assertThat(viaCli.out().trim()).isEqualTo("inside-42");

        // port-forward: a local port to the web server inside the workspace, through the same gateway.
        int local = freePort();
        ProcessBuilder forwarding = new ProcessBuilder(launcher.toString(), "port-forward", "-i", key.toString(),
                "--cli-command", launcher.toString(), "cli-box", local + ":8088").redirectErrorStream(true)
                .redirectOutput(home.resolve("port-forward.log").toFile());
        forwarding.environment().putAll(Map.of("HOME", home.toString(), "ATELIER_URL", "http://localhost:" + port,
                "ATELIER_TOKEN", token));
        Process forward = forwarding.start();
        try {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpRequest page = java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + local + "/index.html")).build();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .untilAsserted(() -> assertThat(http.send(page, java.net.http.HttpResponse.BodyHandlers.ofString())
                            .body().trim()).isEqualTo("served-from-the-workspace"));
        } finally {
            List<ProcessHandle> children = forward.descendants().toList();
            forward.destroy();
            assertThat(forward.waitFor(10, TimeUnit.SECONDS)).isTrue();
            // The CLI takes its ssh (and that one's ProxyCommand) with it.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
        }

        byte[] before = Files.readAllBytes(config);
        FileTime modified = Files.getLastModifiedTime(config);
        byte[] hostsBefore = Files.readAllBytes(knownHosts);
        CliRun.Result again = carol.run("config-ssh", "-i", key.toString());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).startsWith("Unchanged: " + config + " (1 host)");
        assertThat(Files.readAllBytes(config)).isEqualTo(before);
        assertThat(Files.getLastModifiedTime(config)).isEqualTo(modified);
        assertThat(Files.readAllBytes(knownHosts)).isEqualTo(hostsBefore);
        try (Stream<Path> files = Files.list(config.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("config");
        }

        CliRun.Result removed = carol.run("config-ssh", "--remove");
        assertThat(removed.exitCode()).isZero();
        assertThat(Files.readString(config)).isEqualTo(own);
        Ran gone = run(Map.of(), "/usr/bin/ssh", "-F", config.toString(), "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=5", "atelier.cli-box", "hostname");
        assertThat(gone.exitCode()).isEqualTo(255);
    }
}
