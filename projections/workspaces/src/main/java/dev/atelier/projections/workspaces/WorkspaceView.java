package dev.atelier.projections.workspaces;

import java.time.Instant;
import java.util.Map;

/** A workspace as the API shows it (the shape of the product brief). */
public record WorkspaceView(String id, String name, String owner, String team, String kind, String templateId,
                            int templateVersion, String provider, String status, long buildNumber,
                            LastTransition lastTransition, Instant createdAt, Instant updatedAt,
                            Map<String, String> connection, Map<String, String> labels, AutoStop autoStop,
                            boolean dormant) {

    public record LastTransition(String transition, String reason, String actor, String error) {
    }

    /** An automatic stop that has been announced (idle warning): when, and why. */
    public record AutoStop(Instant at, String reason) {
    }
}
