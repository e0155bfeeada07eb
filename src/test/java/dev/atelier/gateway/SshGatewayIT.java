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
        return dockerWorkspace(owner, name, TestInfra.BUSYBOX_IMAGE, List.of("sh", "-c",
                "mkdir -p /www && echo served-from-the-container > /www/index.html && "
                        + "httpd -p 127.0.0.1:8088 -h /www && exec sleep 100000"));
    }

    private String dockerWorkspace(User owner, String name, String image, List<String> command) {
        TestInfra.podman();
        ApiClient.Response t = admin.post("/api/v1/templates", Map.of("name", "gw-" + name, "provider", "docker",
                "spec", Map.of("image", image, "command", command),
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
    void anSshWorkspaceIsReachedThroughItsHostsSshdWithTheEnginesKey() throws Exception {
        TestInfra.SshHost sshd = TestInfra.sshd();
        String label = "gw-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        ApiClient.Response host = admin.post("/api/v1/hosts", Map.of("name", label, "address", sshd.address(),
                "port", sshd.port(), "user", sshd.user(), "keyRef", sshd.keyRef(), "hostKeyFingerprint",
                sshd.fingerprint(), "capacity", 2, "labels", Map.of("gateway", label)));
        assertThat(host.status()).as("%s", host).isEqualTo(201);
        ApiClient.Response t = admin.post("/api/v1/templates", Map.of("name", label, "provider", "ssh",
                "spec", Map.of("hostSelector", Map.of("gateway", label)),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.00", "currency", "EUR")));
        assertThat(t.status()).as("%s", t).isEqualTo(201);
        User bob = user("gw-bob");
        ApiClient.Response ws = bob.api().post("/api/v1/workspaces", Map.of("name", "metal",
                "templateId", t.json().get("id").asText()));
        assertThat(ws.status()).as("%s", ws).isEqualTo(202);
        String id = ws.json().get("id").asText();
        bob.api().awaitStatus(id, "RUNNING");

        SshClient.Result echo = ssh.ssh(bob.key(), "metal", null, List.of(), "echo hi from $(basename \"$PWD\"); exit 4");
        assertThat(echo.out()).as("%s", echo).isEqualTo("hi from " + id + "\n");
        assertThat(echo.exit()).isEqualTo(4);
        SshClient.Result cat = ssh.ssh(bob.key(), "metal", "piped input\n", List.of(), "cat");
        assertThat(cat.out()).as("%s", cat).isEqualTo("piped input\n");
        // sftp through the hop: the host's own sftp-server, started in the workspace's directory.
        Path upload = KEYS.resolve("metal-upload.txt");
        java.nio.file.Files.writeString(upload, "copied to the host by sftp\n");
        Path download = KEYS.resolve("metal-download.txt");
        SshClient.Result sftp = ssh.sftp(bob.key(), "metal", "put " + upload + " up.txt\nget up.txt " + download + "\n");
        assertThat(sftp.exit()).as("%s", sftp).isZero();
        assertThat(ssh.ssh(bob.key(), "metal", null, List.of(), "cat up.txt").out())
                .isEqualTo("copied to the host by sftp\n");
        assertThat(java.nio.file.Files.readString(download)).isEqualTo("copied to the host by sftp\n");

        assertThat(bob.api().delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        bob.api().awaitStatus(id, "DELETED");
        // The host points at the test sshd every ssh test shares: left registered, others' inventories see it twice.
        assertThat(admin.delete("/api/v1/hosts/" + host.json().get("id").asText() + "?force=true").status())
                .isEqualTo(204);
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
        assertThat(shell.out()).as("%s", shell).contains("answer=42").contains("24 80");
        assertThat(shell.exit()).isEqualTo(5);

        // <owner>.<name> names the same workspace.
        assertThat(ssh.ssh(alice.key(), "gw-alice.box", null, List.of(), "pwd").out()).isEqualTo("/workspace\n");

        // The host key is served by the API: a client that checks it strictly connects.
        JsonNode hostKeys = alice.api().get("/api/v1/ssh/host-keys").json();
        assertThat(hostKeys.get("enabled").asBoolean()).isTrue();
        assertThat(hostKeys.get("port").asInt()).isEqualTo(GATEWAY_PORT);
        assertThat(hostKeys.at("/keys/0/fingerprint").asText()).startsWith("SHA256:");
        Path knownHosts = KEYS.resolve("known_hosts");
        java.nio.file.Files.writeString(knownHosts, "[127.0.0.1]:" + GATEWAY_PORT + " "
                + hostKeys.at("/keys/0/publicKey").asText() + "\n");
        SshClient.Result strict = ssh.ssh(alice.key(), "box", null, List.of("-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts), "echo checked");
        assertThat(strict.out()).as("%s", strict).isEqualTo("checked\n");

        // Connection info: the ssh block through the gateway; its ssh_config snippet works as it is.
        JsonNode connection = alice.api().get("/api/v1/workspaces/" + id + "/connection").json();
        JsonNode block = connection.get("ssh");
        assertThat(block.get("user").asText()).isEqualTo("gw-alice.box");
        assertThat(block.get("port").asInt()).isEqualTo(GATEWAY_PORT);
        assertThat(block.get("vscode").asText()).isEqualTo("vscode://vscode-remote/ssh-remote+atelier.box/workspace");
        assertThat(block.get("jetbrains").asText()).startsWith("jetbrains-gateway://connect#type=ssh")
                .contains("port=" + GATEWAY_PORT, "user=gw-alice.box");
        Path config = KEYS.resolve("ssh_config");
        java.nio.file.Files.writeString(config, block.get("sshConfig").asText());
        SshClient.Result viaConfig = SshClient.exec(List.of("ssh", "-F", config.toString(), "-i", alice.key().toString(),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "atelier.box", "echo via-config"));
        assertThat(viaConfig.out()).as("%s", viaConfig).isEqualTo("via-config\n");

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
        // The end of the client's input reaches the command (the exec's own connection is half-closed).
        SshClient.Result cat = ssh.ssh(dave.key(), "pod", "piped input\n", List.of(), "cat; echo after-the-end");
        assertThat(cat.out()).as("%s", cat).isEqualTo("piped input\nafter-the-end\n");
        SshClient.Result shell = ssh.ssh(dave.key(), "pod", "echo answer=$((6*7)); exit 4\n", List.of("-tt"));
        assertThat(shell.out()).as("%s", shell).contains("answer=42");
        assertThat(shell.exit()).isEqualTo(4);
        assertForwarded(dave, "pod", "served-from-the-container");
    }

    /**
     * sftp in a docker workspace is the image's own {@code sftp-server} on an exec without a terminal (VS Code and
     * JetBrains need it): the Debian test image has it. A file goes in and comes back byte for byte, and the server
     * process does not outlive the client's session (the exec's stream is closed when the channel is).
     */
    @Test
    void sftpCopiesFilesIntoADockerWorkspaceWhoseImageHasAnSftpServer() throws Exception {
        User ivy = user("gw-ivy");
        dockerWorkspace(ivy, "debian", TestInfra.SSHD_IMAGE, List.of("sleep", "100000"));
        Path upload = KEYS.resolve("docker-upload.bin");
        byte[] content = new byte[200_000];
        new java.util.Random(17).nextBytes(content);
        java.nio.file.Files.write(upload, content);
        Path download = KEYS.resolve("docker-download.bin");
        SshClient.Result sftp = ssh.sftp(ivy.key(), "debian", "put " + upload + " /tmp/up.bin\nls -l /tmp/up.bin\n"
                + "get /tmp/up.bin " + download + "\n");
        assertThat(sftp.exit()).as("%s", sftp).isZero();
        assertThat(sftp.out()).contains("200000");
        assertThat(java.nio.file.Files.readAllBytes(download)).isEqualTo(content);
        assertThat(ssh.ssh(ivy.key(), "debian", null, List.of(), "sha256sum < /tmp/up.bin").out())
                .startsWith(sha256(content));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(ssh.ssh(ivy.key(), "debian", null,
                List.of(), "grep -l sftp-serve[r] /proc/[0-9]*/cmdline 2>/dev/null | wc -l").out().trim())
                .isEqualTo("0"));
    }

    private static String sha256(byte[] content) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
    }

    @Test
    void wrongKeysSuspendedUsersOtherPeoplesAndStoppedWorkspacesAreRefusedAndAudited() throws Exception {
        User grace = user("gw-grace");
        User frank = user("gw-frank");
        String graceWs = localWorkspace(grace, "guarded", null);

        // An API token works as the password (for scripts); a wrong one does not.
        String graceToken = admin.post("/api/v1/tokens", Map.of("name", "gw-grace-ssh", "subject", "gw-grace",
                "roles", List.of("member"))).json().get("token").asText();
        SshClient.Result byToken = ssh.sshWithToken(KEYS, graceToken, "guarded", "echo token-ok");
        assertThat(byToken.out()).as("%s", byToken).isEqualTo("token-ok\n");
        SshClient.Result badToken = ssh.sshWithToken(KEYS, "atl_not-a-token", "guarded", "echo nope");
        assertThat(badToken.exit()).as("%s", badToken).isEqualTo(255);
        assertThat(badToken.out()).isEmpty();

        // A key nobody registered.
        Path stranger = SshClient.newKey(KEYS, "stranger");
        SshClient.Result unknown = ssh.ssh(stranger, "guarded", null, List.of(), "touch /workspace/by-stranger");
        assertThat(unknown.exit()).isEqualTo(255);
        assertThat(unknown.err()).contains("Permission denied");

        // Somebody else's workspace, by <owner>.<name>.
        SshClient.Result others = ssh.ssh(frank.key(), "gw-grace.guarded", null, List.of(), "touch /workspace/by-frank");
        assertThat(others.exit()).isEqualTo(255);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(audited("ssh-connect", "denied", null, "is not registered")).isGreaterThanOrEqualTo(1);
            assertThat(audited("ssh-connect", "denied", graceWs, "belongs to gw-grace, not to gw-frank")).isEqualTo(1);
            assertThat(audited("ssh-connect", "denied", null, "not a valid API token")).isGreaterThanOrEqualTo(1);
        });
        assertThat(jdbc.queryForObject("SELECT actor_id FROM audit_entry WHERE action = 'ssh-connect' AND outcome = 'denied' "
                + "AND resource_id = ?", String.class, graceWs)).isEqualTo("gw-frank");
        // Nothing ran: neither file exists.
        assertThat(ssh.ssh(grace.key(), "guarded", null, List.of(), "ls /workspace").out())
                .doesNotContain("by-stranger", "by-frank");

        // A suspended user: refused although the key is registered.
        User erin = user("gw-erin");
        localWorkspace(erin, "erins", null);
        assertThat(admin.post("/api/v1/users/gw-erin/suspend", Map.of()).status()).isEqualTo(200);
        SshClient.Result suspended = ssh.ssh(erin.key(), "erins", null, List.of(), "echo should-not-run");
        assertThat(suspended.exit()).isEqualTo(255);
        assertThat(suspended.out()).isEmpty();
        await().atMost(Duration.ofSeconds(20)).until(() -> audited("ssh-connect", "denied", null, "gw-erin is suspended") == 1);

        // A STOPPED workspace: the session is refused with the reason, and the workspace stays stopped.
        assertThat(grace.api().post("/api/v1/workspaces/" + graceWs + "/stop", Map.of()).status()).isEqualTo(202);
        grace.api().awaitStatus(graceWs, "STOPPED");
        SshClient.Result stopped = ssh.ssh(grace.key(), "guarded", null, List.of(), "echo should-not-run");
        assertThat(stopped.exit()).as("%s", stopped).isEqualTo(1);
        assertThat(stopped.out()).isEmpty();
        assertThat(stopped.err()).contains("workspace 'guarded' is STOPPED");
        await().atMost(Duration.ofSeconds(20)).until(() -> audited("ssh-connect", "denied", graceWs, "workspace is STOPPED") == 1);
        assertThat(grace.api().get("/api/v1/workspaces/" + graceWs).json().get("status").asText()).isEqualTo("STOPPED");
    }

    @Test
    void anOpenSessionKeepsAnIdleWorkspaceRunningAndAStopClosesSessions() throws Exception {
        User henry = user("gw-henry");
        String idle = localWorkspace(henry, "idler", Map.of("idleTimeout", "PT4S"));
        Process session = ssh.start(henry.key(), "idler", List.of(), "sleep 600");
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> audited("ssh-connect", "success", idle, null) == 1);
            // Well past the idle timeout, the workspace still runs: the session is activity.
            await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(10))
                    .until(() -> "RUNNING".equals(henry.api().get("/api/v1/workspaces/" + idle).json().get("status").asText()));
        } finally {
            session.destroy();
            session.waitFor(10, TimeUnit.SECONDS);
        }
        JsonNode stopped = henry.api().awaitStatus(idle, "STOPPED");
        assertThat(stopped.at("/lastTransition/reason").asText()).isEqualTo("IDLE");
        await().atMost(Duration.ofSeconds(20)).until(() -> audited("ssh-disconnect", "success", idle, null) == 1);

        // Stopping a workspace closes its open sessions, with a message.
        String busy = localWorkspace(henry, "busy", null);
        Process open = ssh.start(henry.key(), "busy", List.of(), "echo started; sleep 600");
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(open.getInputStream())).readLine())
                .isEqualTo("started");
        assertThat(henry.api().post("/api/v1/workspaces/" + busy + "/stop", Map.of()).status()).isEqualTo(202);
        assertThat(open.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(SshClient.read(open.getErrorStream())).contains("workspace 'busy' is STOPP");
        henry.api().awaitStatus(busy, "STOPPED");
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
