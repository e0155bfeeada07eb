package dev.atelier.providers.local;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How the agent of a sandboxed local workspace reaches the engine: a workspace in a network namespace of its own
 * cannot reach the engine's TCP port, so each workspace gets a Unix socket in a directory of the engine's that is
 * mounted read-only into its sandbox. The relay behind it passes on exactly one kind of request, the workspace's own
 * heartbeat ({@code POST /api/v1/workspaces/<its id>/activity}), to the engine's API with the agent's token; the
 * API authenticates, authorises and audits it as any other call. Everything else is answered 404 here and never
 * reaches the engine, so the socket opens no path to the rest of the API.
 */
final class AgentRelay implements AutoCloseable {

    static final String SOCKET = "agent.sock";
    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);
    private static final int MAX_REQUEST = 16 * 1024;
    private static final int MAX_BODY = 8 * 1024;
    private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<String> engineUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-relay-watchdog");
        t.setDaemon(true);
        return t;
    });

    AgentRelay(Supplier<String> engineUrl) {
        this.engineUrl = engineUrl;
    }

    /** Listens on {@code directory/agent.sock} for workspace {@code workspaceId}, replacing an earlier listener. */
    synchronized void open(String workspaceId, Path directory) throws IOException {
        close(workspaceId);
        Path socket = directory.resolve(SOCKET);
        Files.deleteIfExists(socket); // a link is removed, never followed
        ServerSocketChannel server = bind(directory);
        // Whoever can reach the directory may connect: inside the sandbox that is the workspace's uid.
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        listeners.put(workspaceId, new Listener(server, socket));
        Thread thread = new Thread(() -> serve(workspaceId, server), "agent-relay-" + workspaceId);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Binds {@code directory/agent.sock}. A socket's path may have at most 107 bytes, less than a data directory
     * plus a workspace id can take, so the bind goes through a short alias: a link in a fresh directory only this
     * process can enter (mode 0700, random name), removed right after.
     */
    private static ServerSocketChannel bind(Path directory) throws IOException {
        Path alias = Files.createTempDirectory("atelier-relay-");
        try {
            Path link = Files.createSymbolicLink(alias.resolve("d"), directory);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                server.bind(UnixDomainSocketAddress.of(link.resolve(SOCKET)));
                return server;
            } catch (IOException e) {
                server.close();
                throw e;
            } finally {
                Files.delete(link);
            }
        } finally {
            Files.delete(alias);
        }
    }

    /**
     * Stops listening for {@code workspaceId} and removes its socket file. Removing the file matters: a process
     * spawned at the wrong moment may briefly hold a copy of the listening descriptor, and a path that is gone
     * cannot be connected to whoever holds it.
     */
    synchronized void close(String workspaceId) {
        Listener listener = listeners.remove(workspaceId);
        if (listener != null) {
            try {
                listener.server().close();
            } catch (IOException e) {
                log.debug("closing the agent relay of {}: {}", workspaceId, e.getMessage());
            }
            try {
                Files.deleteIfExists(listener.socket()); // a link is removed, never followed
            } catch (IOException e) {
                log.debug("removing the agent socket of {}: {}", workspaceId, e.getMessage());
            }
        }
    }

    boolean listening(String workspaceId) {
        return listeners.containsKey(workspaceId);
    }

    @Override
    public synchronized void close() {
        List.copyOf(listeners.keySet()).forEach(this::close);
        watchdog.shutdownNow();
    }

    private void serve(String workspaceId, ServerSocketChannel server) {
        while (server.isOpen()) {
            try (SocketChannel connection = server.accept()) {
                // One request at a time per workspace; a client that stalls is cut off, it only delays itself.
                ScheduledFuture<?> cutOff = watchdog.schedule(() -> closeQuietly(connection),
                        CONNECTION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                try {
                    handle(workspaceId, connection);
                } finally {
                    cutOff.cancel(false);
                }
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.debug("agent relay of {}: {}", workspaceId, e.getMessage());
                }
            } catch (RuntimeException e) {
                log.warn("agent relay of {}: {}", workspaceId, e.toString());
            }
        }
    }

    private void handle(String workspaceId, SocketChannel connection) throws IOException {
        Request request;
        try {
            request = Request.read(connection);
        } catch (IllegalArgumentException e) {
            respond(connection, 400, problem(400, "Bad Request", e.getMessage()));
            return;
        }
        String path = "/api/v1/workspaces/" + workspaceId + "/activity";
        if (!request.method().equals("POST") || !request.target().equals(path)) {
            // Never echo the request: name what is allowed instead.
            respond(connection, 404, problem(404, "Not Found", "this socket relays only POST " + path));
            return;
        }
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(trimSlash(engineUrl.get()) + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.body()));
        if (request.authorization() != null) {
            forward.header("Authorization", request.authorization());
        }
        try {
            HttpResponse<byte[]> answer = http.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
            byte[] body = answer.body().length > MAX_BODY ? new byte[0] : answer.body();
            respond(connection, answer.statusCode(), body);
        } catch (IOException e) {
            respond(connection, 502, problem(502, "Bad Gateway", "the engine did not answer; the agent retries"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void respond(SocketChannel connection, int status, byte[] body) throws IOException {
        String head = "HTTP/1.1 " + status + " " + (status < 300 ? "OK" : "Error") + "\r\n"
                + "Content-Type: application/" + (status < 300 ? "json" : "problem+json") + "\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
        out.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
        while (out.hasRemaining()) {
            connection.write(out);
        }
    }

    private static byte[] problem(int status, String title, String detail) {
        return ("{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status + ",\"detail\":\""
                + detail.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private static String trimSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** The little of HTTP/1.1 a heartbeat needs: request line, headers, a body of Content-Length bytes. */
    record Request(String method, String target, String authorization, byte[] body) {

        static Request read(SocketChannel connection) throws IOException {
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            int headerEnd = -1;
            while (headerEnd < 0) {
                buffer.clear();
                if (connection.read(buffer) < 0) {
                    throw new IllegalArgumentException("the request ended before its headers did");
                }
                seen.write(buffer.array(), 0, buffer.position());
                if (seen.size() > MAX_REQUEST) {
                    throw new IllegalArgumentException("the request is larger than " + MAX_REQUEST + " bytes");
                }
                headerEnd = indexOf(seen.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            byte[] all = seen.toByteArray();
            String[] lines = new String(all, 0, headerEnd, StandardCharsets.ISO_8859_1).split("\r\n");
            String[] requestLine = lines[0].split(" ");
            if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
                throw new IllegalArgumentException("not an HTTP/1.1 request line");
            }
            String authorization = null;
            int length = 0;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                if (name.equals("authorization") && value.matches("Bearer [A-Za-z0-9._~+/=-]{1,512}")) {
                    authorization = value;
                } else if (name.equals("content-length")) {
                    if (!value.matches("[0-9]{1,6}") || Integer.parseInt(value) > MAX_BODY) {
                        throw new IllegalArgumentException("Content-Length must be 0 to " + MAX_BODY);
                    }
                    length = Integer.parseInt(value);
                } else if (name.equals("transfer-encoding")) {
                    throw new IllegalArgumentException("send the body with Content-Length");
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(all, headerEnd + 4, Math.min(length, all.length - headerEnd - 4));
            while (body.size() < length) {
                buffer.clear();
                buffer.limit(Math.min(buffer.capacity(), length - body.size()));
                if (connection.read(buffer) < 0) {
                    throw new IllegalArgumentException("the body is shorter than its Content-Length");
                }
                body.write(buffer.array(), 0, buffer.position());
            }
            return new Request(requestLine[0], requestLine[1], authorization, body.toByteArray());
        }

        private static int indexOf(byte[] data, byte[] pattern) {
            outer:
            for (int i = 0; i + pattern.length <= data.length; i++) {
                for (int j = 0; j < pattern.length; j++) {
                    if (data[i + j] != pattern[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }

    private record Listener(
            ServerSocketChannel server,
            Path socket) {
    }
}
