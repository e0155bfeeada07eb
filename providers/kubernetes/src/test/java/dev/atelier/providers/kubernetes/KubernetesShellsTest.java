package dev.atelier.providers.kubernetes;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.ErrorStreamMessage;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.OutputStreamMessage;
import io.fabric8.kubernetes.client.server.mock.StatusStreamMessage;
import io.fabric8.mockwebserver.internal.WebSocketMessage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What the SSH gateway gets from a kubernetes workspace ({@link KubernetesShells}), against fabric8's mock API
 * server: the pod is an object in CRUD mode (no kubelet runs, so its status is set here as a kubelet would report
 * it), and the exec and port-forward websockets are scripted expectations that answer only to the exact frames the
 * fabric8 client must send (stdin on channel 0, a terminal size on channel 4, port-forward data on channel 0): a
 * frame the script does not expect closes the websocket, and the test then misses its answer.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesShellsTest {

    static final String NAMESPACE = "atelier-test";
    KubernetesClient client;
    KubernetesMockServer server;
    KubernetesWorkspaceProvider provider;
    String workspaceId;
    String pod;

    @BeforeEach
    void provider() {
        provider = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, List.of(), Duration.ofMillis(10));
        workspaceId = UUID.randomUUID().toString();
        pod = "atelier-" + workspaceId + "-0";
    }

    @Test
    void aShellWithATerminalRunsTheCommandWithItsVariablesAsArgumentsSizesResizesAndEndsWithItsStatus() throws Exception {
        runningPod(NAMESPACE);
        server.expect().get().withPath(execPath(NAMESPACE, List.of("env", "TERM=xterm-256color", "LANG=C.UTF-8",
                        "/bin/sh", "-c", "cat"), "tty=true&stdin=true&stdout=true"))
                .andUpgradeToWebSocket().open()
                .expect(resize(100, 40)).andEmit(new OutputStreamMessage("sized 100x40\r\n")).once()
                .expect("\u0000hello\r").andEmit(new OutputStreamMessage("hello from the pod\r\n")).once()
                .expect(resize(120, 50)).andEmit(new OutputStreamMessage("sized 120x50\r\n")).once()
                .expect("\u0000exit\r").andEmit(new StatusStreamMessage(0)).once()
                .done().once();

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of("/bin/sh", "-c", "cat"), new WorkspaceShell.Terminal("xterm-256color", 100, 40),
                Map.of("LANG", "C.UTF-8")));
        Output out = Output.of(process.stdout());

        assertThat(process.stderr()).as("a terminal merges stderr").isNull();
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().contains("sized 100x40"));
        write(process.stdin(), "hello\r");
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().contains("hello from the pod"));
        process.resize(120, 50);
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().contains("sized 120x50"));
        write(process.stdin(), "exit\r");

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(out::ended);
        process.close();
    }

    @Test
    void aCommandWithoutATerminalGetsItsInputAndGivesBackStdoutStderrAndANonZeroExitStatus() throws Exception {
        runningPod(NAMESPACE);
        server.expect().get().withPath(execPath(NAMESPACE, List.of("/bin/sh", "-c", "make test"),
                        "stdin=true&stdout=true&stderr=true"))
                .andUpgradeToWebSocket().open()
                .expect("\u0000some input\n").andEmit(new OutputStreamMessage("compiling\n")).once()
                .expect("\u0000more\n").andEmit(new ErrorStreamMessage("2 tests failed\n")).once()
                .expect("\u0000done\n").andEmit(new StatusStreamMessage(3)).once()
                .done().once();

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of("/bin/sh", "-c", "make test"), null, Map.of()));
        // v5 first; the mock server knows only up to v4 and takes it (KubernetesExecEndOfInputTest: a v5 server).
        assertThat(server.getLastRequest().getHeader("Sec-WebSocket-Protocol"))
                .isEqualTo("v5.channel.k8s.io, v4.channel.k8s.io");
        Output out = Output.of(process.stdout());
        Output err = Output.of(process.stderr());
        write(process.stdin(), "some input\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().equals("compiling\n"));
        write(process.stdin(), "more\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> err.text().equals("2 tests failed\n"));
        write(process.stdin(), "done\n");

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).isEqualTo(3);
        await().atMost(Duration.ofSeconds(10)).until(() -> out.ended() && err.ended());
        process.resize(80, 24); // no terminal: nothing is sent (the websocket would have closed on a stray frame)
        process.close();
        process.close();
    }

    @Test
    void anEmptyCommandIsTheLoginShellAndAPodInATemplatesNamespaceIsFoundByItsLabels() throws Exception {
        runningPod("team-a");
        server.expect().get().withPath(execPath("team-a", List.of("env", "TERM=vt100", "/bin/sh", "-c",
                        KubernetesShells.LOGIN_SHELL), "tty=true&stdin=true&stdout=true"))
                .andUpgradeToWebSocket().open()
                .expect(resize(80, 24)).andEmit(new StatusStreamMessage(0)).once()
                .done().once();

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of(), new WorkspaceShell.Terminal("vt100", 80, 24), Map.of()));

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).isZero();
        process.close();
    }

    @Test
    void variablesAreSeparateArgumentsAndNamesOutsideTheShellsSyntaxAreRefusedWithoutEchoingThem() {
        WorkspaceShell.ShellRequest request = new WorkspaceShell.ShellRequest(List.of("/bin/sh", "-c", "echo hi"),
                null, Map.of("LC_ALL", "$(touch /tmp/pwned); `id`", "LANG", "C"));
        assertThat(KubernetesShells.argv(request)).containsExactly("env", "LANG=C", "LC_ALL=$(touch /tmp/pwned); `id`",
                "/bin/sh", "-c", "echo hi");
        assertThat(KubernetesShells.argv(new WorkspaceShell.ShellRequest(List.of("ls"), null, Map.of())))
                .containsExactly("ls");

        runningPod(NAMESPACE);
        int requests = server.getRequestCount();
        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of("BAD;NAME", "x"))))
                .isInstanceOf(ProviderException.class)
                .hasMessageContaining("not a shell name").hasMessageNotContaining("BAD;NAME");
        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of("LANG", "C\nrm -rf /"))))
                .isInstanceOf(ProviderException.class).hasMessageNotContaining("rm -rf");
        assertThat(server.getRequestCount()).as("nothing reached the API server").isEqualTo(requests);
    }

    @Test
    void aPodThatIsNotRunningIsRefusedAndNothingIsExecuted() throws InterruptedException {
        client.pods().inNamespace(NAMESPACE).resource(new PodBuilder(pod(NAMESPACE))
                .withNewStatus().withPhase("Pending").endStatus().build()).create();
        int requests = server.getRequestCount();

        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of())))
                .isInstanceOf(ProviderException.class)
                .hasMessage("the workspace's pod is not running (phase Pending, not ready)")
                .matches(e -> !((ProviderException) e).retryable());
        assertThatThrownBy(() -> provider.connect(workspaceId, "localhost", 8080))
                .isInstanceOf(ProviderException.class).hasMessageContaining("not running");

        assertThat(server.getRequestCount() - requests).as("only the pod was read, twice").isEqualTo(2);
        assertThat(server.getLastRequest().getPath()).doesNotContain("/exec").doesNotContain("/portforward");
    }

    @Test
    void anExecTheApiServerForbidsSaysWhichPermissionIsMissing() {
        runningPod(NAMESPACE);
        server.expect().get().withPath(execPath(NAMESPACE, List.of("ls"), "stdin=true&stdout=true&stderr=true"))
                .andReturn(403, new io.fabric8.kubernetes.api.model.StatusBuilder().withStatus("Failure").withCode(403)
                        .withReason("Forbidden").withMessage("pods \"" + pod + "\" is forbidden: User "
                                + "\"system:serviceaccount:atelier:atelier\" cannot create resource \"pods/exec\"")
                        .build())
                .once();

        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of())))
                .isInstanceOf(ProviderException.class)
                .hasMessageContaining("the engine may not exec in Pod in namespace " + NAMESPACE + " (403 Forbidden")
                .hasMessageContaining("HTTP 403")
                .hasMessageContaining("docs/providers/kubernetes.md")
                .matches(e -> !((ProviderException) e).retryable());
    }

    @Test
    void aStoppedWorkspaceHasNoPodAndAPodWithoutTheWorkspacesLabelsIsNotItsPod() {
        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of())))
                .isInstanceOf(ProviderException.class).hasMessage("the workspace has no pod (it is not running)");

        // Somebody's pod of the same name but not labelled as this workspace's (not made by Atelier).
        client.pods().inNamespace(NAMESPACE).resource(new PodBuilder(readyPod(NAMESPACE)).editMetadata()
                .withLabels(Map.of("app", "other")).endMetadata().build()).create();
        assertThatThrownBy(() -> provider.open(workspaceId, new WorkspaceShell.ShellRequest(List.of("ls"), null,
                Map.of())))
                .isInstanceOf(ProviderException.class).hasMessage("the workspace has no pod (it is not running)");
    }

    @Test
    void aLocalForwardIsAPortForwardToThePodCarryingBytesBothWays() throws Exception {
        runningPod(NAMESPACE);
        server.expect().get().withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod + "/portforward?ports=8080")
                .andUpgradeToWebSocket().open()
                .waitFor(10).andEmit(portForwardFrame(0, new byte[]{0x1f, (byte) 0x90})) // data channel's port
                .waitFor(10).andEmit(portForwardFrame(1, new byte[]{0x1f, (byte) 0x90})) // error channel's port
                .expect("\u0000GET / HTTP/1.0\r\n\r\n")
                .andEmit(portForwardFrame(0, "HTTP/1.0 200 OK\r\n\r\nfrom the pod".getBytes(StandardCharsets.UTF_8)))
                .once()
                .done().once();

        WorkspaceShell.ShellProcess connection = provider.connect(workspaceId, "localhost", 8080);
        Output out = Output.of(connection.stdout());
        assertThat(connection.stderr()).isNull();
        write(connection.stdin(), "GET / HTTP/1.0\r\n\r\n");

        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().equals("HTTP/1.0 200 OK\r\n\r\nfrom the pod"));
        assertThat(connection.exit()).isNotDone();
        connection.close();
        assertThat(connection.exit().get(10, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(out::ended);
    }

    @Test
    void aForwardThatThePodEndsEndsTheConnection() throws Exception {
        runningPod(NAMESPACE);
        server.expect().get().withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod + "/portforward?ports=5432")
                .andUpgradeToWebSocket().open()
                .waitFor(10).andEmit(portForwardFrame(0, new byte[]{0x15, 0x38}))
                .waitFor(10).andEmit(portForwardFrame(1, new byte[]{0x15, 0x38}))
                .waitFor(10).andEmit(portForwardFrame(0, "greeting".getBytes(StandardCharsets.UTF_8)))
                .done().once(); // nothing more expected: the server closes the websocket

        WorkspaceShell.ShellProcess connection = provider.connect(workspaceId, "127.0.0.1", 5432);
        Output out = Output.of(connection.stdout());

        assertThat(connection.exit().get(10, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> out.ended() && out.text().equals("greeting"));
        connection.close();
    }

    @Test
    void aForwardTheApiServerRefusesClosesTheConnectionWithAFailure() throws Exception {
        runningPod(NAMESPACE);
        server.expect().get().withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod + "/portforward?ports=8080")
                .andReturn(403, new io.fabric8.kubernetes.api.model.StatusBuilder().withStatus("Failure").withCode(403)
                        .withReason("Forbidden").build())
                .once();

        WorkspaceShell.ShellProcess connection = provider.connect(workspaceId, "localhost", 8080);
        Output out = Output.of(connection.stdout());

        assertThat(connection.exit().get(10, TimeUnit.SECONDS)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(out::ended);
        assertThat(out.text()).isEmpty();
        connection.close();
    }

    @Test
    void aForwardToAnotherHostIsRefusedBeforeAnythingIsAsked() {
        runningPod(NAMESPACE);
        int requests = server.getRequestCount();
        for (String host : List.of("10.0.0.5", "db.internal", "kubernetes.default.svc", "::1", "")) {
            assertThatThrownBy(() -> provider.connect(workspaceId, host, 5432))
                    .isInstanceOf(ProviderException.class)
                    .hasMessageContaining("forward only to their own ports (localhost or 127.0.0.1)")
                    .satisfies(e -> {
                        if (!host.isEmpty()) {
                            assertThat(e).hasMessageNotContaining(host);
                        }
                    });
        }
        assertThatThrownBy(() -> provider.connect(workspaceId, "localhost", 70000))
                .isInstanceOf(ProviderException.class).hasMessage("invalid forwarding target");
        assertThat(server.getRequestCount()).isEqualTo(requests);
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    private void runningPod(String namespace) {
        client.pods().inNamespace(namespace).resource(readyPod(namespace)).create();
    }

    private Pod readyPod(String namespace) {
        return new PodBuilder(pod(namespace)).withNewStatus().withPhase("Running").addNewCondition().withType("Ready")
                .withStatus("True").endCondition().endStatus().build();
    }

    private Pod pod(String namespace) {
        return new PodBuilder().withNewMetadata().withNamespace(namespace).withName(pod)
                .withLabels(Map.of(WorkspaceObjects.WORKSPACE_LABEL, workspaceId, WorkspaceObjects.MANAGED_BY,
                        WorkspaceObjects.MANAGER, WorkspaceObjects.BUILD_LABEL, "1"))
                .endMetadata()
                .withNewSpec().addNewContainer().withName(WorkspaceObjects.CONTAINER).withImage("ubuntu:24.04")
                .endContainer().endSpec()
                .build();
    }

    private String execPath(String namespace, List<String> argv, String streams) {
        StringBuilder query = new StringBuilder();
        for (String arg : argv) {
            query.append("command=").append(encode(arg)).append('&');
        }
        return "/api/v1/namespaces/" + namespace + "/pods/" + pod + "/exec?" + query + "container="
                + WorkspaceObjects.CONTAINER + "&" + streams;
    }

    /** As fabric8's URLBuilder encodes a query value (spaces as %20). */
    private static String encode(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * The resize frame a kubelet reads: channel 4, the size as JSON (in the key order fabric8 writes it; the kubelet
     * does not care, the script's exact match does).
     */
    private static String resize(int columns, int rows) {
        return "\u0004{\"Width\":" + columns + ",\"Height\":" + rows + "}";
    }

    private static WebSocketMessage portForwardFrame(int channel, byte[] data) {
        byte[] frame = new byte[data.length + 1];
        frame[0] = (byte) channel;
        System.arraycopy(data, 0, frame, 1, data.length);
        return new WebSocketMessage(0L, frame, true, true);
    }

    private static void write(OutputStream stdin, String text) throws IOException {
        stdin.write(text.getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

}
