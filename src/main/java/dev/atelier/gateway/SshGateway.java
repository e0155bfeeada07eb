package dev.atelier.gateway;

import dev.atelier.config.AtelierProperties;
import dev.atelier.provider.ProviderRegistry;
import dev.atelier.provider.WorkspaceShell;
import dev.atelier.projections.workspaces.WorkspaceView;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSessionFactory;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.server.subsystem.SubsystemFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SSH gateway inside the engine (docs/ssh.md): Apache MINA SSHD's server on {@code atelier.ssh.gateway.port}.
 * It authenticates users by their registered keys or an API token ({@link GatewayAdmissions}), keeps the engine's
 * view of every session ({@link GatewaySessions}: audit, activity, closing sessions of workspaces that stop), and runs
 * shells, commands and sftp inside the workspace through its provider ({@link WorkspaceCommand}); local port
 * forwarding goes through the provider too ({@link ForwardingChannel}). Agent, X11 and remote forwarding are refused:
 * nothing of the engine host is ever offered to a session.
 */
public class SshGateway implements SmartLifecycle {

    /** The admission an authenticator granted; the session is open once MINA reports it authenticated. */
    static final AttributeRepository.AttributeKey<Admission> ADMISSION = new AttributeRepository.AttributeKey<>();
    private static final String SFTP_SERVER = "for s in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server "
            + "/usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server; do "
            + "[ -x \"$s\" ] && exec \"$s\"; done; echo 'no sftp-server in this workspace (install openssh-sftp-server)' >&2; exit 127";
    private static final Logger log = LoggerFactory.getLogger(SshGateway.class);

    private final GatewaySettings settings;
    private final GatewayAdmissions admissions;
    private final GatewaySessions sessions;
    private final ProviderRegistry providers;
    private final Path hostKeyFile;
    private SshServer server;
    private ExecutorService pumps;
    private ScheduledExecutorService timers;
    private volatile List<HostKey> hostKeys = List.of();
    private volatile int boundPort;

    /** A host key as clients see it. */
    public record HostKey(String type, String fingerprint, String publicKey) {
    }

    SshGateway(GatewaySettings settings, AtelierProperties atelier, GatewayAdmissions admissions,
               GatewaySessions sessions, ProviderRegistry providers) {
        this.settings = settings;
        this.admissions = admissions;
        this.sessions = sessions;
        this.providers = providers;
        this.hostKeyFile = settings.hostKey() != null ? settings.hostKey()
                : atelier.dataDir().resolve("ssh").resolve("gateway-host-key");
    }

    public boolean enabled() {
        return settings.enabled();
    }

    /** The port it listens on (0 when off). */
    public int port() {
        return boundPort;
    }

    public Optional<String> publicHost() {
        return Optional.ofNullable(settings.publicHost());
    }

    public List<HostKey> hostKeys() {
        return hostKeys;
    }

    @Override
    public synchronized void start() {
        if (!settings.enabled()) {
            log.info("ssh gateway: off (atelier.ssh.gateway.port=0)");
            return;
        }
        AtomicInteger threads = new AtomicInteger();
        pumps = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ssh-gateway-io-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server = SshServer.setUpDefaultServer();
        server.setHost(settings.bindAddress());
        server.setPort(settings.port());
        try {
            Files.createDirectories(hostKeyFile.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("ssh gateway: cannot create " + hostKeyFile.getParent(), e);
        }
        SimpleGeneratorHostKeyProvider keys = new SimpleGeneratorHostKeyProvider(hostKeyFile);
        keys.setAlgorithm(KeyUtils.EC_ALGORITHM);
        keys.setKeySize(256);
        server.setKeyPairProvider(keys);
        server.setPublickeyAuthenticator((user, key, session) -> admit(session, admissions.byKey(user, key)));
        server.setPasswordAuthenticator((user, password, session) -> admit(session, admissions.byToken(user, password)));
        server.setKeyboardInteractiveAuthenticator(null);
        server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        server.setChannelFactories(List.of(ChannelSessionFactory.INSTANCE, new ForwardingChannel.Factory(sessions,
                this::shellOf, admissions::target, pumps)));
        server.setShellFactory(channel -> new WorkspaceCommand(sessions, this::shellOf, admissions::target, pumps, "shell", List.of(), true));
        server.setCommandFactory((channel, command) -> new WorkspaceCommand(sessions, this::shellOf, admissions::target, pumps, "exec",
                List.of("/bin/sh", "-c", command), true));
        server.setSubsystemFactories(List.of(new SubsystemFactory() {
            @Override
            public String getName() {
                return "sftp";
            }

            @Override
            public org.apache.sshd.server.command.Command createSubsystem(
                    org.apache.sshd.server.channel.ChannelSession channel) {
                return new WorkspaceCommand(sessions, SshGateway.this::shellOf, admissions::target, pumps, "sftp",
                        List.of("/bin/sh", "-c", SFTP_SERVER), false);
            }
        }));
        server.addSessionListener(new SessionListener() {
            @Override
            public void sessionEvent(Session session, Event event) {
                if (event == Event.Authenticated && session instanceof ServerSession s) {
                    Admission admission = s.getAttribute(ADMISSION);
                    if (admission != null) {
                        Optional<WorkspaceView> view = admissions.view(admission.workspaceId());
                        sessions.authenticated(s, admission, view);
                    }
                }
            }

            @Override
            public void sessionClosed(Session session) {
                if (session instanceof ServerSession s) {
                    try {
                        pumps.execute(() -> sessions.closed(s));
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        sessions.closed(s); // the gateway is stopping: record the disconnect right here
                    }
                }
            }
        });
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("ssh gateway: cannot listen on " + settings.bindAddress() + ":"
                    + settings.port() + " (set atelier.ssh.gateway.port / ATELIER_SSH_GATEWAY_PORT, 0 turns it off): "
                    + e.getMessage(), e);
        }
        boundPort = server.getPort();
        List<HostKey> loaded = new ArrayList<>();
        try {
            for (KeyPair pair : keys.loadKeys(null)) {
                loaded.add(new HostKey(KeyUtils.getKeyType(pair.getPublic()),
                        KeyUtils.getFingerPrint(pair.getPublic()), PublicKeyEntry.toString(pair.getPublic())));
            }
            Files.setPosixFilePermissions(hostKeyFile, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new IllegalStateException("ssh gateway: cannot read its host key " + hostKeyFile, e);
        }
        hostKeys = List.copyOf(loaded);
        timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ssh-gateway-timer");
            t.setDaemon(true);
            return t;
        });
        timers.scheduleWithFixedDelay(this::heartbeat, settings.heartbeat().toMillis(), settings.heartbeat().toMillis(),
                TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::checkWorkspaces, settings.stateCheck().toMillis(),
                settings.stateCheck().toMillis(), TimeUnit.MILLISECONDS);
        hostKeys.forEach(k -> log.info("ssh gateway: listening on {}:{}, host key {} {}", settings.bindAddress(),
                boundPort, k.type(), k.fingerprint()));
    }

    private boolean admit(ServerSession session, GatewayAdmissions.Outcome outcome) {
        if (outcome instanceof GatewayAdmissions.Admitted admitted) {
            session.setAttribute(ADMISSION, admitted.admission());
            return true;
        }
        sessions.refused(session, (GatewayAdmissions.Refused) outcome);
        return false;
    }

    private WorkspaceShell shellOf(String provider) {
        return providers.find(provider).filter(WorkspaceShell.class::isInstance).map(WorkspaceShell.class::cast)
                .orElse(null);
    }

    private void heartbeat() {
        try {
            sessions.heartbeat();
        } catch (RuntimeException e) {
            log.warn("ssh gateway: could not report session activity: {}", e.getMessage());
        }
    }

    /** Sessions of a workspace that left RUNNING (stopped, being stopped, deleted) are closed. */
    private void checkWorkspaces() {
        for (Map.Entry<String, List<ServerSession>> entry : sessions.byWorkspace().entrySet()) {
            try {
                String status = admissions.view(entry.getKey()).map(WorkspaceView::status).orElse("DELETED");
                if (!"RUNNING".equals(status)) {
                    sessions.workspaceLeftRunning(entry.getKey(), status);
                }
            } catch (RuntimeException e) {
                log.warn("ssh gateway: could not check workspace {}: {}", entry.getKey(), e.getMessage());
            }
        }
    }

    @Override
    public synchronized void stop() {
        if (timers != null) {
            timers.shutdownNow();
        }
        if (server != null) {
            try {
                server.stop(true);
            } catch (IOException e) {
                log.debug("ssh gateway: stop: {}", e.getMessage());
            }
            server = null;
        }
        if (pumps != null) {
            pumps.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return server != null && server.isStarted();
    }
}
