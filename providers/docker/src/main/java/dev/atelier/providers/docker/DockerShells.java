package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Processes in a docker workspace's main container for the SSH gateway, through the Engine API's exec (with a TTY
 * when the client asked for one; resized with the exec resize call). A TCP connection into the container is an exec
 * of a relay the image has ({@code nc}, {@code socat} or bash's {@code /dev/tcp}), so a server that listens only on
 * the container's loopback is reachable too; an image with none of them cannot forward ports, and the client hears
 * why.
 */
final class DockerShells {

    private static final Logger log = LoggerFactory.getLogger(DockerShells.class);
    /** How long opening a terminal waits for the exec to run before it sets the size. */
    private static final java.time.Duration START_WAIT = java.time.Duration.ofSeconds(5);
    private static final String LOGIN_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";
    /** Host and port arrive as arguments ($1, $2), never inside the script. */
    private static final String RELAY = "if command -v nc >/dev/null 2>&1; then exec nc \"$1\" \"$2\"; "
            + "elif command -v socat >/dev/null 2>&1; then exec socat - \"TCP:$1:$2\"; "
            + "elif command -v bash >/dev/null 2>&1; then exec bash -c 'exec 3<>\"/dev/tcp/$1/$2\" && { cat <&3 & cat >&3; }' relay \"$1\" \"$2\"; "
            + "else echo 'this image has no nc, socat or bash: ports cannot be forwarded into it' >&2; exit 127; fi";
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:-]{1,253}");

    private final DockerClient docker;
    /** The daemon's address when the engine can attach to execs on a connection of its own ({@link ExecConnection}). */
    private final Optional<URI> daemon;

    DockerShells(DockerClient docker, Optional<URI> daemon) {
        this.docker = docker;
        this.daemon = daemon;
    }

    WorkspaceShell.ShellProcess open(String container, WorkspaceShell.ShellRequest request) {
        requireRunning(container);
        List<String> command = request.command().isEmpty() ? List.of("/bin/sh", "-c", LOGIN_SHELL) : request.command();
        List<String> env = new ArrayList<>();
        request.env().forEach((k, v) -> env.add(k + "=" + v));
        if (request.terminal() != null) {
            env.add("TERM=" + request.terminal().type());
        }
        return exec(container, command, env, request.terminal());
    }

    WorkspaceShell.ShellProcess connect(String container, String host, int port) {
        if (!HOST.matcher(host).matches() || port < 1 || port > 65535) {
            throw ProviderException.permanent("invalid forwarding target");
        }
        requireRunning(container);
        return exec(container, List.of("/bin/sh", "-c", RELAY, "relay", host, Integer.toString(port)), List.of(), null);
    }

    private void requireRunning(String container) {
        InspectContainerResponse c;
        try {
            c = docker.inspectContainerCmd(container).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            throw ProviderException.permanent("the workspace's container does not exist");
        }
        if (c.getState() == null || !Boolean.TRUE.equals(c.getState().getRunning())) {
            throw ProviderException.permanent("the workspace's container is not running");
        }
    }

    /**
     * The client's terminal size, set once the exec runs: the start call returns before the process does, and a
     * resize of an exec that has not started yet is refused, which left a busy machine's shells at 0x0 (the first
     * {@code stty size} failed). Waits at most {@link #START_WAIT} for the process; the size is set either way.
     */
    private void initialSize(Exec exec, WorkspaceShell.Terminal terminal) {
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        try {
            while (System.nanoTime() < deadline && !exec.exit.isDone()
                    && !Boolean.TRUE.equals(docker.inspectExecCmd(exec.execId).exec().isRunning())) {
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("exec {}: could not inspect it before sizing its terminal: {}", exec.execId, e.getMessage());
        }
        exec.resize(terminal.columns(), terminal.rows());
    }

    private WorkspaceShell.ShellProcess exec(String container, List<String> command, List<String> env,
                                             WorkspaceShell.Terminal terminal) {
        boolean tty = terminal != null;
        try {
            String execId = docker.execCreateCmd(container).withCmd(command.toArray(String[]::new)).withEnv(env)
                    .withTty(tty).withAttachStdin(true).withAttachStdout(true).withAttachStderr(true).exec().getId();
            Pipe stdout = Pipe.open();
            Pipe stderr = Pipe.open();
            Exec exec;
            if (daemon.isPresent()) {
                ExecConnection connection = ExecConnection.start(daemon.get(), execId, tty);
                exec = new Exec(execId, null, connection, stdout, stderr, tty);
                Thread reader = new Thread(() -> exec.readFrom(connection), "docker-exec-" + execId.substring(0, 12));
                reader.setDaemon(true);
                reader.start();
            } else {
                Pipe stdin = Pipe.open();
                exec = new Exec(execId, stdin, null, stdout, stderr, tty);
                docker.execStartCmd(execId).withTty(tty).withStdIn(Channels.newInputStream(stdin.source())).exec(exec);
            }
            if (tty) {
                initialSize(exec, terminal);
            }
            return exec;
        } catch (IOException e) {
            throw ProviderException.retryable("could not start a process in the container: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw ProviderException.retryable("could not start a process in the container: " + e.getMessage(), e);
        }
    }

    /**
     * One exec: frames go to the stdout and stderr pipes; its end completes {@link #exit()} with the exit code. Its
     * streams are either an {@link ExecConnection} of the engine's own (read by {@link #readFrom}) or docker-java's
     * attached stream (frames arrive through {@link #onNext}, stdin through a pipe docker-java copies).
     */
    private final class Exec extends ResultCallback.Adapter<Frame> implements WorkspaceShell.ShellProcess {
        private final String execId;
        private final Pipe stdin;
        private final ExecConnection connection;
        private final OutputStream stdinStream;
        private final OutputStream out;
        private final OutputStream err;
        private final InputStream outSource;
        private final InputStream errSource;
        private final boolean tty;
        private final CompletableFuture<Integer> exit = new CompletableFuture<>();
        private final java.util.concurrent.atomic.AtomicBoolean finishing = new java.util.concurrent.atomic.AtomicBoolean();

        Exec(String execId, Pipe stdin, ExecConnection connection, Pipe stdout, Pipe stderr, boolean tty) {
            this.execId = execId;
            this.stdin = stdin;
            this.connection = connection;
            this.stdinStream = connection != null ? connection.stdin() : Channels.newOutputStream(stdin.sink());
            this.out = Channels.newOutputStream(stdout.sink());
            this.err = Channels.newOutputStream(stderr.sink());
            this.outSource = Channels.newInputStream(stdout.source());
            this.errSource = Channels.newInputStream(stderr.source());
            this.tty = tty;
        }

        @Override
        public void onNext(Frame frame) {
            try {
                (frame.getStreamType() == StreamType.STDERR && !tty ? err : out).write(frame.getPayload());
            } catch (IOException e) {
                // the reader went away: the session is closing
            }
        }

        /**
         * Reads the raw stream to its end: with a TTY it is the terminal's bytes; without, frames of an 8-byte header
         * (stream type, three zero bytes, payload length big-endian) and the payload.
         */
        void readFrom(ExecConnection raw) {
            ByteBuffer buffer = ByteBuffer.allocate(32 * 1024);
            try {
                if (tty) {
                    while (raw.read(buffer.clear()) >= 0) {
                        out.write(buffer.array(), 0, buffer.position());
                    }
                } else {
                    ByteBuffer header = ByteBuffer.allocate(8);
                    while (fill(raw, header.clear())) {
                        OutputStream target = header.get(0) == 2 ? err : out;
                        int length = header.getInt(4);
                        while (length > 0) {
                            buffer.clear().limit(Math.min(length, buffer.capacity()));
                            if (!fill(raw, buffer)) {
                                return;
                            }
                            target.write(buffer.array(), 0, buffer.limit());
                            length -= buffer.limit();
                        }
                    }
                }
            } catch (IOException e) {
                log.debug("exec {}: stream ended with {}", execId, e.toString());
            } finally {
                finish();
            }
        }

        /** Fills {@code buffer} completely; false when the stream ends first. */
        private static boolean fill(ExecConnection raw, ByteBuffer buffer) throws IOException {
            while (buffer.hasRemaining()) {
                if (raw.read(buffer) < 0) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void onError(Throwable throwable) {
            log.debug("exec {} ended with {}", execId, throwable.toString());
            super.onError(throwable);
            finish();
        }

        @Override
        public void onComplete() {
            super.onComplete();
            finish();
        }

        /**
         * Asks the daemon for the exit code on a thread of its own: docker-java's stream thread, which reports the end,
         * has its requests cancelled.
         */
        private void finish() {
            if (!exit.isDone() && finishing.compareAndSet(false, true)) {
                Thread thread = new Thread(this::finishNow, "docker-exec-exit");
                thread.setDaemon(true);
                thread.start();
            }
        }

        private void finishNow() {
            Integer code = null;
            try {
                // The stream can end a moment before the daemon records the exit code (podman): ask a few times.
                for (int attempt = 0; attempt < 40 && code == null; attempt++) {
                    InspectExecResponse state = docker.inspectExecCmd(execId).exec();
                    if (!Boolean.TRUE.equals(state.isRunning()) && state.getExitCodeLong() != null) {
                        code = state.getExitCodeLong().intValue();
                    } else {
                        Thread.sleep(50);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.debug("exec {}: no exit code: {}", execId, e.toString());
            }
            closeQuietly(out);
            closeQuietly(err);
            exit.complete(code == null ? 255 : code);
        }

        @Override
        public OutputStream stdin() {
            return stdinStream;
        }

        @Override
        public InputStream stdout() {
            return outSource;
        }

        @Override
        public InputStream stderr() {
            return tty ? null : errSource;
        }

        @Override
        public void resize(int columns, int rows) {
            if (tty && columns > 0 && rows > 0) {
                try {
                    docker.resizeExecCmd(execId).withSize(rows, columns).exec();
                } catch (RuntimeException e) {
                    log.debug("exec {}: resize failed: {}", execId, e.getMessage());
                }
            }
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return exit;
        }

        @Override
        public void close() {
            closeQuietly(stdinStream);
            if (connection != null) {
                closeQuietly(connection);
            } else {
                closeQuietly(stdin.source());
            }
            try {
                super.close();
            } catch (IOException e) {
                // already closed
            }
            finish();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
