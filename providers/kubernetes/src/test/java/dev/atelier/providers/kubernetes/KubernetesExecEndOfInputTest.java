package dev.atelier.providers.kubernetes;

import dev.atelier.provider.WorkspaceShell;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The end of the client's input reaching the process in the pod ({@link PodExec}), against a small API server of the
 * test's own (vert.x, which the fabric8 client already brings): fabric8's mock server negotiates only up to
 * {@code v4.channel.k8s.io}. The server answers the pod's GET and, on the exec websocket, plays a {@code cat}: it
 * records every frame the client sends exactly as it arrives, echoes stdin on stdout and, on v5's CLOSE of stdin, ends
 * the process with a status, as the kubelet does when {@code cat}'s input ends. Which subprotocols it accepts is the
 * test's choice: v5 and v4 (Kubernetes 1.29 and later), or only v4 (an older cluster).
 */
class KubernetesExecEndOfInputTest {

    static final String NAMESPACE = "atelier-test";

    final Vertx vertx = Vertx.vertx();
    final String workspaceId = UUID.randomUUID().toString();
    final String pod = "atelier-" + workspaceId + "-0";
    /** What the client offered in {@code Sec-WebSocket-Protocol}, and the exec request's URI. */
    final List<String> offered = new CopyOnWriteArrayList<>();
    final List<String> execUris = new CopyOnWriteArrayList<>();
    /** Every frame the client sent on the exec websocket, in order. */
    final List<byte[]> frames = new CopyOnWriteArrayList<>();
    /** The server saw the client's close: every frame sent before it is in {@link #frames}. */
    final CompletableFuture<Void> clientClosed = new CompletableFuture<>();
    final CompletableFuture<ServerWebSocket> execSocket = new CompletableFuture<>();
    final CompletableFuture<String> chosen = new CompletableFuture<>();
    HttpServer server;
    KubernetesClient client;
    KubernetesWorkspaceProvider provider;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void onAClusterWithV5TheEndOfInputIsSentAsCloseOfStdinAfterTheInputAndTheStatusComesBack() throws Exception {
        start(PodExec.V5, PodExec.V4);

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of("/bin/sh", "-c", "cat > f"), null, Map.of()));
        Output out = Output.of(process.stdout());
        Output err = Output.of(process.stderr());
        process.stdin().write("line 1\n".getBytes(StandardCharsets.UTF_8));
        process.stdin().write("line 2\n".getBytes(StandardCharsets.UTF_8));
        process.stdin().flush();
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().equals("line 1\nline 2\n"));
        assertThat(process.exit()).as("the process still reads its input").isNotDone();
        process.stdin().close();

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).as("the status channel's exit code").isEqualTo(3);
        await().atMost(Duration.ofSeconds(10)).until(() -> out.ended() && err.ended());
        assertThat(out.text()).isEqualTo("line 1\nline 2\nread 14 bytes\n");
        assertThat(err.text()).isEqualTo("cat: done\n");
        assertThat(offered).containsExactly("v5.channel.k8s.io, v4.channel.k8s.io");
        assertThat(chosen.get(10, TimeUnit.SECONDS)).isEqualTo(PodExec.V5);
        assertThat(((PodExec) process).protocol()).as("the choice as the client read it").isEqualTo(PodExec.V5);
        assertThat(execUris).containsExactly("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod + "/exec?command="
                + "%2Fbin%2Fsh&command=-c&command=cat%20%3E%20f&container=workspace&stdin=true&stdout=true&stderr=true");
        clientClosed.get(10, TimeUnit.SECONDS);
        assertThat(frames).as("stdin's bytes on stream 0, then CLOSE (255) of stream 0, nothing else")
                .containsExactly(frame(0, "line 1\n"), frame(0, "line 2\n"), new byte[]{(byte) 255, 0});

        process.stdin().close(); // idempotent: no second CLOSE
        process.close();
        process.close();
        assertThat(frames).hasSize(3);
        assertThatThrownBy(() -> process.stdin().write(1)).isInstanceOf(IOException.class);
    }

    @Test
    void onAClusterWithOnlyV4NothingIsSentAtTheEndOfInputAndTheExecGoesOn() throws Exception {
        start(PodExec.V4);

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of("cat"), null, Map.of()));
        Output out = Output.of(process.stdout());
        process.stdin().write("data\n".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().equals("data\n"));
        process.stdin().close();

        // The process does not learn of it (v4 cannot say it) and goes on until it ends by itself.
        assertThat(chosen.get(10, TimeUnit.SECONDS)).isEqualTo(PodExec.V4);
        assertThat(((PodExec) process).protocol()).isEqualTo(PodExec.V4);
        assertThat(process.exit()).isNotDone();
        ServerWebSocket socket = execSocket.get(10, TimeUnit.SECONDS);
        socket.writeBinaryMessage(Buffer.buffer(frame(1, "still running\n")));
        socket.writeBinaryMessage(Buffer.buffer(frame(3, json(new StatusBuilder().withStatus("Success").build()))));

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(out::ended);
        assertThat(out.text()).isEqualTo("data\nstill running\n");
        clientClosed.get(10, TimeUnit.SECONDS);
        assertThat(offered).containsExactly("v5.channel.k8s.io, v4.channel.k8s.io");
        assertThat(frames).as("stdin's bytes only: no CLOSE frame under v4").containsExactly(frame(0, "data\n"));
        process.close();
    }

    @Test
    void largeInputGoesInBoundedFramesAndOutputNobodyReadsYetIsHeldBackThenDeliveredWhole() throws Exception {
        start(PodExec.V5, PodExec.V4);
        byte[] input = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(input);

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of("cat"), null, Map.of()));
        for (int off = 0; off < input.length; off += 64 * 1024) {
            process.stdin().write(input, off, Math.min(64 * 1024, input.length - off));
        }
        process.stdin().close();
        // Nobody reads stdout while 3 MiB come back: after 1 MiB the client asks for no more, and the status behind
        // the output waits with it.
        await().atMost(Duration.ofSeconds(30)).until(((PodExec) process)::outputHeld);
        assertThat(process.exit()).isNotDone();
        Output out = Output.of(process.stdout());
        Output.of(process.stderr());

        assertThat(process.exit().get(30, TimeUnit.SECONDS)).isEqualTo(3);
        await().atMost(Duration.ofSeconds(30)).until(out::ended);
        byte[] expected = new byte[input.length + ("read " + input.length + " bytes\n").length()];
        System.arraycopy(input, 0, expected, 0, input.length);
        System.arraycopy(("read " + input.length + " bytes\n").getBytes(StandardCharsets.UTF_8), 0, expected,
                input.length, expected.length - input.length);
        assertThat(out.bytes()).isEqualTo(expected);
        clientClosed.get(10, TimeUnit.SECONDS);
        assertThat(frames).allSatisfy(frame -> assertThat(frame.length).isLessThanOrEqualTo(32 * 1024 + 1));
        assertThat(frames.get(frames.size() - 1)).containsExactly(255, 0);
        assertThat(frames.stream().filter(frame -> frame[0] == 0).mapToInt(frame -> frame.length - 1).sum())
                .isEqualTo(input.length);
        process.close();
    }

    @Test
    void aTerminalIsSizedAndResizedOnStream4AndItsStdinIsNotClosedByAResize() throws Exception {
        start(PodExec.V5, PodExec.V4);

        WorkspaceShell.ShellProcess process = provider.open(workspaceId, new WorkspaceShell.ShellRequest(
                List.of(), new WorkspaceShell.Terminal("xterm", 100, 40), Map.of()));
        assertThat(process.stderr()).isNull();
        Output out = Output.of(process.stdout());
        process.resize(120, 50);
        process.stdin().write("ls\r".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(10)).until(() -> out.text().equals("ls\r"));
        process.close();

        assertThat(process.exit().get(10, TimeUnit.SECONDS)).as("closed before any status").isEqualTo(255);
        clientClosed.get(10, TimeUnit.SECONDS);
        assertThat(execUris.get(0)).endsWith("&container=workspace&tty=true&stdin=true&stdout=true");
        assertThat(frames).containsExactly(frame(4, "{\"Width\":100,\"Height\":40}"),
                frame(4, "{\"Width\":120,\"Height\":50}"), frame(0, "ls\r"));
        await().atMost(Duration.ofSeconds(10)).until(out::ended);
    }

    @Test
    void exitStatusesAreReadAsFabric8ReadsThem() {
        assertThat(PodExec.exitCode(new StatusBuilder().withStatus("Success").build())).isZero();
        assertThat(PodExec.exitCode(nonZero("42"))).isEqualTo(42);
        assertThat(PodExec.exitCode(nonZero("300"))).isEqualTo(255);
        assertThat(PodExec.exitCode(nonZero("x"))).isEqualTo(255);
        assertThat(PodExec.exitCode(new StatusBuilder().withStatus("Failure").withReason("InternalError").build()))
                .isEqualTo(255);
        assertThat(PodExec.exitCode(null)).isEqualTo(255);
    }

    // --- the test's API server ---------------------------------------------------------------------------------

    private void start(String... protocols) {
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                .setWebSocketSubProtocols(List.of(protocols)));
        server.requestHandler(request -> {
            if (request.path().endsWith("/exec")) {
                offered.add(String.valueOf(request.getHeader("Sec-WebSocket-Protocol")));
                execUris.add(request.uri());
                request.toWebSocket().onSuccess(this::cat).onFailure(execSocket::completeExceptionally);
            } else if (request.path().equals("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod)) {
                request.response().putHeader("Content-Type", "application/json").end(json(readyPod()));
            } else {
                request.response().setStatusCode(404).putHeader("Content-Type", "application/json")
                        .end(json(new StatusBuilder().withStatus("Failure").withCode(404).build()));
            }
        });
        server.listen().toCompletionStage().toCompletableFuture().join();
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + server.actualPort())
                .withRequestTimeout(10_000).build();
        client = new KubernetesClientBuilder().withConfig(config).build();
        provider = new KubernetesWorkspaceProvider(() -> client, NAMESPACE, List.of(), Duration.ofMillis(10));
    }

    /** A {@code cat}: stdin echoed on stdout; v5's CLOSE of stdin ends it (exit status 3, to tell it from 0). */
    private void cat(ServerWebSocket socket) {
        chosen.complete(socket.subProtocol());
        execSocket.complete(socket);
        long[] read = {0};
        socket.binaryMessageHandler(message -> {
            byte[] bytes = message.getBytes();
            frames.add(bytes);
            if (bytes.length > 0 && bytes[0] == 0) {
                read[0] += bytes.length - 1;
                socket.writeBinaryMessage(Buffer.buffer(frame(1, Arrays.copyOfRange(bytes, 1, bytes.length))));
            } else if (bytes.length == 2 && bytes[0] == (byte) 255 && bytes[1] == 0) {
                socket.writeBinaryMessage(Buffer.buffer(frame(1, "read " + read[0] + " bytes\n")));
                socket.writeBinaryMessage(Buffer.buffer(frame(2, "cat: done\n")));
                socket.writeBinaryMessage(Buffer.buffer(frame(3, json(nonZero("3")))));
            }
        });
        socket.textMessageHandler(text -> frames.add(("text:" + text).getBytes(StandardCharsets.UTF_8)));
        socket.closeHandler(v -> clientClosed.complete(null));
    }

    private Pod readyPod() {
        return new PodBuilder().withNewMetadata().withNamespace(NAMESPACE).withName(pod)
                .withLabels(Map.of(WorkspaceObjects.WORKSPACE_LABEL, workspaceId, WorkspaceObjects.MANAGED_BY,
                        WorkspaceObjects.MANAGER, WorkspaceObjects.BUILD_LABEL, "1"))
                .endMetadata()
                .withNewSpec().addNewContainer().withName(WorkspaceObjects.CONTAINER).withImage("ubuntu:24.04")
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True")
                .endCondition().endStatus()
                .build();
    }

    private static Status nonZero(String code) {
        return new StatusBuilder().withStatus("Failure").withReason("NonZeroExitCode").withNewDetails()
                .addNewCause().withReason("ExitCode").withMessage(code).endCause().endDetails().build();
    }

    private String json(Object object) {
        return client == null ? new io.fabric8.kubernetes.client.utils.KubernetesSerialization().asJson(object)
                : client.getKubernetesSerialization().asJson(object);
    }

    private static byte[] frame(int stream, String text) {
        return frame(stream, text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] frame(int stream, byte[] data) {
        byte[] frame = new byte[data.length + 1];
        frame[0] = (byte) stream;
        System.arraycopy(data, 0, frame, 1, data.length);
        return frame;
    }

}
