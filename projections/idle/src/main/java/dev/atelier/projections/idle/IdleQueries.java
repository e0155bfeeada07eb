package dev.atelier.projections.idle;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** Queries answered by {@link IdleProjection}. */
public final class IdleQueries {

    private IdleQueries() {
    }

    /** Running workspaces idle at least {@code minIdle}; all owners when {@code owner} is null. */
    public record FindIdleWorkspaces(
            Duration minIdle,
            String owner) {
    }

    /** The activity and next automatic stop of one workspace. */
    public record WorkspaceActivity(String workspaceId) {
    }

    public record IdleWorkspace(
            String workspaceId,
            String name,
            String owner,
            String team,
            String kind,
            String templateId,
            Instant idleSince,
            Duration idleFor,
            Policy policy,
            AutoStop nextAutoStop,
            Money accruingPerHour,
            Money spentWhileIdle) {
    }

    public record Activity(
            String workspaceId,
            String status,
            Instant lastActivityAt,
            Instant idleSince,
            Duration idleFor,
            Map<String, Integer> openConnections,
            Instant keepAliveUntil,
            Policy policy,
            AutoStop nextAutoStop,
            boolean dormant) {
    }

    public record Policy(
            Duration idleTimeout,
            Duration maxLifetime,
            Duration autostopAfterFailure,
            Duration dormancyAfter,
            Duration deleteAfterDormant) {
    }

    public record AutoStop(
            Instant at,
            String reason) {
    }

    public record Money(
            BigDecimal amount,
            String currency) {
    }
}
