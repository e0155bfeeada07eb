package dev.atelier.projections.workspaces;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.cluster.ViewChangeHandler;
import dev.atelier.cluster.ViewNotice;
import dev.atelier.cluster.ViewNotices;
import dev.atelier.config.BatchRows;
import dev.atelier.config.EventRollbacks;
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
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.queryhandling.QueryHandler;
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
 * The workspace list, detail and history, kept by its own pooled processor in batches: the events of one unit of
 * work (up to the processor's batch size, one transaction and one token update) change rows held in memory, which
 * are written together just before the batch commits ({@link Batch}). After each event the view it left is pushed
 * to subscription queries (only while a watch is open), which the API turns into server-sent events; they are sent
 * after the commit, so a watcher never sees a change that was rolled back.
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
    private final WorkspaceWatchers watchers;
    private final ViewNotices notices;

    public WorkspaceProjection(JdbcTemplate jdbc, ObjectMapper json, WorkspaceWatchers watchers, ViewNotices notices) {
        this.jdbc = jdbc;
        this.json = json;
        this.watchers = watchers;
        this.notices = notices;
    }

    @EventHandler
    void on(WorkspaceCreatedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "WorkspaceCreated", time, e.actor().id(), null, null,
                message);
        String labels = write(e.labels());
        Batch batch = batch();
        // As INSERT ... ON CONFLICT DO NOTHING did: a workspace already in the read model stays as it is.
        ViewRow row = batch.row(e.workspaceId());
        batch.undoable(e.workspaceId(), history);
        if (row == null) {
            row = new ViewRow(e.workspaceId());
            row.name = e.name();
            row.owner = e.owner();
            row.team = e.team();
            row.kind = e.kind().name();
            row.templateId = e.templateId();
            row.templateVersion = e.templateVersion();
            row.provider = e.provider();
            row.status = WorkspaceStatus.PENDING.name();
            row.buildNumber = 0;
            row.labels = labels;
            row.createdAt = time;
            row.updatedAt = time;
            batch.put(row);
        }
        batch.changed(history, e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "TransitionStarted", time, e.actor().id(),
                e.reason().name(), e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.status = e.transition().during().name();
            row.buildNumber = e.buildNumber();
            row.templateVersion = e.templateVersion();
            row.lastTransition = e.transition().name();
            row.lastReason = e.reason().name();
            row.lastActor = e.actor().id();
            row.lastError = null;
            row.autoStopAt = null;
            row.autoStopReason = null;
            row.dormant = false;
            row.updatedAt = time;
        });
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "TransitionSucceeded", time, null, null,
                e.buildNumber(), message);
        String connection = e.connection().isEmpty() ? null : write(e.connection());
        update(e.workspaceId(), history, row -> {
            row.status = e.transition().after().name();
            row.connection = connection;
            row.lastError = e.providerError();
            row.updatedAt = time;
        });
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "TransitionFailed", time, null, null,
                e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.status = WorkspaceStatus.FAILED.name();
            row.lastError = e.error();
            row.updatedAt = time;
        });
    }

    /** Reality changed behind the engine's back: shown as a transition {@code DRIFT} for reason SYSTEM. */
    @EventHandler
    void on(WorkspaceDriftedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "Drifted", time,
                dev.atelier.domain.shared.Actor.SYSTEM.id(), e.reason().name(), e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.status = e.to().name();
            row.lastTransition = "DRIFT";
            row.lastReason = e.reason().name();
            row.lastActor = dev.atelier.domain.shared.Actor.SYSTEM.id();
            row.lastError = e.detail();
            row.connection = null;
            row.autoStopAt = null;
            row.autoStopReason = null;
            row.updatedAt = time;
        });
    }

    @EventHandler
    void on(WorkspaceTemplateVersionChangedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "TemplateVersionChanged", time, e.actor().id(), null,
                null, message);
        update(e.workspaceId(), history, row -> row.updatedAt = time);
    }

    @EventHandler
    void on(WorkspaceIdleWarningEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "IdleStopWarning", time, null, "IDLE",
                e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.autoStopAt = e.stopAt();
            row.autoStopReason = "IDLE";
            row.updatedAt = time;
        });
    }

    @EventHandler
    void on(WorkspaceKeepAliveExtendedEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "KeepAliveExtended", time, e.actor().id(), null,
                e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.autoStopAt = null;
            row.autoStopReason = null;
            row.updatedAt = time;
        });
    }

    @EventHandler
    void on(WorkspaceMarkedDormantEvent e, EventMessage<?> message, @SequenceNumber long sequence,
            @Timestamp java.time.Instant time) {
        HistoryRow history = history(e.workspaceId(), sequence, "MarkedDormant", time, null, "DORMANCY",
                e.buildNumber(), message);
        update(e.workspaceId(), history, row -> {
            row.dormant = true;
            row.autoStopAt = e.deleteAt();
            row.autoStopReason = e.deleteAt() == null ? null : "DORMANCY";
            row.updatedAt = time;
        });
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

    @Override
    public String kind() {
        return VIEW_KIND;
    }

    /** A workspace projected on another node: pushed to this node's watch streams, if any is open. */
    @Override
    public void changedElsewhere(ViewNotice notice) {
        if (watched()) {
            publish(notice.id());
        }
    }

    /** Whether any watch stream of this node is open; when nobody watches, no update is built at all. */
    private boolean watched() {
        return watchers.watched();
    }

    /** Re-reads the row: only for a change another node made, which this node holds nothing of. */
    private void publish(String workspaceId) {
        find(workspaceId).ifPresent(this::emit);
    }

    /**
     * Hands a view to its watchers on this node (by workspace and owner, {@link WorkspaceWatchers}): for this node's
     * own changes only after their batch has committed ({@link Batch#emitAll}), so watchers never see a view whose
     * batch was rolled back.
     */
    private void emit(WorkspaceView view) {
        watchers.publish(view);
    }

    private Optional<WorkspaceView> find(String id) {
        return jdbc.query("SELECT * FROM workspace_view WHERE id = ?", this::view, id).stream().findFirst();
    }

    /** Applies an event's change to the workspace's row (none if the read model has no such workspace). */
    private void update(String workspaceId, HistoryRow history, java.util.function.Consumer<ViewRow> change) {
        Batch batch = batch();
        ViewRow row = batch.row(workspaceId);
        batch.undoable(workspaceId, history);
        if (row != null) {
            change.accept(row);
            batch.dirty(workspaceId);
        }
        batch.changed(history, workspaceId);
    }

    /**
     * The batch the event being handled belongs to: one per unit of work, which a pooled processor opens for up to
     * {@code batch-size} events of one segment, in one transaction that also stores the segment's token. Outside a
     * unit of work (never for a processor, but safe) the batch is written at once.
     */
    private Batch batch() {
        if (!CurrentUnitOfWork.isStarted()) {
            return new Batch(true);
        }
        UnitOfWork<?> unitOfWork = CurrentUnitOfWork.get();
        return unitOfWork.root().getOrComputeResource(BATCH, key -> {
            Batch batch = new Batch(false);
            unitOfWork.root().onPrepareCommit(u -> batch.flush());
            // After the commit: watchers never see a view whose batch was rolled back.
            unitOfWork.root().afterCommit(u -> batch.emitAll());
            return batch;
        });
    }

    /** The workspace's row of workspace_view, or {@code null} when the read model has none. */
    private ViewRow readRow(String workspaceId) {
        return jdbc.query("SELECT * FROM workspace_view WHERE id = ?", (rs, i) -> ViewRow.read(rs), workspaceId)
                .stream().findFirst().orElse(null);
    }

    private HistoryRow history(String workspaceId, long sequence, String type, java.time.Instant time, String actor,
                               String reason, Long build, EventMessage<?> message) {
        if (actor == null) {
            // Outcomes reported by the engine itself carry their actor only in the metadata.
            Object fromMetadata = message.getMetaData().get("actorId");
            actor = fromMetadata == null ? null : fromMetadata.toString();
        }
        Map<String, Object> data = new LinkedHashMap<>(json.convertValue(message.getPayload(), OBJECT_MAP));
        data.remove("workspaceId");
        return new HistoryRow(workspaceId, sequence, type, time, actor, reason, build, write(data));
    }

    /**
     * What one batch changes, written once at the end: the rows of the workspaces it touched (read at most once per
     * batch, then kept in {@link BatchRows}, so a second event of the same workspace needs no query), its history rows,
     * and which views changed. Event handlers only change this in memory, after everything that could fail in this
     * projection for that event has been worked out; should another handler of the group fail for the same event and
     * the event be parked in the dead-letter queue, {@link #undoable} restores what the event had changed here, so a
     * parked event leaves nothing behind. {@link #flush()} writes it with two JDBC batch statements in the batch's
     * transaction, just before the token is stored with it.
     */
    private final class Batch {
        private final boolean immediate;
        private final BatchRows<String, ViewRow> rows = new BatchRows<>(WorkspaceProjection.this::readRow,
                ViewRow::copy);
        private final Map<List<Object>, HistoryRow> history = new LinkedHashMap<>();
        private final java.util.Set<String> noticed = new java.util.LinkedHashSet<>();
        /** Views to hand to this node's watchers, one per event in order. */
        private final List<WorkspaceView> emitted = new ArrayList<>();

        Batch(boolean immediate) {
            this.immediate = immediate;
        }

        ViewRow row(String id) {
            return rows.get(id);
        }

        /**
         * Remembers how the batch was before this event changes the workspace's row, its history and the updates to
         * emit, and restores that if the event is parked in the dead-letter queue ({@link EventRollbacks}): its
         * savepoint undoes its statements, this undoes what the batch only holds.
         */
        void undoable(String id, HistoryRow row) {
            if (immediate || !EventRollbacks.armed()) { // no savepoint: a failure rolls back the whole batch
                return;
            }
            Runnable rowBack = rows.undo(id);
            List<Object> key = List.of(row.workspaceId(), row.sequence());
            boolean hadHistory = history.containsKey(key);
            int emittedBefore = emitted.size();
            EventRollbacks.onRollBack(() -> {
                rowBack.run();
                if (!hadHistory) {
                    history.remove(key);
                }
                emitted.subList(emittedBefore, emitted.size()).clear();
            });
        }

        void put(ViewRow row) {
            rows.add(row.id, row);
        }

        void dirty(String workspaceId) {
            rows.changed(workspaceId);
        }

        /**
         * Records the event's history row and, for watchers of this node, the view as this event left it (an
         * immutable snapshot, so a later event of the same batch does not change what this one shows), handed to the
         * watchers after the batch has committed; other nodes are told once per workspace and batch (they read the
         * row themselves).
         */
        void changed(HistoryRow row, String workspaceId) {
            // ON CONFLICT DO NOTHING, as one statement per event had it: the first row for a key wins.
            history.putIfAbsent(List.of(row.workspaceId(), row.sequence()), row);
            noticed.add(workspaceId);
            ViewRow view = rows.held(workspaceId);
            if (view != null && watched()) {
                emitted.add(view.toView(WorkspaceProjection.this));
            }
            if (immediate) {
                flush();
            }
        }

        /** After the batch has committed: this node's watchers get every view in the order of the events. */
        void emitAll() {
            emitted.forEach(WorkspaceProjection.this::emit);
            emitted.clear();
        }

        void flush() {
            if (rows.hasChanges()) {
                // One upsert for a new row and a changed one alike: whether it is new does not matter here.
                List<Object[]> args = new ArrayList<>(rows.changeCount());
                rows.forEachChange((row, isNew) -> args.add(row.arguments()));
                jdbc.batchUpdate(UPSERT_VIEW, args);
                rows.written();
            }
            if (!history.isEmpty()) {
                List<Object[]> args = new ArrayList<>(history.size());
                for (HistoryRow h : history.values()) {
                    args.add(new Object[]{h.workspaceId(), h.sequence(), h.type(), ts(h.time()), h.actor(), h.reason(),
                            h.build(), h.data()});
                }
                jdbc.batchUpdate("""
                        INSERT INTO workspace_history (workspace_id, sequence, type, time, actor, reason, build_number, data)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT DO NOTHING""", args);
                history.clear();
            }
            if (immediate) {
                emitAll();
            }
            for (String id : noticed) {
                // In the batch's transaction: the other nodes hear of it at commit, and nothing on rollback.
                notices.changed(VIEW_KIND, id, null);
            }
            noticed.clear();
        }
    }

    private static final String BATCH = WorkspaceProjection.class.getName() + ".batch";

    /** Every column of a view row, one statement for a new workspace and a changed one alike. */
    private static final String UPSERT_VIEW = """
            INSERT INTO workspace_view (id, name, owner, team, kind, template_id, template_version, provider, status,
                build_number, last_transition, last_reason, last_actor, last_error, connection, labels, created_at,
                updated_at, auto_stop_at, auto_stop_reason, dormant)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, owner = EXCLUDED.owner, team = EXCLUDED.team,
                kind = EXCLUDED.kind, template_id = EXCLUDED.template_id, template_version = EXCLUDED.template_version,
                provider = EXCLUDED.provider, status = EXCLUDED.status, build_number = EXCLUDED.build_number,
                last_transition = EXCLUDED.last_transition, last_reason = EXCLUDED.last_reason,
                last_actor = EXCLUDED.last_actor, last_error = EXCLUDED.last_error, connection = EXCLUDED.connection,
                labels = EXCLUDED.labels, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
                auto_stop_at = EXCLUDED.auto_stop_at, auto_stop_reason = EXCLUDED.auto_stop_reason,
                dormant = EXCLUDED.dormant""";

    private record HistoryRow(String workspaceId, long sequence, String type, java.time.Instant time, String actor,
                              String reason, Long build, String data) {
    }

    /** A row of workspace_view as the batch holds it; JSON columns stay text as written. */
    private static final class ViewRow {
        final String id;
        String name;
        String owner;
        String team;
        String kind;
        String templateId;
        int templateVersion;
        String provider;
        String status;
        long buildNumber;
        String lastTransition;
        String lastReason;
        String lastActor;
        String lastError;
        String connection;
        String labels;
        java.time.Instant createdAt;
        java.time.Instant updatedAt;
        java.time.Instant autoStopAt;
        String autoStopReason;
        boolean dormant;

        ViewRow(String id) {
            this.id = id;
        }

        ViewRow copy() {
            ViewRow c = new ViewRow(id);
            c.name = name;
            c.owner = owner;
            c.team = team;
            c.kind = kind;
            c.templateId = templateId;
            c.templateVersion = templateVersion;
            c.provider = provider;
            c.status = status;
            c.buildNumber = buildNumber;
            c.lastTransition = lastTransition;
            c.lastReason = lastReason;
            c.lastActor = lastActor;
            c.lastError = lastError;
            c.connection = connection;
            c.labels = labels;
            c.createdAt = createdAt;
            c.updatedAt = updatedAt;
            c.autoStopAt = autoStopAt;
            c.autoStopReason = autoStopReason;
            c.dormant = dormant;
            return c;
        }

        static ViewRow read(ResultSet rs) throws SQLException {
            ViewRow r = new ViewRow(rs.getString("id"));
            r.name = rs.getString("name");
            r.owner = rs.getString("owner");
            r.team = rs.getString("team");
            r.kind = rs.getString("kind");
            r.templateId = rs.getString("template_id");
            r.templateVersion = rs.getInt("template_version");
            r.provider = rs.getString("provider");
            r.status = rs.getString("status");
            r.buildNumber = rs.getLong("build_number");
            r.lastTransition = rs.getString("last_transition");
            r.lastReason = rs.getString("last_reason");
            r.lastActor = rs.getString("last_actor");
            r.lastError = rs.getString("last_error");
            r.connection = rs.getString("connection");
            r.labels = rs.getString("labels");
            r.createdAt = rs.getTimestamp("created_at").toInstant();
            r.updatedAt = rs.getTimestamp("updated_at").toInstant();
            r.autoStopAt = rs.getTimestamp("auto_stop_at") == null ? null : rs.getTimestamp("auto_stop_at").toInstant();
            r.autoStopReason = rs.getString("auto_stop_reason");
            r.dormant = rs.getBoolean("dormant");
            return r;
        }

        Object[] arguments() {
            return new Object[]{id, name, owner, team, kind, templateId, templateVersion, provider, status, buildNumber,
                    lastTransition, lastReason, lastActor, lastError, connection, labels, ts(createdAt), ts(updatedAt),
                    autoStopAt == null ? null : ts(autoStopAt), autoStopReason, dormant};
        }

        /** The view as a read of the row would show it (the same mapping as {@link #view}). */
        WorkspaceView toView(WorkspaceProjection projection) {
            return new WorkspaceView(id, name, owner, team, kind, templateId, templateVersion, provider, status,
                    buildNumber,
                    lastTransition == null ? null : new WorkspaceView.LastTransition(lastTransition, lastReason,
                            lastActor, lastError),
                    micros(createdAt), micros(updatedAt),
                    connection == null ? null : projection.read(connection, STRING_MAP),
                    projection.read(labels, STRING_MAP),
                    autoStopAt == null ? null : new WorkspaceView.AutoStop(micros(autoStopAt), autoStopReason),
                    dormant);
        }

        /** As PostgreSQL stores it (to the nearest microsecond), so an update shows what a read of the row would. */
        private static java.time.Instant micros(java.time.Instant time) {
            return time.plusNanos(500).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        }
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
