package dev.atelier.projections.workspaces;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.cluster.ViewChangeHandler;
import dev.atelier.cluster.ViewNotice;
import dev.atelier.cluster.ViewNotices;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceDriftedEvent;
import dev.atelier.domain.workspace.WorkspaceIdleWarningEvent;
import dev.atelier.domain.workspace.WorkspaceKeepAliveExtendedEvent;
import dev.atelier.domain.workspace.WorkspaceMarkedDormantEvent;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceTemplateVersionChangedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.queryhandling.QueryUpdateEmitter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The workspace list, detail and history, kept by its own tracking processor. After each change the new view is
 * pushed to subscription queries, which the API turns into server-sent events.
 */
@Component
@ProcessingGroup(WorkspaceProjection.PROCESSING_GROUP)
public class WorkspaceProjection implements ViewChangeHandler {

    public static final String PROCESSING_GROUP = "workspaces";
    /** The kind of {@link ViewNotice} this projection sends and answers. */
    public static final String VIEW_KIND = "workspace";
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> OBJECT_MAP = new TypeReference<>() {
    };

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final QueryUpdateEmitter updates;
    private final ViewNotices notices;

    public WorkspaceProjection(JdbcTemplate jdbc, ObjectMapper json, QueryUpdateEmitter updates, ViewNotices notices) {
        this.jdbc = jdbc;
        this.json = json;
        this.updates = updates;
        this.notices = notices;
    }

    @EventHandler
    void on(WorkspaceCreatedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("""
                        INSERT INTO workspace_view (id, name, owner, team, kind, template_id, template_version, provider,
                            status, build_number, labels, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?::jsonb, ?, ?)
                        ON CONFLICT (id) DO NOTHING""",
                e.workspaceId(), e.name(), e.owner(), e.team(), e.kind().name(), e.templateId(), e.templateVersion(),
                e.provider(), WorkspaceStatus.PENDING.name(), write(e.labels()), ts(time), ts(time));
        history(e.workspaceId(), sequence, "WorkspaceCreated", time, e.actor().id(), null, null, message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("""
                        UPDATE workspace_view SET status = ?, build_number = ?, template_version = ?, last_transition = ?,
                            last_reason = ?, last_actor = ?, last_error = NULL, auto_stop_at = NULL, auto_stop_reason = NULL,
                            dormant = FALSE, updated_at = ? WHERE id = ?""",
                e.transition().during().name(), e.buildNumber(), e.templateVersion(), e.transition().name(),
                e.reason().name(), e.actor().id(), ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "TransitionStarted", time, e.actor().id(), e.reason().name(),
                e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET status = ?, connection = ?::jsonb, last_error = ?, updated_at = ? WHERE id = ?",
                e.transition().after().name(), e.connection().isEmpty() ? null : write(e.connection()),
                e.providerError(), ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "TransitionSucceeded", time, null, null, e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                WorkspaceStatus.FAILED.name(), e.error(), ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "TransitionFailed", time, null, null, e.buildNumber(), message);
        changed(e.workspaceId());
    }

    /** Reality changed behind the engine's back: shown as a transition {@code DRIFT} for reason SYSTEM. */
    @EventHandler
    void on(WorkspaceDriftedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("""
                        UPDATE workspace_view SET status = ?, last_transition = 'DRIFT', last_reason = ?, last_actor = ?,
                            last_error = ?, connection = NULL, auto_stop_at = NULL, auto_stop_reason = NULL, updated_at = ?
                        WHERE id = ?""",
                e.to().name(), e.reason().name(), dev.atelier.domain.shared.Actor.SYSTEM.id(), e.detail(), ts(time),
                e.workspaceId());
        history(e.workspaceId(), sequence, "Drifted", time, dev.atelier.domain.shared.Actor.SYSTEM.id(),
                e.reason().name(), e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTemplateVersionChangedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET updated_at = ? WHERE id = ?", ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "TemplateVersionChanged", time, e.actor().id(), null, null, message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceIdleWarningEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET auto_stop_at = ?, auto_stop_reason = 'IDLE', updated_at = ? WHERE id = ?",
                ts(e.stopAt()), ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "IdleStopWarning", time, null, "IDLE", e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceKeepAliveExtendedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET auto_stop_at = NULL, auto_stop_reason = NULL, updated_at = ? WHERE id = ?",
                ts(time), e.workspaceId());
        history(e.workspaceId(), sequence, "KeepAliveExtended", time, e.actor().id(), null, e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceMarkedDormantEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        jdbc.update("UPDATE workspace_view SET dormant = TRUE, auto_stop_at = ?, auto_stop_reason = ?, updated_at = ? WHERE id = ?",
                e.deleteAt() == null ? null : ts(e.deleteAt()), e.deleteAt() == null ? null : "DORMANCY", ts(time),
                e.workspaceId());
        history(e.workspaceId(), sequence, "MarkedDormant", time, null, "DORMANCY", e.buildNumber(), message);
        changed(e.workspaceId());
    }

    @ResetHandler
    void reset() {
        jdbc.update("DELETE FROM workspace_history");
        jdbc.update("DELETE FROM workspace_view");
    }

    @QueryHandler
    public Optional<WorkspaceView> handle(WorkspaceQueries.FindWorkspace query) {
        return find(query.workspaceId());
    }

    @QueryHandler
    public WorkspaceQueries.Page handle(WorkspaceQueries.ListWorkspaces q) {
        StringBuilder sql = new StringBuilder("SELECT * FROM workspace_view WHERE TRUE");
        List<Object> args = new ArrayList<>();
        filter(sql, args, "owner", q.owner());
        filter(sql, args, "team", q.team());
        filter(sql, args, "status", q.status());
        filter(sql, args, "template_id", q.templateId());
        filter(sql, args, "kind", q.kind());
        if (q.cursor() != null) {
            Cursor cursor = Cursor.decode(q.cursor());
            sql.append(" AND (created_at, id) < (?, ?)");
            args.add(java.sql.Timestamp.from(cursor.createdAt()));
            args.add(cursor.id());
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        args.add(q.limit() + 1);
        List<WorkspaceView> rows = jdbc.query(sql.toString(), this::view, args.toArray());
        String next = null;
        if (rows.size() > q.limit()) {
            rows = rows.subList(0, q.limit());
            WorkspaceView last = rows.get(rows.size() - 1);
            next = new Cursor(last.createdAt(), last.id()).encode();
        }
        return new WorkspaceQueries.Page(List.copyOf(rows), next);
    }

    @QueryHandler
    public Long handle(WorkspaceQueries.CountOwned query) {
        return jdbc.queryForObject("SELECT count(*) FROM workspace_view WHERE owner = ? AND status <> 'DELETED'",
                Long.class, query.owner());
    }

    @QueryHandler
    public List<WorkspaceHistoryEntry> handle(WorkspaceQueries.History query) {
        return jdbc.query("SELECT * FROM workspace_history WHERE workspace_id = ? ORDER BY sequence",
                (rs, i) -> new WorkspaceHistoryEntry(rs.getString("type"), rs.getTimestamp("time").toInstant(),
                        rs.getString("actor"), rs.getString("reason"),
                        rs.getObject("build_number") == null ? null : rs.getLong("build_number"),
                        read(rs.getString("data"), OBJECT_MAP)),
                query.workspaceId());
    }

    /** Initial result of a watch: the current view (if any); updates follow through the emitter. */
    @QueryHandler
    public Optional<WorkspaceView> handle(WorkspaceQueries.WatchWorkspace query) {
        return find(query.workspaceId());
    }

    @QueryHandler
    public List<WorkspaceView> handle(WorkspaceQueries.WatchWorkspaces query) {
        return List.of();
    }

    @Override
    public String kind() {
        return VIEW_KIND;
    }

    /** A workspace projected on another node: pushed to this node's watch streams, if any is open. */
    @Override
    public void changedElsewhere(ViewNotice notice) {
        boolean watched = updates.activeSubscriptions().stream().map(q -> q.getPayload()).anyMatch(q ->
                q instanceof WorkspaceQueries.WatchWorkspace || q instanceof WorkspaceQueries.WatchWorkspaces);
        if (watched) {
            publish(notice.id());
        }
    }

    /** In the batch's transaction: the other nodes hear of it at commit; this node's streams get it at once. */
    private void changed(String workspaceId) {
        notices.changed(VIEW_KIND, workspaceId, null);
        publish(workspaceId);
    }

    private void publish(String workspaceId) {
        find(workspaceId).ifPresent(view -> {
            updates.emit(WorkspaceQueries.WatchWorkspace.class, q -> q.matches(view), view);
            updates.emit(WorkspaceQueries.WatchWorkspaces.class, q -> q.matches(view), view);
        });
    }

    private Optional<WorkspaceView> find(String id) {
        return jdbc.query("SELECT * FROM workspace_view WHERE id = ?", this::view, id).stream().findFirst();
    }

    private void history(String workspaceId, long sequence, String type, java.time.Instant time, String actor,
                         String reason, Long build, EventMessage<?> message) {
        if (actor == null) {
            // Outcomes reported by the engine itself carry their actor only in the metadata.
            Object fromMetadata = message.getMetaData().get("actorId");
            actor = fromMetadata == null ? null : fromMetadata.toString();
        }
        Map<String, Object> data = new LinkedHashMap<>(json.convertValue(message.getPayload(), OBJECT_MAP));
        data.remove("workspaceId");
        jdbc.update("""
                        INSERT INTO workspace_history (workspace_id, sequence, type, time, actor, reason, build_number, data)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT DO NOTHING""",
                workspaceId, sequence, type, ts(time), actor, reason, build, write(data));
    }

    private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private WorkspaceView view(ResultSet rs, int row) throws SQLException {
        String transition = rs.getString("last_transition");
        return new WorkspaceView(rs.getString("id"), rs.getString("name"), rs.getString("owner"),
                rs.getString("team"), rs.getString("kind"), rs.getString("template_id"),
                rs.getInt("template_version"), rs.getString("provider"), rs.getString("status"),
                rs.getLong("build_number"),
                transition == null ? null : new WorkspaceView.LastTransition(transition, rs.getString("last_reason"),
                        rs.getString("last_actor"), rs.getString("last_error")),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant(),
                rs.getString("connection") == null ? null : read(rs.getString("connection"), STRING_MAP),
                read(rs.getString("labels"), STRING_MAP),
                rs.getTimestamp("auto_stop_at") == null ? null : new WorkspaceView.AutoStop(
                        rs.getTimestamp("auto_stop_at").toInstant(), rs.getString("auto_stop_reason")),
                rs.getBoolean("dormant"));
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private <T> T read(String value, TypeReference<T> type) {
        try {
            return json.readValue(value, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.sql.Timestamp ts(java.time.Instant instant) {
        return java.sql.Timestamp.from(instant);
    }

    /** Keyset position: the last row of a page, opaque to clients. */
    record Cursor(java.time.Instant createdAt, String id) {

        String encode() {
            String raw = createdAt.toString() + "|" + id;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String cursor) {
            try {
                String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
                int bar = raw.indexOf('|');
                return new Cursor(java.time.Instant.parse(raw.substring(0, bar)), raw.substring(bar + 1));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cursor " + dev.atelier.domain.shared.Text.quote(cursor) + " is not valid; use nextCursor of a page");
            }
        }
    }
}
