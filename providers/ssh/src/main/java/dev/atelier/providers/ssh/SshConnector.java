package dev.atelier.providers.ssh;

import dev.atelier.provider.ProviderException;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SSH sessions to registered hosts with Apache MINA SSHD: public-key authentication with the key the host's
 * {@code keyRef} names, and strict host key checking against the registered SHA256 fingerprint (there is no
 * trust on first use). Remote commands are fixed scripts with quoted, validated arguments; data travels as files
 * over SFTP.
 */
public class SshConnector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SshConnector.class);

    private final SshClient client;
    private final Path keyDir;
    private final Duration connectTimeout;
    private final Duration commandTimeout;
    private final Map<String, ClientSession> sessions = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public SshConnector(Path keyDir, Duration connectTimeout, Duration commandTimeout) {
        this.keyDir = keyDir.toAbsolutePath().normalize();
        this.connectTimeout = connectTimeout;
        this.commandTimeout = commandTimeout;
        this.client = SshClient.setUpDefaultClient();
        // Only the registered fingerprint; never ~/.ssh of the engine's user: only the key the host names.
        PinnedHostKeys.install(client);
        // Kept sessions close themselves after this long without use.
        CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ofMinutes(2));
        client.start();
    }

    static String fingerprint(PublicKey key) {
        return PinnedHostKeys.fingerprint(key);
    }

    public Path keyDir() {
        return keyDir;
    }

    /** @return why the key cannot be used, or null when it is readable */
    public String keyProblem(String keyRef) {
        if (keyRef == null || !HostDefinition.KEY_REF.matcher(keyRef).matches()) {
            return "keyRef '" + keyRef + "' is not a valid key file name";
        }
        Path key = keyDir.resolve(keyRef);
        if (!Files.isRegularFile(key) || !Files.isReadable(key)) {
            return "keyRef '" + keyRef + "': no readable key file " + key + " (put the engine's private key for this "
                    + "host there, readable only by the engine)";
        }
        return null;
    }

    /** A session with the host, authenticated and with its host key checked. */
    public interface SessionWork<T> {
        T run(Session session) throws IOException;
    }

    /**
     * Runs the work on the host's session: one authenticated session per host is kept open and shared (channels
     * are cheap, logins are not); a session that broke is replaced once. The work must be idempotent.
     */
    public <T> T withSession(SshHost host, SessionWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            ClientSession session = session(host);
            Session s = new Session(host, session);
            try {
                return work.run(s);
            } catch (ProviderException e) {
                throw e;
            } catch (IOException e) {
                if (!session.isOpen()) {
                    forget(host);
                    if (attempt == 1) {
                        log.info("SSH session with {} broke ({}); reconnecting", host.name(), e.getMessage());
                        continue;
                    }
                }
                throw ProviderException.retryable("SSH to host " + host.describe() + " failed: " + e.getMessage(), e);
            } finally {
                s.closeSftp();
            }
        }
    }

    /** Closes the kept session with the host, so that the next call logs in anew (and checks the host key again). */
    public void forget(SshHost host) {
        sessions.entrySet().removeIf(e -> {
            if (e.getKey().startsWith(host.id() + "|")) {
                closeQuietly(e.getValue());
                return true;
            }
            return false;
        });
    }

    private ClientSession session(SshHost host) {
        String key = host.id() + "|" + host.address() + "|" + host.port() + "|" + host.user() + "|" + host.keyRef()
                + "|" + host.hostKeyFingerprint();
        synchronized (locks.computeIfAbsent(host.id(), k -> new Object())) {
            ClientSession cached = sessions.get(key);
            if (cached != null && cached.isOpen() && cached.isAuthenticated()) {
                return cached;
            }
            // A changed registration (address, key, fingerprint) or a broken session: log in anew.
            forget(host);
            ClientSession fresh = connect(host);
            sessions.put(key, fresh);
            return fresh;
        }
    }

    private ClientSession connect(SshHost host) {
        String keyProblem = keyProblem(host.keyRef());
        if (keyProblem != null) {
            throw ProviderException.permanent("host " + host.name() + ": " + keyProblem);
        }
        List<KeyPair> keys = new ArrayList<>();
        try {
            new FileKeyPairProvider(keyDir.resolve(host.keyRef())).loadKeys(null).forEach(keys::add);
        } catch (Exception e) {
            throw ProviderException.permanent("host " + host.name() + ": the key '" + host.keyRef()
                    + "' cannot be read (" + e.getMessage() + "); it must be an unencrypted OpenSSH or PEM private key");
        }
        ClientSession session;
        AtomicReference<String> presentedKey = new AtomicReference<>();
        try {
            session = client.connect(host.user(), host.address(), host.port(),
                            PinnedHostKeys.expecting(List.of(host.hostKeyFingerprint()), presentedKey))
                    .verify(connectTimeout).getSession();
        } catch (IOException e) {
            throw refusedHostKey(host, presentedKey.get()).orElseGet(() -> unreachable(host, e));
        }
        try {
            keys.forEach(session::addPublicKeyIdentity);
            session.auth().verify(connectTimeout);
            return session;
        } catch (IOException e) {
            String presented = presentedKey.get();
            closeQuietly(session);
            Optional<ProviderException> refused = refusedHostKey(host, presented);
            if (refused.isPresent()) {
                throw refused.get();
            }
            if (presented == null) {
                throw unreachable(host, e);
            }
            throw ProviderException.permanent("host " + host.describe() + " refused the engine's key '"
                    + host.keyRef() + "' for user " + host.user() + " (" + e.getMessage() + "); add its public key "
                    + "to ~" + host.user() + "/.ssh/authorized_keys on the host");
        }
    }

    private static Optional<ProviderException> refusedHostKey(SshHost host, String presented) {
        if (presented == null || presented.equals(host.hostKeyFingerprint())) {
            return Optional.empty();
        }
        return Optional.of(ProviderException.permanent("host key verification failed for " + host.describe()
                + ": it presented " + presented + " but the registered fingerprint is "
                + host.hostKeyFingerprint() + ". The host may have been reinstalled, or this is not the host "
                + "you registered; check on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and "
                + "update the host (PUT /api/v1/hosts/{id}) only if you trust it"));
    }

    private static ProviderException unreachable(SshHost host, IOException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String reason = root instanceof ConnectException ? "connection refused"
                : root instanceof UnknownHostException ? "unknown host name"
                : root instanceof NoRouteToHostException ? "no route to host"
                : String.valueOf(root.getMessage());
        return ProviderException.retryable("cannot reach SSH host " + host.describe() + ": " + reason, e);
    }

    private static void closeQuietly(ClientSession session) {
        try {
            session.close();
        } catch (IOException ignored) {
            // closing a failed session
        }
    }

    @Override
    public void close() throws IOException {
        sessions.values().forEach(SshConnector::closeQuietly);
        sessions.clear();
        client.stop();
    }

    /** The result of a remote command. */
    public record Result(int exitStatus, String stdout, String stderr) {
        String output() {
            return (stdout + (stderr.isBlank() ? "" : "\n" + stderr)).strip();
        }
    }

    /** An open, verified session with one host. */
    public final class Session {
        private final SshHost host;
        private final ClientSession session;
        private SftpClient sftp;

        Session(SshHost host, ClientSession session) {
            this.host = host;
            this.session = session;
        }

        /** Runs a command (a fixed script with quoted arguments) and waits for it to end. */
        public Result exec(String command) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            try (ChannelExec channel = session.createExecChannel(command)) {
                channel.setOut(out);
                channel.setErr(err);
                channel.open().verify(connectTimeout);
                Set<ClientChannelEvent> events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED),
                        commandTimeout.toMillis());
                if (events.contains(ClientChannelEvent.TIMEOUT)) {
                    throw ProviderException.retryable("a command on host " + host.describe() + " did not finish within "
                            + commandTimeout, null);
                }
                Integer status = channel.getExitStatus();
                return new Result(status == null ? -1 : status, out.toString(StandardCharsets.UTF_8),
                        err.toString(StandardCharsets.UTF_8));
            }
        }

        /**
         * Writes a file over SFTP with the given permissions (set before any content is written). Whatever is at the
         * path is removed first (a link itself, never its target) and the file is created exclusively (O_EXCL), so a
         * link put there in between makes the write fail instead of writing through it.
         */
        public void write(String path, String content, int permissions) throws IOException {
            SftpClient client = sftp();
            try {
                client.remove(path);
            } catch (org.apache.sshd.sftp.common.SftpException e) {
                if (e.getStatus() != org.apache.sshd.sftp.common.SftpConstants.SSH_FX_NO_SUCH_FILE) {
                    throw e;
                }
            }
            try (OutputStream o = client.write(path, SftpClient.OpenMode.Write, SftpClient.OpenMode.Create,
                    SftpClient.OpenMode.Exclusive)) {
                client.setStat(path, new SftpClient.Attributes().perms(permissions));
                o.write(content.getBytes(StandardCharsets.UTF_8));
            }
        }

        /** @return the regular file's content, or null when it does not exist or is anything else (such as a link) */
        public String read(String path) throws IOException {
            SftpClient client = sftp();
            try {
                if (!client.lstat(path).isRegularFile()) {
                    return null;
                }
                try (var in = client.read(path)) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (org.apache.sshd.sftp.common.SftpException e) {
                if (e.getStatus() == org.apache.sshd.sftp.common.SftpConstants.SSH_FX_NO_SUCH_FILE) {
                    return null;
                }
                throw e;
            }
        }

        /** Names in a directory (without . and ..), empty when it does not exist. */
        public List<String> list(String path) throws IOException {
            List<String> names = new ArrayList<>();
            try {
                for (SftpClient.DirEntry e : sftp().readDir(path)) {
                    if (!e.getFilename().equals(".") && !e.getFilename().equals("..")) {
                        names.add(e.getFilename());
                    }
                }
            } catch (org.apache.sshd.sftp.common.SftpException e) {
                if (e.getStatus() != org.apache.sshd.sftp.common.SftpConstants.SSH_FX_NO_SUCH_FILE) {
                    throw e;
                }
            }
            return names;
        }

        void closeSftp() {
            if (sftp != null) {
                try {
                    sftp.close();
                } catch (IOException ignored) {
                    // the session is closed or will be
                }
                sftp = null;
            }
        }

        private SftpClient sftp() throws IOException {
            if (sftp == null) {
                sftp = SftpClientFactory.instance().createSftpClient(session);
                log.debug("SFTP session opened with {}", host.name());
            }
            return sftp;
        }
    }
}
