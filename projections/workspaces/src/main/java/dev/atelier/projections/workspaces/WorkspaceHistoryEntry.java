package dev.atelier.projections.workspaces;

import java.time.Instant;
import java.util.Map;

/** One event of a workspace's history, oldest first. */
public record WorkspaceHistoryEntry(String type, Instant time, String actor, String reason, Long buildNumber,
                                    Map<String, Object> data) {
}
