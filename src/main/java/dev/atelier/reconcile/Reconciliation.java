package dev.atelier.reconcile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.workspace.DriftFinding;
import dev.atelier.domain.workspace.RecordDriftCommand;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import dev.atelier.audit.AuditRecorder;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProviderRegistry;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceProvider;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Compares the engine's record with what each enabled provider reports ({@link WorkspaceProvider#inventory} and
 * {@link WorkspaceProvider#describe}), because resources change behind the engine's back: a container stopped by
 * hand, a VM deleted in the cloud console, a resource left behind by a forced delete. The engine decides and
 * providers only report: a workspace whose resource is stopped or gone gets a {@link RecordDriftCommand} (the
 * aggregate follows reality, reason SYSTEM); resources labelled with a workspace the engine does not know, or one
 * that is deleted, are kept as orphans for an owner to look at and delete ({@code /api/v1/orphans}). Nothing is
 * deleted by reconciliation itself.
 *
 * <p>One run at a time across nodes: a PostgreSQL advisory lock, held on one connection for the run. A provider
 * whose inventory fails is skipped for that run (a failed listing must never look like "everything is gone").
 */
@Service
public class Reconciliation {

    /** The label every provider puts on a workspace's resources (the lifecycle saga passes it). */
    public static final String WORKSPACE_LABEL = "atelier-workspace-id";
    public static final String BUILD_LABEL = "atelier-build";
    private static final long ADVISORY_LOCK = 0x61746c7265636fL; // "atlreco"
    private static final Logger log = LoggerFactory.getLogger(Reconciliation.class);
    private static final Set<ResourceDescription.State> ALIVE = EnumSet.of(ResourceDescription.State.RUNNING,
            ResourceDescription.State.PROVISIONING);
    private static final TypeReference<List<Map<String, String>>> RESOURCES = new TypeReference<>() {
    };

    private final ProviderRegistry providers;
    private final JdbcTemplate jdbc;
    private final CommandGateway commands;
    private final TemplateCatalog templates;
    private final AuditRecorder audit;
    private final MeterRegistry meters;
    private final ObjectMapper json;
    private final Map<String, AtomicInteger> orphanCounts = new ConcurrentHashMap<>();

    public Reconciliation(ProviderRegistry providers, JdbcTemplate jdbc, CommandGateway commands,
                          TemplateCatalog templates, AuditRecorder audit, MeterRegistry meters, ObjectMapper json) {
        this.providers = providers;
        this.jdbc = jdbc;
        this.commands = commands;
        this.templates = templates;
        this.audit = audit;
        this.meters = meters;
        this.json = json;
    }

    /** What one run did. {@code ran} is false when another node (or another call) held the run. */
    public record Report(boolean ran, Instant at, List<String> providers, List<Drift> drifts, int orphans,
                         Map<String, String> skipped) {
    }

    public record Drift(String provider, String workspaceId, String found, String detail) {
    }

    /**
     * A leftover resource: {@code handles} are the provider's ids of what carries the workspace label,
     * {@code costPerHour} is known when the workspace's template has pricing.
     */
    public record Orphan(String id, String provider, String workspaceId, boolean knownWorkspace, String state,
                         List<String> handles, Instant firstSeenAt, Instant lastSeenAt, long ageSeconds,
                         BigDecimal costPerHour, String currency) {
    }

    /** Runs once, unless a run is under way elsewhere. */
    public Report run() {
        Report report = jdbc.execute((ConnectionCallback<Report>) connection -> {
            if (!advisory(connection, "pg_try_advisory_lock")) {
                return null;
            }
            try {
                return runLocked();
            } finally {
                advisory(connection, "pg_advisory_unlock");
            }
        });
        return report != null ? report : new Report(false, Instant.now(), List.of(), List.of(), 0, Map.of());
    }

    private static boolean advisory(java.sql.Connection connection, String function) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT " + function + "(?)")) {
            s.setLong(1, ADVISORY_LOCK);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private Report runLocked() {
        Instant now = Instant.now();
        List<Drift> drifts = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(providers.names());
        names.sort(null);
        int orphans = 0;
        for (String name : names) {
            WorkspaceProvider provider = providers.get(name);
            List<ResourceDescription> inventory;
            try {
                inventory = provider.inventory(Map.of());
            } catch (RuntimeException e) {
                skipped.put(name, e.getClass().getSimpleName());
                log.warn("reconciliation skipped provider {}: its inventory failed ({})", name, e.getMessage());
                continue;
            }
            Map<String, List<ResourceDescription>> byWorkspace = new LinkedHashMap<>();
            for (ResourceDescription r : inventory) {
                String id = r.labels() == null ? null : r.labels().get(WORKSPACE_LABEL);
                if (id != null && !id.isBlank()) {
                    byWorkspace.computeIfAbsent(id, k -> new ArrayList<>()).add(r);
                }
            }
            drifts.addAll(drifts(name, provider, byWorkspace));
            orphans += orphans(name, byWorkspace, now);
        }
        log.info("reconciliation: {} drift(s) recorded, {} orphan(s) known, providers {}{}", drifts.size(), orphans,
                names, skipped.isEmpty() ? "" : " (skipped: " + skipped.keySet() + ")");
        return new Report(true, now, names, List.copyOf(drifts), orphans, skipped);
    }

    private record Known(String id, String status, long build, String templateId, int templateVersion, String owner) {
    }

    private List<Drift> drifts(String name, WorkspaceProvider provider, Map<String, List<ResourceDescription>> found) {
        List<Drift> recorded = new ArrayList<>();
        List<Known> settled = jdbc.query("""
                        SELECT id, status, build_number, template_id, template_version, owner FROM workspace_view
                        WHERE provider = ? AND status IN ('RUNNING', 'STOPPED')""",
                (rs, i) -> new Known(rs.getString("id"), rs.getString("status"), rs.getLong("build_number"),
                        rs.getString("template_id"), rs.getInt("template_version"), rs.getString("owner")), name);
        for (Known w : settled) {
            List<ResourceDescription> mine = found.getOrDefault(w.id(), List.of());
            boolean alive = mine.stream().anyMatch(r -> ALIVE.contains(r.state()));
            // The inventory is the cheap look at everything; describe() confirms a suspect before anything is recorded.
            boolean suspect = "RUNNING".equals(w.status()) ? !alive : mine.isEmpty();
            if (!suspect) {
                continue;
            }
            ResourceDescription described;
            try {
                described = provider.describe(request(w.id(), w.build(), w.owner(), w.templateId(), w.templateVersion()));
            } catch (RuntimeException e) {
                log.warn("reconciliation: could not describe workspace {} at {}: {}", w.id(), name, e.getMessage());
                continue;
            }
            DriftFinding finding = switch (described.state()) {
                case ABSENT -> DriftFinding.GONE;
                case STOPPED, FAILED -> "RUNNING".equals(w.status()) ? DriftFinding.STOPPED : null;
                default -> null;
            };
            if (finding == null) {
                continue;
            }
            String detail = finding == DriftFinding.GONE
                    ? "reconciliation: provider " + name + " has no resource for this workspace"
                    : "reconciliation: provider " + name + " reports " + described.resourceId() + " "
                    + described.state();
            Boolean applied;
            try {
                applied = commands.sendAndWait(GenericCommandMessage.asCommandMessage(
                        new RecordDriftCommand(w.id(), w.build(), finding, detail)).andMetaData(systemMetadata()));
            } catch (RuntimeException e) {
                // e.g. a concurrent command on the same workspace: the next run looks again
                log.warn("reconciliation: could not record the drift of workspace {}: {}", w.id(), e.toString());
                continue;
            }
            if (Boolean.TRUE.equals(applied)) {
                Counter.builder("atelier.drift").description("Workspaces whose resource changed outside Atelier")
                        .tag("provider", name).tag("found", finding.name()).register(meters).increment();
                recorded.add(new Drift(name, w.id(), finding.name(), detail));
                log.info("reconciliation: workspace {} drifted ({}): {}", w.id(), finding, detail);
            }
        }
        return recorded;
    }

    private int orphans(String name, Map<String, List<ResourceDescription>> found, Instant now) {
        Map<String, String> status = new HashMap<>();
        Map<String, Known> known = new HashMap<>();
        if (!found.isEmpty()) {
            jdbc.query("SELECT id, status, build_number, template_id, template_version, owner FROM workspace_view "
                            + "WHERE id = ANY (?)",
                    rs -> {
                        status.put(rs.getString("id"), rs.getString("status"));
                        known.put(rs.getString("id"), new Known(rs.getString("id"), rs.getString("status"),
                                rs.getLong("build_number"), rs.getString("template_id"), rs.getInt("template_version"),
                                rs.getString("owner")));
                    },
                    (Object) found.keySet().toArray(String[]::new));
        }
        List<String> current = new ArrayList<>();
        for (Map.Entry<String, List<ResourceDescription>> e : found.entrySet()) {
            String workspaceId = e.getKey();
            String st = status.get(workspaceId);
            boolean orphan = "DELETED".equals(st) || (st == null && !inEventStore(workspaceId));
            if (!orphan) {
                continue;
            }
            String id = orphanId(name, workspaceId);
            current.add(id);
            List<Map<String, String>> handles = e.getValue().stream()
                    .map(r -> Map.of("handle", String.valueOf(r.resourceId()), "state", r.state().name())).toList();
            String state = e.getValue().stream().anyMatch(r -> ALIVE.contains(r.state())) ? "RUNNING"
                    : e.getValue().stream().anyMatch(r -> r.state() == ResourceDescription.State.STOPPED) ? "STOPPED"
                    : "UNKNOWN";
            Long build = e.getValue().stream().map(r -> r.labels().get(BUILD_LABEL)).filter(b -> b != null
                    && b.matches("\\d{1,18}")).map(Long::valueOf).findFirst().orElse(null);
            Known w = known.get(workspaceId);
            int inserted = jdbc.update("""
                            INSERT INTO orphan_resource (id, provider, workspace_id, build_number, resources, state,
                                known_workspace, template_id, template_version, first_seen_at, last_seen_at)
                            VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (id) DO NOTHING""",
                    id, name, workspaceId, build, write(handles), state, w != null, w == null ? null : w.templateId(),
                    w == null ? null : w.templateVersion(), Timestamp.from(now), Timestamp.from(now));
            if (inserted == 1) {
                audit.record(new AuditRecordedEvent("orphan-found", AuditEntry.COMPLETED, "orphan", id,
                        AuditEntry.SUCCESS, null, null, Map.of("provider", name, "workspaceId", workspaceId,
                        "resources", Integer.toString(handles.size()))), systemMetadata());
                log.info("reconciliation: orphan {} at {} (workspace label {})", id, name, workspaceId);
            } else {
                jdbc.update("UPDATE orphan_resource SET resources = ?::jsonb, state = ?, last_seen_at = ? WHERE id = ?",
                        write(handles), state, Timestamp.from(now), id);
            }
        }
        // What is no longer there is no longer an orphan.
        if (current.isEmpty()) {
            jdbc.update("DELETE FROM orphan_resource WHERE provider = ?", name);
        } else {
            jdbc.update("DELETE FROM orphan_resource WHERE provider = ? AND NOT (id = ANY (?))", name,
                    (Object) current.toArray(String[]::new));
        }
        orphanCounts.computeIfAbsent(name, p -> {
            AtomicInteger count = new AtomicInteger();
            Gauge.builder("atelier.orphans", count, AtomicInteger::get)
                    .description("Resources labelled with an unknown or deleted workspace").tag("provider", p)
                    .register(meters);
            return count;
        }).set(current.size());
        return current.size();
    }

    private boolean inEventStore(String workspaceId) {
        Integer events = jdbc.queryForObject(
                "SELECT count(*) FROM domainevententry WHERE aggregateidentifier = ? AND type = 'Workspace'",
                Integer.class, workspaceId);
        return events != null && events > 0;
    }

    /** Every orphan known from the last runs, oldest first. */
    public List<Orphan> orphans() {
        return jdbc.query("SELECT * FROM orphan_resource ORDER BY first_seen_at, id", this::toOrphan);
    }

    public Optional<Orphan> orphan(String id) {
        return jdbc.query("SELECT * FROM orphan_resource WHERE id = ?", this::toOrphan, id).stream().findFirst();
    }

    /**
     * Deletes an orphan's resources through its provider (the same call that deletes a workspace's), audited with
     * the caller's request metadata.
     *
     * @return the provider's answer; the orphan is forgotten once the provider says it is done
     * @throws ProviderException when the provider fails (also audited)
     */
    public ProviderOperation deleteOrphan(Orphan orphan, Map<String, ?> requestMetadata) {
        WorkspaceProvider provider = providers.get(orphan.provider());
        Long build = jdbc.queryForObject("SELECT build_number FROM orphan_resource WHERE id = ?", Long.class,
                orphan.id());
        String templateId = jdbc.queryForObject("SELECT template_id FROM orphan_resource WHERE id = ?", String.class,
                orphan.id());
        Integer version = jdbc.queryForObject("SELECT template_version FROM orphan_resource WHERE id = ?",
                Integer.class, orphan.id());
        ProviderOperation result;
        try {
            result = provider.delete(request(orphan.workspaceId(), build == null ? 0 : build, null, templateId,
                    version == null ? 0 : version));
        } catch (RuntimeException e) {
            audit.record(new AuditRecordedEvent("delete", AuditEntry.COMPLETED, "orphan", orphan.id(),
                    AuditEntry.FAILURE, null, "provider " + orphan.provider() + " could not delete it",
                    Map.of("provider", orphan.provider(), "workspaceId", orphan.workspaceId())), requestMetadata);
            throw e;
        }
        if (result.done()) {
            jdbc.update("DELETE FROM orphan_resource WHERE id = ?", orphan.id());
            AtomicInteger count = orphanCounts.get(orphan.provider());
            if (count != null) {
                count.updateAndGet(c -> Math.max(0, c - 1));
            }
        }
        audit.record(new AuditRecordedEvent("delete", AuditEntry.COMPLETED, "orphan", orphan.id(), AuditEntry.SUCCESS,
                null, null, Map.of("provider", orphan.provider(), "workspaceId", orphan.workspaceId(),
                "handles", String.join(",", orphan.handles()), "done", Boolean.toString(result.done()))),
                requestMetadata);
        return result;
    }

    private ProvisionRequest request(String workspaceId, long build, String owner, String templateId, int version) {
        Map<String, Object> spec = templateId == null ? Map.of() : templates.find(templateId, version)
                .map(t -> t.definition().spec()).orElse(Map.of());
        return new ProvisionRequest(workspaceId, build, owner, null, spec, Map.of(),
                Map.of(WORKSPACE_LABEL, workspaceId, BUILD_LABEL, Long.toString(build)), null);
    }

    private Orphan toOrphan(ResultSet rs, int row) throws SQLException {
        List<String> handles = read(rs.getString("resources")).stream().map(m -> m.get("handle")).toList();
        Instant first = rs.getTimestamp("first_seen_at").toInstant();
        String state = rs.getString("state");
        BigDecimal cost = null;
        String currency = null;
        String templateId = rs.getString("template_id");
        if (templateId != null) {
            Pricing pricing = templates.find(templateId, rs.getInt("template_version"))
                    .map(t -> t.definition().pricing()).orElse(null);
            if (pricing != null) {
                cost = "RUNNING".equals(state) ? pricing.runningPerHour() : pricing.stoppedPerHour();
                currency = cost == null ? null : pricing.currency();
            }
        }
        return new Orphan(rs.getString("id"), rs.getString("provider"), rs.getString("workspace_id"),
                rs.getBoolean("known_workspace"), state, handles, first,
                rs.getTimestamp("last_seen_at").toInstant(),
                Math.max(0, Duration.between(first, Instant.now()).toSeconds()), cost, currency);
    }

    private static Map<String, Object> systemMetadata() {
        return Map.of("actorId", Actor.SYSTEM.id(), "actorType", Actor.SYSTEM.type().name());
    }

    private static String orphanId(String provider, String workspaceId) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((provider + "\n" + workspaceId).getBytes(StandardCharsets.UTF_8));
            return "orph-" + HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<Map<String, String>> read(String value) {
        try {
            return json.readValue(value, RESOURCES);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
