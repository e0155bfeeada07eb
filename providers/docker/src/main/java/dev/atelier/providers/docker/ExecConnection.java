package dev.atelier.providers.docker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An exec's attached streams on a connection of the engine's own: {@code POST /exec/{id}/start} upgraded to a raw
 * stream, on a {@link SocketChannel} that can be half-closed. docker-java's transports never half-close the
 * hijacked connection when the caller's input ends, so a command reading its stdin ({@code cat > file}, an
 * {@code sftp-server} at the end of a session) never saw the end of it and never exited; the Engine API (Docker and
 * podman alike) turns a half-close into the end of the process's stdin. Only plain daemons addresses have this: a
 * {@code unix://} socket or a {@code tcp://} address without TLS ({@link #supports}); a TLS daemon keeps docker-java's
 * stream and its limit (docs/ssh.md).
 */
final class ExecConnection implements AutoCloseable {

    private static final Pattern EXEC_ID = Pattern.compile("[0-9a-f]{12,64}");
    private static final int MAX_HEADER = 16 * 1024;

    private final SocketChannel channel;

    private ExecConnection(SocketChannel channel) {
        this.channel = channel;
    }

    /** The daemon address this class can reach with a half-closable connection, if it is one. */
    static Optional<URI> supports(String daemonHost, boolean tls) {
        if (tls || daemonHost == null) {
            return Optional.empty();
        }
        URI uri = URI.create(daemonHost);
        return "unix".equals(uri.getScheme()) && uri.getPath() != null
                || "tcp".equals(uri.getScheme()) && uri.getHost() != null && uri.getPort() > 0
                ? Optional.of(uri) : Optional.empty();
    }

    /**
     * Starts exec {@code execId} attached: sends the upgrade request and reads the daemon's answer up to the raw
     * stream. {@code execId} is the daemon's own answer to the exec create call, still checked to be an id.
     */
    static ExecConnection start(URI daemon, String execId, boolean tty) throws IOException {
        if (!EXEC_ID.matcher(execId).matches()) {
            throw new IOException("the daemon answered with an unexpected exec id");
        }
        SocketChannel channel = open(daemon);
        try {
            String body = "{\"Detach\":false,\"Tty\":" + tty + "}";
            String request = "POST /exec/" + execId + "/start HTTP/1.1\r\n"
                    + "Host: docker\r\n"
                    + "Content-Type: application/json\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Upgrade: tcp\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body;
            writeFully(channel, ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            String status = readHeader(channel);
            if (!status.startsWith("HTTP/1.1 101") && !status.startsWith("HTTP/1.1 200")
                    && !status.startsWith("HTTP/1.0 200")) {
                throw new IOException("the daemon refused to attach to the exec: "
                        + status.substring(0, Math.min(status.length(), 80)));
            }
            return new ExecConnection(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SocketChannel open(URI daemon) throws IOException {
        if ("unix".equals(daemon.getScheme())) {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(daemon.getPath()));
            return channel;
        }
        return SocketChannel.open(new InetSocketAddress(daemon.getHost(), daemon.getPort()));
    }

    /** Reads the response head byte by byte (it is small) so that nothing of the raw stream is consumed. */
    private static String readHeader(SocketChannel channel) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < end.length) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("the daemon closed the connection before attaching");
            }
            byte b = one.get(0);
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > MAX_HEADER) {
                throw new IOException("the daemon's answer to the attach has no end");
            }
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static void writeFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * Reads into {@code buffer} from the raw stream; -1 at its end. One thread reads while another writes: a socket
     * channel allows that (unlike streams from {@code Channels}, which share one lock for both directions).
     */
    int read(ByteBuffer buffer) throws IOException {
        return channel.read(buffer);
    }

    /** The process's stdin; closing it half-closes the connection, which the daemon passes on as end of input. */
    OutputStream stdin() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                writeFully(channel, ByteBuffer.wrap(b, off, len));
            }

            @Override
            public void close() throws IOException {
                if (channel.isOpen()) {
                    channel.shutdownOutput();
                }
            }
        };
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
