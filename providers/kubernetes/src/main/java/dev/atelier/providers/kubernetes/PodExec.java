package dev.atelier.providers.kubernetes;

import dev.atelier.provider.WorkspaceShell;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * One exec in a pod on a websocket of the engine's own, opened through fabric8's {@code HttpClient} (so with the
 * client's TLS, credentials and token refresh), because fabric8 (7.9, and 8.0 too) speaks only
 * {@code v4.channel.k8s.io}, whose client cannot end the process's stdin without ending the whole exec:
 * {@code cat > f} or an {@code sftp-server} would never see the end of their input. This class offers {@value #V5}
 * first, then {@value #V4}: an API server that takes v5 (Kubernetes 1.30 and later, 1.29 with the
 * {@code TranslateStreamingProtocolWebsockets} feature gate) closes the process's stdin when it gets the CLOSE
 * message ({@code [255, 0]}: channel 255, stream 0), which {@link #stdin()}'s {@code close()} sends. With v4 nothing
 * is sent when the input ends (v4 has no such message), as before.
 *
 * <p>Frames, both protocols: the first byte is the stream (0 stdin, 1 stdout, 2 stderr, 3 the exec's status as a
 * {@link Status} JSON, 4 a terminal size as {@code {"Width":..,"Height":..}}), the rest its bytes.
 */
final class PodExec implements WebSocket.Listener, WorkspaceShell.ShellProcess {

    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";
    /** The {@code Sec-WebSocket-Protocol} offer: v5 preferred (the server takes the first one it knows). */
    static final String OFFER = V5 + ", " + V4;

    private static final Logger log = LoggerFactory.getLogger(PodExec.class);
    private static final byte STDIN = 0;
    private static final byte STDOUT = 1;
    private static final byte STDERR = 2;
    private static final byte STATUS = 3;
    private static final byte RESIZE = 4;
    private static final byte CLOSE = (byte) 255;
    /** Largest stdin frame; a bigger write is cut. */
    private static final int MAX_FRAME = 32 * 1024;
    /** Output held for a reader before the websocket is asked for no more (per stream). */
    private static final long MAX_BUFFERED = 1024 * 1024;
    /** Input queued for the websocket before a writer waits. */
    private static final long MAX_QUEUED = 4 * 1024 * 1024;
    private static final long DEFAULT_TIMEOUT_MILLIS = 10_000;

    private final boolean tty;
    private final KubernetesSerialization serialization;
    private final Inbox stdout;
    private final Inbox stderr;
    private final Stdin stdin = new Stdin();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean closeSent = new AtomicBoolean();
    private volatile WebSocket webSocket;
    /** The subprotocol the server chose; null when it cannot be known (then treated as v4). */
    private volatile String protocol;

    private PodExec(boolean tty, KubernetesSerialization serialization) {
        this.tty = tty;
        this.serialization = serialization;
        this.stdout = new Inbox();
        // With a terminal the kubelet merges stderr into it (and refuses a separate stderr stream).
        this.stderr = tty ? null : new Inbox();
    }

    /**
     * Starts {@code argv} in {@code container} of pod {@code namespace/pod}: the same exec request fabric8 makes
     * (same query, stdin and stdout always, stderr without a terminal), waiting for the websocket as long as
     * fabric8 would (the client's request timeout).
     *
     * @throws KubernetesClientException when the API server refuses the websocket or cannot be reached; a refusal
     *                                   carries fabric8's {@code WebSocketHandshakeException} with the HTTP answer
     */
    static PodExec start(KubernetesClient client, String namespace, String pod, String container, List<String> argv,
                         boolean tty) {
        PodExec exec = new PodExec(tty, client.getKubernetesSerialization());
        Integer configured = client.getConfiguration().getRequestTimeout();
        long timeout = configured == null || configured <= 0 ? DEFAULT_TIMEOUT_MILLIS : configured;
        CompletableFuture<WebSocket> started = client.getHttpClient().newWebSocketBuilder()
                .subprotocol(OFFER)
                .uri(uri(client.getMasterUrl().toString(), namespace, pod, container, argv, tty))
                .connectTimeout(timeout, TimeUnit.MILLISECONDS)
                .buildAsync(exec);
        try {
            exec.webSocket = started.get(timeout, TimeUnit.MILLISECONDS);
            return exec;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof KubernetesClientException k8s) {
                throw k8s;
            }
            throw new KubernetesClientException("the exec websocket failed: " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            started.thenAccept(late -> late.sendClose(1000, "too late"));
            throw new KubernetesClientException("the API server did not open the exec websocket within " + timeout
                    + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            started.thenAccept(late -> late.sendClose(1000, "interrupted"));
            throw new KubernetesClientException("interrupted while opening the exec websocket", e);
        }
    }

    /**
     * The exec URL as fabric8 builds it: {@code command=} once per argument (values encoded, spaces as {@code %20}),
     * then the container and the streams.
     */
    static URI uri(String masterUrl, String namespace, String pod, String container, List<String> argv, boolean tty) {
        StringBuilder url = new StringBuilder(masterUrl.endsWith("/") ? masterUrl : masterUrl + "/")
                .append("api/v1/namespaces/").append(encode(namespace)).append("/pods/").append(encode(pod))
                .append("/exec?");
        for (String arg : argv) {
            url.append("command=").append(encode(arg)).append('&');
        }
        url.append("container=").append(encode(container));
        url.append(tty ? "&tty=true&stdin=true&stdout=true" : "&stdin=true&stdout=true&stderr=true");
        return URI.create(url.toString());
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The subprotocol the server chose: {@value #V5}, {@value #V4}, or null when unknown. */
    String protocol() {
        return protocol;
    }

    /** Whether a stream's reader is so far behind that the websocket is held back (tests watch for it). */
    boolean outputHeld() {
        return stdout.held() || stderr != null && stderr.held();
    }

    // --- the websocket ---------------------------------------------------------------------------------------

    @Override
    public void onOpen(WebSocket ws) {
        webSocket = ws;
        protocol = chosenSubprotocol(ws);
        log.debug("kubernetes exec: subprotocol {}", protocol);
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
        onMessage(ws, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void onMessage(WebSocket ws, ByteBuffer bytes) {
        if (!bytes.hasRemaining()) {
            ws.request();
            return;
        }
        byte stream = bytes.get();
        ByteBuffer data = bytes.slice();
        switch (stream) {
            case STDOUT -> deliver(stdout, data, ws);
            case STDERR -> deliver(stderr, data, ws);
            case STATUS -> {
                exited(StandardCharsets.UTF_8.decode(data).toString());
                closeOnce(ws, "exited");
                ws.request();
            }
            default -> {
                log.debug("kubernetes exec: a frame on stream {} ignored", stream & 0xff);
                ws.request();
            }
        }
    }

    private void deliver(Inbox inbox, ByteBuffer data, WebSocket ws) {
        if (inbox == null || !data.hasRemaining() || inbox.offer(data)) {
            ws.request();
        }
        // else: the inbox asks for the next message once its reader has made room
    }

    /**
     * The exec's status, read as fabric8 reads it: Success is 0, NonZeroExitCode carries the code in its
     * {@code ExitCode} cause; anything else (or a code out of range) is 255, as ssh reports a session without one.
     * The output before it has been delivered (frames arrive in order), so the streams end here.
     */
    private void exited(String json) {
        int code = 255;
        try {
            Status status = serialization.unmarshal(json, Status.class);
            code = exitCode(status);
        } catch (RuntimeException e) {
            log.debug("kubernetes exec: unreadable status: {}", e.toString());
        }
        ended();
        exit.complete(code);
    }

    static int exitCode(Status status) {
        if (status == null) {
            return 255;
        }
        if ("Success".equals(status.getStatus())) {
            return 0;
        }
        if ("NonZeroExitCode".equals(status.getReason()) && status.getDetails() != null
                && status.getDetails().getCauses() != null) {
            for (StatusCause cause : status.getDetails().getCauses()) {
                if ("ExitCode".equals(cause.getReason()) && cause.getMessage() != null) {
                    try {
                        int code = Integer.parseInt(cause.getMessage().trim());
                        return code < 0 || code > 255 ? 255 : code;
                    } catch (NumberFormatException e) {
                        return 255;
                    }
                }
            }
        }
        return 255;
    }

    @Override
    public void onClose(WebSocket ws, int code, String reason) {
        if (!exit.isDone()) {
            log.debug("kubernetes exec ended without a status (websocket closed: {})", code);
        }
        ended();
        exit.complete(255);
        closeOnce(ws, "closed");
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        if (!exit.isDone()) {
            log.debug("kubernetes exec ended without a status: {}", error.toString());
        }
        ended();
        exit.complete(255);
    }

    private void ended() {
        stdout.end();
        if (stderr != null) {
            stderr.end();
        }
    }

    /**
     * The subprotocol the server chose. fabric8's {@link WebSocket} does not say; its vert.x implementation (the
     * only HTTP client on the engine's classpath) keeps vert.x's websocket in a field, which does. Anything else (another
     * HTTP client, a fabric8 that renamed the field): null, and stdin is never closed alone, as with v4.
     * {@code KubernetesExecEndOfInputTest} fails if this stops finding v5.
     */
    static String chosenSubprotocol(WebSocket ws) {
        try {
            Field field = ws.getClass().getDeclaredField("ws");
            field.setAccessible(true);
            Object vertx = field.get(ws);
            if (vertx == null) {
                return null;
            }
            Class<?> base = Class.forName("io.vertx.core.http.WebSocketBase", false, vertx.getClass().getClassLoader());
            Object chosen = base.isInstance(vertx) ? base.getMethod("subProtocol").invoke(vertx) : null;
            return chosen instanceof String name ? name : null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("kubernetes exec: cannot tell the websocket's subprotocol ({}); stdin is not closed alone",
                    e.toString());
            return null;
        }
    }

    // --- the process -----------------------------------------------------------------------------------------

    @Override
    public OutputStream stdin() {
        return stdin;
    }

    @Override
    public InputStream stdout() {
        return stdout;
    }

    @Override
    public InputStream stderr() {
        return stderr;
    }

    @Override
    public void resize(int columns, int rows) {
        if (tty && columns > 0 && rows > 0 && !closed.get() && !exit.isDone()) {
            byte[] size = ("{\"Width\":" + columns + ",\"Height\":" + rows + "}").getBytes(StandardCharsets.UTF_8);
            if (!send(RESIZE, size, 0, size.length)) {
                log.debug("kubernetes exec: resize not sent (the websocket is closed)");
            }
        }
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    /** Ends the exec: a websocket close (the API server ends the process), and the streams end here. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            WebSocket ws = webSocket;
            if (ws != null) {
                closeOnce(ws, "closed");
            }
            ended();
            exit.complete(255);
        }
    }

    /** One websocket close from this side, whichever of exit, the server's close or {@link #close()} comes first. */
    private void closeOnce(WebSocket ws, String reason) {
        if (closeSent.compareAndSet(false, true)) {
            try {
                ws.sendClose(1000, reason);
            } catch (RuntimeException e) {
                log.debug("kubernetes exec: close not sent: {}", e.toString());
            }
        }
    }

    private boolean send(byte stream, byte[] bytes, int offset, int length) {
        WebSocket ws = webSocket;
        if (ws == null) {
            return false;
        }
        byte[] frame = new byte[length + 1];
        frame[0] = stream;
        System.arraycopy(bytes, offset, frame, 1, length);
        return ws.send(ByteBuffer.wrap(frame));
    }

    /**
     * The process's stdin: each write is sent as stream-0 frames; {@code close()} sends v5's CLOSE for stream 0
     * after them (one lock orders the two), and with v4 sends nothing.
     */
    private final class Stdin extends OutputStream {
        private boolean ended;

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (ended) {
                throw new IOException("the process's input is closed");
            }
            for (int done = 0; done < len; ) {
                int n = Math.min(MAX_FRAME, len - done);
                awaitRoom();
                if (closed.get() || exit.isDone() || !send(STDIN, b, off + done, n)) {
                    throw new IOException("the exec in the pod has ended");
                }
                done += n;
            }
        }

        /**
         * fabric8's websocket reports what it still has to send only when asked (no callback), so a writer far
         * ahead of the network waits in short steps, as fabric8's own exec does.
         */
        private void awaitRoom() throws IOException {
            WebSocket ws = webSocket;
            while (ws != null && ws.queueSize() > MAX_QUEUED && !closed.get() && !exit.isDone()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while the exec's input was queued");
                }
            }
        }

        @Override
        public synchronized void close() {
            if (ended) {
                return;
            }
            ended = true;
            if (V5.equals(protocol) && !closed.get() && !exit.isDone()) {
                send(CLOSE, new byte[]{STDIN}, 0, 1);
            }
        }
    }

    /**
     * A stream's bytes as the websocket delivers them. The websocket is asked for its next message only while the
     * reader keeps up, so a client that does not read holds the pod's output back instead of filling the engine.
     */
    private final class Inbox extends InputStream {
        private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
        private long buffered;
        private boolean ended;
        private boolean discarded;
        /** A message was not asked for because this inbox was full: reading makes room and asks for it. */
        private boolean holding;

        synchronized boolean held() {
            return holding;
        }

        /** Takes a copy of {@code data}; whether the websocket may deliver the next message now. */
        synchronized boolean offer(ByteBuffer data) {
            if (ended || discarded) {
                return true;
            }
            ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data).flip();
            chunks.add(copy);
            buffered += copy.remaining();
            notifyAll();
            if (buffered < MAX_BUFFERED) {
                return true;
            }
            holding = true;
            return false;
        }

        void end() {
            boolean askForMore;
            synchronized (this) {
                ended = true;
                notifyAll();
                askForMore = holding;
                holding = false;
            }
            if (askForMore) {
                requestMore();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            boolean askForMore = false;
            int n;
            synchronized (this) {
                while (chunks.isEmpty() && !ended && !discarded) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while reading the exec's output");
                    }
                }
                if (chunks.isEmpty()) {
                    return -1;
                }
                ByteBuffer head = chunks.peek();
                n = Math.min(len, head.remaining());
                head.get(b, off, n);
                if (!head.hasRemaining()) {
                    chunks.poll();
                }
                buffered -= n;
                if (holding && buffered < MAX_BUFFERED) {
                    holding = false;
                    askForMore = true;
                }
            }
            if (askForMore) {
                requestMore();
            }
            return n;
        }

        @Override
        public synchronized int available() {
            return chunks.isEmpty() ? 0 : chunks.peek().remaining();
        }

        /** The reader is gone: what arrives from now on is dropped, and the websocket is not held back for it. */
        @Override
        public void close() {
            boolean askForMore;
            synchronized (this) {
                discarded = true;
                chunks.clear();
                buffered = 0;
                askForMore = holding;
                holding = false;
                notifyAll();
            }
            if (askForMore) {
                requestMore();
            }
        }

        private void requestMore() {
            WebSocket ws = webSocket;
            if (ws != null) {
                ws.request();
            }
        }
    }
}
