package dev.atelier.gateway;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.projections.idle.ActivityIngestor;
import dev.atelier.projections.workspaces.WorkspaceView;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The gateway's open sessions, as the engine sees them: each is activity of its workspace (reported through the
 * same ingestor as the agent's heartbeat, source {@value #SOURCE}, so a workspace with an open session is never idle),
 * each connect and disconnect is one audit entry (who, workspace, client address, credential, duration, channel
 * types; never what was typed), every refused attempt is one audit entry with the reason, and a workspace that leaves
 * RUNNING has its sessions closed with a message.
 */
class GatewaySessions {

    static final String SOURCE = "ssh-gateway";
    private static final Logger log = LoggerFactory.getLogger(GatewaySessions.class);

    private final AuditRecorder audit;
    private final ActivityIngestor activity;
    private final Clock clock;
    private final Map<ServerSession, Open> open = new ConcurrentHashMap<>();
    /** Attempts of sessions that have not authenticated yet: audited once, when such a session ends. */
    private final Map<ServerSession, Attempts> attempts = new ConcurrentHashMap<>();

    private final java.util.function.Function<String, String> statusOf;

    /** @param statusOf a workspace's current status (DELETED when there is none) */
    GatewaySessions(AuditRecorder audit, ActivityIngestor activity, Clock clock,
                    java.util.function.Function<String, String> statusOf) {
        this.audit = audit;
        this.activity = activity;
        this.clock = clock;
        this.statusOf = statusOf;
    }

    /**
     * Why a channel's program ended, when it ended because its workspace left RUNNING (a stop ends every process of
     * the workspace, usually before the periodic check closes the session): the client is told.
     */
    Optional<String> endedByStop(ServerSession session, int exitCode) {
        Open entry = open.get(session);
        if (entry == null || entry.refusal != null) {
            return Optional.empty();
        }
        // A program killed by a signal may have been killed by the stop before the read model says STOPPING: look a
        // few times (for at most two seconds) before taking it for an ordinary end.
        int looks = exitCode >= 128 ? 10 : 1;
        try {
            for (int i = 0; i < looks; i++) {
                String status = statusOf.apply(entry.admission.workspaceId());
                if (!"RUNNING".equals(status)) {
                    return Optional.of("workspace '" + entry.admission.workspaceName() + "' is " + status
                            + ": its SSH sessions are closed");
                }
                if (i + 1 < looks) {
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("ssh gateway: status of {} unknown: {}", entry.admission.workspaceId(), e.getMessage());
        }
        return Optional.empty();
    }

    /** One open session; {@code refusal} is set when it authenticated but may not reach its workspace now. */
    static final class Open {
        final Admission admission;
        final String client;
        final Instant since;
        final String id = UUID.randomUUID().toString();
        final Set<String> channels = ConcurrentHashMap.newKeySet();
        volatile String refusal;

        Open(Admission admission, String client, Instant since) {
            this.admission = admission;
            this.client = client;
            this.since = since;
        }

        Admission admission() {
            return admission;
        }

        String refusal() {
            return refusal;
        }
    }

    private static final class Attempts {
        final List<String> reasons = new ArrayList<>();
        String subject;
        String workspaceId;
    }

    /** A refused authentication attempt (several may precede a successful one: OpenSSH tries each key). */
    void refused(ServerSession session, GatewayAdmissions.Refused refused) {
        Attempts a = attempts.computeIfAbsent(session, s -> new Attempts());
        synchronized (a) {
            if (a.reasons.size() < 10 && !a.reasons.contains(refused.reason())) {
                a.reasons.add(refused.reason());
            }
            if (refused.subject() != null) {
                a.subject = refused.subject();
            }
            if (refused.workspaceId() != null) {
                a.workspaceId = refused.workspaceId();
            }
        }
    }

    /**
     * The session authenticated as {@code admission}: it is open if the workspace runs, else it stays refused
     * (each channel tells the client why) and the attempt is audited as denied.
     */
    void authenticated(ServerSession session, Admission admission, Optional<WorkspaceView> view) {
        attempts.remove(session);
        Open entry = new Open(admission, client(session), clock.instant());
        String status = view.map(WorkspaceView::status).orElse("DELETED");
        if (!"RUNNING".equals(status)) {
            entry.refusal = "workspace '" + admission.workspaceName() + "' is " + status
                    + ": only running workspaces accept SSH sessions (start it first)";
            record(entry, "ssh-connect", AuditEntry.REQUESTED, AuditEntry.DENIED, "workspace is " + status, Map.of());
        } else {
            record(entry, "ssh-connect", AuditEntry.COMPLETED, AuditEntry.SUCCESS, null, Map.of());
        }
        open.put(session, entry);
        if (entry.refusal == null) {
            report(admission.workspaceId());
        }
    }

    Optional<Open> of(ServerSession session) {
        return Optional.ofNullable(open.get(session));
    }

    void channelOpened(ServerSession session, String type) {
        Open entry = open.get(session);
        if (entry != null) {
            entry.channels.add(type);
        }
    }

    /** The session ended: a disconnect entry for an open one, one denied entry for a session that never got in. */
    void closed(ServerSession session) {
        Open entry = open.remove(session);
        if (entry != null) {
            if (entry.refusal == null) {
                Map<String, String> details = new LinkedHashMap<>();
                details.put("durationSeconds", Long.toString(Duration.between(entry.since, clock.instant()).toSeconds()));
                details.put("channels", String.join(",", new TreeSet<>(entry.channels)));
                record(entry, "ssh-disconnect", AuditEntry.COMPLETED, AuditEntry.SUCCESS, null, details);
                report(entry.admission.workspaceId());
            }
            return;
        }
        Attempts a = attempts.remove(session);
        if (a != null) {
            Map<String, Object> metadata = metadata(a.subject, a.subject == null ? "ANONYMOUS" : "USER", client(session),
                    null);
            Map<String, String> details = new LinkedHashMap<>();
            details.put("sshUser", safe(session.getUsername()));
            audit.record(new AuditRecordedEvent("ssh-connect", AuditEntry.REQUESTED, "workspace", a.workspaceId,
                    AuditEntry.DENIED, null, String.join("; ", a.reasons), details), metadata);
        }
    }

    /** Open sessions (not refused ones) per workspace. */
    Map<String, List<ServerSession>> byWorkspace() {
        Map<String, List<ServerSession>> result = new LinkedHashMap<>();
        open.forEach((session, entry) -> {
            if (entry.refusal == null) {
                result.computeIfAbsent(entry.admission.workspaceId(), id -> new ArrayList<>()).add(session);
            }
        });
        return result;
    }

    /** Reports how many sessions each workspace with sessions has (the idle read model's activity). */
    void heartbeat() {
        byWorkspace().forEach((id, sessions) -> activity.heartbeat(id, SOURCE, sessions.size()));
    }

    /** Closes the sessions of a workspace that is no longer RUNNING, telling the client why. */
    void workspaceLeftRunning(String workspaceId, String status) {
        open.forEach((session, entry) -> {
            if (entry.admission.workspaceId().equals(workspaceId) && entry.refusal == null) {
                log.info("ssh gateway: workspace {} is {}; closing session {} of {}", workspaceId, status, entry.id,
                        entry.admission.principal().subject());
                try {
                    session.disconnect(SshConstants.SSH2_DISCONNECT_BY_APPLICATION, "workspace '"
                            + entry.admission.workspaceName() + "' is " + status + ": its SSH sessions are closed");
                } catch (Exception e) {
                    session.close(true);
                }
            }
        });
    }

    private void report(String workspaceId) {
        long n = open.values().stream().filter(e -> e.refusal == null && e.admission.workspaceId().equals(workspaceId))
                .count();
        activity.heartbeat(workspaceId, SOURCE, (int) n);
    }

    private void record(Open entry, String action, String phase, String outcome, String error, Map<String, String> more) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("sshUser", entry.admission.owner() + "." + entry.admission.workspaceName());
        // "auth", not "credential": the audit trail masks values under keys that sound secret, and this is none.
        details.put("auth", entry.admission.credential());
        details.put("session", entry.id);
        details.putAll(more);
        audit.record(new AuditRecordedEvent(action, phase, "workspace", entry.admission.workspaceId(), outcome, null,
                error, details), metadata(entry.admission.principal().subject(),
                entry.admission.principal().type().name(), entry.client, entry.admission.credential()));
    }

    private static Map<String, Object> metadata(String subject, String type, String client, String credential) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("actorId", subject == null ? "anonymous" : subject);
        metadata.put("actorType", type);
        metadata.put("requestId", "ssh-" + UUID.randomUUID());
        if (client != null) {
            metadata.put("clientIp", client);
        }
        metadata.put("userAgent", "ssh-gateway");
        if (credential != null && credential.startsWith("token:")) {
            metadata.put("tokenId", credential.substring("token:".length()));
        }
        return metadata;
    }

    private static String client(ServerSession session) {
        SocketAddress address = session.getClientAddress();
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return null;
    }

    /** A user name as the client sent it, reduced to printable characters and a bounded length. */
    private static String safe(String value) {
        if (value == null) {
            return "";
        }
        String printable = value.chars().filter(c -> c >= 0x20 && c < 0x7f).limit(100)
                .mapToObj(c -> String.valueOf((char) c)).collect(Collectors.joining());
        return printable;
    }
}
