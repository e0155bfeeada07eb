package dev.atelier.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The SSH gateway with OpenSSH's real client programs against real workspaces (local: bubblewrap; docker: podman):
 * keys registered through the API, exec with its exit status, an interactive shell on a terminal, sftp, local port
 * forwarding, the refusals (each audited, nothing changed), activity that keeps an idle workspace running, and a
 * stop that closes the sessions.
 */
class SshGatewayIT extends EngineIntegrationTest {

    private static final int GATEWAY_PORT = freePort();
    private static final Path KEYS = EngineTestSupport.tempDataDir().resolve("client-keys");

    @DynamicPropertySource
    static void gateway(DynamicPropertyRegistry registry) {
        registry.add("atelier.test.ssh-gateway-port", () -> Integer.toString(GATEWAY_PORT));
        registry.add("atelier.ssh.gateway.bind-address", () -> "127.0.0.1");
        registry.add("atelier.ssh.gateway.heartbeat", () -> "PT1S");
        registry.add("atelier.ssh.gateway.state-check", () -> "PT0.3S");
    }

    @Autowired
    private JdbcTemplate jdbc;
    private final SshClient ssh = new SshClient(GATEWAY_PORT);

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A user (created by the owner, as the API requires for keys), their token and a key registered through the API. */
    private record User(String id, ApiClient api, Path key) {
    }

    private User user(String id) throws Exception {
        ApiClient.Response created = admin.post("/api/v1/users", Map.of("id", id, "name", id, "roles", List.of("member")));
        assertThat(created.status()).as("%s", created).isIn(201, 409);
        ApiClient api = clientFor(id, "member");
        Path key = SshClient.newKey(KEYS, id);
        ApiClient.Response added = api.post("/api/v1/users/me/keys", Map.of("name", "laptop",
                "publicKey", SshClient.publicKey(key)));
        assertThat(added.status()).as("%s", added).isEqualTo(201);
        return new User(id, api, key);
    }

    private String localWorkspace(User owner, String name, Map<String, Object> policy) {
        Map<String, Object> template = new java.util.HashMap<>(ApiClient.localTemplate("gw-" + name,
                "mkdir -p www && echo served-from-the-workspace > www/index.html\n"
                        + "busybox httpd -f -p 127.0.0.1:8088 -h www &\nwhile true; do sleep 3600; done\n"));
        if (policy != null) {
            template.put("policy", policy);
        }
        ApiClient.Response t = admin.post("/api/v1/templates", template);
        assertThat(t.status()).as("%s", t).isEqualTo(201);
        ApiClient.Response ws = owner.api().post("/api/v1/workspaces", Map.of("name", name,
                "templateId", t.json().get("id").asText()));
        assertThat(ws.status()).as("%s", ws).isEqualTo(202);
        String id = ws.json().get("id").asText();
        owner.api().awaitStatus(id, "RUNNING");
        return id;
    }

    private String dockerWorkspace(User owner, String name) {
        TestInfra.podman();
        ApiClient.Response t = admin.post("/api/v1/templates", Map.of("name", "gw-" + name, "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sh", "-c",
                        "mkdir -p /www && echo served-from-the-container > /www/index.html && "
                                + "httpd -p 127.0.0.1:8088 -h /www && exec sleep 100000")),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        assertThat(t.status()).as("%s", t).isEqualTo(201);
        ApiClient.Response ws = owner.api().post("/api/v1/workspaces", Map.of("name", name,
                "templateId", t.json().get("id").asText()));
        assertThat(ws.status()).as("%s", ws).isEqualTo(202);
        String id = ws.json().get("id").asText();
        owner.api().awaitStatus(id, "RUNNING");
        return id;
    }

    private long audited(String action, String outcome, String resourceId, String errorLike) {
        StringBuilder sql = new StringBuilder("SELECT count(*) FROM audit_entry WHERE action = ? AND outcome = ?");
        List<Object> args = new java.util.ArrayList<>(List.of(action, outcome));
        if (resourceId != null) {
            sql.append(" AND resource_id = ?");
            args.add(resourceId);
        }
        if (errorLike != null) {
            sql.append(" AND error LIKE ?");
            args.add("%" + errorLike + "%");
        }
        return jdbc.queryForObject(sql.toString(), Long.class, args.toArray());
    }

    @Test
    void aRegisteredKeyRunsCommandsAndAShellInALocalWorkspace() throws Exception {
        User alice = user("gw-alice");
        String id = localWorkspace(alice, "box", null);

        SshClient.Result echo = ssh.ssh(alice.key(), "box", null, List.of(), "echo hello from $(hostname); exit 3");
        assertThat(echo.out()).as("%s", echo).isEqualTo("hello from workspace\n");
        assertThat(echo.exit()).isEqualTo(3);

        // The command's own stdin: the client's end of input ends it.
        SshClient.Result cat = ssh.ssh(alice.key(), "box", "piped input\n", List.of(), "cat; id -u");
        assertThat(cat.out()).as("%s", cat).startsWith("piped input\n").doesNotContain("\n0\n");

        // An interactive shell on a terminal, fed from stdin (ssh -tt).
        SshClient.Result shell = ssh.ssh(alice.key(), "box", "stty size; echo answer=$((6*7)); exit 5\n",
                List.of("-tt"));
        assertThat(shell.out()).as("%s", shell).contains("answer=42");
        assertThat(shell.exit()).isEqualTo(5);

        // <owner>.<name> names the same workspace.
        assertThat(ssh.ssh(alice.key(), "gw-alice.box", null, List.of(), "pwd").out()).isEqualTo("/workspace\n");

        await().atMost(Duration.ofSeconds(20)).until(() -> audited("ssh-connect", "success", id, null) >= 4
                && audited("ssh-disconnect", "success", id, null) >= 4);
        String details = jdbc.queryForObject("SELECT details FROM audit_entry WHERE action = 'ssh-disconnect' AND "
                + "resource_id = ? AND details LIKE '%shell%' ORDER BY seq DESC LIMIT 1", String.class, id);
        assertThat(details).contains("durationSeconds", "publickey SHA256:");
        assertThat(jdbc.queryForObject("SELECT actor_id FROM audit_entry WHERE action = 'ssh-connect' AND resource_id = ? "
                + "LIMIT 1", String.class, id)).isEqualTo("gw-alice");
        assertThat(jdbc.queryForObject("SELECT client_ip FROM audit_entry WHERE action = 'ssh-connect' AND resource_id = ? "
                + "LIMIT 1", String.class, id)).isEqualTo("127.0.0.1");
    }

    @Test
    void sftpCopiesFilesAndPortsAreForwardedIntoALocalWorkspace() throws Exception {
        User carol = user("gw-carol");
        localWorkspace(carol, "files", null);
        Path upload = KEYS.resolve("upload.txt");
        java.nio.file.Files.writeString(upload, "copied by sftp\n");
        Path download = KEYS.resolve("download.txt");
        SshClient.Result sftp = ssh.sftp(carol.key(), "files", "put " + upload + " /workspace/up.txt\nget /workspace/up.txt "
                + download + "\n");
        assertThat(sftp.exit()).as("%s", sftp).isZero();
        assertThat(ssh.ssh(carol.key(), "files", null, List.of(), "cat /workspace/up.txt").out()).isEqualTo("copied by sftp\n");
        assertThat(java.nio.file.Files.readString(download)).isEqualTo("copied by sftp\n");

        assertForwarded(carol, "files", "served-from-the-workspace");
    }

    @Test
    void aDockerWorkspaceRunsCommandsAShellAndForwardsPorts() throws Exception {
        User dave = user("gw-dave");
        dockerWorkspace(dave, "pod");
        SshClient.Result echo = ssh.ssh(dave.key(), "pod", null, List.of(), "echo in-container; exit 7");
        assertThat(echo.out()).as("%s", echo).isEqualTo("in-container\n");
        assertThat(echo.exit()).isEqualTo(7);
        SshClient.Result shell = ssh.ssh(dave.key(), "pod", "echo answer=$((6*7)); exit 4\n", List.of("-tt"));
        assertThat(shell.out()).as("%s", shell).contains("answer=42");
        assertThat(shell.exit()).isEqualTo(4);
        assertForwarded(dave, "pod", "served-from-the-container");
    }

    private void assertForwarded(User user, String workspace, String expected) throws Exception {
        int local = freePort();
        Process tunnel = ssh.start(user.key(), workspace, List.of("-N", "-o", "ExitOnForwardFailure=yes",
                "-L", "127.0.0.1:" + local + ":localhost:8088"));
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local + "/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.body()).contains(expected);
            });
        } finally {
            tunnel.destroy();
            tunnel.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
