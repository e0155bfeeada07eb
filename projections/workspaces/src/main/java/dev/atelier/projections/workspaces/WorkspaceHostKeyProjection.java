package dev.atelier.projections.workspaces;

import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.WorkspaceHostKeysReportedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.queryhandling.QueryHandler;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The SSH host keys each workspace's agent reported, for the SSH gateway's hop into VM workspaces (table
 * {@code workspace_host_keys}, V60). In the workspaces' processing group, so it is written in the same batches and
 * rebuilt with the workspace list. A deleted workspace's row goes with it.
 */
@Component
@ProcessingGroup(WorkspaceProjection.PROCESSING_GROUP)
public class WorkspaceHostKeyProjection {

    /** The host keys reported for {@code workspaceId}'s latest reporting build. */
    public record FindHostKeys(String workspaceId) {
    }

    /** @param fingerprints SHA256 fingerprints, sorted */
    public record HostKeys(String workspaceId, long buildNumber, List<String> fingerprints, Instant reportedAt) {
        public HostKeys {
            fingerprints = List.copyOf(fingerprints);
        }
    }

    private final JdbcTemplate jdbc;

    public WorkspaceHostKeyProjection(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @EventHandler
    void on(WorkspaceHostKeysReportedEvent e, @Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO workspace_host_keys (workspace_id, build_number, fingerprints, reported_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (workspace_id) DO UPDATE SET build_number = EXCLUDED.build_number,
                    fingerprints = EXCLUDED.fingerprints, reported_at = EXCLUDED.reported_at
                WHERE workspace_host_keys.build_number <= EXCLUDED.build_number
                """, e.workspaceId(), e.buildNumber(), String.join(" ", e.fingerprints()), java.sql.Timestamp.from(time));
    }

    @EventHandler
    void on(WorkspaceTransitionSucceededEvent e) {
        if (e.transition() == Transition.DELETE) {
            jdbc.update("DELETE FROM workspace_host_keys WHERE workspace_id = ?", e.workspaceId());
        }
    }

    @ResetHandler
    void reset() {
        jdbc.update("DELETE FROM workspace_host_keys");
    }

    @QueryHandler
    public Optional<HostKeys> handle(FindHostKeys query) {
        return jdbc.query("SELECT workspace_id, build_number, fingerprints, reported_at FROM workspace_host_keys "
                        + "WHERE workspace_id = ?",
                (rs, n) -> new HostKeys(rs.getString(1), rs.getLong(2),
                        Arrays.stream(rs.getString(3).split(" ")).filter(f -> !f.isEmpty()).toList(),
                        rs.getTimestamp(4).toInstant()),
                query.workspaceId()).stream().findFirst();
    }
}
