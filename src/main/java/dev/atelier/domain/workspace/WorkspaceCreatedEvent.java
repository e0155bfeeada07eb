package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import java.util.Map;
import org.axonframework.serialization.Revision;

/** {@code policy} (added later, null in older events) holds per-workspace policy overrides. */
@Revision("1")
public record WorkspaceCreatedEvent(
        String workspaceId,
        String name,
        String owner,
        String team,
        WorkspaceKind kind,
        String templateId,
        int templateVersion,
        String provider,
        Map<String, String> parameters,
        Map<String, String> labels,
        Actor actor,
        PolicyOverrides policy) {
}
