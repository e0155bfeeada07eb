package dev.atelier.projections.idle;

import dev.atelier.domain.template.Pricing;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.workspace.EffectivePolicy;
import dev.atelier.domain.workspace.PolicyDefaults;
import dev.atelier.domain.workspace.PolicyOverrides;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceIdleWarningEvent;
import dev.atelier.domain.workspace.WorkspaceKeepAliveExtendedEvent;
import dev.atelier.domain.workspace.WorkspaceKind;
import dev.atelier.domain.workspace.WorkspaceMarkedDormantEvent;
import dev.atelier.domain.workspace.WorkspaceStatus;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.queryhandling.QueryHandler;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The idle read model: what each workspace's policy is, since when it runs, and (with {@link ActivityIngestor})
 * since when nobody used it. Answers the idle report and the activity part of the workspace detail.
 */
@Component
@ProcessingGroup(IdleProjection.PROCESSING_GROUP)
public class IdleProjection {

    public static final String PROCESSING_GROUP = "idle";
    private static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);

    private final JdbcTemplate jdbc;
    private final ActivityIngestor activity;
    private final TemplateCatalog templates;
    private final PolicyDefaults defaults;
    private final Clock clock = Clock.systemUTC();

    public IdleProjection(JdbcTemplate jdbc, ActivityIngestor activity, TemplateCatalog templates,
                          PolicyDefaults defaults) {
        this.jdbc = jdbc;
        this.activity = activity;
        this.templates = templates;
        this.defaults = defaults;
    }

    @EventHandler
    void on(WorkspaceCreatedEvent e) {
        PolicyOverrides o = e.policy() == null ? PolicyOverrides.NONE : e.policy();
        jdbc.update("""
                        INSERT INTO idle_workspace (workspace_id, name, owner, team, kind, template_id, template_version,
                            idle_timeout, max_lifetime, status, build_number)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING""",
                e.workspaceId(), e.name(), e.owner(), e.team(), e.kind().name(), e.templateId(), e.templateVersion(),
                text(o.idleTimeout()), text(o.maxLifetime()), WorkspaceStatus.PENDING.name());
    }

    @EventHandler
    void on(WorkspaceTransitionStartedEvent e) {
        jdbc.update("""
                        UPDATE idle_workspace SET status = ?, build_number = ?, template_version = ?, running_since = NULL,
                            keep_alive_until = NULL, warned_stop_at = NULL, dormant = FALSE WHERE workspace_id = ?""",
                e.transition().during().name(), e.buildNumber(), e.templateVersion(), e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e, @Timestamp Instant time) {
        jdbc.update("UPDATE idle_workspace SET status = ?, running_since = ? WHERE workspace_id = ?",
                e.transition().after().name(),
                e.transition() == Transition.START ? java.sql.Timestamp.from(time) : null, e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceTransitionFailedEvent e) {
        jdbc.update("UPDATE idle_workspace SET status = ? WHERE workspace_id = ?", WorkspaceStatus.FAILED.name(),
                e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceKeepAliveExtendedEvent e) {
        jdbc.update("UPDATE idle_workspace SET keep_alive_until = ? WHERE workspace_id = ?",
                java.sql.Timestamp.from(e.until()), e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceIdleWarningEvent e) {
        jdbc.update("UPDATE idle_workspace SET warned_stop_at = ? WHERE workspace_id = ?",
                java.sql.Timestamp.from(e.stopAt()), e.workspaceId());
    }

    @EventHandler
    void on(WorkspaceMarkedDormantEvent e) {
        jdbc.update("UPDATE idle_workspace SET dormant = TRUE WHERE workspace_id = ?", e.workspaceId());
    }

    @ResetHandler
    void reset() {
        jdbc.update("DELETE FROM idle_workspace");
    }

    @QueryHandler
    public List<IdleQueries.IdleWorkspace> handle(IdleQueries.FindIdleWorkspaces query) {
        Instant now = clock.instant();
        List<IdleQueries.IdleWorkspace> idle = new ArrayList<>();
        for (Row row : rows("status = 'RUNNING'" + (query.owner() == null ? "" : " AND owner = ?"),
                query.owner() == null ? new Object[0] : new Object[]{query.owner()})) {
            var a = activity.activity(row.id);
            if (a.openConnections() > 0) {
                continue;
            }
            Instant idleSince = later(a.lastActivityAt(), row.runningSince);
            Duration idleFor = idleSince == null ? Duration.ZERO : Duration.between(idleSince, now);
            if (idleFor.compareTo(query.minIdle()) < 0) {
                continue;
            }
            EffectivePolicy policy = policy(row);
            Optional<Pricing> pricing = pricing(row);
            idle.add(new IdleQueries.IdleWorkspace(row.id, row.name, row.owner, row.team, row.kind, row.templateId,
                    idleSince, idleFor, view(policy), nextAutoStop(row, policy, idleSince),
                    pricing.map(p -> new IdleQueries.Money(p.runningPerHour(), p.currency())).orElse(null),
                    pricing.map(p -> new IdleQueries.Money(cost(p.runningPerHour(), idleFor), p.currency())).orElse(null)));
        }
        idle.sort(Comparator.comparing(IdleQueries.IdleWorkspace::idleFor).reversed());
        return idle;
    }

    @QueryHandler
    public Optional<IdleQueries.Activity> handle(IdleQueries.WorkspaceActivity query) {
        return rows("workspace_id = ?", new Object[]{query.workspaceId()}).stream().findFirst().map(row -> {
            var a = activity.activity(row.id);
            Instant idleSince = row.status.equals("RUNNING") ? later(a.lastActivityAt(), row.runningSince) : null;
            Duration idleFor = idleSince == null || a.openConnections() > 0 ? null
                    : Duration.between(idleSince, clock.instant());
            EffectivePolicy policy = policy(row);
            return new IdleQueries.Activity(row.id, row.status, a.lastActivityAt(), idleSince, idleFor,
                    activity.openConnections(row.id), row.keepAliveUntil, view(policy),
                    row.status.equals("RUNNING") ? nextAutoStop(row, policy, idleSince) : null, row.dormant);
        });
    }

    private IdleQueries.AutoStop nextAutoStop(Row row, EffectivePolicy policy, Instant idleSince) {
        IdleQueries.AutoStop next = null;
        if (policy.idleTimeout() != null && idleSince != null) {
            Instant at = later(idleSince.plus(policy.idleTimeout()), row.keepAliveUntil);
            next = new IdleQueries.AutoStop(at, "IDLE");
        }
        if (policy.maxLifetime() != null && row.runningSince != null) {
            Instant at = row.runningSince.plus(policy.maxLifetime());
            if (next == null || at.isBefore(next.at())) {
                next = new IdleQueries.AutoStop(at, "MAX_LIFETIME");
            }
        }
        return next;
    }

    private EffectivePolicy policy(Row row) {
        var template = templates.find(row.templateId, row.templateVersion).map(t -> t.definition().policy()).orElse(null);
        return EffectivePolicy.of(template, new PolicyOverrides(row.idleTimeout, row.maxLifetime),
                WorkspaceKind.valueOf(row.kind), defaults);
    }

    private Optional<Pricing> pricing(Row row) {
        return templates.find(row.templateId, row.templateVersion).map(t -> t.definition().pricing())
                .filter(p -> p.runningPerHour() != null);
    }

    private static IdleQueries.Policy view(EffectivePolicy p) {
        return new IdleQueries.Policy(p.idleTimeout(), p.maxLifetime(), p.autostopAfterFailure(), p.dormancyAfter(),
                p.deleteAfterDormant());
    }

    static BigDecimal cost(BigDecimal perHour, Duration duration) {
        return perHour.multiply(BigDecimal.valueOf(duration.toSeconds()))
                .divide(SECONDS_PER_HOUR, MathContext.DECIMAL64).setScale(4, RoundingMode.HALF_UP);
    }

    private List<Row> rows(String where, Object[] args) {
        return jdbc.query("SELECT * FROM idle_workspace WHERE " + where, this::row, args);
    }

    private Row row(ResultSet rs, int i) throws SQLException {
        return new Row(rs.getString("workspace_id"), rs.getString("name"), rs.getString("owner"), rs.getString("team"),
                rs.getString("kind"), rs.getString("template_id"), rs.getInt("template_version"),
                duration(rs.getString("idle_timeout")), duration(rs.getString("max_lifetime")), rs.getString("status"),
                instant(rs.getTimestamp("running_since")), instant(rs.getTimestamp("keep_alive_until")),
                rs.getBoolean("dormant"));
    }

    private record Row(String id, String name, String owner, String team, String kind, String templateId,
                       int templateVersion, Duration idleTimeout, Duration maxLifetime, String status,
                       Instant runningSince, Instant keepAliveUntil, boolean dormant) {
    }

    private static String text(Duration d) {
        return d == null ? null : d.toString();
    }

    private static Duration duration(String s) {
        return s == null ? null : Duration.parse(s);
    }

    private static Instant instant(java.sql.Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Instant later(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }

}
