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
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.List;
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
     * writes of the segments take turns; everything else in a batch still runs in parallel.
     */
    static final long ROLLUP_LOCK = 0x61746c2d636f7374L;

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
        jdbc.update("""
                        INSERT INTO cost_workspace (workspace_id, name, owner, team, template_id, provider, status, billing,
                            price_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'NONE', ?) ON CONFLICT DO NOTHING""",
                e.workspaceId(), e.name(), e.owner(), e.team(), e.templateId(), e.provider(),
                WorkspaceStatus.PENDING.name(), e.templateVersion());
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        Row row = row(e.workspaceId());
        if (row == null) {
            return;
        }
        if (e.transition() == Transition.START) {
            // Money is spent again from here: savings of an earlier automatic stop end.
            jdbc.update("UPDATE cost_saving SET ends_at = ? WHERE workspace_id = ? AND ends_at IS NULL",
                    ts(at), e.workspaceId());
            jdbc.update("""
                            UPDATE cost_workspace SET status = ?, price_version = ?, pending_auto_reason = NULL,
                                pending_auto_at = NULL WHERE workspace_id = ?""",
                    e.transition().during().name(), e.templateVersion(), e.workspaceId());
            // Always a new interval: the price may change with the version this start uses.
            bill(row, Billing.RUNNING, e.templateVersion(), at, seq, true);
        } else {
            boolean automatic = AUTOMATIC.contains(e.reason());
            jdbc.update("""
                            UPDATE cost_workspace SET status = ?, pending_auto_reason = ?, pending_auto_at = ?
                            WHERE workspace_id = ?""",
                    e.transition().during().name(), automatic ? e.reason().name() : null, automatic ? ts(at) : null,
                    e.workspaceId());
        }
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        Row row = row(e.workspaceId());
        if (row == null) {
            return;
        }
        jdbc.update("UPDATE cost_workspace SET status = ?, has_resource = has_resource OR ? WHERE workspace_id = ?",
                e.transition().after().name(), e.transition() == Transition.START, e.workspaceId());
        if (e.transition() == Transition.START) {
            return;
        }
        Billing after = e.transition() == Transition.STOP ? Billing.STOPPED : Billing.NONE;
        bill(row, after, row.priceVersion, at, seq, false);
        if (row.pendingAutoReason != null && row.billing != after) {
            jdbc.update("""
                            INSERT INTO cost_saving (workspace_id, seq, reason, transition, decided_at, at, from_state,
                                to_state, template_id, template_version, workspace_name, owner, team, provider)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                    row.id, seq, row.pendingAutoReason, e.transition().name(), ts(row.pendingAutoAt), ts(at),
                    row.billing.name(), after.name(), row.templateId, row.priceVersion, row.name, row.owner, row.team,
                    row.provider);
        }
        jdbc.update("UPDATE cost_workspace SET pending_auto_reason = NULL, pending_auto_at = NULL WHERE workspace_id = ?",
                e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Instant at = seconds(time);
        Row row = row(e.workspaceId());
        if (row == null) {
            return;
        }
        jdbc.update("""
                        UPDATE cost_workspace SET status = ?, pending_auto_reason = NULL, pending_auto_at = NULL
                        WHERE workspace_id = ?""", WorkspaceStatus.FAILED.name(), e.workspaceId());
        if (e.transition() == Transition.START) {
            // The machine did not come up; its disk exists if it ever ran.
            bill(row, row.hasResource ? Billing.STOPPED : Billing.NONE, row.priceVersion, at, seq, false);
        }
    }

    /** Found stopped outside Atelier: billed as stopped (the disk remains); found gone: billed no more. */
    @EventHandler
    void on(WorkspaceDriftedEvent e, @Timestamp Instant time, @SequenceNumber long seq) {
        Row row = row(e.workspaceId());
        if (row == null) {
            return;
        }
        jdbc.update("""
                        UPDATE cost_workspace SET status = ?, pending_auto_reason = NULL, pending_auto_at = NULL
                        WHERE workspace_id = ?""", e.to().name(), e.workspaceId());
        bill(row, e.found() == DriftFinding.GONE ? Billing.NONE : Billing.STOPPED, row.priceVersion, seconds(time), seq,
                false);
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
    private void bill(Row row, Billing state, int version, Instant at, long seq, boolean always) {
        if (!always && row.billing == state) {
            return;
        }
        // Taken again per close: re-entrant within the transaction, and released if a parked event's savepoint is
        // rolled back.
        jdbc.query("SELECT pg_advisory_xact_lock(?)", rs -> { }, ROLLUP_LOCK);
        jdbc.update(CLOSE_INTERVAL, ts(at), row.id);
        if (state != Billing.NONE) {
            jdbc.update("""
                            INSERT INTO cost_interval (workspace_id, seq, state, start_at, template_id, template_version,
                                workspace_name, owner, team, provider)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                    row.id, seq, state.name(), ts(at), row.templateId, version, row.name, row.owner, row.team,
                    row.provider);
        }
        jdbc.update("UPDATE cost_workspace SET billing = ?, billing_since = ? WHERE workspace_id = ?", state.name(),
                state == Billing.NONE ? null : ts(at), row.id);
    }

    private Row row(String workspaceId) {
        List<Row> rows = jdbc.query("SELECT * FROM cost_workspace WHERE workspace_id = ?", (rs, i) -> new Row(
                rs.getString("workspace_id"), rs.getString("name"), rs.getString("owner"), rs.getString("team"),
                rs.getString("template_id"), rs.getString("provider"), Billing.valueOf(rs.getString("billing")),
                rs.getInt("price_version"), rs.getBoolean("has_resource"), rs.getString("pending_auto_reason"),
                rs.getTimestamp("pending_auto_at") == null ? null : rs.getTimestamp("pending_auto_at").toInstant()),
                workspaceId);
        return rows.isEmpty() ? null : rows.get(0);
    }

    static Instant seconds(Instant time) {
        return time.truncatedTo(ChronoUnit.SECONDS);
    }

    private static java.sql.Timestamp ts(Instant instant) {
        return instant == null ? null : java.sql.Timestamp.from(instant);
    }

    private static String clip(String note) {
        return note.length() <= 500 ? note : note.substring(0, 497) + "...";
    }

    /** What a workspace is billed for at a moment. */
    public enum Billing { RUNNING, STOPPED, NONE }

    private record Row(String id, String name, String owner, String team, String templateId, String provider,
                       Billing billing, int priceVersion, boolean hasResource, String pendingAutoReason,
                       Instant pendingAutoAt) {
    }
}
