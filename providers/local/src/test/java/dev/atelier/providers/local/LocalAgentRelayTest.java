package dev.atelier.providers.local;

import com.sun.net.httpserver.HttpServer;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.io.ClassPathResource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The real agent script in a sandbox with a network of its own reaches the engine through the relay's Unix socket:
 * its heartbeats arrive with its token, anything else sent to the socket is refused before it reaches the engine,
 * the socket goes away with the workspace and comes back after an engine restart.
 */
class LocalAgentRelayTest {

    @TempDir
    Path tmp;
    HttpServer engine;
    final List<String> received = new CopyOnWriteArrayList<>();
    LocalWorkspaceProvider provider;
    ProvisionRequest request;

    @BeforeEach
    void fakeEngineApi() throws IOException {
        TestInfra.bubblewrap();
        // Stands in for the engine's HTTP API: records what reaches it.
        engine = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        engine.createContext("/", exchange -> {
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization") + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        engine.start();
    }

    @AfterEach
    void stop() {
        if (provider != null && request != null) {
            provider.delete(request);
        }
        if (provider != null) {
            provider.close();
        }
        engine.stop(0);
    }

    @Test
    void heartbeatsReachTheEngineThroughTheSocketAndNothingElseDoes() throws Exception {
        provider = provider();
        String id = UUID.randomUUID().toString();
        String script = new ClassPathResource("agent/atelier-agent.sh").getContentAsString(StandardCharsets.UTF_8);
        WorkspaceAgent agent = new WorkspaceAgent(script, Map.of("ATELIER_URL", "http://127.0.0.1:1",
                "ATELIER_WORKSPACE_ID", id, "ATELIER_AGENT_TOKEN", "atw_relay-test.1.secret",
                "ATELIER_HEARTBEAT_SECONDS", "1", "ATELIER_AGENT_PORTS", "ssh:22"));
        String sock = Sandboxes.RUN + "/engine/" + AgentRelay.SOCKET;
        String startup = """
                probe() { curl -s -o /dev/null -w '%{http_code}' --unix-socket SOCK "$@"; echo; }
                probe -X POST -H 'Authorization: Bearer stolen' -d '{}' http://x/api/v1/workspaces/other-workspace/activity > other.txt
                probe http://x/api/v1/tokens > tokens.txt
                probe --path-as-is -X POST -d '{}' http://x/api/v1/workspaces/$ATELIER_WORKSPACE_ID/activity/../../../tokens > traversal.txt
                curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:PORT/ > direct.txt; echo " $?" >> direct.txt
                echo done > done.txt
                exec sleep 1000
                """.replace("SOCK", sock).replace("PORT", Integer.toString(engine.getAddress().getPort()));
        request = new ProvisionRequest(id, 1, "alice", null, Map.of("startupScript", startup), Map.of(),
                Map.of("atelier-workspace-id", id), agent);
        ProviderOperation started = provider.create(request);
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.poll(request, started.operationId()).done());
        Path dir = tmp.resolve("workspaces").resolve(id);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("done.txt")));

        String heartbeat = "POST /api/v1/workspaces/" + id + "/activity Bearer atw_relay-test.1.secret ";
        await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(r -> r.startsWith(heartbeat)));
        assertThat(received).allMatch(r -> r.startsWith(heartbeat), "only the workspace's own heartbeats")
                .anyMatch(r -> r.contains("\"agent\":0") && r.contains("\"ssh\":0"));
        assertThat(Files.readString(dir.resolve("other.txt")).trim()).isEqualTo("404");
        assertThat(Files.readString(dir.resolve("tokens.txt")).trim()).isEqualTo("404");
        assertThat(Files.readString(dir.resolve("traversal.txt")).trim()).isEqualTo("404");
        assertThat(Files.readString(dir.resolve("direct.txt"))).as("the engine's TCP port from the sandbox")
                .startsWith("000").doesNotContain(" 0\n");

        // A new engine on the same directories (a restart) listens again on the socket of the running sandbox.
        provider.close();
        int before = received.size();
        provider = provider();
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() > before + 1);

        Path socket = tmp.resolve("local-state").resolve(id).resolve(LocalState.RELAY_DIR).resolve(AgentRelay.SOCKET);
        provider.stop(request);
        assertThat(socket).as("a stopped workspace's socket is removed").doesNotExist();
        assertThatThrownBy(() -> {
            try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                c.connect(UnixDomainSocketAddress.of(socket));
                c.write(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            }
        }).as("the socket of a stopped workspace").isInstanceOf(IOException.class);
    }

    private LocalWorkspaceProvider provider() {
        return new LocalWorkspaceProvider(tmp.resolve("workspaces"), tmp.resolve("local-state"),
                Sandboxes.choose(LocalProviderProperties.Sandbox.BWRAP), Duration.ofMillis(200), Duration.ofSeconds(2),
                () -> "http://127.0.0.1:" + engine.getAddress().getPort());
    }
}
