package dev.atelier.projections.cost;

import dev.atelier.domain.template.TemplateCreatedEvent;
import dev.atelier.domain.template.TemplateVersionPublishedEvent;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.DriftFinding;
import dev.atelier.domain.workspace.WorkspaceDriftedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import dev.atelier.config.BatchRows;
import dev.atelier.config.EventRollbacks;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cost read model: usage intervals per workspace (time at one price: running or stopped, with the template
 * version whose prices apply), the prices of every template version, and the automatic stops that saved money.
 * Built from events only, by its own tracking processor, so that a reset rebuilds it identically (docs/costs.md).
 *
 * <p>Billing follows the status: STARTING, RUNNING and STOPPING at the running price (the machine is up); STOPPED at
 * the stopped price (the disk); DELETED and a first start that failed at nothing. A failed start of a workspace
 * that ran before is billed as stopped (its disk exists); a failed stop or delete keeps the price it had. The
 * template version in force is the one of the last START, so a new version's prices apply from the start that uses
 * it, never retroactively. Times are truncated to whole seconds.
 */
@Component
@ProcessingGroup(CostProjection.PROCESSING_GROUP)
public class CostProjection {

    public static final String PROCESSING_GROUP = "costs";
    /** Reasons of the engine's own stops and deletes that count as savings. */
    public static final Set<TransitionReason> AUTOMATIC = EnumSet.of(TransitionReason.IDLE,
            TransitionReason.MAX_LIFETIME, TransitionReason.BUDGET, TransitionReason.SCHEDULE, TransitionReason.DORMANCY);

    /**
     * Closes the workspace's open interval and adds its seconds, per UTC day, to the daily rollup and, per UTC month,
     * to the owner's monthly rollup that reports read ({@link CostUsage}); one statement, so the interval and its
     * rollups share a transaction. Rows are locked in key order, so that two segments closing intervals of the same
     * team or owner cannot deadlock.
     */
    static final String CLOSE_INTERVAL = """
            WITH closed AS (
                UPDATE cost_interval SET end_at = ? WHERE workspace_id = ? AND end_at IS NULL
                RETURNING start_at AT TIME ZONE 'UTC' AS s, end_at AT TIME ZONE 'UTC' AS e, coalesce(team, '') AS team,
                    owner, template_id, template_version, provider, state),
            daily AS (
                INSERT INTO cost_usage_day AS u (day, team, template_id, template_version, provider, state, seconds)
                SELECT d::date, c.team, c.template_id, c.template_version, c.provider, c.state,
                    sum(extract(epoch FROM least(c.e, d + interval '1 day') - greatest(c.s, d)))::bigint
                FROM closed c CROSS JOIN LATERAL generate_series(date_trunc('day', c.s), c.e - interval '1 second',
                    interval '1 day') AS d
                WHERE c.e > c.s
                GROUP BY 1, 2, 3, 4, 5, 6
                ORDER BY 1, 2, 3, 4, 5, 6
                ON CONFLICT (day, team, template_id, template_version, provider, state)
                DO UPDATE SET seconds = u.seconds + EXCLUDED.seconds)
            INSERT INTO cost_usage_owner_month AS o (month, owner, template_id, template_version, provider, state, seconds)
            SELECT m::date, c.owner, c.template_id, c.template_version, c.provider, c.state,
                sum(extract(epoch FROM least(c.e, m + interval '1 month') - greatest(c.s, m)))::bigint
            FROM closed c CROSS JOIN LATERAL generate_series(date_trunc('month', c.s), c.e - interval '1 second',
                interval '1 month') AS m
            WHERE c.e > c.s
            GROUP BY 1, 2, 3, 4, 5, 6
            ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (month, owner, template_id, template_version, provider, state)
            DO UPDATE SET seconds = o.seconds + EXCLUDED.seconds""";

    /**
     * Transaction-level advisory lock taken before the rollups are touched. The rollups' rows are shared by every
     * workspace of a team (and of an owner), and each segment of this processor now writes a whole batch of them in
     * one transaction: two segments would lock the same rows in different orders and deadlock (seen in the
     * benchmark as retried batches). Holding this lock from the first rollup write to the commit makes the rollup
     * writes of the segments take turns; everything else in a batch still runs in parallel. A batch takes it once,
     * when it writes its closes ({@link Batch#flush()}).
     */
    static final long ROLLUP_LOCK = 0x61746c2d636f7374L;

    private static final String BATCH = CostProjection.class.getName() + ".batch";

    private final JdbcTemplate jdbc;
    private final PriceCatalogue catalogue;

    public CostProjection(JdbcTemplate jdbc, PriceCatalogue catalogue) {
        this.jdbc = jdbc;
        this.catalogue = catalogue;
    }

    @EventHandler
    void on(TemplateCreatedEvent e) {
        jdbc.update("INSERT INTO cost_template (template_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
                e.templateId(), e.name());
    }

    @EventHandler
    void on(TemplateVersionPublishedEvent e) {
        PriceCatalogue.ResolvedPrice p = catalogue.resolve(e.definition());
        jdbc.update("""
                        INSERT INTO cost_price (template_id, version, provider, machine_type, currency, running_per_hour,
                            stopped_per_hour, running_note, stopped_note)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                e.templateId(), e.version(), p.provider(), p.machineType(), p.currency(), p.runningPerHour(),
                p.stoppedPerHour(), clip(p.runningNote()), clip(p.stoppedNote()));
    }

    @EventHandler
    void on(WorkspaceCreatedEvent e) {
        handle(batch -> {
            if (batch.row(e.workspaceId()) != null) {
                return; // as ON CONFLICT DO NOTHING had it: the first creation wins
            }
            batch.undoable(e.workspaceId());
            batch.created(new Row(e.workspaceId(), e.name(), e.owner(), e.team(), e.templateId(), e.provider(),
                    WorkspaceStatus.PENDING.name(), Billing.NONE, null, e.templateVersion(), false, null, null));
        });
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        handle(batch -> {
            Row row = batch.row(e.workspaceId());
            if (row == null) {
                return;
            }
            batch.undoable(row.id);
            row.status = e.transition().during().name();
            if (e.transition() == Transition.START) {
                // Money is spent again from here: savings of an earlier automatic stop end.
                batch.add(row.id, Op.END_SAVINGS, new Object[]{ts(at), row.id});
                row.priceVersion = e.templateVersion();
                row.pendingAutoReason = null;
                row.pendingAutoAt = null;
                // Always a new interval: the price may change with the version this start uses.
                bill(batch, row, Billing.RUNNING, e.templateVersion(), at, seq, true);
            } else {
                boolean automatic = AUTOMATIC.contains(e.reason());
                row.pendingAutoReason = automatic ? e.reason().name() : null;
                row.pendingAutoAt = automatic ? at : null;
            }
            batch.dirty(row);
        });
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        handle(batch -> {
            Row row = batch.row(e.workspaceId());
            if (row == null) {
                return;
            }
            batch.undoable(row.id);
            row.status = e.transition().after().name();
            row.hasResource = row.hasResource || e.transition() == Transition.START;
            batch.dirty(row);
            if (e.transition() == Transition.START) {
                return;
            }
            Billing before = row.billing;
            String pendingReason = row.pendingAutoReason;
            Instant pendingAt = row.pendingAutoAt;
            Billing after = e.transition() == Transition.STOP ? Billing.STOPPED : Billing.NONE;
            bill(batch, row, after, row.priceVersion, at, seq, false);
            if (pendingReason != null && before != after) {
                batch.add(row.id, Op.SAVING, new Object[]{row.id, seq, pendingReason, e.transition().name(),
                        ts(pendingAt), ts(at), before.name(), after.name(), row.templateId, row.priceVersion, row.name,
                        row.owner, row.team, row.provider});
            }
            row.pendingAutoReason = null;
            row.pendingAutoAt = null;
        });
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        handle(batch -> {
            Row row = batch.row(e.workspaceId());
            if (row == null) {
                return;
            }
            batch.undoable(row.id);
            row.status = WorkspaceStatus.FAILED.name();
            row.pendingAutoReason = null;
            row.pendingAutoAt = null;
            batch.dirty(row);
            if (e.transition() == Transition.START) {
                // The machine did not come up; its disk exists if it ever ran.
                bill(batch, row, row.hasResource ? Billing.STOPPED : Billing.NONE, row.priceVersion, at, seq, false);
            }
        });
    }

    /** Found stopped outside Atelier: billed as stopped (the disk remains); found gone: billed no more. */
    @EventHandler
    void on(WorkspaceDriftedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        handle(batch -> {
            Row row = batch.row(e.workspaceId());
            if (row == null) {
                return;
            }
            batch.undoable(row.id);
            row.status = e.to().name();
            row.pendingAutoReason = null;
            row.pendingAutoAt = null;
            batch.dirty(row);
            bill(batch, row, e.found() == DriftFinding.GONE ? Billing.NONE : Billing.STOPPED, row.priceVersion,
                    seconds(time), seq, false);
        });
    }

    @ResetHandler
    void reset() {
        jdbc.update("DELETE FROM cost_usage_day");
        jdbc.update("DELETE FROM cost_usage_owner_month");
        jdbc.update("DELETE FROM cost_saving");
        jdbc.update("DELETE FROM cost_interval");
        jdbc.update("DELETE FROM cost_workspace");
        jdbc.update("DELETE FROM cost_price");
        jdbc.update("DELETE FROM cost_template");
    }

    /** Closes the open interval at {@code at} and opens one in the new state (none for NONE). */
    private static void bill(Batch batch, Row row, Billing state, int version, Instant at, long seq, boolean always) {
        if (!always && row.billing == state) {
            return;
        }
        batch.add(row.id, Op.CLOSE, new Object[]{ts(at), row.id});
        if (state != Billing.NONE) {
            batch.add(row.id, Op.OPEN, new Object[]{row.id, seq, state.name(), ts(at), row.templateId, version,
                    row.name, row.owner, row.team, row.provider});
        }
        row.billing = state;
        row.billingSince = state == Billing.NONE ? null : at;
    }

    /** Handles an event in its batch; outside a unit of work its changes are written at once. */
    private void handle(java.util.function.Consumer<Batch> handler) {
        Batch batch = batch();
        handler.accept(batch);
        if (batch.immediate) {
            batch.flush();
        }
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
            return batch;
        });
    }

    /** A write to the interval, rollup and saving tables, in the order of a workspace's events. */
    enum Op {
        END_SAVINGS("UPDATE cost_saving SET ends_at = ? WHERE workspace_id = ? AND ends_at IS NULL"),
        CLOSE(CLOSE_INTERVAL),
        OPEN("""
                INSERT INTO cost_interval (workspace_id, seq, state, start_at, template_id, template_version,
                    workspace_name, owner, team, provider)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"""),
        SAVING("""
                INSERT INTO cost_saving (workspace_id, seq, reason, transition, decided_at, at, from_state,
                    to_state, template_id, template_version, workspace_name, owner, team, provider)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""");

        private final String sql;

        Op(String sql) {
            this.sql = sql;
        }
    }

    private record Write(Op op, Object[] args) {
    }

    /**
     * What one batch changes, written once at its end (issue #15: the costs rebuild ran one statement per event and
     * moved no more than the unchanged audit projection). The {@code cost_workspace} rows the batch touches are read at
     * most once and changed in memory ({@link BatchRows}), then written with one JDBC batch statement each for new and
     * changed rows; the interval, rollup and saving writes are kept per workspace in the order of its events and
     * written in rounds (the first write of every workspace, then the second, ...), each round one JDBC batch statement
     * per kind of write: a workspace's writes keep their order, and writes of different workspaces touch different
     * interval and saving rows and only add to the rollups, so their order among each other does not matter. The rollup
     * lock ({@link #ROLLUP_LOCK}) is taken once, before the first interval is closed, and held to the commit. Should
     * another handler of the group fail for an event that is then parked, {@link #undoable} restores what the event had
     * changed here ({@link EventRollbacks}).
     */
    private final class Batch {
        private final boolean immediate;
        private final BatchRows<String, Row> rows = new BatchRows<>(CostProjection.this::read, Row::copy);
        private final Map<String, List<Write>> writes = new LinkedHashMap<>();

        Batch(boolean immediate) {
            this.immediate = immediate;
        }

        Row row(String id) {
            return rows.get(id);
        }

        /**
         * Before an event changes the workspace's row or its writes: how to restore them should the event be parked
         * in the dead-letter queue. Only an event retried with a savepoint can be ({@link EventRollbacks#armed()}).
         */
        void undoable(String id) {
            if (immediate || !EventRollbacks.armed()) {
                return;
            }
            Runnable rowBack = rows.undo(id);
            List<Write> own = writes.get(id);
            int writesBefore = own == null ? 0 : own.size();
            EventRollbacks.onRollBack(() -> {
                rowBack.run();
                List<Write> now = writes.get(id);
                if (now != null) {
                    now.subList(writesBefore, now.size()).clear();
                }
            });
        }

        void created(Row row) {
            rows.add(row.id, row);
        }

        void dirty(Row row) {
            rows.changed(row.id);
        }

        void add(String workspaceId, Op op, Object[] args) {
            writes.computeIfAbsent(workspaceId, k -> new ArrayList<>(4)).add(new Write(op, args));
        }

        void flush() {
            List<Object[]> inserts = new ArrayList<>();
            List<Object[]> updates = new ArrayList<>();
            rows.forEachChange((r, isNew) -> {
                if (isNew) {
                    inserts.add(new Object[]{r.id, r.name, r.owner, r.team, r.templateId, r.provider, r.status,
                            r.billing.name(), ts(r.billingSince), r.priceVersion, r.hasResource,
                            r.pendingAutoReason, ts(r.pendingAutoAt)});
                } else {
                    updates.add(new Object[]{r.status, r.billing.name(), ts(r.billingSince), r.priceVersion,
                            r.hasResource, r.pendingAutoReason, ts(r.pendingAutoAt), r.id});
                }
            });
            if (!inserts.isEmpty()) {
                jdbc.batchUpdate("""
                        INSERT INTO cost_workspace (workspace_id, name, owner, team, template_id, provider, status,
                            billing, billing_since, price_version, has_resource, pending_auto_reason, pending_auto_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""", inserts);
            }
            if (!updates.isEmpty()) {
                jdbc.batchUpdate("""
                        UPDATE cost_workspace SET status = ?, billing = ?, billing_since = ?, price_version = ?,
                            has_resource = ?, pending_auto_reason = ?, pending_auto_at = ? WHERE workspace_id = ?""",
                        updates);
            }
            rows.written();
            boolean locked = false;
            for (int round = 0; !writes.isEmpty(); round++) {
                Map<Op, List<Object[]>> byOp = new EnumMap<>(Op.class);
                for (java.util.Iterator<List<Write>> it = writes.values().iterator(); it.hasNext(); ) {
                    List<Write> own = it.next();
                    if (round >= own.size()) {
                        it.remove();
                        continue;
                    }
                    Write write = own.get(round);
                    byOp.computeIfAbsent(write.op(), k -> new ArrayList<>()).add(write.args());
                }
                for (Map.Entry<Op, List<Object[]>> entry : byOp.entrySet()) {
                    if (entry.getKey() == Op.CLOSE && !locked) {
                        // Re-entrant within the transaction; held until it ends.
                        jdbc.query("SELECT pg_advisory_xact_lock(?)", rs -> { }, ROLLUP_LOCK);
                        locked = true;
                    }
                    jdbc.batchUpdate(entry.getKey().sql, entry.getValue());
                }
            }
        }
    }

    /** The workspace's {@code cost_workspace} row, or {@code null} when the table has none. */
    private Row read(String workspaceId) {
        return jdbc.query("SELECT * FROM cost_workspace WHERE workspace_id = ?", (rs, i) -> new Row(
                rs.getString("workspace_id"), rs.getString("name"), rs.getString("owner"), rs.getString("team"),
                rs.getString("template_id"), rs.getString("provider"), rs.getString("status"),
                Billing.valueOf(rs.getString("billing")), instant(rs.getTimestamp("billing_since")),
                rs.getInt("price_version"), rs.getBoolean("has_resource"), rs.getString("pending_auto_reason"),
                instant(rs.getTimestamp("pending_auto_at"))), workspaceId).stream().findFirst().orElse(null);
    }

    static Instant seconds(Instant time) {
        return time.truncatedTo(ChronoUnit.SECONDS);
    }

    private static Instant instant(java.sql.Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }

    private static java.sql.Timestamp ts(Instant instant) {
        return instant == null ? null : java.sql.Timestamp.from(instant);
    }

    private static String clip(String note) {
        return note.length() <= 500 ? note : note.substring(0, 497) + "...";
    }

    /** What a workspace is billed for at a moment. */
    public enum Billing { RUNNING, STOPPED, NONE }

    /** A workspace's {@code cost_workspace} row as the batch has changed it so far. */
    private static final class Row {
        final String id;
        final String name;
        final String owner;
        final String team;
        final String templateId;
        final String provider;
        String status;
        Billing billing;
        Instant billingSince;
        int priceVersion;
        boolean hasResource;
        String pendingAutoReason;
        Instant pendingAutoAt;

        Row(String id, String name, String owner, String team, String templateId, String provider, String status,
            Billing billing, Instant billingSince, int priceVersion, boolean hasResource, String pendingAutoReason,
            Instant pendingAutoAt) {
            this.id = id;
            this.name = name;
            this.owner = owner;
            this.team = team;
            this.templateId = templateId;
            this.provider = provider;
            this.status = status;
            this.billing = billing;
            this.billingSince = billingSince;
            this.priceVersion = priceVersion;
            this.hasResource = hasResource;
            this.pendingAutoReason = pendingAutoReason;
            this.pendingAutoAt = pendingAutoAt;
        }

        Row copy() {
            return new Row(id, name, owner, team, templateId, provider, status, billing, billingSince, priceVersion,
                    hasResource, pendingAutoReason, pendingAutoAt);
        }
    }
}
