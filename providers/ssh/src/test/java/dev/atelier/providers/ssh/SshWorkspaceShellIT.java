package dev.atelier.providers.ssh;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.provider.WorkspaceKey;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The SSH gateway's hop into an ssh workspace ({@link SshShells}) against the real OpenSSH server on loopback
 * (deploy/test-infra/sshd.sh): the engine's gateway key is installed on provisioning, processes and forwardings go
 * through the host's sshd with it, and a key the host does not know, or a host key that is not the registered one,
 * is refused.
 */
class SshWorkspaceShellIT extends EngineIntegrationTest {

    private static TestInfra.SshHost sshd;
    private static Path home;

    @Autowired
    SshWorkspaceProvider provider;
    @Autowired
    WorkspaceKey gatewayKey;
    @TempDir
    Path tmp;
    private String workspace;

    @BeforeAll
    static void startHost() throws Exception {
        sshd = TestInfra.sshd();
        Process p = new ProcessBuilder("getent", "passwd", sshd.user()).start();
        home = Path.of(new String(p.getInputStream().readAllBytes()).trim().split(":")[5]);
        p.waitFor(5, TimeUnit.SECONDS);
    }

    /** The host registered by the test: removed after it, or other tests' inventories see their directories twice. */
    private String hostId;

    @AfterEach
    void delete() {
        if (workspace != null) {
            provider.delete(request(workspace));
        }
        if (hostId != null) {
            ApiClient.Response removed = admin.delete("/api/v1/hosts/" + hostId + "?force=true");
            assertThat(removed.status()).as(removed.body()).isEqualTo(204);
        }
    }

    @Test
    void processesTerminalsAndForwardingsReachTheWorkspaceThroughItsHostsSshd() throws Exception {
        workspace = provisioned();
        String authorized = Files.readString(home.resolve(".ssh/authorized_keys"));
        assertThat(authorized.lines().filter(l -> l.equals("restrict,pty,port-forwarding " + gatewayKey.publicKey())))
                .as("installed once, limited to terminals and forwarding").hasSize(1);
        assertThat(authorized).doesNotContain("PRIVATE KEY");

        // exec: output, the workspace's directory, a non-zero exit status; arguments stay as typed.
        WorkspaceShell.ShellProcess exec = provider.open(workspace, new WorkspaceShell.ShellRequest(
                List.of("sh", "-c", "echo \"hi $1\"; pwd; echo oops >&2; exit 3", "sh", "it's $(id)"), null,
                Map.of("LANG", "C")));
        exec.stdin().close();
        assertThat(new String(exec.stdout().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("hi it's $(id)\n" + home.resolve("atelier-workspaces").resolve(workspace) + "\n");
        assertThat(new String(exec.stderr().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(exec.exit().get(10, TimeUnit.SECONDS)).isEqualTo(3);

        // A login shell on a terminal: input, the size asked for, a resize, the exit status.
        WorkspaceShell.ShellProcess shell = provider.open(workspace, new WorkspaceShell.ShellRequest(List.of(),
                new WorkspaceShell.Terminal("xterm", 91, 27), Map.of()));
        assertThat(shell.stderr()).isNull();
        ByteArrayOutputStream screen = pump(shell.stdout());
        type(shell.stdin(), "stty size; echo answer=$((6*7))\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> text(screen).contains("27 91") && text(screen).contains("answer=42"));
        shell.resize(120, 40);
        type(shell.stdin(), "stty size\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> text(screen).contains("40 120"));
        type(shell.stdin(), "exit 5\n");
        assertThat(shell.exit().get(10, TimeUnit.SECONDS)).isEqualTo(5);

        // A forwarding to a server on the host's loopback (the workspace's side): bytes both ways.
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> {
                try (Socket s = server.accept()) {
                    String got = new String(s.getInputStream().readNBytes(5), StandardCharsets.UTF_8);
                    s.getOutputStream().write(("pong:" + got).getBytes(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    // the assertion below fails
                }
            });
            echo.start();
            WorkspaceShell.ShellProcess tunnel = provider.connect(workspace, "127.0.0.1", server.getLocalPort());
            type(tunnel.stdin(), "ping\n");
            assertThat(new String(tunnel.stdout().readNBytes(10), StandardCharsets.UTF_8)).isEqualTo("pong:ping\n");
            tunnel.close();
            assertThat(tunnel.exit().get(10, TimeUnit.SECONDS)).isZero();
        }
        assertThatThrownBy(() -> provider.connect(workspace, "bad host;rm", 22)).isInstanceOf(ProviderException.class)
                .hasMessage("invalid forwarding target");
    }

    /**
     * A quiet process keeps its session past MINA's idle timeout (the heartbeat's replies are traffic), and a session
     * whose last channel closed is logged out after its linger, not kept for ever.
     */
    @Test
    void aQuietProcessOutlivesTheIdleTimeoutAndAnUnusedSessionEndsAfterItsLinger() throws Exception {
        workspace = provisioned();
        SshShells.Target target = new SshShells.Target(sshd.address(), sshd.port(), sshd.user(), sshd.fingerprint());
        try (SshShells shells = new SshShells(gatewayKey, Duration.ofSeconds(10), Duration.ofMillis(300),
                Duration.ofSeconds(1), Duration.ofSeconds(1))) {
            WorkspaceShell.ShellProcess quiet = shells.open(target, null, new WorkspaceShell.ShellRequest(
                    List.of("sh", "-c", "sleep 3; echo still here"), null, Map.of()));
            quiet.stdin().close();
            assertThat(new String(quiet.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("still here\n");
            assertThat(quiet.exit().get(10, TimeUnit.SECONDS)).isZero();

            WorkspaceShell.ShellProcess next = shells.open(target, null, new WorkspaceShell.ShellRequest(
                    List.of("true"), null, Map.of()));
            assertThat(next.exit().get(10, TimeUnit.SECONDS)).isZero();
            assertThat(shells.keptSessions()).as("kept for the next channel").isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> shells.keptSessions() == 0);
        }
    }

    @Test
    void aKeyTheHostDoesNotTrustOrAHostKeyThatIsNotTheRegisteredOneIsRefused() throws Exception {
        workspace = provisioned();
        SshShells.Target target = new SshShells.Target(sshd.address(), sshd.port(), sshd.user(), sshd.fingerprint());
        WorkspaceKey stranger = WorkspaceKey.at(tmp.resolve("stranger"));
        try (SshShells other = new SshShells(stranger, Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> other.open(target, null, new WorkspaceShell.ShellRequest(List.of("true"), null,
                    Map.of()))).isInstanceOf(ProviderException.class)
                    .hasMessageContaining("refused the engine's gateway key").hasMessageNotContaining("PRIVATE");
        }
        try (SshShells ours = new SshShells(gatewayKey, Duration.ofSeconds(10))) {
            SshShells.Target impostor = new SshShells.Target(sshd.address(), sshd.port(), sshd.user(),
                    "SHA256:" + "A".repeat(43));
            assertThatThrownBy(() -> ours.open(impostor, null, new WorkspaceShell.ShellRequest(List.of("true"), null,
                    Map.of()))).isInstanceOf(ProviderException.class).hasMessageContaining("host key verification failed");
        }
        assertThatThrownBy(() -> provider.open("no-such-workspace", new WorkspaceShell.ShellRequest(List.of("true"),
                null, Map.of()))).isInstanceOf(ProviderException.class).hasMessageContaining("is not on any host");
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private String provisioned() {
        ApiClient.Response r = admin.post("/api/v1/hosts", host());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        hostId = r.json().get("id").asText();
        String id = "shell-" + UUID.randomUUID().toString().substring(0, 8);
        ProvisionRequest request = request(id);
        AtomicReference<ProviderOperation> op = new AtomicReference<>(provider.create(request));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> op.get().done()
                || op.updateAndGet(o -> provider.poll(request, o.operationId())).done());
        return id;
    }

    private static Map<String, Object> host() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("name", "shell-" + UUID.randomUUID().toString().substring(0, 8));
        h.put("address", sshd.address());
        h.put("port", sshd.port());
        h.put("user", sshd.user());
        h.put("keyRef", sshd.keyRef());
        h.put("hostKeyFingerprint", sshd.fingerprint());
        h.put("capacity", 5);
        h.put("labels", Map.of("shell", "yes"));
        return h;
    }

    private static ProvisionRequest request(String id) {
        WorkspaceAgent agent = new WorkspaceAgent("while :; do sleep 30; done\n", Map.of("ATELIER_URL",
                "http://127.0.0.1:1", "ATELIER_WORKSPACE_ID", id, "ATELIER_AGENT_TOKEN", "agent-secret"));
        return new ProvisionRequest(id, 1, "alice", null, Map.of("hostSelector", Map.of("shell", "yes")), Map.of(),
                Map.of("atelier-workspace-id", id, "atelier-build", "1"), agent);
    }

    private static ByteArrayOutputStream pump(InputStream in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    synchronized (out) {
                        out.write(buf, 0, n);
                    }
                }
            } catch (Exception e) {
                // closed
            }
        });
        t.setDaemon(true);
        t.start();
        return out;
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static void type(OutputStream in, String text) throws Exception {
        in.write(text.getBytes(StandardCharsets.UTF_8));
        in.flush();
    }
}
