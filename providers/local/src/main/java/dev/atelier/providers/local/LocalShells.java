package dev.atelier.providers.local;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Processes and connections inside a local workspace for the SSH gateway. In a bubblewrap sandbox a process joins
 * every namespace of the sandbox through its init (the engine recorded its pid at start: {@code nsenter --target
 * <init> --all --root}) and drops to the workspace's uid exactly as the workspace's own processes do, so it sees what
 * they see and nothing more. A terminal is a real pseudo-terminal (pty4j), resizable. A TCP connection is made from a
 * socket created inside the sandbox's network namespace ({@code setns(2)} on a short-lived thread of its own), so the
 * engine never runs a relay program. Without a sandbox a process runs in the workspace directory as the workspace
 * uid, and connections are the host's.
 */
final class LocalShells {

    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    /** Starts the user's shell: bash when the host has it, else sh. A fixed string: no user input. */
    private static final String LOGIN_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";

    private LocalShells() {
    }

    static WorkspaceShell.ShellProcess open(Sandboxes.Sandbox sandbox, LocalState.ProcessState process, String inside,
                                            WorkspaceShell.ShellRequest request) {
        List<String> command = new ArrayList<>();
        if (process.pidNamespace() != null) {
            long init = init(process);
            command.addAll(List.of("nsenter", "--target", Long.toString(init), "--all", "--root", "--"));
        }
        if (sandbox.identity() != null) {
            Sandboxes.Identity id = sandbox.identity();
            command.addAll(List.of("setpriv", "--reuid", Integer.toString(id.uid()), "--regid", Integer.toString(id.gid()),
                    "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--"));
        }
        // cd inside the sandbox (its /workspace is not a host path); the user's command is argv of sh -c, run as
        // the workspace's uid in the workspace: the user's own code where it already runs.
        command.addAll(List.of("/bin/sh", "-c", "cd \"$1\" || exit 126; shift; exec \"$@\"", "atelier-shell", inside));
        if (request.command().isEmpty()) {
            command.addAll(List.of("/bin/sh", "-c", LOGIN_SHELL));
        } else {
            command.addAll(request.command());
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", inside);
        env.put("USER", "workspace");
        env.put("LOGNAME", "workspace");
        env.put("SHELL", "/bin/sh");
        env.putAll(request.env());
        try {
            if (request.terminal() != null) {
                env.put("TERM", request.terminal().type());
                PtyProcess pty = new PtyProcessBuilder(command.toArray(String[]::new)).setEnvironment(env)
                        .setDirectory("/").setConsole(false).setRedirectErrorStream(true)
                        .setInitialColumns(Math.max(1, request.terminal().columns()))
                        .setInitialRows(Math.max(1, request.terminal().rows())).start();
                return new Child(pty, true);
            }
            ProcessBuilder builder = new ProcessBuilder(command).directory(new java.io.File("/"));
            builder.environment().clear();
            builder.environment().putAll(env);
            return new Child(builder.start(), false);
        } catch (IOException e) {
            throw ProviderException.retryable("could not start a process in the workspace: " + e.getMessage(), e);
        }
    }

    static WorkspaceShell.ShellProcess connect(LocalState.ProcessState process, String host, int port) {
        InetSocketAddress target = new InetSocketAddress(address(host), port);
        SocketChannel channel;
        if (process.pidNamespace() != null) {
            channel = socketIn(init(process));
        } else {
            try {
                channel = SocketChannel.open();
            } catch (IOException e) {
                throw ProviderException.retryable("could not open a socket: " + e.getMessage(), e);
            }
        }
        try {
            channel.connect(target);
            return new Connection(channel);
        } catch (IOException e) {
            closeQuietly(channel);
            throw ProviderException.permanent("nothing accepts connections on port " + port + " in the workspace ("
                    + e.getMessage() + ")");
        }
    }

    private static long init(LocalState.ProcessState process) {
        if (process.initPid() == null || WorkspaceProcesses.alive(process.initPid(), process.initStartedAt()).isEmpty()
                || !process.pidNamespace().equals(WorkspaceProcesses.namespaceOf(process.initPid()))) {
            throw ProviderException.permanent("the workspace's sandbox is not running");
        }
        return process.initPid();
    }

    /** Workspace-side names: the loopback is the workspace's own; anything else is resolved as the host would. */
    private static InetAddress address(String host) {
        try {
            if (host.equals("localhost") || host.equals("ip6-localhost")) {
                return InetAddress.getLoopbackAddress();
            }
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw ProviderException.permanent("unknown host in the forwarding request");
        }
    }

    /** A socket of the sandbox's network namespace: created on a thread that joined it and then ends. */
    private static SocketChannel socketIn(long init) {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            CLib c = CLib.INSTANCE;
            int target = c.open("/proc/" + init + "/ns/net", O_RDONLY_CLOEXEC);
            if (target < 0) {
                result.set(new IOException("cannot open the sandbox's network namespace"));
                return;
            }
            try {
                if (c.setns(target, CLONE_NEWNET) != 0) {
                    result.set(new IOException("setns failed (errno " + Native.getLastError() + ")"));
                    return;
                }
                result.set(SocketChannel.open());
            } catch (IOException e) {
                result.set(e);
            } finally {
                c.close(target);
            }
            // This thread ends here, taking its namespace with it: no pooled thread ever runs in a workspace's network.
        }, "gateway-netns-socket");
        thread.setDaemon(true);
        thread.start();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Object outcome = result.get();
        if (outcome instanceof SocketChannel channel) {
            return channel;
        }
        throw ProviderException.retryable("could not open a socket in the workspace's network: "
                + (outcome instanceof Exception e ? e.getMessage() : "timed out"), null);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // already closed
        }
    }

    interface CLib extends Library {
        CLib INSTANCE = Native.load("c", CLib.class);

        int open(String path, int flags);

        int setns(int fd, int nstype);

        int close(int fd);
    }

    /** A process started for the gateway; closing it ends its whole tree (nsenter's child too). */
    private static final class Child implements WorkspaceShell.ShellProcess {
        private final Process process;
        private final boolean terminal;

        Child(Process process, boolean terminal) {
            this.process = process;
            this.terminal = terminal;
        }

        @Override
        public OutputStream stdin() {
            return process.getOutputStream();
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public InputStream stderr() {
            return terminal ? null : process.getErrorStream();
        }

        @Override
        public void resize(int columns, int rows) {
            if (process instanceof PtyProcess pty && columns > 0 && rows > 0) {
                pty.setWinSize(new WinSize(columns, rows));
            }
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return process.onExit().thenApply(Process::exitValue);
        }

        @Override
        public void close() {
            // pty4j's process has no handle of its own: look it up by pid.
            ProcessHandle.of(process.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
            process.destroyForcibly();
        }
    }

    /** A TCP connection as a process without exit status. */
    private static final class Connection implements WorkspaceShell.ShellProcess {
        private final SocketChannel channel;
        private final InputStream in;
        private final OutputStream out;
        private final CompletableFuture<Integer> closed = new CompletableFuture<>();

        Connection(SocketChannel channel) throws IOException {
            this.channel = channel;
            // The socket adaptor's streams read and write independently (Channels' streams would share one lock).
            this.in = channel.socket().getInputStream();
            OutputStream socketOut = channel.socket().getOutputStream();
            // Closing the input side (the client's EOF) half-closes the connection, as a TCP client would.
            this.out = new java.io.FilterOutputStream(socketOut) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    socketOut.write(b, off, len);
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
        public OutputStream stdin() {
            return out;
        }

        @Override
        public InputStream stdout() {
            return in;
        }

        @Override
        public InputStream stderr() {
            return null;
        }

        @Override
        public void resize(int columns, int rows) {
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return closed;
        }

        @Override
        public void close() {
            closeQuietly(channel);
            closed.complete(0);
        }
    }
}
