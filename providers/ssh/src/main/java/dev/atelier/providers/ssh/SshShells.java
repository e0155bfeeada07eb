package dev.atelier.providers.ssh;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ShellQuoting;
import dev.atelier.provider.WorkspaceKey;
import dev.atelier.provider.WorkspaceShell;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.channel.PtyCapableChannelSession;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * The SSH gateway's hop into workspaces that run their own SSH server (ssh hosts, cloud VMs): an SSH client of the
 * engine's logs in to the workspace's sshd as the workspace user with the engine's {@link WorkspaceKey} and carries
 * the gateway user's process (an exec channel, or a shell channel, with a pseudo-terminal when asked) or port
 * forwarding (a direct-tcpip channel, so the workspace's sshd connects to {@code host:port} from inside). One
 * authenticated session per workspace server is kept and shared by its channels.
 *
 * <p>A session lives as long as it carries a channel, however quiet: an editor left open over lunch must not lose its
 * shell. MINA's client closes a session after its idle timeout even with channels open, so the client sends a
 * keep-alive request every {@code heartbeat} (its reply is traffic, and a server that stops answering ends the session
 * after a few). A session whose last channel closed is kept for {@code linger}, for the next channel of the same user
 * (VS Code opens many in a row), then logged out.
 *
 * <p>The server's host key is checked against the SHA256 fingerprint the provider knows for it; there is no trust on
 * first use and no accept-all. The argument vector, which comes from the user's ssh command line, reaches the remote
 * shell only single-quoted element by element ({@link #commandLine}).
 */
public final class SshShells implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SshShells.class);
    /** An IPv4 or IPv6 address or a DNS name, nothing a shell or URL could read otherwise. */
    public static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.:-]{1,253}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    private final SshClient client;
    private final WorkspaceKey key;
    private final Duration connectTimeout;
    private final Map<Target, Pooled> sessions = new ConcurrentHashMap<>();
    private final Duration linger;
    private final ScheduledExecutorService lingering = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "atelier-ssh-hop-linger");
        t.setDaemon(true);
        return t;
    });
    private volatile List<KeyPair> keys;

    /**
     * A workspace's SSH server and user.
     *
     * @param hostKeyFingerprints the server's SHA256 host key fingerprints, as {@code ssh-keygen -l} prints them: the
     *                            server must present one of them
     */
    public record Target(String address, int port, String user, List<String> hostKeyFingerprints) {
        public Target {
            hostKeyFingerprints = hostKeyFingerprints == null ? List.of() : hostKeyFingerprints.stream()
                    .filter(f -> f != null && !f.isBlank()).toList();
            if (hostKeyFingerprints.isEmpty()) {
                throw ProviderException.permanent("the workspace's SSH host key is not known: it cannot be reached");
            }
        }

        /** A server with one known host key (an ssh host registered with its fingerprint). */
        public Target(String address, int port, String user, String hostKeyFingerprint) {
            this(address, port, user, hostKeyFingerprint == null ? List.of() : List.of(hostKeyFingerprint));
        }

        String describe() {
            return user + "@" + address + ":" + port;
        }
    }

    /** One kept session and how many channels it carries now; {@code closing} is its linger after the last. */
    private static final class Pooled {
        final ClientSession session;
        int channels;
        ScheduledFuture<?> closing;

        Pooled(ClientSession session) {
            this.session = session;
        }
    }

    public SshShells(WorkspaceKey key, Duration connectTimeout) {
        this(key, connectTimeout, Duration.ofSeconds(30), Duration.ofMinutes(2), Duration.ofMinutes(10));
    }

    /**
     * @param heartbeat   how often a kept session asks the server for a reply (4 unanswered end it)
     * @param linger      how long a session without channels is kept for the next one
     * @param idleTimeout MINA's idle timeout, which the heartbeat's replies keep from firing on a live server
     */
    SshShells(WorkspaceKey key, Duration connectTimeout, Duration heartbeat, Duration linger, Duration idleTimeout) {
        this.key = key;
        this.connectTimeout = connectTimeout;
        this.linger = linger;
        this.client = SshClient.setUpDefaultClient();
        // Only the host keys the target names; never the engine user's ~/.ssh: only the workspace key.
        PinnedHostKeys.install(client);
        CoreModuleProperties.IDLE_TIMEOUT.set(client, idleTimeout);
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, heartbeat);
        CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, 4);
        client.start();
    }

    /**
     * Starts the request's process on the target: its command, else the user's login shell.
     *
     * @param directory where the process starts (relative to the user's home unless absolute); null: the home
     */
    public WorkspaceShell.ShellProcess open(Target target, String directory, WorkspaceShell.ShellRequest request) {
        Pooled pooled = acquire(target);
        ClientSession session = pooled.session;
        try {
            PtyCapableChannelSession channel;
            String line = commandLine(directory, request.command(), request.env());
            if (line == null) {
                ChannelShell shell = session.createShellChannel();
                request.env().forEach((k, v) -> {
                    if (ENV_NAME.matcher(k).matches()) {
                        shell.setEnv(k, v);
                    }
                });
                channel = shell;
            } else {
                channel = session.createExecChannel(line);
            }
            WorkspaceShell.Terminal terminal = request.terminal();
            channel.setUsePty(terminal != null);
            if (terminal != null) {
                channel.setPtyType(terminal.type());
                channel.setPtyColumns(Math.max(1, terminal.columns()));
                channel.setPtyLines(Math.max(1, terminal.rows()));
            }
            channel.open().verify(connectTimeout);
            return carried(target, pooled, new Channel(channel, terminal != null, false));
        } catch (IOException | RuntimeException e) {
            release(target, pooled);
            if (e instanceof ProviderException p) {
                throw p;
            }
            throw ProviderException.retryable("could not start a process on " + target.describe() + ": "
                    + e.getMessage(), e);
        }
    }

    /** A connection to {@code host:port} made by the target's SSH server, so its loopback is the workspace's. */
    public WorkspaceShell.ShellProcess connect(Target target, String host, int port) {
        if (host == null || !ADDRESS.matcher(host).matches() || port < 1 || port > 65535) {
            throw ProviderException.permanent("invalid forwarding target");
        }
        Pooled pooled = acquire(target);
        try {
            ChannelDirectTcpip channel = pooled.session.createDirectTcpipChannel(
                    new SshdSocketAddress("127.0.0.1", 0), new SshdSocketAddress(host, port));
            channel.open().verify(connectTimeout);
            return carried(target, pooled, new Channel(channel, false, true));
        } catch (IOException | RuntimeException e) {
            release(target, pooled);
            if (e instanceof ProviderException p) {
                throw p;
            }
            throw ProviderException.retryable("the workspace's SSH server could not connect to port " + port + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The remote command line: each argument single-quoted, after {@code cd} to the directory and {@code env} with
     * the passed variables (sshd accepts only the variables its AcceptEnv names). Null when a plain shell channel
     * will do (no command, no directory, so the variables go as env requests).
     */
    static String commandLine(String directory, List<String> command, Map<String, String> env) {
        if (command.isEmpty() && directory == null) {
            return null;
        }
        StringBuilder sh = new StringBuilder();
        if (directory != null) {
            sh.append("cd -- ").append(ShellQuoting.quote(directory)).append(" && ");
        }
        sh.append("exec");
        List<String> vars = new ArrayList<>();
        env.forEach((k, v) -> {
            if (ENV_NAME.matcher(k).matches() && v.indexOf('\0') < 0) {
                vars.add(ShellQuoting.quote(k + "=" + v));
            }
        });
        if (!vars.isEmpty()) {
            sh.append(" env ").append(String.join(" ", vars));
        }
        if (command.isEmpty()) {
            // The user's login shell, as a shell channel would start it.
            sh.append(" \"${SHELL:-/bin/sh}\" -l");
        } else {
            for (String arg : command) {
                if (arg.indexOf('\0') >= 0) {
                    throw ProviderException.permanent("a command argument contains a NUL character");
                }
                sh.append(' ').append(ShellQuoting.quote(arg));
            }
        }
        return sh.toString();
    }

    /** Ends the kept session with a target (its workspace was deleted, or its registration changed). */
    public void forget(Target target) {
        Pooled pooled;
        synchronized (sessions) {
            pooled = sessions.remove(target);
            if (pooled != null && pooled.closing != null) {
                pooled.closing.cancel(false);
            }
        }
        if (pooled != null) {
            closeQuietly(pooled.session);
        }
    }

    /** How many sessions are kept now (for tests of the linger). */
    int keptSessions() {
        return sessions.size();
    }

    /** The target's kept session, logged in when there is none (or it broke), counting one more channel on it. */
    private Pooled acquire(Target target) {
        synchronized (sessions) {
            Pooled cached = sessions.get(target);
            if (cached != null && cached.session.isOpen() && cached.session.isAuthenticated()) {
                if (cached.closing != null) {
                    cached.closing.cancel(false);
                    cached.closing = null;
                }
                cached.channels++;
                return cached;
            }
            if (cached != null) {
                sessions.remove(target);
                closeQuietly(cached.session);
            }
            Pooled fresh = new Pooled(login(target));
            fresh.channels = 1;
            sessions.put(target, fresh);
            return fresh;
        }
    }

    /** One channel fewer on the session; the last one starts its linger. */
    private void release(Target target, Pooled pooled) {
        synchronized (sessions) {
            pooled.channels = Math.max(0, pooled.channels - 1);
            if (pooled.channels > 0 || sessions.get(target) != pooled || lingering.isShutdown()) {
                return;
            }
            pooled.closing = lingering.schedule(() -> {
                boolean unused;
                synchronized (sessions) {
                    unused = pooled.channels == 0 && sessions.remove(target, pooled);
                }
                if (unused) {
                    log.debug("workspace SSH session with {} closed after {} without channels", target.describe(),
                            linger);
                    closeQuietly(pooled.session);
                }
            }, linger.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private Channel carried(Target target, Pooled pooled, Channel channel) {
        channel.onClosed(() -> release(target, pooled));
        return channel;
    }

    private ClientSession login(Target target) {
        AtomicReference<String> presented = new AtomicReference<>();
        ClientSession session;
        try {
            session = client.connect(target.user(), target.address(), target.port(),
                    PinnedHostKeys.expecting(target.hostKeyFingerprints(), presented)).verify(connectTimeout).getSession();
        } catch (IOException e) {
            throw hostKeyRefused(target, presented.get())
                    .orElseGet(() -> ProviderException.retryable("cannot reach the workspace's SSH server "
                            + target.describe() + ": " + e.getMessage(), e));
        }
        try {
            keys().forEach(session::addPublicKeyIdentity);
            session.auth().verify(connectTimeout);
            log.debug("workspace SSH session opened with {}", target.describe());
            return session;
        } catch (IOException e) {
            closeQuietly(session);
            throw hostKeyRefused(target, presented.get()).orElseGet(() -> ProviderException.permanent(
                    "the workspace's SSH server " + target.describe() + " refused the engine's gateway key ("
                            + WorkspaceKey.COMMENT + "): it must be in ~" + target.user() + "/.ssh/authorized_keys"));
        }
    }

    private static java.util.Optional<ProviderException> hostKeyRefused(Target target, String presented) {
        if (presented == null || target.hostKeyFingerprints().contains(presented)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(ProviderException.permanent("host key verification failed for the workspace's "
                + "SSH server " + target.describe() + ": it presented " + presented + ", expected "
                + String.join(" or ", target.hostKeyFingerprints())));
    }

    private List<KeyPair> keys() {
        List<KeyPair> loaded = keys;
        if (loaded == null) {
            List<KeyPair> read = new ArrayList<>();
            try {
                new FileKeyPairProvider(key.privateKeyFile()).loadKeys(null).forEach(read::add);
            } catch (Exception e) {
                // The message may name the file but never holds key material.
                throw ProviderException.permanent("the engine's gateway key cannot be read: " + e.getClass().getSimpleName());
            }
            keys = loaded = List.copyOf(read);
        }
        return loaded;
    }

    private static void closeQuietly(ClientSession session) {
        try {
            session.close();
        } catch (IOException ignored) {
            // closing a session that failed
        }
    }

    @Override
    public void close() throws IOException {
        lingering.shutdownNow();
        synchronized (sessions) {
            sessions.values().forEach(p -> closeQuietly(p.session));
            sessions.clear();
        }
        client.stop();
    }

    /** One channel: a process (exit status from the channel) or a forwarded connection (0 when it closes). */
    private static final class Channel implements WorkspaceShell.ShellProcess {
        private final ClientChannel channel;
        private final boolean tty;
        private final boolean connection;
        private final CompletableFuture<Integer> exit = new CompletableFuture<>();
        private final AtomicBoolean closed = new AtomicBoolean();

        Channel(ClientChannel channel, boolean tty, boolean connection) {
            this.channel = channel;
            this.tty = tty;
            this.connection = connection;
            channel.addCloseFutureListener(f -> {
                Integer status = channel.getExitStatus();
                exit.complete(connection ? 0 : status == null ? 255 : status);
            });
        }

        /** Runs {@code action} once the channel has closed (at once if it already has). */
        void onClosed(Runnable action) {
            exit.whenComplete((status, failure) -> action.run());
        }

        @Override
        public OutputStream stdin() {
            return channel.getInvertedIn();
        }

        @Override
        public InputStream stdout() {
            return channel.getInvertedOut();
        }

        @Override
        public InputStream stderr() {
            return tty ? null : connection ? InputStream.nullInputStream() : channel.getInvertedErr();
        }

        @Override
        public void resize(int columns, int rows) {
            if (tty && columns > 0 && rows > 0 && channel instanceof PtyCapableChannelSession pty) {
                try {
                    pty.sendWindowChange(columns, rows);
                } catch (IOException e) {
                    log.debug("window change failed: {}", e.getMessage());
                }
            }
        }

        @Override
        public CompletableFuture<Integer> exit() {
            return exit;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                channel.close(false);
            }
        }
    }
}
